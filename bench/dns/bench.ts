// Cluster DNS throughput: dnsperf against `kubeplane dns` with 10,000 services and 50,000
// endpoints, and against NSD serving the same names as the reference, in the same run.
// Usage: npx tsc -p tsconfig.build.json && npx tsx bench/dns/bench.ts [--rounds 3] [--seconds 10] [--workers 2]
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, TestUpstream } from '../../test/e2e/dns/dig.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const ROUNDS = arg('rounds', 3);
const SECONDS = arg('seconds', 10);
const WORKERS = arg('workers', 2);
const SERVICES = 10_000;
const EPS_PER_SVC = 5;
const NAMESPACES = 50;
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'kp-dns-bench-'));
const children: ChildProcess[] = [];

function objects(): string {
  const items: unknown[] = [];
  for (let n = 0; n < NAMESPACES; n++) items.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}` } });
  for (let i = 0; i < SERVICES; i++) {
    const ns = `ns${i % NAMESPACES}`;
    items.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: ns }, spec: { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ name: 'http', protocol: 'TCP', port: 80 }] } });
    const eps = [];
    for (let e = 0; e < EPS_PER_SVC; e++) {
      const n = i * EPS_PER_SVC + e;
      eps.push({ addresses: [`10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`], conditions: { ready: true }, targetRef: { kind: 'Pod', name: `svc-${i}-${e}`, namespace: ns } });
    }
    items.push({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `svc-${i}-abcde`, namespace: ns, labels: { 'kubernetes.io/service-name': `svc-${i}` } }, addressType: 'IPv4', endpoints: eps, ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] });
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function queryFile(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

function nsdZone(): string {
  const lines = ['$ORIGIN cluster.local.', '$TTL 30', '@ IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30', '@ IN NS ns.dns.cluster.local.', 'ns.dns IN A 127.0.0.1'];
  for (let i = 0; i < SERVICES; i++) lines.push(`svc-${i}.ns${i % NAMESPACES}.svc IN A 10.96.${i >> 8}.${i & 255}`);
  return lines.join('\n') + '\n';
}

function start(cmd: string, argv: string[]): ChildProcess {
  const c = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  c.stderr!.on('data', () => undefined);
  children.push(c);
  return c;
}

async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      const out = execFileSync('dig', ['@127.0.0.1', '-p', String(port), '+short', '+time=1', '+tries=1', 'svc-1.ns1.svc.cluster.local', 'A'], { encoding: 'utf8' });
      if (out.trim() === '10.96.0.1') return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server on ${port} never answered`);
}

interface PerfResult {
  qps: number;
  avgMs: number;
  lost: string;
}

function dnsperf(port: number, file: string, seconds = SECONDS): PerfResult {
  const out = execFileSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-c', '20', '-T', '1', '-q', '200', '-l', String(seconds)], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const avg = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(out)?.[1] ?? 0) * 1000;
  const lost = /Queries lost:\s+(.*)/.exec(out)?.[1] ?? '?';
  return { qps, avgMs: avg, lost };
}

