// The watch endpoint: a chunked stream of one JSON event per line, started from a
// resourceVersion (or from a synthetic snapshot), with selectors applied to both the old
// and new state so objects entering or leaving the selection appear as ADDED/DELETED.
import type { ServerResponse } from 'node:http';
import type { ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { FieldSelector, LabelSelector } from '../api/selectors.js';
import type { Store, WatchEvent } from './storage/interface.js';
import { StorageError } from './storage/interface.js';
import { ApiError, expired, tooOldResourceVersion } from './errors.js';
import { decodeObject, listPrefix } from './registry/codec.js';
import { matches, storageToApiError, type Registry } from './registry/registry.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchRequest {
  info: ResourceInfo;
  namespace?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  sendInitialEvents?: boolean;
  allowWatchBookmarks: boolean;
  timeoutSeconds?: number;
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
}

export interface EventEncoder {
  contentType: string;
  /** cache key distinguishing encoders (JSON vs Table); undefined disables caching */
  id?: string;
  encode(type: EventType, obj: unknown): string;
}

/** min-request-timeout (1800 s) × (1 + rand), as kube-apiserver picks when none is asked for */
const defaultTimeoutMs = (): number => 1800_000 * (1 + Math.random());
const BOOKMARK_INTERVAL_MS = 60_000;
// Writes to slow clients beyond this end the watch; the client re-lists or resumes.
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/**
 * Encoded event lines shared across watchers: the same event to N watchers of the same
 * encoding is serialized once. Bounded; oldest entries go first.
 */
class EncodedEventCache {
  private readonly map = new Map<string, string>();
  constructor(private readonly capacity = 4096) {}
  get(key: string, make: () => string): string {
    let v = this.map.get(key);
    if (v === undefined) {
      v = make();
      this.map.set(key, v);
      if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
    }
    return v;
  }
}
const encodedEvents = new EncodedEventCache();

export function statusEvent(err: ApiError): unknown {
  return err.toStatus();
}

export async function serveWatch(res: ServerResponse, registry: Registry, store: Store, w: WatchRequest, encoder: EventEncoder, onClose: (cb: () => void) => void): Promise<void> {
  const { info } = w;
  const prefix = listPrefix(info, w.namespace);
  const filtering = !!w.labelSelector || !!w.fieldSelector;
  const sel = (o: KubeObject): boolean => !filtering || matches(info, o, w.labelSelector, w.fieldSelector);

  // what to send first, and where to resume the store watch
  const initial: KubeObject[] = [];
  let after: number;
  let initialEndBookmark = false;
  const rv = w.resourceVersion ?? '';
  if (w.sendInitialEvents || rv === '' || rv === '0') {
    const snapshot = await registry.list(info, w.namespace, { labelSelector: w.labelSelector, fieldSelector: w.fieldSelector, resourceVersion: w.sendInitialEvents && rv !== '' ? rv : undefined });
    initial.push(...snapshot.items);
    after = Number(snapshot.resourceVersion);
    initialEndBookmark = !!w.sendInitialEvents && w.allowWatchBookmarks;
  } else {
    after = Number(rv);
  }

  res.writeHead(200, { 'Content-Type': encoder.contentType, 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();

  let lastRevision = after;
  let ended = false;
  let watcher: { cancel(): void } | undefined;
  let timeout: NodeJS.Timeout | undefined;
  let bookmarks: NodeJS.Timeout | undefined;
  const end = (): void => {
    if (ended) return;
    ended = true;
    watcher?.cancel();
    if (timeout) clearTimeout(timeout);
    if (bookmarks) clearInterval(bookmarks);
    res.end();
  };
  onClose(end);
  const write = (line: string): void => {
    if (ended) return;
    res.write(line);
    if (res.writableLength > MAX_BUFFERED_BYTES) end();
  };
  const bookmarkObject = (revision: number, annotations?: Record<string, string>): unknown => ({
    kind: info.kind,
    apiVersion: info.group ? `${info.group}/${info.version}` : info.version,
    metadata: { resourceVersion: String(revision), ...(annotations ? { annotations } : {}) },
  });

  for (const o of initial) write(encoder.encode('ADDED', o));
  if (initialEndBookmark) write(encoder.encode('BOOKMARK', bookmarkObject(after, { 'k8s.io/initial-events-end': 'true' })));

  const onEvents = (events: WatchEvent[]): void => {
    for (const ev of events) {
      if (ended) return;
      const rev = ev.kv.modRevision;
      if (rev <= lastRevision) continue;
      lastRevision = rev;
      let type: EventType | undefined;
      let obj: KubeObject | undefined;
      const now = (): KubeObject => (obj ??= decodeObject(ev.kv));
      // without selectors nothing is decoded here: the shared encoded line is reused
      if (ev.type === 'delete') {
        if (!filtering || sel(now())) type = 'DELETED';
      } else {
        const created = ev.kv.createRevision === ev.kv.modRevision;
        if (!filtering) type = created ? 'ADDED' : 'MODIFIED';
        else {
          const isIn = sel(now());
          const wasIn = !created && ev.prevKv !== undefined && sel(decodeObject(ev.prevKv));
          type = isIn ? (wasIn ? 'MODIFIED' : 'ADDED') : wasIn ? 'DELETED' : undefined;
        }
      }
      if (!type) continue;
      const t = type;
      const line = encoder.id ? encodedEvents.get(`${encoder.id}|${t}|${ev.kv.key}|${rev}`, () => encoder.encode(t, now())) : encoder.encode(t, now());
      write(line);
    }
  };
  const fail = (err: ApiError): void => {
    write(encoder.encode('ERROR', err.toStatus()));
    end();
  };

  try {
    const compacted = await store.compactedRevision();
    if (after < compacted && initial.length === 0 && rv !== '' && rv !== '0') {
      fail(tooOldResourceVersion(after, compacted));
      return;
    }
  } catch (e) {
    fail(storageToApiError(e));
    return;
  }
  if (ended) return;
  watcher = store.watch(prefix, after, {
    onEvents,
    onError: (err: StorageError) => {
      if (err.code === 'Compacted') fail(err.detail?.compactedRevision ? tooOldResourceVersion(after, err.detail.compactedRevision) : expired('The resourceVersion for the provided watch is too old.'));
      else fail(storageToApiError(err));
    },
    onProgress: (revision) => {
      if (revision > lastRevision) lastRevision = revision;
    },
  });
  timeout = setTimeout(end, w.timeoutSeconds !== undefined && w.timeoutSeconds > 0 ? w.timeoutSeconds * 1000 : defaultTimeoutMs());
  if (w.allowWatchBookmarks) {
    bookmarks = setInterval(() => write(encoder.encode('BOOKMARK', bookmarkObject(lastRevision))), BOOKMARK_INTERVAL_MS);
  }
}
