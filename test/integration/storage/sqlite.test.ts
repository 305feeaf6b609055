// SQLite-specific behaviour: crash durability with a real SIGKILLed writer process, reopening,
// the data-dir lock, slow watchers, scheduled compaction.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError, type Store, type WatchEvent } from '../../../src/apiserver/storage/interface.js';
import { openSqliteStore, sqliteFileName } from '../../../src/apiserver/storage/sqlite.js';
import { waitFor } from '../../helpers/cli.js';
import { collectWatch } from '../../unit/storage/contract.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
const stores: Store[] = [];
const children: ChildProcess[] = [];

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-storage-'));
  dirs.push(d);
  return d;
}

async function open(dir: string, opts: Parameters<typeof openSqliteStore>[1] = {}): Promise<Store> {
  const s = await openSqliteStore(dir, { compactInterval: 0, ...opts });
  stores.push(s);
  return s;
}

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('sqlite store: crash durability', () => {
  it('every acknowledged write survives kill -9, and a watch from before the crash resumes without gaps', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'sqlite-writer.ts'), dir, '100000', '16'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const acked = new Map<string, number>();
    let startRev = 0;
    let buf = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const killed = new Promise<void>((resolve, reject) => {
      child.on('exit', () => resolve());
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const [word, a, b] = line.split(' ');
          if (word === 'ready') startRev = Number(a);
          if (word === 'acked') acked.set(a!, Number(b));
          // kill mid-stream, with writes in flight
          if (acked.size === 500 && child.exitCode === null) child.kill('SIGKILL');
        }
      });
      setTimeout(() => reject(new Error(`writer did not reach 500 acks (got ${acked.size}): ${stderr}`)), 45_000).unref();
    });
    await killed;
    expect(child.signalCode).toBe('SIGKILL');
    expect(acked.size).toBeGreaterThanOrEqual(500);

    const store = await open(dir);
    const current = await store.currentRevision();
    for (const [key, rev] of acked) {
      const { kv } = await store.get(key);
      expect(kv?.modRevision, key).toBe(rev);
    }
    const all = await store.range('/registry/configmaps/crash/');
    // writes in flight at the kill may or may not have committed, but only whole ones did
    expect(all.kvs.length).toBeGreaterThanOrEqual(acked.size);
    expect(all.kvs.length).toBe(current - startRev);

    // a watcher that had seen `startRev` gets every revision after it, then live ones
    const w = collectWatch(store, '/registry/configmaps/', startRev);
    await w.until(all.kvs.length);
    const after = await store.create('/registry/configmaps/crash/after-restart', '{}');
    await w.until(all.kvs.length + 1);
    w.cancel();
    const revs = w.events.map((e) => e.kv.modRevision);
    expect(revs).toEqual(Array.from({ length: current - startRev + 1 }, (_, i) => startRev + 1 + i));
    expect(after.modRevision).toBe(current + 1);
  });

  it('reopening a cleanly closed store keeps data, revisions and the compacted revision', async () => {
    const dir = tempDir();
    let s = await openSqliteStore(dir, { compactInterval: 0 });
    const a = await s.create('/registry/pods/ns/a', 'A');
    const a2 = await s.update('/registry/pods/ns/a', 'A2', a.modRevision);
    await s.compact(a2.modRevision);
    await s.close();
    s = await open(dir);
    expect(await s.currentRevision()).toBe(a2.modRevision);
    expect(await s.compactedRevision()).toBe(a2.modRevision);
    expect((await s.get('/registry/pods/ns/a')).kv).toEqual(a2);
    const b = await s.create('/registry/pods/ns/b', 'B');
    expect(b.modRevision).toBe(a2.modRevision + 1);
  });

  it('uses WAL, and a second store on the same data dir is refused while the first is open', async () => {
    const dir = tempDir();
    const s = await open(dir);
    await s.create('/registry/pods/ns/a', 'A');
    await expect(openSqliteStore(dir, { compactInterval: 0 })).rejects.toMatchObject({ code: 'Unavailable', message: expect.stringMatching(/in use/) });
    await s.close();
    const raw = new Database(path.join(dir, sqliteFileName), { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
    const again = await open(dir);
    expect((await again.get('/registry/pods/ns/a')).kv?.value).toBe('A');
  });
});

