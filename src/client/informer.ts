import type { KubeObject } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';
import type { IndexFunc, ResourceEventHandler } from './store.js';

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
}

/** Creates informers and owns their lifecycle, like client-go's SharedInformerFactory. */
export interface InformerFactory {
  /** The same informer is returned for the same resource. group '' is core. */
  informerFor<T extends KubeObject>(group: string, resource: string): Informer<T>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type { ResourceEventHandler, IndexFunc } from './store.js';
