import type { KubeObject } from '../api/types.js';
import { objectKey } from '../api/types.js';
import { logger } from '../observability/log.js';

const log = logger('informer');

export interface ResourceEventHandler<T extends KubeObject> {
  /** `isInInitialList` is true for objects delivered before the informer first synced. */
  onAdd?(obj: T, isInInitialList: boolean): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export type IndexFunc<T> = (obj: T) => string[];

export const NAMESPACE_INDEX = 'namespace';

/**
 * An index by the value of one label, e.g. `labelIndex('kubernetes.io/service-name')` to find
 * a Service's EndpointSlices; objects without the label are not indexed.
 */
export function labelIndex<T extends KubeObject>(label: string): IndexFunc<T> {
  return (o) => {
    const v = o.metadata.labels?.[label];
    return v === undefined ? [] : [v];
  };
}

/**
 * The informer cache: objects by key, secondary indexes, and the handlers that see every
 * change. Shared by API-backed and file-backed informers so they behave the same.
 */
export class Store<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly handlers: ResourceEventHandler<T>[] = [];
  private readonly indexers = new Map<string, IndexFunc<T>>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private syncedFlag = false;
  private readonly syncWaiters: (() => void)[] = [];
  private transform: ((obj: T) => T) | undefined;

  constructor() {
    this.addIndexer(NAMESPACE_INDEX, (o) => [o.metadata.namespace ?? '']);
  }

  get size(): number {
    return this.items.size;
  }

  list(): T[] {
    return [...this.items.values()];
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  hasSynced(): boolean {
    return this.syncedFlag;
  }

  /** Resolves once the first complete list has been delivered. */
  synced(): Promise<void> {
    if (this.syncedFlag) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  markSynced(): void {
    if (this.syncedFlag) return;
    this.syncedFlag = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** Adds a handler; objects already cached are replayed to it as adds. */
  addEventHandler(handler: ResourceEventHandler<T>): void {
    this.handlers.push(handler);
    if (handler.onAdd) for (const obj of this.items.values()) guard(() => handler.onAdd!(obj, !this.syncedFlag));
  }

  addIndexer(name: string, fn: IndexFunc<T>): void {
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indices.set(name, index);
    for (const [key, obj] of this.items) for (const v of fn(obj)) addToIndex(index, v, key);
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.indices.get(name)?.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /**
   * Sets a function applied to every object before it is cached or handed to a handler
   * (client-go's SetTransform). Only before the first object arrives, so every cached
   * object went through it. A transform that throws leaves that object as it came.
   */
  setTransform(fn: (obj: T) => T): void {
    if (this.items.size > 0 || this.syncedFlag) throw new Error('setTransform must be called before the informer receives objects');
    this.transform = fn;
  }

  /** The object as this store would cache it (its transform applied), for callers that batch a list. */
  transformed(obj: T): T {
    if (!this.transform) return obj;
    try {
      return this.transform(obj);
    } catch (err) {
      log.error('Object transform failed, caching the object as received', err, { key: objectKey(obj) });
      return obj;
    }
  }

  /** Applies one add-or-update from a watch event; `transformed`: the object already went through transformed(). */
  upsert(obj: T, opts: { transformed?: boolean } = {}): void {
    this.upsertTransformed(opts.transformed ? obj : this.transformed(obj));
  }

  private upsertTransformed(obj: T): void {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (old && old.metadata.resourceVersion !== undefined && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.items.set(key, obj);
    this.reindex(key, old, obj);
    if (old) for (const h of this.handlers) guard(() => h.onUpdate?.(old, obj));
    else for (const h of this.handlers) guard(() => h.onAdd?.(obj, !this.syncedFlag));
  }

  remove(obj: T): void {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (!old) return;
    this.items.delete(key);
    this.reindex(key, old, undefined);
    for (const h of this.handlers) guard(() => h.onDelete?.(old));
  }

  /**
   * Replaces the whole content with a fresh list, delivering only the differences
   * (what a relist after 410 Gone must do). Objects whose resourceVersion is unchanged
   * produce no event.
   */
  replace(objs: readonly T[], opts: { transformed?: boolean } = {}): void {
    const fresh = new Map<string, T>();
    for (const o of objs) fresh.set(objectKey(o), opts.transformed ? o : this.transformed(o));
    for (const [key, old] of [...this.items]) if (!fresh.has(key)) this.remove(old);
    for (const o of fresh.values()) {
      const old = this.items.get(objectKey(o));
      if (old && sameVersion(old, o)) continue;
      this.upsertTransformed(o);
    }
  }

  private reindex(key: string, old: T | undefined, obj: T | undefined): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      if (old) for (const v of fn(old)) removeFromIndex(index, v, key);
      if (obj) for (const v of fn(obj)) addToIndex(index, v, key);
    }
  }
}

/** A throwing handler must not stop the others, nor the watch that feeds the cache. */
function guard(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.error('Event handler failed', err);
  }
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  // File-backed objects have no resourceVersion: compare content instead.
  if (a.metadata.resourceVersion === undefined || b.metadata.resourceVersion === undefined) return JSON.stringify(a) === JSON.stringify(b);
  return a.metadata.resourceVersion === b.metadata.resourceVersion;
}

function addToIndex(index: Map<string, Set<string>>, value: string, key: string): void {
  let s = index.get(value);
  if (!s) index.set(value, (s = new Set()));
  s.add(key);
}

function removeFromIndex(index: Map<string, Set<string>>, value: string, key: string): void {
  const s = index.get(value);
  if (!s) return;
  s.delete(key);
  if (s.size === 0) index.delete(value);
}
