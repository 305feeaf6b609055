// Property test: random sequences of creates, updates, deletes, multi-op txns (some with failing
// compares) and compactions against the SQLite store and a plain in-memory model. Every answer
// must match the model, every retained revision must read back as the model's snapshot, and
// replaying a watch over the retained history must rebuild the final state exactly.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StorageError, type KeyValue, type Op, type Store, type WatchEvent } from '../../../src/apiserver/storage/interface.js';
import { openSqliteStore } from '../../../src/apiserver/storage/sqlite.js';

const keys = ['/registry/pods/a/x', '/registry/pods/a/y', '/registry/pods/b/x', '/registry/services/specs/a/s', '/registry/podsx/a/z'];

type Step =
  | { kind: 'create'; key: number; value: string }
  | { kind: 'update'; key: number; value: string; stale: boolean }
  | { kind: 'delete'; key: number; conditional: boolean }
  | { kind: 'txn'; ops: { key: number; del: boolean; value: string }[]; breakCompare: boolean }
  | { kind: 'compact'; back: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), key: fc.nat(keys.length - 1), value: fc.string({ maxLength: 6 }) }),
  fc.record({ kind: fc.constant('update' as const), key: fc.nat(keys.length - 1), value: fc.string({ maxLength: 6 }), stale: fc.boolean() }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.nat(keys.length - 1), conditional: fc.boolean() }),
  fc.record({
    kind: fc.constant('txn' as const),
    ops: fc.uniqueArray(fc.record({ key: fc.nat(keys.length - 1), del: fc.boolean(), value: fc.string({ maxLength: 4 }) }), { selector: (o) => o.key, maxLength: 3 }),
    breakCompare: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('compact' as const), back: fc.nat(4) }),
);

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    return err.code;
  }
}

function sorted(m: Map<string, KeyValue>): KeyValue[] {
  return [...m.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
}

async function runSteps(store: Store, steps: Step[]): Promise<void> {
  const model = new Map<string, KeyValue>();
  let rev = await store.currentRevision();
  const start = rev;
  let compacted = 0;
  const snapshots = new Map<number, KeyValue[]>([[rev, []]]);
  for (const s of steps) {
    if (s.kind === 'create') {
      const key = keys[s.key]!;
      const got = await code(store.create(key, s.value));
      if (model.has(key)) expect(got).toBe('KeyExists');
      else {
        expect(got).toBe('ok');
        rev++;
        model.set(key, { key, value: s.value, createRevision: rev, modRevision: rev });
      }
    } else if (s.kind === 'update') {
      const key = keys[s.key]!;
      const cur = model.get(key);
      const expected = cur ? (s.stale ? cur.modRevision - 1 : cur.modRevision) : 7;
      const got = await code(store.update(key, s.value, expected));
      if (!cur) expect(got).toBe('NotFound');
      else if (s.stale) expect(got).toBe('Conflict');
      else {
        expect(got).toBe('ok');
        rev++;
        model.set(key, { ...cur, value: s.value, modRevision: rev });
      }
    } else if (s.kind === 'delete') {
      const key = keys[s.key]!;
      const cur = model.get(key);
      const got = await code(s.conditional ? store.delete(key, cur?.modRevision ?? 3) : store.delete(key));
      if (!cur) expect(got).toBe('NotFound');
      else {
        expect(got).toBe('ok');
        rev++;
        model.delete(key);
      }
    } else if (s.kind === 'txn') {
      const compares = s.ops.map((o) => ({ key: keys[o.key]!, modRevision: model.get(keys[o.key]!)?.modRevision ?? 0 }));
      if (s.breakCompare && compares.length > 0) compares[0]!.modRevision += 1000;
      const ops: Op[] = s.ops.map((o) => (o.del ? { type: 'delete', key: keys[o.key]! } : { type: 'put', key: keys[o.key]!, value: o.value }));
      const r = await store.txn(compares, ops);
      const fails = s.breakCompare && compares.length > 0;
      expect(r.succeeded).toBe(!fails);
      if (!fails) {
        const changes = s.ops.some((o) => !o.del || model.has(keys[o.key]!));
        const next = changes ? rev + 1 : rev;
        for (const o of s.ops) {
          const key = keys[o.key]!;
          const cur = model.get(key);
          if (o.del) model.delete(key);
          else model.set(key, { key, value: o.value, createRevision: cur ? cur.createRevision : next, modRevision: next });
        }
        rev = next;
      }
      expect(r.revision).toBe(rev);
    } else {
      const target = Math.max(1, rev - s.back);
      const got = await code(store.compact(target));
      if (target <= compacted) expect(got).toBe('Compacted');
      else {
        expect(got).toBe('ok');
        compacted = target;
      }
    }
    expect(await store.currentRevision()).toBe(rev);
    snapshots.set(rev, sorted(model));
  }
  expect((await store.range('/registry/')).kvs).toEqual(sorted(model));
  for (const [r, snap] of snapshots) {
    if (r < compacted) {
      expect(await code(store.range('/registry/', { revision: r }))).toBe('Compacted');
      continue;
    }
    expect((await store.range('/registry/', { revision: r })).kvs).toEqual(snap);
    expect((await store.range('/registry/pods/', { revision: r })).kvs).toEqual(snap.filter((kv) => kv.key.startsWith('/registry/pods/')));
  }
  // replay: from the oldest revision a watch may start after, events rebuild the final state
  const from = Math.max(start, compacted - 1);
  const base = new Map((snapshots.get(from) ?? (await store.range('/registry/', { revision: from })).kvs).map((kv) => [kv.key, kv]));
  if (rev > from) {
    const events: WatchEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      const w = store.watch('/registry/', from, {
        onEvents(evs) {
          events.push(...evs);
          if (events.at(-1)!.kv.modRevision === rev) {
            w.cancel();
            resolve();
          }
        },
        onError: reject,
      });
    });
    for (const e of events) {
      if (e.type === 'put') base.set(e.kv.key, e.kv);
      else base.delete(e.kv.key);
    }
  }
  expect(sorted(base)).toEqual(sorted(model));
}

describe('sqlite store against a model', () => {
  it('random histories with txns and compactions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-storage-model-'));
        const store = await openSqliteStore(dir, { compactInterval: 0, progressInterval: 0 });
        try {
          await runSteps(store, steps);
        } finally {
          await store.close();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 60 },
    );
  });
});
