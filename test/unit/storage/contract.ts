// The Store contract, run against every backend (SQLite here, etcd in test/integration/storage).
// Backends may share one store across tests (etcd does), so each test writes under its own
// prefix and only asserts revisions relative to ones it observed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError, type KeyValue, type Store, type WatchEvent } from '../../../src/apiserver/storage/interface.js';

export interface StoreFactory {
  open(): Promise<Store>;
  /** backend-specific cleanup after the store is closed */
  cleanup?(): Promise<void>;
}

let prefixSeq = 0;
function freshPrefix(): string {
  return `/registry/contract${process.pid}x${++prefixSeq}/`;
}

async function expectStorageError(p: Promise<unknown>, code: StorageError['code']): Promise<StorageError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe(code);
    return err as StorageError;
  }
  throw new Error(`expected StorageError ${code}, but the call succeeded`);
}

/** Collects a watch's events; `until` resolves once `n` events arrived (or the watch ended). */
export function collectWatch(store: Store, prefix: string, after: number) {
  const events: WatchEvent[] = [];
  let error: StorageError | undefined;
  let batches = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const check = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (events.length >= waiters[i]!.n || error) {
        waiters[i]!.resolve();
        waiters.splice(i, 1);
      }
    }
  };
  const watcher = store.watch(prefix, after, {
    onEvents(evs) {
      batches++;
      events.push(...evs);
      check();
    },
    onError(err) {
      error = err;
      check();
    },
  });
  return {
    events,
    get error() {
      return error;
    },
    get batches() {
      return batches;
    },
    cancel: () => watcher.cancel(),
    until(n: number, timeoutMs = 10_000): Promise<void> {
      if (events.length >= n || error) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`watch got ${events.length} of ${n} events`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
    ended(timeoutMs = 10_000): Promise<StorageError> {
      return new Promise<StorageError>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('watch did not end')), timeoutMs);
        const poll = () => {
          if (error) {
            clearTimeout(t);
            resolve(error);
          } else setTimeout(poll, 10);
        };
        poll();
      });
    },
  };
}

