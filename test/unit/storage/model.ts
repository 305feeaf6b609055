// Random sequences of creates, updates, deletes, multi-op txns (some with failing compares) and
// compactions, run against a Store and a plain in-memory model. Every answer must match the
// model, every retained revision must read back as the model's snapshot, and replaying a watch
// over the retained history must rebuild the final state exactly. Shared by the backends.

import fc from 'fast-check';
import { expect } from 'vitest';
import { StorageError, type KeyValue, type Op, type Store, type WatchEvent } from '../../../src/apiserver/storage/interface.js';

const keyNames = ['pods/a/x', 'pods/a/y', 'pods/b/x', 'services/specs/a/s', 'podsx/a/z'];
const keyCount = keyNames.length;

export type Step =
  | { kind: 'create'; key: number; value: string }
  | { kind: 'update'; key: number; value: string; stale: boolean }
  | { kind: 'delete'; key: number; conditional: boolean }
  | { kind: 'txn'; ops: { key: number; del: boolean; value: string }[]; breakCompare: boolean }
  | { kind: 'compact'; back: number };

export function stepsArb(opts: { compact: boolean }): fc.Arbitrary<Step[]> {
  return fc.array(step(opts), { minLength: 1, maxLength: 40 });
}

const step = (opts: { compact: boolean }): fc.Arbitrary<Step> =>
  fc.oneof<fc.Arbitrary<Step>[]>(
    fc.record({ kind: fc.constant('create' as const), key: fc.nat(keyCount - 1), value: fc.string({ maxLength: 6 }) }),
    fc.record({ kind: fc.constant('update' as const), key: fc.nat(keyCount - 1), value: fc.string({ maxLength: 6 }), stale: fc.boolean() }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.nat(keyCount - 1), conditional: fc.boolean() }),
    fc.record({
      kind: fc.constant('txn' as const),
      ops: fc.uniqueArray(fc.record({ key: fc.nat(keyCount - 1), del: fc.boolean(), value: fc.string({ maxLength: 4 }) }), { selector: (o) => o.key, maxLength: 3 }),
      breakCompare: fc.boolean(),
    }),
    ...(opts.compact ? [fc.record({ kind: fc.constant('compact' as const), back: fc.nat(4) })] : []),
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

/** `root` is a fresh prefix such as '/registry/' that nothing else writes under. */
export async function runSteps(store: Store, steps: Step[], root = '/registry/'): Promise<void> {
  const keys = keyNames.map((k) => root + k);
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
  expect((await store.range(root)).kvs).toEqual(sorted(model));
  for (const [r, snap] of snapshots) {
    if (r < compacted) {
      expect(await code(store.range(root, { revision: r }))).toBe('Compacted');
      continue;
    }
    expect((await store.range(root, { revision: r })).kvs).toEqual(snap);
    expect((await store.range(`${root}pods/`, { revision: r })).kvs).toEqual(snap.filter((kv) => kv.key.startsWith(`${root}pods/`)));
  }
  // replay: from the oldest revision a watch may start after, events rebuild the final state
  const from = Math.max(start, compacted - 1);
  const base = new Map((snapshots.get(from) ?? (await store.range(root, { revision: from })).kvs).map((kv) => [kv.key, kv]));
  if (rev > from) {
    const events: WatchEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      const w = store.watch(root, from, {
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

