import { watch, type FSWatcher } from 'node:fs';
import type { KubeObject } from '../api/types.js';
import { resourceFor, resourceForKind, type ResourceInfo } from '../api/resources.js';
import { ObjectsFileScanner, type ScannedObject } from '../api/objects-file.js';
import { StoreInformer, type Informer, type InformerFactory } from './informer.js';
import { logger } from '../observability/log.js';

const log = logger('file-informers');

/**
 * Informers fed from a file of objects (`--objects FILE`) instead of an API server.
 * The file is re-read when it changes, and only the differences are delivered, so a
 * component behaves exactly as it would under a watch.
 */
export class FileInformerFactory implements InformerFactory {
  private readonly informers = new Map<ResourceInfo, StoreInformer<KubeObject>>();
  /**
   * What the last load delivered to each informer: key to the fingerprint of the object as
   * read from the file. Only digests: the objects as read (before any transform) are never
   * kept, so a trimmed informer holds no more than its trimmed cache.
   */
  private delivered = new Map<ResourceInfo, Map<string, string>>();
  private readonly reader: ObjectsFileScanner;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly opts: { watch?: boolean } = {},
  ) {
    this.reader = new ObjectsFileScanner(path);
  }

  informerFor<T extends KubeObject>(group: string, resource: string): Informer<T> {
    const info = resourceFor(group, resource);
    if (!info) throw new Error(`unknown resource ${resource}${group ? '.' + group : ''}`);
    let inf = this.informers.get(info);
    if (!inf) this.informers.set(info, (inf = new StoreInformer(info)));
    return inf as unknown as Informer<T>;
  }

  /** Loads the file; throws ObjectsFileError for a file that cannot be read or parsed. */
  async start(): Promise<void> {
    this.load();
    for (const inf of this.informers.values()) inf.store.markSynced();
    if (this.opts.watch) {
      this.watchFile();
    }
  }

  // An atomic replace (write a temp file, rename over the path: editors, ConfigMap
  // volume swaps) leaves an inotify watch on the old inode, so re-arm on 'rename'.
  private watchFile(): void {
    this.watcher?.close();
    this.watcher = watch(this.path, (event) => {
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => {
        if (event === 'rename' && this.watcher) {
          try {
            this.watchFile();
          } catch (err) {
            log.error('Failed to re-watch objects file', err, { path: this.path });
          }
        }
        this.reload();
      }, 50);
    });
  }

  async stop(): Promise<void> {
    clearTimeout(this.reloadTimer);
    this.watcher?.close();
  }

  /** Re-reads the file now; a bad file is logged and the caches are left as they were. */
  reload(): void {
    try {
      this.load();
    } catch (err) {
      log.error('Failed to reload objects file, keeping the previous objects', err, { path: this.path });
    }
  }

  private load(): void {
    let changes = this.read();
    // The scanner skipped a document it had seen, but this factory does not hold it (an
    // informer made after that read): read everything again.
    if (changes === undefined) {
      this.reader.forget();
      changes = this.read()!;
    }
    // Only what changed reaches the store (and so the handlers): deletes first, then adds
    // and updates in file order, each already through the informer's transform.
    for (const [info, inf] of this.informers) {
      const before = this.delivered.get(info);
      const now = changes.seen.get(info);
      if (before) for (const key of before.keys()) if (!now?.has(key)) inf.store.remove(inf.store.get(key) ?? stub(key));
      for (const o of changes.upserts.get(info)?.values() ?? []) inf.store.upsert(o, { transformed: true });
    }
    this.delivered = changes.seen;
  }

  /**
   * Reads the file through, one object at a time: each object whose fingerprint differs from
   * what was delivered is transformed at once (so a trimmed informer never holds the file's
   * objects whole) and kept aside until the whole file has read well.
   */
  private read(): { seen: Map<ResourceInfo, Map<string, string>>; upserts: Map<ResourceInfo, Map<string, KubeObject>> } | undefined {
    let seen = new Map<ResourceInfo, Map<string, string>>();
    let upserts = new Map<ResourceInfo, Map<string, KubeObject>>();
    let stale = false;
    const unknown = new Set<string>();
    this.reader.scan({
      restart: () => {
        seen = new Map();
        upserts = new Map();
        stale = false;
      },
      object: (e: ScannedObject) => {
        const info = resourceForKind(e.apiVersion, e.kind);
        if (!info) {
          unknown.add(`${e.apiVersion}/${e.kind}`);
          return;
        }
        const inf = this.informers.get(info);
        if (!inf) return;
        const namespace = info.namespaced ? e.namespace || 'default' : e.namespace;
        const key = namespace ? `${namespace}/${e.name}` : e.name;
        let m = seen.get(info);
        if (!m) seen.set(info, (m = new Map()));
        m.set(key, e.fingerprint);
        const pending = upserts.get(info);
        if (this.delivered.get(info)?.get(key) === e.fingerprint) {
          pending?.delete(key);
          return;
        }
        if (!e.object) {
          stale = true;
          return;
        }
        let o = e.object;
        if (namespace !== o.metadata.namespace) o = { ...o, metadata: { ...o.metadata, namespace } };
        if (pending) pending.set(key, inf.store.transformed(o));
        else upserts.set(info, new Map([[key, inf.store.transformed(o)]]));
      },
    });
    for (const kind of unknown) log.v(2, 'Ignoring objects of a kind kubeplane does not serve', { kind });
    return stale ? undefined : { seen, upserts };
  }
}

/** An object standing for a key the store no longer holds, so remove() has something to key. */
function stub(key: string): KubeObject {
  const slash = key.indexOf('/');
  return { metadata: slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) } } as KubeObject;
}
