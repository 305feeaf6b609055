// Write-to-watch latency through the Store: one writer creates objects one after another, a
// watcher on the prefix timestamps each event; prints p50/p99 for SQLite and for a real etcd
// (reference), plus a 16-writer run to show that group commit does not delay watchers.
// Run: npx tsx bench/storage/watch-latency.ts [count]

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Store } from '../../src/apiserver/storage/interface.js';
import { openSqliteStore } from '../../src/apiserver/storage/sqlite.js';
import { openEtcdStore } from '../../src/apiserver/storage/etcd.js';
import { startEtcd } from '../../test/integration/storage/etcd-server.js';

const count = Number(process.argv[2] ?? 1000);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function run(store: Store, label: string, writers: number): Promise<{ p50: number; p99: number }> {
  const prefix = `/registry/configmaps/${label}-${writers}/`;
  const sent = new Map<string, bigint>();
  const lat: number[] = [];
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => (done = r));
  const w = store.watch(prefix, await store.currentRevision(), {
    onEvents(evs) {
      const now = process.hrtime.bigint();
      for (const e of evs) {
        const t = sent.get(e.kv.key);
        if (t !== undefined) lat.push(Number(now - t) / 1e6);
      }
      if (lat.length >= count) done();
    },
    onError(err) {
      console.error(`${label}: watch ended: ${err.message}`);
      done();
    },
  });
  let next = 0;
  const deadline = Date.now() + 30_000;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < count && Date.now() < deadline) {
        const key = `${prefix}cm-${next++}`;
        sent.set(key, process.hrtime.bigint());
        await store.create(key, '{"data":{"k":"v"}}');
      }
    }),
  );
  await Promise.race([all, new Promise((r) => setTimeout(r, 10_000))]);
  w.cancel();
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

const rows: [string, number, { p50: number; p99: number }][] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-bench-storage-'));
let sqliteStore: Store | undefined;
try {
  sqliteStore = await openSqliteStore(dir, { compactInterval: 0 });
  rows.push(['sqlite', 1, await run(sqliteStore, 'sqlite', 1)], ['sqlite', 16, await run(sqliteStore, 'sqlite', 16)]);
} finally {
  await sqliteStore?.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
let haveEtcd = true;
try {
  execFileSync('sh', ['-c', 'command -v etcd'], { stdio: 'ignore' });
} catch {
  haveEtcd = false;
}
if (haveEtcd) {
  const etcd = await startEtcd();
  try {
    const store = await openEtcdStore({ endpoints: [etcd.endpoint] });
    try {
      rows.push(['etcd', 1, await run(store, 'etcd', 1)], ['etcd', 16, await run(store, 'etcd', 16)]);
    } catch (err) {
      console.error(`etcd reference run failed (machine overloaded?): ${(err as Error).message}`);
    }
    await store.close();
  } finally {
    await etcd.stop();
  }
}
console.log(`write-to-watch latency through Store, ${count} creates per run`);
console.log('backend  writers   p50 ms   p99 ms');
for (const [name, writers, r] of rows) console.log(`${name.padEnd(8)} ${String(writers).padStart(7)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)}`);
const s1 = rows.find((r) => r[0] === 'sqlite' && r[1] === 1)?.[2];
const e1 = rows.find((r) => r[0] === 'etcd' && r[1] === 1)?.[2];
if (s1 && e1) console.log(`ratio sqlite/etcd (reference) p50 at 1 writer: ${(s1.p50 / e1.p50).toFixed(2)}x`);