/** A tiny deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await factory.open();
    });
    afterAll(async () => {
      await store?.close();
      await factory.cleanup?.();
    });

    it('create assigns the next revision to createRevision and modRevision; a second create fails with KeyExists', async () => {
      const p = freshPrefix();
      const before = await store.currentRevision();
      const kv = await store.create(`${p}default/a`, '{"n":1}');
      expect(kv).toEqual({ key: `${p}default/a`, value: '{"n":1}', createRevision: kv.modRevision, modRevision: kv.modRevision });
      expect(kv.modRevision).toBeGreaterThan(before);
      expect(await store.currentRevision()).toBeGreaterThanOrEqual(kv.modRevision);
      const got = await store.get(`${p}default/a`);
      expect(got.kv).toEqual(kv);
      expect(got.revision).toBeGreaterThanOrEqual(kv.modRevision);
      await expectStorageError(store.create(`${p}default/a`, '{"n":2}'), 'KeyExists');
      expect((await store.get(`${p}default/a`)).kv?.value).toBe('{"n":1}');
    });

    it('update is conditioned on modRevision: Conflict carries the current kv, NotFound when absent', async () => {
      const p = freshPrefix();
      const k = `${p}ns/obj`;
      const c = await store.create(k, 'v1');
      const u = await store.update(k, 'v2', c.modRevision);
      expect(u.createRevision).toBe(c.createRevision);
      expect(u.modRevision).toBeGreaterThan(c.modRevision);
      expect(u.value).toBe('v2');
      const conflict = await expectStorageError(store.update(k, 'v3', c.modRevision), 'Conflict');
      expect(conflict.detail?.current).toEqual(u);
      expect((await store.get(k)).kv).toEqual(u);
      await expectStorageError(store.update(`${p}ns/missing`, 'x', 5), 'NotFound');
    });

    it('delete: conditional and unconditional, returns the deleted kv; NotFound and Conflict as update', async () => {
      const p = freshPrefix();
      const a = await store.create(`${p}a`, 'A');
      const b = await store.create(`${p}b`, 'B');
      await expectStorageError(store.delete(`${p}a`, a.modRevision + 1000), 'Conflict');
      const da = await store.delete(`${p}a`, a.modRevision);
      expect(da).toEqual(a);
      const db = await store.delete(`${p}b`);
      expect(db).toEqual(b);
      expect((await store.get(`${p}a`)).kv).toBeUndefined();
      await expectStorageError(store.delete(`${p}a`), 'NotFound');
      await expectStorageError(store.delete(`${p}a`, a.modRevision), 'NotFound');
      // re-created keys start a new life
      const a2 = await store.create(`${p}a`, 'A2');
      expect(a2.createRevision).toBe(a2.modRevision);
      expect(a2.createRevision).toBeGreaterThan(a.createRevision);
    });

    it('range returns the prefix only, in key order, with limit/more/remaining and startKey paging; count agrees', async () => {
      const p = freshPrefix();
      const names = ['ns1/b', 'ns1/a', 'ns2/c', 'ns1/aa', 'ns10/x', 'ns2/a'];
      for (const n of names) await store.create(p + n, n);
      // neighbours that share a string prefix but not the '/'-terminated one
      const sibling = p.slice(0, -1) + 'x/ns1/a';
      await store.create(sibling, 'outside');
      const all = await store.range(p);
      expect(all.kvs.map((kv) => kv.key)).toEqual([...names].sort().map((n) => p + n));
      expect(all.more).toBe(false);
      expect(await store.count(p)).toBe(names.length);
      expect(await store.count(`${p}ns1/`)).toBe(3);
      expect((await store.range(`${p}ns1/`)).kvs.map((kv) => kv.value)).toEqual(['ns1/a', 'ns1/aa', 'ns1/b']);

      const page1 = await store.range(p, { limit: 4 });
      expect(page1.kvs).toHaveLength(4);
      expect(page1.more).toBe(true);
      expect(page1.remaining).toBe(2);
      const page2 = await store.range(p, { limit: 4, startKey: page1.kvs[3]!.key + '\0', revision: page1.revision });
      expect(page2.more).toBe(false);
      expect([...page1.kvs, ...page2.kvs]).toEqual(all.kvs);
      expect((await store.range(`${p}nothing/`)).kvs).toEqual([]);
    });

    it('reads at an older revision see the state as of that revision (random history)', async () => {
      const p = freshPrefix();
      const rand = rng(42);
      const keys = Array.from({ length: 12 }, (_, i) => `${p}k${String(i).padStart(2, '0')}`);
      const model = new Map<string, KeyValue>();
      const snapshots: { rev: number; state: KeyValue[] }[] = [];
      const snap = (rev: number) => snapshots.push({ rev, state: [...model.values()].sort((a, b) => (a.key < b.key ? -1 : 1)) });
      snap(await store.currentRevision());
      for (let i = 0; i < 80; i++) {
        const key = keys[Math.floor(rand() * keys.length)]!;
        const cur = model.get(key);
        if (!cur) {
          model.set(key, await store.create(key, `v${i}`));
        } else if (rand() < 0.3) {
          await store.delete(key, cur.modRevision);
          model.delete(key);
        } else {
          model.set(key, await store.update(key, `v${i}`, cur.modRevision));
        }
        snap(await store.currentRevision());
      }
      for (const { rev, state } of snapshots) {
        const r = await store.range(p, { revision: rev });
        expect(r.revision).toBe(rev);
        expect(r.kvs).toEqual(state);
        // paging at that revision gives the same rows and honest remaining counts
        const paged: KeyValue[] = [];
        let startKey: string | undefined;
        for (;;) {
          const page = await store.range(p, { revision: rev, limit: 5, ...(startKey ? { startKey } : {}) });
          paged.push(...page.kvs);
          if (page.more) expect(page.remaining).toBe(state.length - paged.length);
          if (!page.more) break;
          startKey = page.kvs[page.kvs.length - 1]!.key + '\0';
        }
        expect(paged).toEqual(state);
        for (const key of keys.slice(0, 4)) {
          const g = await store.get(key, { revision: rev });
          expect(g.kv).toEqual(state.find((kv) => kv.key === key));
        }
      }
    });

    it('reading a future revision fails with FutureRevision', async () => {
      const cur = await store.currentRevision();
      await expectStorageError(store.range('/registry/', { revision: cur + 1000 }), 'FutureRevision');
      await expectStorageError(store.get('/registry/x', { revision: cur + 1000 }), 'FutureRevision');
    });

    it('txn applies all ops at one revision when every compare holds, and nothing otherwise', async () => {
      const p = freshPrefix();
      const a = await store.create(`${p}a`, 'A');
      const b = await store.create(`${p}b`, 'B');
      const ok = await store.txn(
        [
          { key: `${p}a`, modRevision: a.modRevision },
          { key: `${p}c`, modRevision: 0 },
        ],
        [
          { type: 'put', key: `${p}a`, value: 'A2' },
          { type: 'delete', key: `${p}b` },
          { type: 'put', key: `${p}c`, value: 'C' },
        ],
      );
      expect(ok.succeeded).toBe(true);
      expect(ok.revision).toBeGreaterThan(b.modRevision);
      expect(ok.results[0]).toEqual({ key: `${p}a`, value: 'A2', createRevision: a.createRevision, modRevision: ok.revision });
      expect(ok.results[1]).toEqual(b);
      expect(ok.results[2]).toEqual({ key: `${p}c`, value: 'C', createRevision: ok.revision, modRevision: ok.revision });
      const after = await store.range(p);
      expect(after.kvs.map((kv) => [kv.key, kv.value, kv.modRevision])).toEqual([
        [`${p}a`, 'A2', ok.revision],
        [`${p}c`, 'C', ok.revision],
      ]);

      const before = await store.currentRevision();
      const failed = await store.txn(
        [
          { key: `${p}a`, modRevision: ok.revision },
          { key: `${p}c`, modRevision: a.modRevision },
        ],
        [
          { type: 'delete', key: `${p}a` },
          { type: 'put', key: `${p}d`, value: 'D' },
        ],
      );
      expect(failed.succeeded).toBe(false);
      expect(failed.revision).toBe(before);
      expect(await store.currentRevision()).toBe(before);
      expect((await store.range(p)).kvs.map((kv) => kv.key)).toEqual([`${p}a`, `${p}c`]);
    });

    it('concurrent creates of one key: exactly one wins; concurrent updates from one revision: exactly one wins', async () => {
      const p = freshPrefix();
      const creates = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.create(`${p}x`, `c${i}`)));
      expect(creates.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of creates) if (r.status === 'rejected') expect((r.reason as StorageError).code).toBe('KeyExists');
      const base = (await store.get(`${p}x`)).kv!;
      const updates = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.update(`${p}x`, `u${i}`, base.modRevision)));
      const won = updates.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of updates) if (r.status === 'rejected') expect((r.reason as StorageError).code).toBe('Conflict');
      expect((await store.get(`${p}x`)).kv).toEqual((won[0] as PromiseFulfilledResult<KeyValue>).value);
    });

    it('watch from a past revision replays history, then streams live changes, in order with prevKv', async () => {
      const p = freshPrefix();
      const start = await store.currentRevision();
      const a = await store.create(`${p}a`, 'A1');
      const a2 = await store.update(`${p}a`, 'A2', a.modRevision);
      await store.create(`${p.slice(0, -1)}zz/other`, 'not mine');
      const w = collectWatch(store, p, start);
      await w.until(2);
      const b = await store.create(`${p}b`, 'B');
      const da = await store.delete(`${p}a`);
      await w.until(4);
      w.cancel();
      expect(w.error).toBeUndefined();
      expect(w.events).toEqual([
        { type: 'put', kv: a },
        { type: 'put', kv: a2, prevKv: a },
        { type: 'put', kv: b },
        { type: 'delete', kv: { ...a2, modRevision: w.events[3]!.kv.modRevision }, prevKv: a2 },
      ]);
      expect(da).toEqual(a2);
      expect(w.events[3]!.kv.modRevision).toBeGreaterThan(b.modRevision);
      // after cancel, nothing more arrives
      await store.create(`${p}c`, 'C');
      await new Promise((r) => setTimeout(r, 100));
      expect(w.events).toHaveLength(4);
    });

    it('watch from a revision excludes that revision and sees a txn as events sharing one revision', async () => {
      const p = freshPrefix();
      const a = await store.create(`${p}a`, 'A');
      const w = collectWatch(store, p, a.modRevision);
      const t = await store.txn([], [
        { type: 'put', key: `${p}b`, value: 'B' },
        { type: 'put', key: `${p}c`, value: 'C' },
      ]);
      await w.until(2);
      w.cancel();
      expect(w.events.map((e) => [e.kv.key, e.kv.modRevision])).toEqual([
        [`${p}b`, t.revision],
        [`${p}c`, t.revision],
      ]);
    });

    it('many concurrent writers: a watcher sees every revision exactly once, in order', async () => {
      const p = freshPrefix();
      const start = await store.currentRevision();
      const w = collectWatch(store, p, start);
      const n = 200;
      const written = await Promise.all(Array.from({ length: n }, (_, i) => store.create(`${p}o${i}`, String(i))));
      await w.until(n);
      w.cancel();
      const revs = w.events.map((e) => e.kv.modRevision);
      expect(revs).toEqual([...revs].sort((x, y) => x - y));
      expect(new Set(revs).size).toBe(n);
      expect(new Set(revs)).toEqual(new Set(written.map((kv) => kv.modRevision)));
      // a second watcher from the same start replays the identical sequence
      const replay = collectWatch(store, p, start);
      await replay.until(n);
      replay.cancel();
      expect(replay.events).toEqual(w.events);
    });

    it('compaction: reads and watches below the compacted revision fail with Compacted; later ones work', async () => {
      const p = freshPrefix();
      const a = await store.create(`${p}a`, '1');
      const a2 = await store.update(`${p}a`, '2', a.modRevision);
      const a3 = await store.update(`${p}a`, '3', a2.modRevision);
      await store.compact(a3.modRevision);
      expect(await store.compactedRevision()).toBeGreaterThanOrEqual(a3.modRevision);
      const e = await expectStorageError(store.range(p, { revision: a2.modRevision }), 'Compacted');
      expect(e.detail?.compactedRevision).toBeGreaterThanOrEqual(a3.modRevision);
      await expectStorageError(store.get(`${p}a`, { revision: a.modRevision }), 'Compacted');
      expect((await store.range(p, { revision: a3.modRevision })).kvs).toEqual([a3]);
      expect((await store.get(`${p}a`)).kv).toEqual(a3);

      const old = collectWatch(store, p, a.modRevision - 1);
      const err = await old.ended();
      expect(err.code).toBe('Compacted');
      expect(old.events).toEqual([]);

      const fresh = collectWatch(store, p, a3.modRevision);
      const a4 = await store.update(`${p}a`, '4', a3.modRevision);
      await fresh.until(1);
      fresh.cancel();
      expect(fresh.events).toEqual([{ type: 'put', kv: a4, prevKv: a3 }]);
      await expectStorageError(store.compact(a2.modRevision), 'Compacted');
    });

    it('a watcher that stops consuming blocks neither writers nor other watchers', async () => {
      const p = freshPrefix();
      const start = await store.currentRevision();
      let stuckGot = 0;
      const stuck = store.watch(p, start, {
        onEvents(evs) {
          stuckGot += evs.length;
          return new Promise<void>(() => undefined);
        },
        onError: () => undefined,
      });
      const ok = collectWatch(store, p, start);
      const n = 300;
      for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => store.create(`${p}o${i + j}`, 'x')));
      await ok.until(n);
      expect(ok.events).toHaveLength(n);
      expect(ok.error).toBeUndefined();
      expect(stuckGot).toBeLessThan(n);
      stuck.cancel();
      ok.cancel();
    });

    it('rejects malformed requests with a StorageError instead of crashing', async () => {
      const p = freshPrefix();
      await expectStorageError(store.range(''), 'Internal');
      await expectStorageError(store.range(p, { startKey: '/elsewhere/x' }), 'Internal');
      await expectStorageError(store.create('', 'x'), 'Internal');
      await expectStorageError(store.update(`${p}a`, 'x', 0), 'Internal');
      await expectStorageError(
        store.txn([], [
          { type: 'put', key: `${p}dup`, value: '1' },
          { type: 'put', key: `${p}dup`, value: '2' },
        ]),
        'Internal',
      );
      expect(await store.count(p)).toBe(0);
      const w = collectWatch(store, '', 0);
      expect((await w.ended()).code).toBe('Internal');
    });

    it('watch of a prefix with no changes stays quiet and still delivers a later change', async () => {
      const p = freshPrefix();
      const w = collectWatch(store, p, await store.currentRevision());
      await store.create(`${p.slice(0, -1)}-other/x`, 'noise');
      await new Promise((r) => setTimeout(r, 50));
      expect(w.events).toEqual([]);
      const kv = await store.create(`${p}x`, 'x');
      await w.until(1);
      w.cancel();
      expect(w.events).toEqual([{ type: 'put', kv }]);
    });
  });
}
