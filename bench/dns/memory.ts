// Cluster DNS memory with 10,000 Services and 10,000 EndpointSlices (50,000 endpoints), the
// objects shaped as the API returns them (managedFields, kubectl's last-applied annotation,
// the EndpointSlice controller's labels and owner references), beside CoreDNS's published
// formula. Heap and RSS in-process with whole and with trimmed informer objects, then the
// RSS of the `kubeplane dns` command itself (1 and 2 workers, every process summed) after a
// dnsperf load, fed from the --objects file and from a kubeplane apiserver holding the same
// objects (list in pages of 500, then watch).
// Usage: npx tsc -p tsconfig.build.json && flock /tmp/bench.lock npx tsx bench/dns/memory.ts
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/e2e/dns/dig.js';

const SERVICES = 10_000;
const EPS_PER_SVC = 5;
const NAMESPACES = 50;
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const mb = (bytes: number): string => (bytes / 1048576).toFixed(0);

interface Sample {
  heapUsed: number;
  rss: number;
}

// ---- child: one ClusterDns in this process, measured on request -------------------------

async function child(mode: string, file: string, port: number): Promise<void> {
  const { FileInformerFactory } = await import('../../src/client/file-informers.js');
  const { parseConfig } = await import('../../src/dns/config.js');
  const { defaultCorefile } = await import('../../src/dns/corefile.js');
  const { ClusterDns } = await import('../../src/dns/setup.js');
  const config = parseConfig(defaultCorefile({ port, upstream: '127.0.0.1:9', zone: 'cluster.local' }));
  for (const b of config.blocks) b.loop = false;
  const dns = new ClusterDns({ config, informers: new FileInformerFactory(file), bind: { host: '127.0.0.1', port }, healthAddr: '', readyAddr: '', metricsAddr: '', trimObjects: mode === 'trimmed' });
  await dns.start();
  while (!dns.hasSynced()) await new Promise((r) => setTimeout(r, 50));
  const sample = (): Sample => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    return { heapUsed: m.heapUsed, rss: m.rss };
  };
  process.send!({ synced: sample() });
  process.on('message', (m: string) => {
    if (m === 'measure') process.send!({ loaded: sample() });
    if (m === 'stop') void dns.stop({ lameduck: false }).then(() => process.exit(0));
  });
}

// ---- parent ------------------------------------------------------------------------------

function apiShapedObjects(): string {
  const items: unknown[] = [];
  const managed = (manager: string, fields: unknown): unknown[] => [{ manager, operation: 'Update', apiVersion: 'v1', time: '2026-11-23T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: fields }];
  for (let n = 0; n < NAMESPACES; n++) items.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}`, uid: `ns-uid-${n}`, resourceVersion: String(n + 1), labels: { 'kubernetes.io/metadata.name': `ns${n}` }, managedFields: managed('kubectl-create', { 'f:metadata': { 'f:labels': { '.': {}, 'f:kubernetes.io/metadata.name': {} } } }) }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  for (let i = 0; i < SERVICES; i++) {
    const ns = `ns${i % NAMESPACES}`;
    const name = `svc-${i}`;
    const spec = { selector: { app: name }, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] };
    const applied = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { annotations: {}, labels: { app: name }, name, namespace: ns }, spec });
    items.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, uid: `svc-uid-${i}`, resourceVersion: String(1000 + i), creationTimestamp: '2026-11-23T10:00:00Z', labels: { app: name }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': applied + '\n' }, managedFields: managed('kubectl-client-side-apply', { 'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} }, 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:internalTrafficPolicy': {}, 'f:ports': { '.': {}, 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:name': {}, 'f:port': {}, 'f:protocol': {}, 'f:targetPort': {} } }, 'f:selector': {}, 'f:sessionAffinity': {}, 'f:type': {} } }) },
      spec: { ...spec, clusterIP: `10.96.${i >> 8}.${i & 255}`, clusterIPs: [`10.96.${i >> 8}.${i & 255}`], type: 'ClusterIP', sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster' },
      status: { loadBalancer: {} },
    });
    const eps = [];
    for (let e = 0; e < EPS_PER_SVC; e++) {
      const n = i * EPS_PER_SVC + e;
      eps.push({ addresses: [`10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`], conditions: { ready: true, serving: true, terminating: false }, nodeName: `node-${n % 100}`, zone: `zone-${n % 3}`, targetRef: { kind: 'Pod', namespace: ns, name: `${name}-7d9f8b6c5-${e}x`, uid: `pod-uid-${n}` } });
    }
    items.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-abcde`, generateName: `${name}-`, namespace: ns, uid: `eps-uid-${i}`, resourceVersion: String(20000 + i), generation: 1, creationTimestamp: '2026-11-23T10:00:00Z', labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', app: name }, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-11-23T10:00:00Z' }, ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: `svc-uid-${i}`, controller: true, blockOwnerDeletion: true }], managedFields: managed('kube-controller-manager', { 'f:addressType': {}, 'f:endpoints': {}, 'f:metadata': { 'f:labels': {}, 'f:ownerReferences': {} }, 'f:ports': {} }) },
      addressType: 'IPv4',
      endpoints: eps,
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    });
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

