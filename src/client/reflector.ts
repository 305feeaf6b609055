import type { KubeObject, Status } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { ApiError, isResourceExpired, isTooLargeResourceVersion } from './errors.js';
import type { RestClient, WatchStream } from './rest.js';
import type { Store } from './store.js';
import { logger } from '../observability/log.js';

const log = logger('reflector');

export interface ReflectorOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** list page size; client-go's is 500 */
  pageSize?: number;
  backoff?: BackoffOptions;
  /** watches ask the server to end after a random time in [min, 2·min) seconds, as client-go's [300, 600) */
  minWatchTimeoutSeconds?: number;
  random?: () => number;
}

/** What a reflector has done, for logs, metrics and tests. */
export interface ReflectorStats {
  lists: number;
  /** relists because the server said 410 Gone / Expired */
  expiredRelists: number;
  watches: number;
  watchErrors: number;
  events: number;
  bookmarks: number;
}

/** A watch that ended at once without an event: treat as a failure so we back off. */
class ShortWatchError extends Error {}

/**
 * Keeps a Store equal to the server's collection, as client-go's Reflector does: list
 * (resourceVersion=0, paged) then watch from the list's resourceVersion with bookmarks;
 * on a cut or any error, back off and watch again from the last resourceVersion seen; on
 * 410 Gone, relist and let the store deliver only what changed. The store is never
 * cleared, so consumers keep serving the last known state while the server is away.
 */
export class Reflector<T extends KubeObject> {
  /** the newest resourceVersion seen in a list, an event or a bookmark */
  lastSyncResourceVersion = '';
  readonly stats: ReflectorStats = { lists: 0, expiredRelists: 0, watches: 0, watchErrors: 0, events: 0, bookmarks: 0 };
  private lastSyncResourceVersionUnavailable = false;
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private readonly abort = new AbortController();
  private stopped = false;
  private running: Promise<void> | undefined;
  private watch: WatchStream<T> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly client: RestClient,
    readonly resource: ResourceInfo,
    private readonly store: Store<T>,
    private readonly opts: ReflectorOptions = {},
  ) {
    this.backoff = new Backoff(opts.backoff);
    this.random = opts.random ?? Math.random;
  }

  get name(): string {
    return `${this.resource.group ? this.resource.group + '/' : ''}${this.resource.version}/${this.resource.resource}`;
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.watch?.close();
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    let needList = true;
    let consecutiveExpired = 0;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.listAndReplace();
          needList = false;
        }
        await this.watchOnce();
        consecutiveExpired = 0;
      } catch (err) {
        if (this.stopped) break;
        if (isResourceExpired(err)) {
          needList = true;
          this.stats.expiredRelists++;
          log.v(1, 'Watch closed with 410, relisting', { reflector: this.name, resourceVersion: this.lastSyncResourceVersion, err: (err as Error).message });
          // Relist at once the first time; a server that keeps answering 410 gets backoff.
          if (consecutiveExpired++ > 0) await this.sleep(this.backoff.next());
          continue;
        }
        this.stats.watchErrors++;
        if (isTooLargeResourceVersion(err)) {
          // The server is behind the RV we hold (restored from a backup, or a lagging
          // replica): it cannot serve a watch from there, so read the current state afresh.
          this.lastSyncResourceVersionUnavailable = true;
          needList = true;
        }
        const delay = this.backoff.next();
        const what = needList ? 'Failed to list' : 'Watch failed';
        if (err instanceof ShortWatchError) log.v(2, `${what}, retrying`, { reflector: this.name, err: err.message, backoffMs: Math.round(delay) });
        else log.warn(`${what}, retrying`, { reflector: this.name, err: errorText(err), resourceVersion: this.lastSyncResourceVersion, backoffMs: Math.round(delay) });
        await this.sleep(delay);
      }
    }
  }

  /**
   * client-go's relistResourceVersion: "0" (any, from cache) before the first sync, the
   * last seen RV afterwards (not older than what we had), "" (a consistent read) once the
   * server said that RV is gone.
   */
  private relistResourceVersion(): string {
    if (this.lastSyncResourceVersionUnavailable) return '';
    if (this.lastSyncResourceVersion === '') return '0';
    return this.lastSyncResourceVersion;
  }

  private async listAndReplace(): Promise<void> {
    const rv = this.relistResourceVersion();
    const pageSize = this.opts.pageSize ?? 500;
    // A list from an exact RV with a limit would be an Exact read (legacy rule), which fails
    // once compacted; client-go leaves the limit off then so the cache can serve it.
    const paged = rv === '0' || rv === '';
    // Each item goes through the store's transform as it is decoded, so a trimmed cache never
    // holds the untrimmed list, nor an untrimmed page (a server may ignore the limit).
    const mapItem = (o: KubeObject): KubeObject => this.store.transformed(o as T);
    const base = { namespace: this.opts.namespace, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector, signal: this.abort.signal, timeoutMs: 60_000, mapItem };
    let items: T[];
    let listRV: string | undefined;
    const prepare = (page: T[]): T[] => page;
    try {
      const first = await this.client.list<T>(this.resource, { ...base, resourceVersion: rv, limit: paged ? pageSize : undefined });
      items = prepare(first.items);
      listRV = first.metadata.resourceVersion;
      let cont = first.metadata.continue;
      while (cont) {
        let page;
        try {
          page = await this.client.list<T>(this.resource, { ...base, continue: cont, limit: pageSize });
        } catch (err) {
          if (!isResourceExpired(err)) throw err;
          // the snapshot the pages came from was compacted: read the whole list again, consistent
          log.v(1, 'List continuation expired, listing again without pages', { reflector: this.name });
          const full = await this.client.list<T>(this.resource, base);
          items = prepare(full.items);
          listRV = full.metadata.resourceVersion;
          break;
        }
        for (const o of prepare(page.items)) items.push(o);
        cont = page.metadata.continue;
      }
    } catch (err) {
      if (isResourceExpired(err) || isTooLargeResourceVersion(err)) this.lastSyncResourceVersionUnavailable = true;
      throw err;
    }
    if (this.stopped) return;
    this.stats.lists++;
    this.store.replace(items, { transformed: true });
    this.lastSyncResourceVersionUnavailable = false;
    if (listRV) this.lastSyncResourceVersion = listRV;
    this.store.markSynced();
    log.v(2, 'Listed', { reflector: this.name, items: items.length, resourceVersion: listRV });
  }

  private async watchOnce(): Promise<void> {
    const min = this.opts.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(min * (1 + this.random()));
    const started = Date.now();
    let seen = 0;
    this.watch = await this.client.watch<T>(this.resource, {
      namespace: this.opts.namespace,
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
      resourceVersion: this.lastSyncResourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds,
      signal: this.abort.signal,
    });
    this.stats.watches++;
    try {
      for await (const ev of this.watch.events) {
        if (this.stopped) return;
        seen++;
        const obj = ev.object;
        switch (ev.type) {
          case 'ERROR':
            throw ApiError.fromStatus(obj as unknown as Status);
          case 'ADDED':
          case 'MODIFIED':
            this.store.upsert(obj);
            this.stats.events++;
            break;
          case 'DELETED':
            this.store.remove(obj);
            this.stats.events++;
            break;
          case 'BOOKMARK':
            this.stats.bookmarks++;
            break;
        }
        const rv = obj.metadata?.resourceVersion;
        if (rv) this.lastSyncResourceVersion = rv;
      }
    } finally {
      this.watch.close();
      this.watch = undefined;
    }
    if (!this.stopped && seen === 0 && Date.now() - started < 1000) throw new ShortWatchError('the watch ended at once without an event');
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
}
