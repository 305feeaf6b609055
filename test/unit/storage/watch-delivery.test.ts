import { describe, expect, it } from 'vitest';
import { StorageError, type WatchEvent } from '../../../src/apiserver/storage/interface.js';
import { WatchDelivery } from '../../../src/apiserver/storage/watch-delivery.js';

const ev = (rev: number): WatchEvent => ({ type: 'put', kv: { key: `/registry/pods/ns/p${rev}`, value: '{}', createRevision: rev, modRevision: rev } });
const tick = () => new Promise((r) => setImmediate(r));

describe('WatchDelivery', () => {
  it('delivers off the producer stack, in order, in batches of at most maxBatch', async () => {
    const batches: number[][] = [];
    const d = new WatchDelivery({ onEvents: (evs) => void batches.push(evs.map((e) => e.kv.modRevision)), onError: () => undefined }, { maxBuffered: 100, maxBatch: 3 });
    d.push([ev(1), ev(2)]);
    d.push([ev(3), ev(4), ev(5), ev(6), ev(7)]);
    expect(batches).toEqual([]); // not inside push
    await tick();
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7],
    ]);
  });

  it('a returned promise holds the next batch until it settles', async () => {
    const got: number[] = [];
    let release: () => void = () => undefined;
    const d = new WatchDelivery(
      {
        onEvents: (evs) => {
          got.push(...evs.map((e) => e.kv.modRevision));
          return new Promise<void>((r) => (release = r));
        },
        onError: () => undefined,
      },
      { maxBuffered: 100, maxBatch: 2 },
    );
    d.push([ev(1), ev(2), ev(3)]);
    await tick();
    expect(got).toEqual([1, 2]);
    expect(d.pending).toBe(2); // one queued + one in flight
    release();
    await tick();
    expect(got).toEqual([1, 2, 3]);
  });

  it('overflow ends the watch at once with Unavailable, even while a batch is stuck', async () => {
    const errors: StorageError[] = [];
    const d = new WatchDelivery({ onEvents: () => new Promise<void>(() => undefined), onError: (e) => void errors.push(e) }, { maxBuffered: 5, maxBatch: 2 });
    d.push([ev(1), ev(2)]);
    await tick();
    expect(d.push([ev(3), ev(4), ev(5)])).toBe(true);
    expect(d.push([ev(6), ev(7), ev(8)])).toBe(false);
    await tick();
    expect(errors.map((e) => e.code)).toEqual(['Unavailable']);
    expect(d.closed).toBe(true);
    expect(d.push([ev(9)])).toBe(false);
  });

  it('fail() delivers what was queued before the error; cancel() silences everything', async () => {
    const seen: string[] = [];
    const d = new WatchDelivery({ onEvents: (evs) => void seen.push(...evs.map((e) => `e${e.kv.modRevision}`)), onError: (e) => void seen.push(e.code) });
    d.push([ev(1)]);
    d.fail(new StorageError('Compacted', 'gone'));
    d.push([ev(2)]);
    await tick();
    expect(seen).toEqual(['e1', 'Compacted']);

    const quiet: string[] = [];
    const c = new WatchDelivery({ onEvents: () => void quiet.push('events'), onError: () => void quiet.push('error') });
    c.push([ev(1)]);
    c.cancel();
    c.fail(new StorageError('Unavailable', 'x'));
    await tick();
    expect(quiet).toEqual([]);
  });

  it('a consumer that throws ends its own watch with Internal; progress never overtakes queued events', async () => {
    const errors: StorageError[] = [];
    const d = new WatchDelivery({ onEvents: () => { throw new Error('boom'); }, onError: (e) => void errors.push(e) });
    d.push([ev(1)]);
    await tick();
    expect(errors.map((e) => e.code)).toEqual(['Internal']);

    const order: string[] = [];
    const p = new WatchDelivery({ onEvents: (evs) => void order.push(`e${evs.length}`), onError: () => undefined, onProgress: (r) => void order.push(`p${r}`) });
    p.push([ev(1)]);
    p.progress(1); // dropped: an event is still queued
    await tick();
    p.progress(2);
    expect(order).toEqual(['e1', 'p2']);
  });
});
