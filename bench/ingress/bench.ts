// Ingress throughput: wrk through `kubeplane ingress` (one process) and through nginx
// (one worker) configured as the same reverse proxy: 100 host routes, keep-alive to
// clients and upstreams, a fast local backend (nginx returning a 100-byte body).
// Then the time to apply one change with 10,000 Ingresses present.
// Also the CPU time the proxy processes (and their workers) used per request, read from
// /proc: "throughput at equal CPU" is the ratio of those, which a busy machine disturbs far
// less than requests/s.
// Usage: npx tsc -p tsconfig.build.json && npx tsx bench/ingress/bench.ts [--seconds 10] [--connections 32] [--rounds 2] [--workers 1] [--apply 0] [--bin PATH/main.js]
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { request } from 'undici';
import { projectIngress } from '../../src/ingress/routes.js';
import { TableBuilder } from '../../src/ingress/table.js';
import type { Ingress } from '../../src/api/types.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SECONDS = arg('seconds', 10);
const CONNECTIONS = arg('connections', 32);
const ROUNDS = arg('rounds', 2);
const WORKERS = arg('workers', 1);
const APPLY = arg('apply', 1);
// another build to compare (e.g. an older commit's dist/cli/main.js)
const BIN = args.includes('--bin') ? resolve(args[args.indexOf('--bin') + 1]!) : undefined;
const ROUTES = 100;
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'kp-ingress-bench-'));
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await status(port, 'r0.bench.test');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`port ${port} never answered`);
}

function nginx(conf: string, name: string): ChildProcess {
  const path = join(dir, `${name}.conf`);
  writeFileSync(path, `worker_processes ${name === 'proxy' ? WORKERS : 1};\ndaemon off;\nmaster_process ${name === 'proxy' && WORKERS > 1 ? 'on' : 'off'};\npid ${join(dir, name + '.pid')};\nerror_log ${join(dir, name + '.err')} warn;\nevents { worker_connections 4096; }\nhttp {\n access_log off;\n client_body_temp_path ${dir};\n proxy_temp_path ${dir};\n fastcgi_temp_path ${dir};\n uwsgi_temp_path ${dir};\n scgi_temp_path ${dir};\n${conf}\n}\n`);
  const p = spawn('/usr/sbin/nginx', ['-c', path, '-p', dir, '-e', join(dir, name + '.err')], { stdio: 'ignore' });
  children.push(p);
  return p;
}

interface WrkResult {
  rps: number;
  p99ms: number;
  errors: string;
  requests: number;
  /** CPU seconds the proxy's processes used during the run, per request, in microseconds */
  cpuUsPerRequest: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime, in clock ticks, of a process and all its descendants (workers). */
function cpuTicks(root: number): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(e), Number(f[1]));
      ticks.set(Number(e), Number(f[11]) + Number(f[12]));
    } catch {
      /* gone */
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, n = 0; p !== undefined && p > 1 && n < 64; p = parent.get(p), n++) if (p === root) return true;
    return false;
  };
  let sum = 0;
  for (const [pid, t] of ticks) if (inTree(pid)) sum += t;
  return sum;
}

function parseLatency(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

function wrk(port: number, pid: number): WrkResult {
  const lua = join(dir, 'hosts.lua');
  writeFileSync(lua, `local i = 0\nrequest = function()\n  i = (i + 1) % ${ROUTES}\n  return wrk.format("GET", "/", { Host = "r" .. i .. ".bench.test" })\nend\n`);
  const c0 = cpuTicks(pid);
  const out = execFileSync('wrk', [`-t${WORKERS}`, `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', '-s', lua, `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const c1 = cpuTicks(pid);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const errors = /Non-2xx or 3xx responses: \d+|Socket errors:[^\n]*/.exec(out)?.[0] ?? 'none';
  return { rps, p99ms: p99 ? parseLatency(p99[1]!, p99[2]!) : NaN, errors, requests, cpuUsPerRequest: requests ? ((c1 - c0) / TICKS_PER_SECOND / requests) * 1e6 : NaN };
}

function ingressObjects(backendPort: number, n: number, extraHosts = 0): object[] {
  const objs: object[] = [
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'kubeplane' }, spec: { controller: 'kubeplane.io/ingress' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: backendPort }] } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'backend-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'backend' } }, addressType: 'IPv4', ports: [{ name: 'http', port: backendPort }], endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }] },
  ];
  for (let i = 0; i < n + extraHosts; i++) {
    objs.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: `r${i}`, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { ingressClassName: 'kubeplane', rules: [{ host: `r${i}.bench.test`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'backend', port: { number: 80 } } } }] } }] },
    });
  }
  return objs;
}

function writeObjects(path: string, objs: object[]): void {
  writeFileSync(path + '.tmp', objs.map((o) => stringify(o)).join('---\n'));
  renameSync(path + '.tmp', path);
}

