// The client side of the proxy packet tests, run inside a pod's or an external client's
// network namespace. Prints one JSON line.
//   http URL COUNT [TIMEOUT_MS]   COUNT requests one after another, each on a new connection
//   http-loop URL       requests until stdin closes (or SIGTERM), then the tally; writes
//                       "looping" and then a "." per request to stderr, for progress
//   udp HOST PORT SRC_PORT TIMEOUT_MS   one datagram from a fixed source port (so the same
//                       conntrack entry each time), the reply or "timeout"
// HTTP tally: { requests, answers: { pod: n }, sources: [client address seen by the backend],
// errors: { ECONNREFUSED | ETIMEDOUT | ...: n } }.
import { createSocket } from 'node:dgram';
import { request } from 'node:http';

const [mode, ...args] = process.argv.slice(2);
function get(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ body: body.trim() }));
      res.on('error', (err) => resolve({ error: err.code || err.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => resolve({ error: err.code || err.message }));
    req.end();
  });
}

function tally() {
  const t = { requests: 0, answers: {}, sources: [], errors: {} };
  return {
    t,
    add(r) {
      t.requests++;
      if (r.error) return void (t.errors[r.error] = (t.errors[r.error] ?? 0) + 1);
      const [pod, source] = r.body.split(' ');
      t.answers[pod] = (t.answers[pod] ?? 0) + 1;
      if (source && !t.sources.includes(source)) t.sources.push(source);
    },
  };
}

async function main() {
  switch (mode) {
    case 'http': {
      const [url, count, timeoutMs] = args;
      const { t, add } = tally();
      for (let i = 0; i < Number(count); i++) add(await get(url, Number(timeoutMs || 2000)));
      return t;
    }
    case 'http-loop': {
      const [url] = args;
      const { t, add } = tally();
      let stop = false;
      process.stdin.on('end', () => (stop = true)).resume();
      process.on('SIGTERM', () => (stop = true));
      console.error('looping');
      while (!stop) {
        add(await get(url));
        process.stderr.write('.');
      }
      return t;
    }
    case 'udp': {
      const [host, port, srcPort, timeoutMs] = args;
      const s = createSocket({ type: 'udp4', reuseAddr: true });
      return new Promise((resolve) => {
        s.bind(Number(srcPort), () => {
          const timer = setTimeout(() => resolve({ timeout: true }), Number(timeoutMs));
          s.on('message', (m) => {
            clearTimeout(timer);
            resolve({ reply: m.toString() });
          });
          s.send('ping', Number(port), host);
        });
      });
    }
    default:
      throw new Error(`unknown mode "${mode}": want http, http-loop or udp`);
  }
}

process.stdout.write(`${JSON.stringify(await main())}\n`);
process.exit(0);
