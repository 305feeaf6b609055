// What every controller shares: the REST client, one informer factory, an event recorder,
// and the run loop (wait for the caches, then drain a work queue until stopped).

import type { KubeObject, OwnerReference } from '../api/types.js';
import type { ApiInformerFactory } from '../client/api-informers.js';
import type { Informer } from '../client/informer.js';
import type { RestClient } from '../client/rest.js';
import { isConflict } from '../client/errors.js';
import { logger, type Logger } from '../observability/log.js';
import { runWorkers, WorkQueue } from './queue.js';

export const OWNER_UID_INDEX = 'ownerUID';
export const CONTROLLER_UID_INDEX = 'controllerUID';
export const UID_INDEX = 'uid';

export interface ControllerContext {
  client: RestClient;
  factory: ApiInformerFactory;
  events: EventRecorder;
}

export interface Controller {
  readonly name: string;
  /** Runs until `signal` aborts. Handlers are registered in the constructor. */
  run(signal: AbortSignal): Promise<void>;
}

export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** Informer for a resource with the owner / controller / uid indexes every controller uses. */
export function indexedInformer<T extends KubeObject>(factory: ApiInformerFactory, group: string, resource: string): Informer<T> {
  const inf = factory.informerFor<T>(group, resource);
  if (!indexedAlready.has(inf)) {
    indexedAlready.add(inf);
    inf.addIndexer(OWNER_UID_INDEX, (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid));
    inf.addIndexer(CONTROLLER_UID_INDEX, (o) => {
      const c = controllerOf(o);
      return c ? [c.uid] : [];
    });
    inf.addIndexer(UID_INDEX, (o) => (o.metadata.uid ? [o.metadata.uid] : []));
  }
  return inf;
}
const indexedAlready = new WeakSet<object>();

export function keyOf(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name!;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * A controller fed by one work queue: handlers add keys, `sync(key)` makes the world
 * match, a thrown error re-queues the key with backoff.
 */
export abstract class QueueController implements Controller {
  abstract readonly name: string;
  readonly queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 30_000 });
  protected readonly log: Logger;
  protected abstract readonly informers: readonly Informer<KubeObject>[];

  constructor(
    protected readonly ctx: ControllerContext,
    logName: string,
    private readonly workers = 4,
  ) {
    this.log = logger(logName);
  }

  protected abstract sync(key: string): Promise<void>;

  async run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const stop = () => this.queue.shutDown();
    signal.addEventListener('abort', stop, { once: true });
    await Promise.race([Promise.all(this.informers.map((i) => i.synced())), new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
    if (signal.aborted) return;
    this.log.info('Caches are synced', { controller: this.name });
    await runWorkers(this.queue, this.workers, (k) => this.sync(k), (key, err) => {
      // A stale cache meeting optimistic concurrency is routine: the retry reads the fresher object.
      if (isConflict(err)) this.log.v(2, 'Sync conflicted, will retry', { controller: this.name, key });
      else this.log.error('Sync failed, will retry', err, { controller: this.name, key });
    });
  }
}

import { EventRecorder } from '../client/events.js';
export { EventRecorder };
