// Cluster DNS throughput: dnsperf against `kubeplane dns` with 10,000 services and 50,000
// endpoints, and against NSD serving the same names as the reference, in the same run.
// Each workload runs against both servers in turn within a round, and ratios are taken per
// round: on a shared machine the load changes between minutes, not within a round. Beside
// queries/s it reports each side's CPU per query (user + system, all of its processes) and
// dnsperf's own CPU, which tell efficiency apart from the scheduler's share.
// Usage: npx tsc -p tsconfig.build.json && flock /tmp/bench.lock npx tsx bench/dns/bench.ts [--rounds 5] [--seconds 6] [--workers 2]
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
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
const ROUNDS = arg('rounds', 5);
const SECONDS = arg('seconds', 6);
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
  /** server CPU (user + system, every process of the tree) per answered query, µs */
  cpuUs: number;
  /** dnsperf's CPU over the run, in cores */
  clientCores: number;
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime in ticks of a process and its direct children (cluster workers, NSD's servers). */
function treeTicks(pid: number): number {
  let ticks = 0;
  for (const p of treePids(pid)) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks;
}

function dnsperf(server: ChildProcess | undefined, port: number, file: string, seconds = SECONDS): PerfResult {
  const before = server ? treeTicks(server.pid!) : 0;
  // dnsperf's own CPU: the shell's `times` after it exited (children's user and system time).
  const t0 = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', 'dnsperf "$@"; times', 'sh', '-s', '127.0.0.1', '-p', String(port), '-d', file, '-c', '20', '-T', '1', '-q', '200', '-l', String(seconds)], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = server ? treeTicks(server.pid!) : 0;
  const out = r.stdout;
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const avg = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(out)?.[1] ?? 0) * 1000;
  const lost = /Queries lost:\s+(.*)/.exec(out)?.[1] ?? '?';
  const completed = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  // `times` prints the shell's and then its children's user and system time (e.g. 0m1.234s 0m2.345s).
  const t = [...out.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].at(-1);
  const clientSeconds = t ? Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4]) : 0;
  return { qps, avgMs: avg, lost, cpuUs: completed ? (((after - before) / CLK_TCK) * 1e6) / completed : 0, clientCores: clientSeconds / wall };
}

function treePids(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) for (const [p, pp] of parent) if (pp === pids[i]) pids.push(p);
  return pids;
}

function treeRssMb(pid: number): number {
  let kb = 0;
  for (const p of treePids(pid)) {
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
  console.log(`start: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
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
  const nsd = start('/usr/sbin/nsd', ['-d', '-c', join(dir, 'nsd.conf')]);
  await waitReady(kpPort);
  await waitReady(nsdPort);
  // Warm up: fill the forward cache and the stored-answer maps.
  dnsperf(undefined, kpPort, fwd, 2);
  dnsperf(undefined, kpPort, hits, 3);
  dnsperf(undefined, kpPort, nx, 2);
  dnsperf(undefined, nsdPort, hits, 2);
  const upstreamBefore = upstream.queries.length;
  const nsdServers = treePids(nsd.pid!).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, 'utf8').startsWith('nsd: server');
    } catch {
      return false;
    }
  }).length;
  const kpWorkers = treePids(kp.pid!).length - 1;

  const workloads: [string, string][] = [
    ['hits', hits],
    ['nxdomain', nx],
    ['80/20 mix', mixed],
  ];
  const rows = new Map<string, PerfResult[]>();
  const ratios = new Map<string, number[]>();
  const push = <T>(m: Map<string, T[]>, k: string, v: T): void => {
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(v);
  };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, file] of workloads) {
      // Alternate which server goes first, so neither always follows the other's load.
      const order = r % 2 === 0 ? (['kubeplane', 'nsd'] as const) : (['nsd', 'kubeplane'] as const);
      const got: Record<string, PerfResult> = {};
      for (const who of order) got[who] = who === 'kubeplane' ? dnsperf(kp, kpPort, file) : dnsperf(nsd, nsdPort, file);
      push(rows, `kubeplane ${name}`, got.kubeplane!);
      push(rows, `nsd ${name}`, got.nsd!);
      push(ratios, name, got.kubeplane!.qps / got.nsd!.qps);
    }
    push(rows, 'kubeplane forwarded (cached)', dnsperf(kp, kpPort, fwd));
  }
  const rss = treeRssMb(kp.pid!);
  console.log(`kubeplane dns (--workers ${WORKERS}: ${kpWorkers} worker processes) vs NSD (server-count 1: ${nsdServers} server process), ${SERVICES} services, ${SERVICES * EPS_PER_SVC} endpoints, dnsperf -c 20 -T 1 -q 200 -l ${SECONDS}, ${ROUNDS} rounds`);
  console.log('workload'.padEnd(30) + 'qps median [min..max]'.padEnd(30) + 'avg ms'.padEnd(8) + 'server CPU µs/query'.padEnd(21) + 'dnsperf cores');
  for (const [name, rs] of rows) {
    const q = rs.map((x) => x.qps);
    console.log(
      name.padEnd(30) +
        `${Math.round(median(q))} [${Math.round(Math.min(...q))}..${Math.round(Math.max(...q))}]`.padEnd(30) +
        median(rs.map((x) => x.avgMs)).toFixed(2).padEnd(8) +
        median(rs.map((x) => x.cpuUs)).toFixed(2).padEnd(21) +
        median(rs.map((x) => x.clientCores)).toFixed(2),
    );
  }
  for (const [name, rs] of ratios) console.log(`same-round ratio kubeplane/NSD qps, ${name.padEnd(10)} median ${median(rs).toFixed(2)} (${rs.map((x) => x.toFixed(2)).join(', ')})`);
  const cpuRatio = median(rows.get('kubeplane hits')!.map((k, i) => k.cpuUs / rows.get('nsd hits')![i]!.cpuUs));
  console.log(`server CPU per query, hits, kubeplane/NSD: median ${cpuRatio.toFixed(2)}`);
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

main().then(() => {
  console.log(`end: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  cleanup();
}, (err: unknown) => {
  console.error(err);
  process.exitCode = 1;
  cleanup();
});