async function main(): Promise<void> {
  const backendPort = await freePort();
  const body = 'x'.repeat(100);
  nginx(`server { listen 127.0.0.1:${backendPort} reuseport; keepalive_requests 1000000; location / { default_type text/plain; return 200 "${body}"; } }`, 'backend');

  const nginxPort = await freePort();
  let servers = `upstream backend { server 127.0.0.1:${backendPort}; keepalive 320; keepalive_requests 1000000; }\n`;
  for (let i = 0; i < ROUTES; i++) servers += `server { listen 127.0.0.1:${nginxPort}; server_name r${i}.bench.test; keepalive_requests 1000000; location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_set_header X-Real-IP $remote_addr; proxy_set_header X-Forwarded-For $remote_addr; proxy_set_header X-Forwarded-Proto $scheme; } }\n`;
  const nginxProxy = nginx(servers, 'proxy');

  const objectsPath = join(dir, 'objects.yaml');
  writeObjects(objectsPath, ingressObjects(backendPort, ROUTES));
  const [kpPort, kpsPort, kpmPort] = [await freePort(), await freePort(), await freePort()];
  const kp = spawn(process.execPath, [BIN ?? join(root, 'dist/cli/main.js'), 'ingress', '--objects', objectsPath, '--http-bind', `127.0.0.1:${kpPort}`, '--https-bind', `127.0.0.1:${kpsPort}`, '--metrics-bind', `127.0.0.1:${kpmPort}`, '--workers', String(WORKERS)], { stdio: 'ignore' });
  children.push(kp);
  await Promise.all([waitPort(backendPort), waitPort(nginxPort), waitPort(kpPort)]);

  console.log(`wrk -t${WORKERS} -c${CONNECTIONS} -d${SECONDS}s, ${ROUTES} host routes, 100-byte body, keep-alive; ${WORKERS} kubeplane worker(s) vs ${WORKERS} nginx worker(s)`);
  // warm-up so both have connections and JIT in place
  execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, '-d2s', `http://127.0.0.1:${kpPort}/`, '-H', 'Host: r1.bench.test'], { stdio: 'ignore' });
  execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, '-d2s', `http://127.0.0.1:${nginxPort}/`, '-H', 'Host: r1.bench.test'], { stdio: 'ignore' });
  console.log(`load before: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  const cpuRatios: number[] = [];
  const p99Ratios: number[] = [];
  const kpRps: number[] = [];
  const nginxRps: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const k = wrk(kpPort, kp.pid!);
    const n = wrk(nginxPort, nginxProxy.pid!);
    cpuRatios.push(n.cpuUsPerRequest / k.cpuUsPerRequest);
    p99Ratios.push(k.p99ms / n.p99ms);
    kpRps.push(k.rps);
    nginxRps.push(n.rps);
    console.log(
      `round ${round}: kubeplane ${k.rps.toFixed(0)} req/s p99 ${k.p99ms.toFixed(2)} ms cpu ${k.cpuUsPerRequest.toFixed(1)} us/req (errors: ${k.errors}) | nginx ${n.rps.toFixed(0)} req/s p99 ${n.p99ms.toFixed(2)} ms cpu ${n.cpuUsPerRequest.toFixed(1)} us/req (errors: ${n.errors}) | ratio throughput ${(k.rps / n.rps).toFixed(2)}x, p99 ${(k.p99ms / n.p99ms).toFixed(2)}x, throughput at equal CPU ${(n.cpuUsPerRequest / k.cpuUsPerRequest).toFixed(2)}x`,
    );
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `summary (medians of ${ROUNDS}): throughput at equal CPU (nginx CPU per request / kubeplane CPU per request) ${median(cpuRatios).toFixed(2)}x; p99 ratio ${median(p99Ratios).toFixed(2)}x; kubeplane ${median(kpRps).toFixed(0)} req/s, nginx ${median(nginxRps).toFixed(0)} req/s; load after: ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
  );

  if (!APPLY) return;
  // Apply time with 10,000 Ingresses, in-process (table only) ...
  const N = 10_000;
  const ings: Ingress[] = (ingressObjects(backendPort, N).slice(3) as Ingress[]).map((o, i) => ({ ...o, metadata: { ...o.metadata, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() } }));
  const b = new TableBuilder();
  let t0 = performance.now();
  for (const i of ings) b.set(`default/${i.metadata.name}`, projectIngress(i));
  b.build();
  const full = performance.now() - t0;
  const changes: number[] = [];
  for (let k = 0; k < 20; k++) {
    const changed = structuredClone(ings[k * 37]!);
    changed.spec.rules![0]!.http!.paths[0]!.path = `/v${k}`;
    t0 = performance.now();
    b.set(`default/${changed.metadata.name}`, projectIngress(changed));
    b.build();
    changes.push(performance.now() - t0);
  }
  changes.sort((x, y) => x - y);
  console.log(`10,000 Ingresses: full build ${full.toFixed(1)} ms; one changed Ingress: median ${changes[10]!.toFixed(3)} ms, max ${changes[19]!.toFixed(3)} ms (route table compile + swap)`);

  // ... and end to end through the running process: edit the objects file, poll until served.
  writeObjects(objectsPath, ingressObjects(backendPort, N));
  t0 = performance.now();
  await until(async () => (await status(kpPort, `r${N - 1}.bench.test`)) === 200);
  const load = performance.now() - t0;
  const objs = ingressObjects(backendPort, N);
  (objs[3 + 5000] as Ingress).spec.rules![0]!.host = 'changed.bench.test';
  writeObjects(objectsPath, objs);
  t0 = performance.now();
  await until(async () => (await status(kpPort, 'changed.bench.test')) === 200);
  const edit = performance.now() - t0;
  console.log(`10,000 Ingresses via --objects: first load served after ${load.toFixed(0)} ms; one edit served after ${edit.toFixed(0)} ms (includes re-reading the whole YAML file, parsing the documents that changed, and a 50 ms watch debounce)`);
}

// fetch() drops a Host header (forbidden), so use undici's request.
async function status(port: number, host: string): Promise<number> {
  const r = await request(`http://127.0.0.1:${port}/`, { headers: { host } });
  await r.body.dump();
  return r.statusCode;
}

async function until(fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(dir, { recursive: true, force: true });
}
