// Steady traffic from inside a pod namespace, one request every ~20 ms per target, each a
// single attempt with a 2 s deadline (no retries, so every failure is counted; a loaded
// machine can delay an answer past 1 s without anything being wrong):
//   clusterip  HTTP GET over a new TCP connection to a ClusterIP (the node's kernel rules)
//   dns        a UDP A query to the node's DNS, answered with the expected address
//   ingress    HTTP GET with a Host header to the node's ingress listener
// Prints `FAIL <target> <startMs> <endMs> <reason>` for each failure, `RECOVER <target>
// <startMs> <endMs>` for the first success after a failure, `PROGRESS <ms> <json>` every second, and on SIGTERM one line
// `TOTALS <json>` before exiting.
//
// usage: traffic.mjs <clusterIP:port> <dnsIP> <dnsName> <expectedIP> <ingressIP:port> <ingressHost>
import { request } from 'node:http';
import { createSocket } from 'node:dgram';

const [clusterTarget, dnsServer, dnsName, expectedIP, ingressTarget, ingressHost] = process.argv.slice(2);
const INTERVAL_MS = 20;
const DEADLINE_MS = 2000;
const totals = { clusterip: { ok: 0, fail: 0 }, dns: { ok: 0, fail: 0 }, ingress: { ok: 0, fail: 0 } };
let stopping = false;

function httpGet(target, host) {
  const [hostname, port] = target.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port: Number(port), path: '/', agent: false, headers: host ? { host } : {}, timeout: DEADLINE_MS }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function dnsQuery(id) {
  const labels = dnsName.split('.').filter(Boolean);
  const parts = [Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l));
  parts.push(Buffer.from([0, 0, 1, 0, 1]));
  return Buffer.concat(parts);
}

const expected = Buffer.from(expectedIP.split('.').map(Number));
let nextId = 1;
function dnsAsk() {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const id = nextId++ & 0xffff;
    const done = (err) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error('timeout')), DEADLINE_MS);
    sock.on('error', (e) => done(e));
    sock.on('message', (msg) => {
      if (msg.readUInt16BE(0) !== id) return;
      const rcode = msg[3] & 15;
      const answers = msg.readUInt16BE(6);
      if (rcode !== 0) return done(new Error(`rcode ${rcode}`));
      if (answers < 1 || !msg.subarray(12).includes(expected)) return done(new Error('answer without the expected address'));
      done();
    });
    sock.send(dnsQuery(id), 53, dnsServer);
  });
}

async function loop(target, fn) {
  let failing = false;
  while (!stopping) {
    const start = Date.now();
    try {
      await fn();
      totals[target].ok++;
      if (failing) process.stdout.write(`RECOVER ${target} ${start} ${Date.now()}\n`);
      failing = false;
    } catch (err) {
      totals[target].fail++;
      failing = true;
      process.stdout.write(`FAIL ${target} ${start} ${Date.now()} ${String(err.code ?? err.message).replace(/\s+/g, '_')}\n`);
    }
    const wait = INTERVAL_MS - (Date.now() - start);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

const loops = [
  loop('clusterip', () => httpGet(clusterTarget)),
  loop('dns', () => dnsAsk()),
  loop('ingress', () => httpGet(ingressTarget, ingressHost)),
];
process.stdout.write(`STARTED ${Date.now()}\n`);
const progress = setInterval(() => process.stdout.write(`PROGRESS ${Date.now()} ${JSON.stringify(totals)}\n`), 1000);
process.on('SIGTERM', async () => {
  stopping = true;
  clearInterval(progress);
  await Promise.all(loops);
  process.stdout.write(`TOTALS ${JSON.stringify(totals)}\n`);
  process.exit(0);
});
