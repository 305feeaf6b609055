// Several stores on one etcd (several API servers), etcd restarts, and copying a cluster
// between backends — all against a real etcd.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import type { Store } from '../../../src/apiserver/storage/interface.js';
import { openEtcdStore } from '../../../src/apiserver/storage/etcd.js';
import { openSqliteStore } from '../../../src/apiserver/storage/sqlite.js';
import { copyStore } from '../../../src/apiserver/storage/migrate.js';
import { waitFor } from '../../helpers/cli.js';
import { collectWatch } from '../../unit/storage/contract.js';
import { startEtcd, type EtcdServer } from './etcd-server.js';

describeE2E('etcd store: several servers, restarts, migration', { commands: ['etcd'] }, () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  async function etcd(args: string[] = []): Promise<EtcdServer> {
    const e = await startEtcd(args);
    cleanup.push(() => e.stop());
    return e;
  }
  async function store(endpoint: string): Promise<Store> {
    const s = await openEtcdStore({ endpoints: [endpoint], requestTimeout: 3000 });
    cleanup.push(() => s.close());
    return s;
  }

  it('writes through one store are seen by a watch through another, in order, without gaps; conflicts span stores', async () => {
    const e = await etcd();
    const a = await store(e.endpoint);
    const b = await store(e.endpoint);
    const start = await b.currentRevision();
    const w = collectWatch(b, '/registry/services/', start);
    const n = 100;
    const written = await Promise.all(Array.from({ length: n }, (_, i) => (i % 2 ? a : b).create(`/registry/services/specs/ns/s${i}`, String(i))));
    await w.until(n);
    w.cancel();
    expect(w.events.map((ev) => ev.kv.modRevision)).toEqual(written.map((kv) => kv.modRevision).sort((x, y) => x - y));
    expect(w.events.map((ev) => ev.kv.modRevision)).toEqual(Array.from({ length: n }, (_, i) => start + 1 + i));
    // an allocation-style compare-and-swap raced from both stores: one wins
    const base = await a.create('/registry/ranges/serviceips', '{"used":[]}');
    const results = await Promise.allSettled([a.update(base.key, '{"used":["a"]}', base.modRevision), b.update(base.key, '{"used":["b"]}', base.modRevision)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('an etcd restart: requests fail with Unavailable meanwhile, acknowledged writes survive, the store recovers by itself', async () => {
    const e = await etcd();
    const s = await store(e.endpoint);
    const acked = await Promise.all(Array.from({ length: 50 }, (_, i) => s.create(`/registry/pods/ns/p${i}`, String(i))));
    const port = new URL(e.endpoint).port;
    e.process.kill('SIGKILL');
    await new Promise<void>((r) => (e.process.exitCode !== null || e.process.signalCode !== null ? r() : e.process.once('exit', () => r())));
    await expect(s.get('/registry/pods/ns/p0')).rejects.toMatchObject({ code: 'Unavailable' });
    // same member, same data dir, same ports
    const args = e.process.spawnargs.slice(1);
    expect(args).toContain(e.endpoint);
    const again = spawn('etcd', args, { stdio: 'ignore' });
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          if (again.exitCode !== null || again.signalCode !== null) return r();
          again.once('exit', () => r());
          again.kill('SIGKILL');
        }),
    );
    const kv = await waitFor(async () => (await s.get('/registry/pods/ns/p49')).kv, { timeoutMs: 30_000, intervalMs: 200, what: `etcd back on port ${port}` });
    expect(kv).toEqual(acked[49]);
    expect((await s.range('/registry/pods/')).kvs).toHaveLength(50);
    await s.create('/registry/pods/ns/after', '{}');
  });

  it('copyStore moves a cluster from sqlite to etcd as a snapshot, and a re-run is a no-op', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-storage-migrate-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const src = await openSqliteStore(dir, { compactInterval: 0 });
    cleanup.push(() => src.close());
    for (let i = 0; i < 250; i++) await src.create(`/registry/configmaps/ns${i % 3}/cm${i}`, JSON.stringify({ i }));
    await src.create('/registry/namespaces/ns0', '{}');
    const e = await etcd();
    const dst = await store(e.endpoint);
    const r = await copyStore(src, dst, { batch: 64 });
    expect(r).toMatchObject({ copied: 251, unchanged: 0 });
    const a = (await src.range('/registry/')).kvs.map((kv) => [kv.key, kv.value]);
    const b = (await dst.range('/registry/')).kvs.map((kv) => [kv.key, kv.value]);
    expect(b).toEqual(a);
    expect(await copyStore(src, dst)).toMatchObject({ copied: 0, unchanged: 251 });
    await dst.update('/registry/namespaces/ns0', '{"changed":true}', (await dst.get('/registry/namespaces/ns0')).kv!.modRevision);
    await expect(copyStore(src, dst)).rejects.toMatchObject({ code: 'KeyExists' });
  });
});
