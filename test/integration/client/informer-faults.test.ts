import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { ConfigMap } from '../../../src/api/types.js';
import { resourceFor } from '../../../src/api/resources.js';
import { RestClient } from '../../../src/client/rest.js';
import { ApiInformerFactory, type ApiInformer } from '../../../src/client/api-informers.js';
import type { ClientConfig } from '../../../src/client/config.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../../src/client/errors.js';
import { LeaderElector } from '../../../src/client/leaderelection.js';
import { kubeplaneBin, startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { TcpRelay } from './tcp-relay.js';
import { openSqliteStore } from '../../../src/apiserver/storage/sqlite.js';

/*
 * The informer against a real `kubeplane apiserver` process, with faults injected: the
 * server restarted mid-watch, a compaction that forces 410, a connection cut in the
 * middle of a chunk, a slow consumer. After each, the cache must equal a fresh list.
 * The informer reaches the server through a loopback TCP relay; the test's own writes
 * and the reference list go to the server directly.
 */

const configmaps = resourceFor('', 'configmaps')!;
const namespaces = resourceFor('', 'namespaces')!;
const TOKEN = `kp-client-test-${process.pid}`;
const NS = 'informer-faults';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function findFile(dir: string, name: string): string | undefined {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (e === name) return p;
    if (statSync(p).isDirectory()) {
      const f = findFile(p, name);
      if (f) return f;
    }
  }
  return undefined;
}

let dataDir: string;
let port: number;
let server: (ChildProcess & { output: () => string }) | undefined;
let relay: TcpRelay;
let direct: RestClient;
let viaRelay: RestClient;
let factory: ApiInformerFactory;
let baseConfig: Omit<ClientConfig, 'server'>;

function startServer(): void {
  server = startKubeplane([
    'apiserver',
    `--data-dir=${dataDir}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--token-auth-file=${join(dataDir, 'tokens.csv')}`,
  ]);
}

async function waitReady(): Promise<void> {
  await waitFor(
    async () => {
      if (server && server.exitCode !== null) throw new Error(`kubeplane apiserver exited ${server.exitCode}:\n${server.output()}`);
      const ca = findFile(dataDir, 'ca.crt');
      if (!ca) return false;
      const probe = new RestClient({ ...baseConfig, server: `https://127.0.0.1:${port}`, ca: (await import('node:fs')).readFileSync(ca, 'utf8') }, { timeoutMs: 2000 });
      try {
        await probe.request('GET', '/readyz');
        return true;
      } finally {
        await probe.close();
      }
    },
    // generous: the machines these run on can be heavily loaded
    { timeoutMs: 90_000, intervalMs: 250, what: 'kubeplane apiserver to be ready' },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nserver output:\n${server?.output() ?? ''}`);
  });
}

async function freshList(): Promise<string[]> {
  const list = await direct.listAll<ConfigMap>(configmaps, { namespace: NS });
  return state(list.items);
}

function state(objs: ConfigMap[]): string[] {
  return objs.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
}

async function put(name: string, data: Record<string, string>): Promise<ConfigMap> {
  try {
    return await direct.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const cur = await direct.get<ConfigMap>(configmaps, name, { namespace: NS });
    return direct.update<ConfigMap>(configmaps, { ...cur, data });
  }
}

async function expectConverged(inf: ApiInformer<ConfigMap>): Promise<void> {
  let want: string[] = [];
  await waitFor(
    async () => {
      want = await freshList();
      return JSON.stringify(state(inf.list())) === JSON.stringify(want);
    },
    { timeoutMs: 30_000, what: 'the informer cache to equal a fresh list' },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\ncache: ${state(inf.list()).join(' ')}\nlist:  ${want.join(' ')}`);
  });
}