function treeRssMb(pid: number): number {
  const pids = [pid];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) pids.push(Number(d));
    } catch {
      // gone
    }
  }
  let kb = 0;
  for (const p of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const objPath = join(dir, 'objects.json');
  writeFileSync(objPath, objects());
  const hits = queryFile('hits.txt', shuffle(Array.from({ length: 100_000 }, (_, k) => `svc-${k % SERVICES}.ns${k % SERVICES % NAMESPACES}.svc.cluster.local A`)));
  const nx = queryFile('nx.txt', shuffle(Array.from({ length: 100_000 }, (_, k) => `missing-${k % SERVICES}.ns${k % NAMESPACES}.svc.cluster.local A`)));
  const fwdNames = Array.from({ length: 1000 }, (_, k) => `www-${k}.example.org A`);
  const fwd = queryFile('fwd.txt', shuffle(Array.from({ length: 100_000 }, (_, k) => fwdNames[k % fwdNames.length]!)));
  const mixed = queryFile('mixed.txt', shuffle([...readFileSync(hits, 'utf8').trim().split('\n').slice(0, 80_000), ...readFileSync(nx, 'utf8').trim().split('\n').slice(0, 20_000)]));

  const upstream = new TestUpstream();
  await upstream.start();
  const kpPort = await freePort();
  const kp = start(process.execPath, [join(root, 'dist/cli/main.js'), 'dns', '--objects', objPath, '--dns-bind', `127.0.0.1:${kpPort}`, '--upstream', `127.0.0.1:${upstream.port}`, '--workers', String(WORKERS), '--health-bind', 'off', '--ready-bind', 'off', '--metrics-bind', 'off']);
  const nsdPort = await freePort();
  writeFileSync(join(dir, 'cluster.local.zone'), nsdZone());
  writeFileSync(
    join(dir, 'nsd.conf'),
    `server:\n  ip-address: 127.0.0.1@${nsdPort}\n  server-count: 1\n  username: ""\n  chroot: ""\n  zonesdir: "${dir}"\n  database: ""\n  zonelistfile: "${dir}/zone.list"\n  pidfile: "${dir}/nsd.pid"\n  xfrdfile: "${dir}/xfrd.state"\n  logfile: "${dir}/nsd.log"\n  rrl-ratelimit: 0\n  verbosity: 0\nremote-control:\n  control-enable: no\nzone:\n  name: cluster.local\n  zonefile: cluster.local.zone\n`,
  );
  start('/usr/sbin/nsd', ['-d', '-c', join(dir, 'nsd.conf')]);
  await waitReady(kpPort);
  await waitReady(nsdPort);
  // Warm up: fill the forward cache and the stored-answer maps.
  dnsperf(kpPort, fwd, 2);
  dnsperf(kpPort, hits, 3);
  dnsperf(nsdPort, hits, 2);
  const upstreamBefore = upstream.queries.length;

  const rows: Record<string, PerfResult[]> = { 'kubeplane hits': [], 'nsd hits': [], 'kubeplane nxdomain': [], 'nsd nxdomain': [], 'kubeplane 80/20 mix': [], 'nsd 80/20 mix': [], 'kubeplane forwarded (cached)': [] };
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const k = dnsperf(kpPort, hits);
    const n = dnsperf(nsdPort, hits);
    rows['kubeplane hits']!.push(k);
    rows['nsd hits']!.push(n);
    ratios.push(k.qps / n.qps);
    rows['kubeplane nxdomain']!.push(dnsperf(kpPort, nx));
    rows['nsd nxdomain']!.push(dnsperf(nsdPort, nx));
    rows['kubeplane 80/20 mix']!.push(dnsperf(kpPort, mixed));
    rows['nsd 80/20 mix']!.push(dnsperf(nsdPort, mixed));
    rows['kubeplane forwarded (cached)']!.push(dnsperf(kpPort, fwd));
  }
  const rss = treeRssMb(kp.pid!);
  console.log(`kubeplane dns (--workers ${WORKERS}) vs NSD (server-count 1), ${SERVICES} services, ${SERVICES * EPS_PER_SVC} endpoints, dnsperf -c 20 -T 1 -q 200 -l ${SECONDS}, ${ROUNDS} rounds`);
  console.log('workload'.padEnd(32) + 'qps median [min..max]'.padEnd(34) + 'avg latency ms (median)');
  for (const [name, rs] of Object.entries(rows)) {
    const q = rs.map((x) => x.qps);
    console.log(name.padEnd(32) + `${Math.round(median(q))} [${Math.round(Math.min(...q))}..${Math.round(Math.max(...q))}]`.padEnd(34) + median(rs.map((x) => x.avgMs)).toFixed(2));
  }
  const mixRatios = rows['kubeplane 80/20 mix']!.map((k, i) => k.qps / rows['nsd 80/20 mix']![i]!.qps);
  console.log(`same-round ratio kubeplane/NSD, cluster hits: median ${median(ratios).toFixed(2)} (${ratios.map((x) => x.toFixed(2)).join(', ')})`);
  console.log(`same-round ratio kubeplane/NSD, 80/20 mix:    median ${median(mixRatios).toFixed(2)} (${mixRatios.map((x) => x.toFixed(2)).join(', ')})`);
  console.log(`upstream queries during the forwarded runs: ${upstream.queries.length - upstreamBefore} (all answered from the cache when 0)`);
  // CoreDNS's formula counts pods + services; each endpoint here stands for a pod. bench/dns/memory.ts has the breakdown.
  console.log(`memory: kubeplane RSS after load, ${WORKERS} worker(s) + primary: ${rss.toFixed(0)} MB total; CoreDNS formula (pods + services)/1000 + 54 for ${SERVICES} services + ${SERVICES * EPS_PER_SVC} pods: ${(54 + (SERVICES * (1 + EPS_PER_SVC)) / 1000).toFixed(0)} MB`);
  await upstream.stop();
}

function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.exit(process.exitCode ?? 0);
  }, 6000);
}

main().then(cleanup, (err: unknown) => {
  console.error(err);
  process.exitCode = 1;
  cleanup();
});
