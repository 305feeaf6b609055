import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/client/backoff.js';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap when there is no jitter', () => {
    let now = 0;
    const b = new Backoff({ initialMs: 800, maxMs: 30_000, jitter: 0, now: () => now });
    const seen = [];
    for (let i = 0; i < 8; i++) {
      seen.push(b.next());
      now += 10;
    }
    expect(seen).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
  });

  it('adds up to jitter·delay on top, never beyond the cap', () => {
    let now = 0;
    const rnd = [0, 0.5, 0.999, 0.999, 0.999, 0.999, 0.999];
    const b = new Backoff({ initialMs: 1000, maxMs: 10_000, jitter: 1, random: () => rnd.shift()!, now: () => now++ });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([1000, 3000, 7996, 10_000, 10_000]);
  });

  it('starts again from the initial delay after a quiet period, and on reset()', () => {
    let now = 0;
    const b = new Backoff({ initialMs: 100, jitter: 0, resetAfterMs: 1000, now: () => now });
    b.next();
    b.next();
    expect(b.next()).toBe(400);
    now += 5000;
    expect(b.next()).toBe(100);
    b.next();
    b.reset();
    expect(b.next()).toBe(100);
  });
});