interface TreeMemory {
  /** summed over the process and its children, bytes */
  rss: number;
  /** summed peak RSS (VmHWM) */
  hwm: number;
  /** each process's RSS, the command's own first */
  each: number[];
}

function treeMemory(pid: number): TreeMemory {
  const pids = [pid];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) pids.push(Number(d));
    } catch {
      // gone
    }
  }
  const out: TreeMemory = { rss: 0, hwm: 0, each: [] };
  for (const p of pids) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      out.rss += rss;
      out.hwm += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      out.each.push(rss);
    } catch {
      // gone
    }
  }
  return out;
}

/** Waits for svc-N's A record: its address from the objects file, or any address (API-allocated). */
async function waitAnswer(port: number, svc = 1, anyAddress = false): Promise<void> {
  const want = `10.96.${svc >> 8}.${svc & 255}`;
  for (let i = 0; i < 600; i++) {
    try {
      const out = execFileSync('dig', ['@127.0.0.1', '-p', String(port), '+short', '+time=1', '+tries=1', `svc-${svc}.ns${svc % NAMESPACES}.svc.cluster.local`, 'A'], { encoding: 'utf8' });
      if (out.trim() === want || (anyAddress && /^\d+\.\d+\.\d+\.\d+$/.test(out.trim()))) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server on ${port} never answered`);
}

function load(port: number, queries: string): void {
  execFileSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-c', '20', '-T', '1', '-q', '200', '-l', '4'], { encoding: 'utf8', maxBuffer: 16 << 20 });
}

async function inProcess(mode: string, file: string, queries: string): Promise<{ synced: Sample; loaded: Sample }> {
  const port = await freePort();
  const c = fork(fileURLToPath(import.meta.url), ['--child', mode, file, String(port)], { execArgv: [...process.execArgv, '--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(c);
  const next = <K extends string>(key: K): Promise<Sample> => new Promise((res) => c.on('message', (m: Record<string, Sample>) => key in m && res(m[key]!)));
  const synced = await next('synced');
  await waitAnswer(port);
  load(port, queries);
  c.send('measure');
  const loaded = await next('loaded');
  c.send('stop');
  await new Promise((r) => c.once('exit', r));
  return { synced, loaded };
}

/** The objects served by a real `kubeplane apiserver` (HTTP on loopback), as a cluster's informers see them. */
async function apiServer(dir: string, file: string): Promise<string> {
  const port = await freePort();
  const c = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'apiserver', '--insecure-serving', '--anonymous-auth', '--bind-address', '127.0.0.1', '--secure-port', String(port), '--data-dir', join(dir, 'api')], { stdio: ['ignore', 'ignore', 'ignore'] });
  children.push(c);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      if (i > 600) throw new Error('apiserver never became ready');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const items = (JSON.parse(readFileSync(file, 'utf8')) as { items: { kind: string; metadata: { namespace?: string } }[] }).items;
  const path = (o: { kind: string; metadata: { namespace?: string } }): string =>
    o.kind === 'Namespace' ? '/api/v1/namespaces' : o.kind === 'Service' ? `/api/v1/namespaces/${o.metadata.namespace}/services` : `/apis/discovery.k8s.io/v1/namespaces/${o.metadata.namespace}/endpointslices`;
  const post = async (o: { kind: string; metadata: { namespace?: string } }): Promise<void> => {
    const { resourceVersion: _rv, uid: _uid, ...metadata } = o.metadata as Record<string, unknown>;
    const body: Record<string, unknown> = { ...o, metadata };
    // The server allocates cluster IPs (10.96.0.1 is the kubernetes Service's).
    if (o.kind === 'Service') {
      const { clusterIP: _ip, clusterIPs: _ips, ...spec } = (o as unknown as { spec: Record<string, unknown> }).spec;
      body.spec = spec;
    }
    const res = await fetch(url + path(o), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`create ${o.kind}: ${res.status} ${await res.text()}`);
  };
  for (const o of items.filter((x) => x.kind === 'Namespace')) await post(o);
  const rest = items.filter((x) => x.kind !== 'Namespace');
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < rest.length) await post(rest[next++]!);
  }));
  return url;
}

/** `nodeOptions`: NODE_OPTIONS for the command (its workers inherit them). */
async function command(file: string, queries: string, workers: number, master?: string, nodeOptions = ''): Promise<TreeMemory> {
  const port = await freePort();
  const source = master ? ['--master', master] : ['--objects', file];
  const env = { ...process.env, NODE_OPTIONS: nodeOptions };
  const c = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'dns', ...source, '--dns-bind', `127.0.0.1:${port}`, '--upstream', '127.0.0.1:9', '--workers', String(workers), '--health-bind', 'off', '--ready-bind', 'off', '--metrics-bind', 'off'], { stdio: ['ignore', 'ignore', 'ignore'], env });
  children.push(c);
  await waitAnswer(port, 1, master !== undefined);
  await waitAnswer(port, SERVICES - 1, master !== undefined);
  load(port, queries);
  const mem = treeMemory(c.pid!);
  c.kill('SIGTERM');
  await new Promise((r) => c.once('exit', r));
  return mem;
}

const children: ChildProcess[] = [];

const uptime = (): string => execFileSync('uptime', { encoding: 'utf8' }).trim();

async function main(): Promise<void> {
  console.log(`start: ${uptime()}`);
  const dir = mkdtempSync(join(tmpdir(), 'kp-dns-mem-'));
  try {
    const file = join(dir, 'objects.json');
    writeFileSync(file, apiShapedObjects());
    const queries = join(dir, 'hits.txt');
    writeFileSync(queries, Array.from({ length: 50_000 }, (_, k) => `svc-${k % SERVICES}.ns${k % SERVICES % NAMESPACES}.svc.cluster.local A`).join('\n') + '\n');
    const rows: [string, string, string, string][] = [];
    for (const mode of ['whole', 'trimmed']) {
      const r = await inProcess(mode, file, queries);
      rows.push([`in-process, ${mode} objects`, mb(r.synced.heapUsed), mb(r.synced.rss), mb(r.loaded.rss)]);
    }
    const runs: [string, TreeMemory][] = [];
    // V8 grows the young generation to 2 x 16 MB under a query load; the DNS workers get a
    // 4 MB semi-space (workers.ts), a single process only when started with the flag.
    const semi = '--max-semi-space-size=2';
    runs.push(['--objects, --workers 1', await command(file, queries, 1)]);
    runs.push([`--objects, --workers 1, ${semi}`, await command(file, queries, 1, undefined, semi)]);
    runs.push(['--objects, --workers 2', await command(file, queries, 2)]);
    const master = await apiServer(dir, file);
    runs.push(['apiserver, --workers 1', await command(file, queries, 1, master)]);
    runs.push([`apiserver, --workers 1, ${semi}`, await command(file, queries, 1, master, semi)]);
    runs.push(['apiserver, --workers 2', await command(file, queries, 2, master)]);
    const endpoints = SERVICES * EPS_PER_SVC;
    // CoreDNS's formula counts Pods + Services; every endpoint here is a pod.
    const formula = 54 + (SERVICES + endpoints) / 1000;
    // A stricter reading: only the objects DNS watches (Services + EndpointSlices).
    const strict = 54 + (SERVICES + SERVICES) / 1000;
    console.log(`cluster DNS memory: ${SERVICES} Services, ${SERVICES} EndpointSlices (${endpoints} endpoints), API-shaped objects (${mb(readFileSync(file).length)} MB as JSON)`);
    console.log('what'.padEnd(34) + 'heap MB after sync'.padEnd(20) + 'RSS MB after sync'.padEnd(20) + 'RSS MB after 4 s dnsperf');
    for (const [what, heap, rss, loaded] of rows) console.log(what.padEnd(34) + heap.padEnd(20) + rss.padEnd(20) + loaded);
    console.log(`CoreDNS formula 54 MB + (pods + services)/1000: ${formula.toFixed(0)} MB counting the ${endpoints} endpoints as pods, ${strict.toFixed(0)} MB counting Services + EndpointSlices`);
    console.log('kubeplane dns'.padEnd(52) + 'RSS MB after load'.padEnd(19) + 'peak (VmHWM) MB'.padEnd(17) + 'per process MB'.padEnd(16) + `ratio to ${formula.toFixed(0)} MB`.padEnd(17) + `ratio to ${strict.toFixed(0)} MB`);
    for (const [what, m] of runs)
      console.log(what.padEnd(52) + mb(m.rss).padEnd(19) + mb(m.hwm).padEnd(17) + m.each.map(mb).join('+').padEnd(16) + (m.rss / 1048576 / formula).toFixed(2).padEnd(17) + (m.rss / 1048576 / strict).toFixed(2));
    console.log(`end: ${uptime()}`);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') void child(argv[1]!, argv[2]!, Number(argv[3]));
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
