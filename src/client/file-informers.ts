import { watch, type FSWatcher } from 'node:fs';
import type { KubeObject } from '../api/types.js';
import { resourceFor, type ResourceInfo } from '../api/resources.js';
import { groupByResource, ObjectsFileReader } from '../api/objects-file.js';
import { objectKey } from '../api/types.js';
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
  /** What the last load delivered to each informer, by key, as read from the file (before any transform). */
  private readonly delivered = new Map<ResourceInfo, Map<string, KubeObject>>();
  private readonly reader: ObjectsFileReader;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly opts: { watch?: boolean } = {},
  ) {
    this.reader = new ObjectsFileReader(path);
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
    const { byResource, unknown } = groupByResource(this.reader.read());
    for (const o of unknown) log.v(2, 'Ignoring object of a kind kubeplane does not serve', { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name });
    for (const [info, inf] of this.informers) {
      const before = this.delivered.get(info) ?? new Map<string, KubeObject>();
      const now = new Map<string, KubeObject>();
      for (const o of byResource.get(info) ?? []) now.set(objectKey(o), o);
      // Only what changed reaches the store (and so the handlers and the transform): an
      // unchanged document comes back from the reader as the same object, anything else is
      // compared by content. The store's own replace() would transform and serialize every object.
      for (const [key, old] of before) if (!now.has(key)) inf.store.remove(old);
      for (const [key, o] of now) {
        const old = before.get(key);
        if (old === o || (old !== undefined && JSON.stringify(old) === JSON.stringify(o))) continue;
        inf.store.upsert(o);
      }
      this.delivered.set(info, now);
    }
  }
}
