// One watcher's outbound queue, shared by the backends. Producers (a store's broadcaster or an
// etcd watch stream) push events; they reach the consumer in order and in batches, off the
// producer's call stack, so a consumer never runs inside a write. When `onEvents` returns a
// promise, the next batch waits for it: that is how a consumer with a slow socket pushes back.
// The queue is bounded; a consumer that lets it overflow is ended with an error so that it
// resumes or re-lists, the way kube-apiserver terminates watchers that cannot keep up, instead
// of making the store hold unbounded memory for it.

import { StorageError, type WatchCallbacks, type WatchEvent } from './interface.js';
import { logger } from '../../observability/log.js';

const log = logger('storage');

export interface DeliveryOptions {
  /** events held for the consumer before the watch is ended */
  maxBuffered: number;
  /** events per onEvents call */
  maxBatch: number;
}

export const defaultDeliveryOptions: DeliveryOptions = { maxBuffered: 10_000, maxBatch: 500 };

export class WatchDelivery {
  private buffer: WatchEvent[] = [];
  private busy = false;
  private scheduled = false;
  private ended = false;
  /** error to report once the buffer drains (set by finish) */
  private pendingError: StorageError | undefined;
  /** called whenever the buffer has been fully handed to the consumer */
  onDrain: (() => void) | undefined;

  constructor(
    private readonly cb: WatchCallbacks,
    private readonly opts: DeliveryOptions = defaultDeliveryOptions,
  ) {}

  get closed(): boolean {
    return this.ended;
  }

  /** events queued or being handed over */
  get maxBuffered(): number {
    return this.opts.maxBuffered;
  }

  get pending(): number {
    return this.buffer.length + (this.busy ? 1 : 0);
  }

  /** Queue events; false when the watch has ended (including by overflow). */
  push(events: WatchEvent[]): boolean {
    if (this.ended || this.pendingError) return false;
    if (events.length === 0) return true;
    if (this.buffer.length + events.length > this.opts.maxBuffered) {
      this.fail(
        new StorageError('Unavailable', `watch consumer too slow: more than ${this.opts.maxBuffered} events not yet consumed`),
        true,
      );
      return false;
    }
    for (const e of events) this.buffer.push(e);
    this.schedule();
    return true;
  }

  /** Ends the watch with `err`; queued events are delivered first unless `dropQueued`. */
  fail(err: StorageError, dropQueued = false): void {
    if (this.ended || this.pendingError) return;
    if (dropQueued) {
      // not behind a consumer that may never finish its current batch
      this.buffer = [];
      this.ended = true;
      queueMicrotask(() => this.report(err));
      return;
    }
    this.pendingError = err;
    this.schedule();
  }

  /** Progress is only reported while nothing is queued, so it never overtakes events. */
  progress(revision: number): void {
    if (this.ended || this.pendingError || this.busy || this.buffer.length > 0 || !this.cb.onProgress) return;
    try {
      this.cb.onProgress(revision);
    } catch (err) {
      log.error('watch progress callback threw', err);
    }
  }

  cancel(): void {
    this.ended = true;
    this.buffer = [];
  }

  private schedule(): void {
    if (this.scheduled || this.busy) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    while (!this.ended && !this.busy && this.buffer.length > 0) {
      const batch = this.buffer.length <= this.opts.maxBatch ? this.buffer : this.buffer.slice(0, this.opts.maxBatch);
      this.buffer = batch === this.buffer ? [] : this.buffer.slice(this.opts.maxBatch);
      let result: unknown;
      try {
        result = this.cb.onEvents(batch);
      } catch (err) {
        this.endWith(new StorageError('Internal', `watch consumer failed: ${(err as Error)?.message ?? String(err)}`));
        return;
      }
      if (isThenable(result)) {
        this.busy = true;
        result.then(
          () => {
            this.busy = false;
            this.drain();
          },
          (err: unknown) => {
            this.busy = false;
            this.endWith(new StorageError('Internal', `watch consumer failed: ${(err as Error)?.message ?? String(err)}`));
          },
        );
        return;
      }
    }
    if (this.ended || this.busy) return;
    if (this.pendingError) {
      this.endWith(this.pendingError);
      return;
    }
    this.onDrain?.();
  }

  private endWith(err: StorageError): void {
    if (this.ended) return;
    this.ended = true;
    this.buffer = [];
    this.report(err);
  }

  private report(err: StorageError): void {
    try {
      this.cb.onError(err);
    } catch (e) {
      log.error('watch error callback threw', e);
    }
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