describe('sqlite store: watchers', () => {
  it('a consumer that stops consuming is ended with Unavailable; writers and other watchers are unaffected', async () => {
    const store = await open(tempDir(), { watch: { maxBuffered: 100, maxBatch: 10 } });
    const start = await store.currentRevision();
    let slowError: StorageError | undefined;
    let slowSeen = 0;
    store.watch('/registry/secrets/', start, {
      onEvents(evs) {
        slowSeen += evs.length;
        return new Promise<void>(() => undefined); // never finishes: a stuck socket
      },
      onError(err) {
        slowError = err;
      },
    });
    const fast = collectWatch(store, '/registry/secrets/', start);
    const n = 300;
    for (let i = 0; i < n; i += 30) {
      await Promise.all(Array.from({ length: 30 }, (_, j) => store.create(`/registry/secrets/ns/s${i + j}`, 'x')));
    }
    await fast.until(n);
    expect(fast.events).toHaveLength(n);
    expect(fast.error).toBeUndefined();
    await waitFor(() => slowError, { what: 'slow watcher to be ended' });
    expect(slowError!.code).toBe('Unavailable');
    expect(slowSeen).toBe(10); // it got its first batch, then stalled
    fast.cancel();
  });

  it('catch-up from a long history arrives in bounded batches, in order, and hands over to live events', async () => {
    const store = await open(tempDir(), { watch: { maxBuffered: 300, maxBatch: 100 } });
    const start = await store.currentRevision();
    const n = 2500; // more than the buffer and more than one catch-up page
    for (let i = 0; i < n; i += 250) {
      await Promise.all(Array.from({ length: 250 }, (_, j) => store.create(`/registry/leases/ns/l${i + j}`, 'x')));
    }
    const events: WatchEvent[] = [];
    let maxBatch = 0;
    let error: StorageError | undefined;
    const w = store.watch('/registry/leases/', start, {
      async onEvents(evs) {
        maxBatch = Math.max(maxBatch, evs.length);
        events.push(...evs);
        await new Promise((r) => setImmediate(r)); // a consumer that takes its time but keeps up
      },
      onError(err) {
        error = err;
      },
    });
    await waitFor(() => events.length === n, { what: 'catch-up' });
    const live = await store.create('/registry/leases/ns/live', 'x');
    await waitFor(() => events.length === n + 1, { what: 'live event' });
    w.cancel();
    expect(error).toBeUndefined();
    expect(maxBatch).toBeLessThanOrEqual(100);
    expect(events.map((e) => e.kv.modRevision)).toEqual(Array.from({ length: n + 1 }, (_, i) => start + 1 + i));
    expect(events[n]!.kv).toEqual(live);
  });

  it('idle watchers get progress notifications at the current revision', async () => {
    const store = await open(tempDir(), { progressInterval: 20 });
    const kv = await store.create('/registry/nodes/n1', 'x');
    const progress: number[] = [];
    const w = store.watch('/registry/pods/', kv.modRevision, { onEvents: () => undefined, onError: () => undefined, onProgress: (r) => progress.push(r) });
    await waitFor(() => progress.length >= 2, { what: 'progress notifications' });
    w.cancel();
    expect(progress.every((r) => r === kv.modRevision)).toBe(true);
  });
});

describe('sqlite store: scheduled compaction', () => {
  it('compacts by revision count once history is old enough, keeping the retained revisions readable', async () => {
    const dir = tempDir();
    const store = await open(dir, { compactInterval: 20, retainRevisions: 50, retainAge: 0, compactBatch: 7 });
    let kv = await store.create('/registry/configmaps/ns/c', '0');
    for (let i = 1; i < 300; i++) kv = await store.update('/registry/configmaps/ns/c', String(i), kv.modRevision);
    const target = kv.modRevision - 50;
    await waitFor(async () => (await store.compactedRevision()) === target, { what: `compaction to ${target}` });
    await expect(store.get('/registry/configmaps/ns/c', { revision: target - 1 })).rejects.toMatchObject({ code: 'Compacted' });
    expect((await store.get('/registry/configmaps/ns/c', { revision: target })).kv?.value).toBe(String(300 - 51));
    await store.close();
    const raw = new Database(path.join(dir, sqliteFileName), { readonly: true });
    try {
      const rows = raw.prepare('SELECT count(*) FROM log').pluck().get() as number;
      expect(rows).toBe(51); // revisions target..current
    } finally {
      raw.close();
    }
  });

  it('keeps history younger than retainAge even when it exceeds retainRevisions', async () => {
    const store = await open(tempDir(), { compactInterval: 20, retainRevisions: 5, retainAge: 60 * 60_000 });
    let kv = await store.create('/registry/configmaps/ns/c', '0');
    for (let i = 1; i < 50; i++) kv = await store.update('/registry/configmaps/ns/c', String(i), kv.modRevision);
    await new Promise((r) => setTimeout(r, 200));
    expect(await store.compactedRevision()).toBe(0);
  });
});

describe('sqlite store: interrupted compaction', () => {
  it('finishes deleting history on the next open when a compaction was cut short', async () => {
    const dir = tempDir();
    let s = await openSqliteStore(dir, { compactInterval: 0 });
    let kv = await s.create('/registry/configmaps/ns/c', '0');
    for (let i = 1; i < 40; i++) kv = await s.update('/registry/configmaps/ns/c', String(i), kv.modRevision);
    await s.close();
    // what a crash between marking and deleting leaves behind: the mark, and all the rows
    const raw = new Database(path.join(dir, sqliteFileName));
    raw.prepare("UPDATE meta SET value = ? WHERE name = 'compacted'").run(kv.modRevision - 5);
    raw.close();
    s = await open(dir);
    expect(await s.compactedRevision()).toBe(kv.modRevision - 5);
    await s.close();
    const check = new Database(path.join(dir, sqliteFileName), { readonly: true });
    try {
      expect(check.prepare('SELECT min(rev) FROM log').pluck().get()).toBe(kv.modRevision - 5);
    } finally {
      check.close();
    }
  });
});

describe('sqlite store: group commit isolation', () => {
  it('a malformed transaction fails alone; the writes committed with it in the same turn succeed', async () => {
    const store = await open(tempDir());
    const results = await Promise.allSettled([
      store.create('/registry/pods/ns/a', 'A'),
      store.txn([], [{ type: 'put', key: '/registry/pods/ns/bad', value: { not: 'a string' } as unknown as string }]),
      store.create('/registry/pods/ns/b', 'B'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as StorageError).code).toBe('Internal');
    expect((await store.range('/registry/pods/')).kvs.map((kv) => kv.value)).toEqual(['A', 'B']);
  });
});
