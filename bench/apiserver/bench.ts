// API server headline numbers, with etcd's own figures for the same work side by side:
//   creates/s with 1 client and with 16 concurrent clients,
//   list latency with 10,000 Services,
//   watch delivery latency (p50/p99) with 100 concurrent watchers.
// kubeplane runs in-process (plain HTTP on loopback, SQLite in a temp dir, every write durable);
// etcd (/usr/bin/etcd) runs on loopback ports in a temp dir and is driven with the etcd3 client.
// Usage: npx tsx bench/apiserver/bench.ts [--services 10000] [--creates 1000]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { Etcd3 } from 'etcd3';
import { ApiServer } from '../../src/apiserver/server.js';
import { allowAll } from '../../src/apiserver/auth.js';
import { PortRange, ServiceCIDR } from '../../src/apiserver/registry/services.js';
import { openSqliteStore } from '../../src/apiserver/storage/sqlite.js';
import { configureLogging } from '../../src/observability/log.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const SERVICES = arg('services', 10_000);
const CREATES = arg('creates', 1000);
const WATCHERS = 100;
const WATCH_EVENTS = 200;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (n: number): string => `${n.toFixed(2)} ms`;

async function inParallel(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function serviceJson(name: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, labels: { app: name } }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
}

// ---- kubeplane ----

interface Results {
  create1: number;
  create16: number;
  listP50: number;
  listP99: number;
  watchP50: number;
  watchP99: number;
}

