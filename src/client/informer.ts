import type { KubeObject } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';
import { Store, type IndexFunc, type ResourceEventHandler } from './store.js';

/**
 * What a component sees of one resource: a synced cache plus change notifications.
 * Implemented by API-backed informers (list+watch) and by file-backed ones (--objects).
 */
export interface Informer<T extends KubeObject> {
  readonly resource: ResourceInfo;
  addEventHandler(handler: ResourceEventHandler<T>): void;
  addIndexer(name: string, fn: IndexFunc<T>): void;
  byIndex(name: string, value: string): T[];
  list(): T[];
  /** key: `namespace/name`, or `name` for cluster-scoped resources */
  get(key: string): T | undefined;
  hasSynced(): boolean;
  synced(): Promise<void>;
  /** Transform applied to every object before it is cached (client-go's SetTransform); before start only. */
  setTransform?(fn: (obj: T) => T): void;
}

/** Creates informers and owns their lifecycle, like client-go's SharedInformerFactory. */
export interface InformerFactory {
  /** The same informer is returned for the same resource. group '' is core. */
  informerFor<T extends KubeObject>(group: string, resource: string): Informer<T>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** An informer over a Store; what feeds the store (a reflector, a file) is the subclass's business. */
export class StoreInformer<T extends KubeObject> implements Informer<T> {
  readonly store = new Store<T>();
  constructor(readonly resource: ResourceInfo) {}
  addEventHandler(handler: ResourceEventHandler<T>): void {
    this.store.addEventHandler(handler);
  }
  addIndexer(name: string, fn: IndexFunc<T>): void {
    this.store.addIndexer(name, fn);
  }
  byIndex(name: string, value: string): T[] {
    return this.store.byIndex(name, value);
  }
  list(): T[] {
    return this.store.list();
  }
  get(key: string): T | undefined {
    return this.store.get(key);
  }
  hasSynced(): boolean {
    return this.store.hasSynced();
  }
  synced(): Promise<void> {
    return this.store.synced();
  }
  setTransform(fn: (obj: T) => T): void {
    this.store.setTransform(fn);
  }
}

export type { ResourceEventHandler, IndexFunc } from './store.js';
