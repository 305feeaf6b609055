import { describe, expect, it } from 'vitest';
import { runWorkers, WorkQueue } from '../../../src/controllers/queue.js';

describe('WorkQueue', () => {
  it('deduplicates queued keys and keeps order', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('re-queues a key added while it is being processed, once it is done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a');
    expect(q.length).toBe(0);
    q.done(k!);
    expect(q.length).toBe(1);
  });

  it('retries failures with backoff until sync succeeds, and stops on shutdown', async () => {
    const q = new WorkQueue({ baseDelayMs: 1 });
    let calls = 0;
    const errors: string[] = [];
    q.add('x');
    const done = runWorkers(
      q,
      2,
      async () => {
        calls++;
        if (calls < 3) throw new Error(`fail ${calls}`);
        q.shutDown();
      },
      (_k, err) => errors.push((err as Error).message),
    );
    await done;
    expect(calls).toBe(3);
    expect(errors).toEqual(['fail 1', 'fail 2']);
  });
});