async function benchKubeplane(): Promise<Results> {
  const dir = mkdtempSync(join(tmpdir(), 'kp-bench-apiserver-'));
  const store = await openSqliteStore(dir, { compactInterval: 0 });
  const server = new ApiServer({ store, authenticator: allowAll, serviceCIDR: new ServiceCIDR('10.96.0.0/12'), nodePorts: new PortRange(30000, 2768), bindAddress: '127.0.0.1', port: 0, advertiseAddress: '10.0.0.1' });
  const { port } = await server.start();
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 32, pipelining: 1 });
  const post = async (path: string, body: string): Promise<void> => {
    const r = await pool.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json' } });
    await r.body.text();
    if (r.statusCode !== 201) throw new Error(`POST ${path}: ${r.statusCode}`);
  };
  const cm = (name: string, extra = ''): string => `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${name}"${extra}},"data":{"k":"v"}}`;
  try {
    const t1 = await timed(async () => {
      for (let i = 0; i < CREATES; i++) await post('/api/v1/namespaces/default/configmaps', cm(`one-${i}`));
    });
    const t16 = await timed(() => inParallel(CREATES * 2, 16, (i) => post('/api/v1/namespaces/default/configmaps', cm(`par-${i}`))));

    await inParallel(SERVICES, 16, (i) => post('/api/v1/namespaces/default/services', serviceJson(`svc-${i}`)));
    const lists: number[] = [];
    for (let i = 0; i < 10; i++) {
      lists.push(
        await timed(async () => {
          const r = await pool.request({ method: 'GET', path: '/api/v1/services' });
          const body = (await r.body.json()) as { items: unknown[] };
          if (body.items.length < SERVICES) throw new Error(`listed ${body.items.length}`);
        }),
      );
    }

    // watch delivery: 100 watchers on one namespace; each event's creation time rides in the name
    await post('/api/v1/namespaces', '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"watched"}}');
    const latencies: number[] = [];
    const sentAt = new Map<string, number>();
    const watchPool = new Pool(`http://127.0.0.1:${port}`, { connections: WATCHERS + 1 });
    const streams = await Promise.all(
      Array.from({ length: WATCHERS }, async () => {
        const r = await watchPool.request({ method: 'GET', path: '/api/v1/namespaces/watched/configmaps?watch=true' });
        let buf = '';
        let received = 0;
        const done = (async () => {
          for await (const chunk of r.body) {
            const now = performance.now();
            buf += chunk.toString();
            let i;
            while ((i = buf.indexOf('\n')) >= 0) {
              const ev = JSON.parse(buf.slice(0, i)) as { type: string; object: { metadata: { name: string } } };
              buf = buf.slice(i + 1);
              const t = sentAt.get(ev.object.metadata.name);
              if (ev.type === 'ADDED' && t !== undefined) {
                latencies.push(now - t);
                if (++received >= WATCH_EVENTS) return;
              }
            }
          }
        })();
        return { r, done };
      }),
    );
    await new Promise((res) => setTimeout(res, 500));
    for (let i = 0; i < WATCH_EVENTS; i++) {
      const name = `w-${i}`;
      sentAt.set(name, performance.now());
      await post('/api/v1/namespaces/watched/configmaps', cm(name));
    }
    await Promise.race([Promise.all(streams.map((s) => s.done)), new Promise((res) => setTimeout(res, 30_000))]);
    for (const s of streams) s.r.body.destroy();
    await watchPool.destroy();
    return { create1: CREATES / (t1 / 1000), create16: (CREATES * 2) / (t16 / 1000), listP50: pct(lists, 50), listP99: pct(lists, 99), watchP50: pct(latencies, 50), watchP99: pct(latencies, 99) };
  } finally {
    await pool.destroy();
    await server.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- etcd reference ----

async function startEtcd(dir: string, clientPort: number): Promise<ChildProcess> {
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${clientPort + 1}`;
  const child = spawn('/usr/bin/etcd', ['--name', 'bench', '--data-dir', dir, '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `bench=${peer}`, '--log-level', 'error'], { stdio: 'ignore' });
  const client = new Etcd3({ hosts: url });
  for (let i = 0; i < 100; i++) {
    try {
      await client.get('probe');
      client.close();
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.close();
  child.kill('SIGKILL');
  throw new Error('etcd did not start');
}

async function benchEtcd(): Promise<Results | undefined> {
  if (!existsSync('/usr/bin/etcd')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kp-bench-etcd-'));
  const clientPort = 23000 + (process.pid % 1000) * 2;
  const etcd = await startEtcd(dir, clientPort);
  const client = new Etcd3({ hosts: `http://127.0.0.1:${clientPort}` });
  try {
    const value = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"default","uid":"00000000-0000-0000-0000-000000000000"},"data":{"k":"v"}}';
    const t1 = await timed(async () => {
      for (let i = 0; i < CREATES; i++) await client.put(`/registry/configmaps/default/one-${i}`).value(value);
    });
    const t16 = await timed(() => inParallel(CREATES * 2, 16, async (i) => void (await client.put(`/registry/configmaps/default/par-${i}`).value(value))));
    await inParallel(SERVICES, 16, async (i) => void (await client.put(`/registry/services/specs/default/svc-${i}`).value(serviceJson(`svc-${i}`))));
    const lists: number[] = [];
    for (let i = 0; i < 10; i++) {
      lists.push(
        await timed(async () => {
          const all = await client.getAll().prefix('/registry/services/specs/').strings();
          if (Object.keys(all).length < SERVICES) throw new Error('short list');
        }),
      );
    }
    const latencies: number[] = [];
    const watchers = await Promise.all(
      Array.from({ length: WATCHERS }, async () => {
        const w = await client.watch().prefix('/registry/configmaps/watched/').create();
        w.on('put', (kv) => latencies.push(performance.now() - Number(kv.value.toString())));
        return w;
      }),
    );
    for (let i = 0; i < WATCH_EVENTS; i++) await client.put(`/registry/configmaps/watched/w-${i}`).value(String(performance.now()));
    const deadline = Date.now() + 30_000;
    while (latencies.length < WATCHERS * WATCH_EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await Promise.all(watchers.map((w) => w.cancel()));
    return { create1: CREATES / (t1 / 1000), create16: (CREATES * 2) / (t16 / 1000), listP50: pct(lists, 50), listP99: pct(lists, 99), watchP50: pct(latencies, 50), watchP99: pct(latencies, 99) };
  } finally {
    client.close();
    etcd.kill('SIGTERM');
    await new Promise((r) => etcd.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

configureLogging({ verbosity: 0 });
const kp = await benchKubeplane();
const ref = await benchEtcd();
const rows: [string, (r: Results) => number, (n: number) => string, boolean][] = [
  ['creates/s, 1 client', (r) => r.create1, (n) => n.toFixed(0), true],
  ['creates/s, 16 clients', (r) => r.create16, (n) => n.toFixed(0), true],
  [`list ${SERVICES} services p50`, (r) => r.listP50, ms, false],
  [`list ${SERVICES} services p99`, (r) => r.listP99, ms, false],
  [`watch delivery p50 (${WATCHERS} watchers)`, (r) => r.watchP50, ms, false],
  [`watch delivery p99 (${WATCHERS} watchers)`, (r) => r.watchP99, ms, false],
];
console.log(`${'metric'.padEnd(36)} ${'kubeplane'.padStart(12)} ${'etcd 3.4 (raw kv)'.padStart(18)} ${'ratio'.padStart(8)}`);
for (const [name, get, fmt, higherBetter] of rows) {
  const a = get(kp);
  const b = ref ? get(ref) : NaN;
  const ratio = ref ? (higherBetter ? a / b : b / a) : NaN;
  console.log(`${name.padEnd(36)} ${fmt(a).padStart(12)} ${(ref ? fmt(b) : 'n/a').padStart(18)} ${(ref ? ratio.toFixed(2) + 'x' : '').padStart(8)}`);
}
console.log('ratio = kubeplane relative to etcd (>1 means kubeplane is better); etcd stores raw values with no API semantics.');
process.exit(0);
