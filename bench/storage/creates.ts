// creates/s through the Store interface: one client (each create awaited before the next) and
// 16 concurrent clients, for the embedded SQLite store and, as the reference, a real etcd
// (Debian etcd-server, single member on loopback, temp data dir) through the etcd backend.
// Run: npx tsx bench/storage/creates.ts [count]
// Both stores fsync every acknowledged write, so the numbers compare like for like.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Store } from '../../src/apiserver/storage/interface.js';
import { openSqliteStore } from '../../src/apiserver/storage/sqlite.js';
import { openEtcdStore } from '../../src/apiserver/storage/etcd.js';
import { startEtcd } from '../../test/integration/storage/etcd-server.js';

const count = Number(process.argv[2] ?? 2000);
const maxSeconds = 20; // per measurement: bounded even on a slow disk
const value = JSON.stringify({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'bench', namespace: 'default', labels: { app: 'bench' } },
  data: { payload: 'x'.repeat(512) },
});

async function measure(store: Store, label: string, clients: number): Promise<number> {
  let next = 0;
  const deadline = Date.now() + maxSeconds * 1000;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count && Date.now() < deadline) {
        const i = next++;
        await store.create(`/registry/configmaps/${label}-${clients}/cm-${i}`, value);
      }
    }),
  );
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return next / secs;
}

function hasEtcd(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v etcd'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const results: Record<string, { c1: number; c16: number }> = {};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-bench-storage-'));
try {
  const sqlite = await openSqliteStore(dir, { compactInterval: 0 });
  results.sqlite = { c1: await measure(sqlite, 'sqlite', 1), c16: await measure(sqlite, 'sqlite', 16) };
  await sqlite.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
if (hasEtcd()) {
  const etcd = await startEtcd();
  try {
    const store = await openEtcdStore({ endpoints: [etcd.endpoint] });
    try {
      results.etcd = { c1: await measure(store, 'etcd', 1), c16: await measure(store, 'etcd', 16) };
    } catch (err) {
      console.error(`etcd reference run failed (machine overloaded?): ${(err as Error).message}`);
    }
    await store.close();
  } finally {
    await etcd.stop();
  }
}

console.log(`creates through Store, ${count} per run (data dirs under ${os.tmpdir()})`);
console.log('backend    1 client/s   16 clients/s');
for (const [name, r] of Object.entries(results)) {
  console.log(`${name.padEnd(10)} ${r.c1.toFixed(0).padStart(10)}   ${r.c16.toFixed(0).padStart(12)}`);
}
if (results.etcd) {
  const s = results.sqlite!;
  const e = results.etcd;
  console.log(`ratio sqlite/etcd (reference): 1 client ${(s.c1 / e.c1).toFixed(2)}x, 16 clients ${(s.c16 / e.c16).toFixed(2)}x`);
} else {
  console.log('etcd not installed: no reference run');
}
