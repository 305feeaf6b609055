// The narrow MVCC store the API server is written against, shaped after etcd v3 so the
// SQLite (embedded) and etcd (distributed) backends are two implementations of one contract.
//
// Keys look like etcd's: `/registry/<resource>/<namespace>/<name>`. Every write gets the next
// store-wide revision; an object's resourceVersion is its key's modRevision.

export interface KeyValue {
  key: string;
  /** the serialized object (JSON text) */
  value: string;
  createRevision: number;
  modRevision: number;
}

export interface RangeOptions {
  /** read as of this revision (default: current); older than the compacted revision fails with Compacted */
  revision?: number;
  /** first key to return, inclusive (for continue tokens); must be inside the prefix */
  startKey?: string;
  /** at most this many kvs (0 = no limit) */
  limit?: number;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** the revision the read was served at */
  revision: number;
  /** true when `limit` cut the result short */
  more: boolean;
  /** keys left after the last one returned (when known) */
  remaining?: number;
}

export type Compare = { key: string; modRevision: number }; // modRevision 0 = key must not exist
export type Op = { type: 'put'; key: string; value: string } | { type: 'delete'; key: string };

export interface TxnResult {
  succeeded: boolean;
  /** store revision after the txn (unchanged when it failed) */
  revision: number;
  /** resulting kvs of the puts in op order (deletes give the deleted kv), when succeeded */
  results: (KeyValue | undefined)[];
}

export interface WatchEvent {
  type: 'put' | 'delete';
  /** for delete: the key with its last value, modRevision = the deletion's revision */
  kv: KeyValue;
  prevKv?: KeyValue;
}

export interface Watcher {
  cancel(): void;
}

export interface WatchCallbacks {
  /** events in revision order, with no gaps; called in batches. A returned promise holds the
   * next batch until it settles (backpressure); a watcher that lets too many events queue up is
   * ended with onError (code Unavailable), and should resume from its last revision or re-list. */
  onEvents(events: WatchEvent[]): void | Promise<void>;
  /** the watch ended: Compacted if it fell behind compaction, Unavailable on backend loss */
  onError(err: StorageError): void;
  /** optional progress notification: everything up to `revision` has been delivered */
  onProgress?(revision: number): void;
}

export interface Store {
  /** the latest revision the store has committed */
  currentRevision(): Promise<number>;
  compactedRevision(): Promise<number>;
  get(key: string, opts?: { revision?: number }): Promise<{ kv: KeyValue | undefined; revision: number }>;
  /** keys with this prefix in key order (prefix should end with '/') */
  range(prefix: string, opts?: RangeOptions): Promise<RangeResult>;
  count(prefix: string): Promise<number>;
  /** fails with KeyExists */
  create(key: string, value: string): Promise<KeyValue>;
  /** fails with Conflict when the key's modRevision is not `expectedModRevision`, NotFound when absent */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;
  /** fails with Conflict/NotFound as update; expectedModRevision undefined = unconditional; returns the deleted kv */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /** all compares hold → all ops applied atomically at one new revision */
  txn(compares: Compare[], ops: Op[]): Promise<TxnResult>;
  /** events for keys with `prefix` after `afterRevision` (exclusive); Compacted if that history is gone */
  watch(prefix: string, afterRevision: number, cb: WatchCallbacks): Watcher;
  /** forget history older than `revision` */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

export type StorageErrorCode = 'KeyExists' | 'NotFound' | 'Conflict' | 'Compacted' | 'FutureRevision' | 'Unavailable' | 'NoSpace' | 'Internal';

export class StorageError extends Error {
  override name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    /** for Conflict: the current kv; for Compacted: the compacted revision */
    readonly detail?: { current?: KeyValue; compactedRevision?: number; currentRevision?: number },
  ) {
    super(message);
  }
}
