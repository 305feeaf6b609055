// Key-range helpers shared by the storage backends. Keys are compared as etcd compares them
// (bytewise); the keys the API server writes are ASCII, where that equals JS string order.

import { StorageError } from './interface.js';

/** The smallest key greater than every key that starts with `prefix` (etcd's range_end). */
export function prefixEnd(prefix: string): string {
  if (prefix === '') throw new StorageError('Internal', 'empty key prefix');
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** Where a ranged read starts: the prefix itself unless a (validated) startKey is given. */
export function rangeStart(prefix: string, startKey: string | undefined): string {
  if (startKey === undefined || startKey === '') return prefix;
  if (!startKey.startsWith(prefix)) {
    throw new StorageError('Internal', `start key ${JSON.stringify(startKey)} is outside prefix ${JSON.stringify(prefix)}`);
  }
  return startKey;
}

export function checkKey(key: string): void {
  if (key === '') throw new StorageError('Internal', 'empty key');
}
