// Copies every object under a prefix from one store to another (sqlite → etcd and back), for
// `kubeplane apiserver migrate`. The source is read at one revision, page by page, so the copy
// is a consistent snapshot even while the source keeps serving; objects get new revisions in
// the target (resourceVersions are per store, as after any etcd restore into a new cluster).

import { StorageError, type Store } from './interface.js';

export interface CopyOptions {
  /** default '/registry/' */
  prefix?: string;
  /** keys read per page and written per transaction (etcd allows 128 ops per txn by default) */
  batch?: number;
  onProgress?(copied: number): void;
}

export interface CopyResult {
  /** the source revision the snapshot was read at */
  revision: number;
  copied: number;
  /** already in the target with the same value (a re-run after an interruption) */
  unchanged: number;
}

export async function copyStore(from: Store, to: Store, opts: CopyOptions = {}): Promise<CopyResult> {
  const prefix = opts.prefix ?? '/registry/';
  const batch = Math.max(1, Math.min(opts.batch ?? 100, 128));
  const revision = await from.currentRevision();
  let copied = 0;
  let unchanged = 0;
  let startKey: string | undefined;
  for (;;) {
    const page = await from.range(prefix, { revision, limit: batch, ...(startKey ? { startKey } : {}) });
    if (page.kvs.length > 0) {
      const r = await to.txn(
        page.kvs.map((kv) => ({ key: kv.key, modRevision: 0 })),
        page.kvs.map((kv) => ({ type: 'put' as const, key: kv.key, value: kv.value })),
      );
      if (r.succeeded) {
        copied += page.kvs.length;
      } else {
        // some keys exist already: accept identical ones, refuse to overwrite different ones
        for (const kv of page.kvs) {
          const existing = (await to.get(kv.key)).kv;
          if (!existing) {
            await to.create(kv.key, kv.value);
            copied++;
          } else if (existing.value === kv.value) {
            unchanged++;
          } else {
            throw new StorageError('KeyExists', `target already has ${kv.key} with a different value; refusing to overwrite it`);
          }
        }
      }
      opts.onProgress?.(copied + unchanged);
    }
    if (!page.more) break;
    startKey = page.kvs[page.kvs.length - 1]!.key + '\0';
  }
  return { revision, copied, unchanged };
}