describe('API-backed informer against a real kubeplane apiserver', () => {
  beforeAll(async () => {
    if (!existsSync(kubeplaneBin)) throw new Error(`${kubeplaneBin} is missing: run npx tsc -p tsconfig.build.json first`);
    dataDir = mkdtempSync(join(tmpdir(), 'kp-client-faults-'));
    writeFileSync(join(dataDir, 'tokens.csv'), `${TOKEN},kp-client-test,kp-client-test,"system:masters"\n`);
    port = await freePort();
    baseConfig = { token: TOKEN, namespace: NS, source: 'test' };
    startServer();
    await waitReady();
    const ca = (await import('node:fs')).readFileSync(findFile(dataDir, 'ca.crt')!, 'utf8');
    baseConfig = { ...baseConfig, ca };
    direct = new RestClient({ ...baseConfig, server: `https://127.0.0.1:${port}` });
    relay = new TcpRelay(port);
    await relay.start();
    viaRelay = new RestClient({ ...baseConfig, server: `https://127.0.0.1:${relay.port}` }, { timeoutMs: 10_000 });
    await direct.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).catch((e: unknown) => {
      if (!isAlreadyExists(e)) throw e;
    });
  }, 120_000);

  afterAll(async () => {
    await factory?.stop();
    await viaRelay?.close();
    await direct?.close();
    await relay?.stop();
    if (server) await stopProcess(server);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  afterEach(async () => {
    await factory?.stop();
    relay.unblock();
    relay.throttle(0);
  });

  function informer(): ApiInformer<ConfigMap> {
    factory = new ApiInformerFactory(viaRelay, { namespace: NS, reflector: { backoff: { initialMs: 100, maxMs: 1000 } } });
    return factory.informerFor<ConfigMap>('', 'configmaps');
  }

  it('survives the server being restarted mid-watch, keeping its cache while the server is away', { timeout: 180_000 }, async () => {
    for (let i = 0; i < 5; i++) await put(`restart-${i}`, { v: '1' });
    const inf = informer();
    await factory.start();
    await inf.synced();
    await expectConverged(inf);
    const before = state(inf.list());

    await stopProcess(server!);
    await new Promise((r) => setTimeout(r, 500));
    expect(state(inf.list())).toEqual(before);
    expect(inf.hasSynced()).toBe(true);

    startServer();
    await waitReady();
    await put('restart-0', { v: '2' });
    await direct.delete(configmaps, 'restart-1', { namespace: NS });
    await put('restart-new', { v: '1' });
    await expectConverged(inf);
    expect(inf.reflector.stats.watchErrors).toBeGreaterThan(0);
  });

  it('relists after a compaction makes its resourceVersion too old (410), delivering only the differences', { timeout: 180_000 }, async () => {
    for (let i = 0; i < 5; i++) await put(`compact-${i}`, { v: '1' });
    const inf = informer();
    const events: string[] = [];
    await factory.start();
    await inf.synced();
    inf.addEventHandler({
      onAdd: (o, initial) => !initial && events.push(`add ${o.metadata.name}`),
      onUpdate: (_a, b) => events.push(`update ${b.metadata.name}`),
      onDelete: (o) => events.push(`delete ${o.metadata.name}`),
    });
    events.length = 0;
    await expectConverged(inf);

    // the server is unreachable while history moves on and is compacted
    relay.block();
    await put('compact-0', { v: '2' });
    await direct.delete(configmaps, 'compact-1', { namespace: NS });
    await put('compact-new', { v: '1' });
    for (let i = 0; i < 20; i++) await put(`compact-churn`, { v: String(i) });
    // `kubeplane apiserver` has no flag to compact on demand: compact its store the way its
    // scheduled compaction does, while the process is down (the database is opened exclusively)
    await stopProcess(server!);
    const store = await openSqliteStore(dataDir, { compactInterval: 0, progressInterval: 0 });
    try {
      await store.compact(await store.currentRevision());
    } finally {
      await store.close();
    }
    startServer();
    await waitReady();
    relay.unblock();
    await expectConverged(inf);
    expect(inf.reflector.stats.expiredRelists).toBeGreaterThan(0);
    // objects that did not change produced no event
    expect(events.filter((e) => /compact-[234]$/.test(e))).toEqual([]);
    expect(events).toContain('delete compact-1');
    expect(events).toContain('update compact-0');
  });

  it('recovers from a connection cut in the middle of a chunk, losing and repeating nothing', { timeout: 180_000 }, async () => {
    const inf = informer();
    const seen: string[] = [];
    inf.addEventHandler({ onUpdate: (_a, b) => seen.push(`${b.metadata.name}=${b.data?.v}`) });
    await put('cut-big', { v: '0', pad: 'é'.repeat(100) });
    await factory.start();
    await inf.synced();
    const cut = relay.cutNextChunkMidway(8000);
    await put('cut-big', { v: '1', pad: 'é'.repeat(20_000) });
    await cut;
    await put('cut-big', { v: '2', pad: 'é'.repeat(100) });
    await expectConverged(inf);
    expect(seen).toEqual(['cut-big=1', 'cut-big=2']);
    expect(inf.reflector.stats.watchErrors).toBeGreaterThan(0);
    expect(inf.reflector.stats.lists).toBe(1);
  });

  it('a label-selected informer sees an object leave when its label stops matching', { timeout: 180_000 }, async () => {
    factory = new ApiInformerFactory(viaRelay, { namespace: NS });
    const inf = factory.informerFor<ConfigMap>('', 'configmaps', { labelSelector: 'tier=web' });
    const deleted: string[] = [];
    inf.addEventHandler({ onDelete: (o) => deleted.push(o.metadata.name!) });
    await direct.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sel-a', namespace: NS, labels: { tier: 'web' } } });
    await direct.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sel-b', namespace: NS, labels: { tier: 'db' } } });
    await factory.start();
    await inf.synced();
    expect(inf.list().map((o) => o.metadata.name)).toEqual(['sel-a']);
    const a = await direct.get<ConfigMap>(configmaps, 'sel-a', { namespace: NS });
    await direct.update<ConfigMap>(configmaps, { ...a, metadata: { ...a.metadata, labels: { tier: 'db' } } });
    await waitFor(() => deleted.includes('sel-a'), { what: 'sel-a to leave the selection' });
    expect(inf.list()).toEqual([]);
  });

  it('REST errors from the real server carry their Status code and reason', { timeout: 180_000 }, async () => {
    expect(isNotFound(await direct.get(configmaps, 'no-such', { namespace: NS }).catch((e: unknown) => e))).toBe(true);
    const cm = await put('errs', { v: '1' });
    const dup = await direct.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'errs', namespace: NS } }).catch((e: unknown) => e);
    expect(isAlreadyExists(dup)).toBe(true);
    await put('errs', { v: '2' });
    const stale = await direct.update<ConfigMap>(configmaps, { ...cm, data: { v: '3' } }).catch((e: unknown) => e);
    expect(isConflict(stale)).toBe(true);
  });

  it('leader election on a real Lease: one leader at a time, handover when it releases', { timeout: 180_000 }, async () => {
    const leases = resourceFor('coordination.k8s.io', 'leases')!;
    const leading = new Set<string>();
    const make = (identity: string) =>
      new LeaderElector(direct, {
        namespace: NS,
        name: 'kp-client-test',
        identity,
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 300,
        releaseOnCancel: true,
        callbacks: { onStartedLeading: () => leading.add(identity), onStoppedLeading: () => leading.delete(identity) },
      });
    const acA = new AbortController();
    const acB = new AbortController();
    const runA = make('a').run(acA.signal);
    let runB: Promise<void> | undefined;
    try {
      await waitFor(() => leading.has('a'), { what: 'a to lead' });
      runB = make('b').run(acB.signal);
      await new Promise((r) => setTimeout(r, 1000));
      expect([...leading]).toEqual(['a']);
      acA.abort();
      await runA;
      await waitFor(() => leading.has('b'), { what: 'b to take over' });
      expect([...leading]).toEqual(['b']);
      const lease = await direct.get<import('../../../src/api/types.js').Lease>(leases, 'kp-client-test', { namespace: NS });
      expect(lease.spec.holderIdentity).toBe('b');
    } finally {
      acA.abort();
      acB.abort();
      await Promise.all([runA, runB]);
    }
  });

  it('a slow consumer (slow handler and a trickling connection) still ends equal to a fresh list', { timeout: 180_000 }, async () => {
    const inf = informer();
    inf.addEventHandler({
      onUpdate: () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5),
      onAdd: () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5),
    });
    await factory.start();
    await inf.synced();
    relay.throttle(512);
    for (let i = 0; i < 100; i++) await put(`slow-${i % 40}`, { v: String(i), pad: 'x'.repeat(500) });
    for (let i = 0; i < 40; i += 3) await direct.delete(configmaps, `slow-${i}`, { namespace: NS });
    await expectConverged(inf);
  });
});
