import { Agent, request, type Dispatcher } from 'undici';
import type { KubeList, KubeObject, Status } from '../api/types.js';
import { apiVersionOf, type ResourceInfo } from '../api/resources.js';
import type { ClientConfig } from './config.js';
import { ApiError } from './errors.js';
import { decodeWatchStream, type WatchEvent } from './watch.js';
import { JsonItemsCutter, NotCuttable } from '../api/json-items.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  /** whole-request deadline; defaults to the client's */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * For a list: each item as it is decoded, its return value kept in its place, so a caller
   * keeping only a projection never holds the whole list (nor its text) at once.
   */
  onListItem?: (item: unknown) => unknown;
}

export interface ObjectPath {
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  limit?: number;
  continue?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** applied to every item as it is decoded (an informer's transform): see RequestOptions.onListItem */
  mapItem?: (item: KubeObject) => KubeObject;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /** asks the server to end the watch after this long */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface WriteOptions {
  namespace?: string;
  fieldManager?: string;
  dryRun?: boolean;
  subresource?: string;
  timeoutMs?: number;
}

export interface DeleteOptions {
  namespace?: string;
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  timeoutMs?: number;
}

/** An open watch: iterate `events`; `close()` ends it from our side. */
export interface WatchStream<T extends KubeObject> {
  events: AsyncGenerator<WatchEvent<T>>;
  close(): void;
}

export interface RestClientOptions {
  /** default per-request deadline (client-go has none by default; kubectl's --request-timeout) */
  timeoutMs?: number;
  userAgent?: string;
  /** how long an idle keep-alive connection is kept */
  keepAliveMs?: number;
}

/**
 * A typed Kubernetes REST client over undici: keep-alive connection pools, TLS with the
 * configured CA or client certificate, JSON bodies, Status errors as ApiError.
 */
export class RestClient {
  private readonly dispatcher: Dispatcher;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(
    readonly config: ClientConfig,
    opts: RestClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? `kubeplane/0.1 (${process.platform}/${process.arch})`;
    this.dispatcher = new Agent({
      keepAliveTimeout: opts.keepAliveMs ?? 60_000,
      keepAliveMaxTimeout: 600_000,
      connect: {
        ca: config.ca,
        cert: config.clientCertificate,
        key: config.clientKey,
        rejectUnauthorized: !config.insecureSkipTLSVerify,
        servername: config.tlsServerName,
      },
    });
  }

  /** The URL path of a resource, a collection, an object or a subresource. */
  static resourcePath(info: ResourceInfo, p: ObjectPath = {}): string {
    let path = info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
    if (info.namespaced && p.namespace) path += `/namespaces/${encodeURIComponent(p.namespace)}`;
    path += `/${info.resource}`;
    if (p.name !== undefined) {
      if (p.name === '') throw new Error(`a name is required to address one ${info.singular}`);
      path += `/${encodeURIComponent(p.name)}`;
      if (p.subresource) path += `/${p.subresource}`;
    }
    return path;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent, ...extra };
    const token = this.config.tokenSource?.token() ?? this.config.token;
    if (token) h.authorization = `Bearer ${token}`;
    else if (this.config.username !== undefined) h.authorization = `Basic ${Buffer.from(`${this.config.username}:${this.config.password ?? ''}`).toString('base64')}`;
    return h;
  }

  private url(path: string, query?: Query): string {
    const u = new URL(this.config.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** Any request; a non-2xx answer throws ApiError. Returns the decoded JSON body. */
  async request<T>(method: Dispatcher.HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const signals = [AbortSignal.timeout(timeoutMs)];
    if (opts.signal) signals.push(opts.signal);
    const extra: Record<string, string> = {};
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      extra['content-type'] = opts.contentType ?? 'application/json';
    }
    const res = await request(this.url(path, opts.query), {
      method,
      headers: this.headers(extra),
      body,
      dispatcher: this.dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.any(signals),
    });
    if (opts.onListItem && res.statusCode >= 200 && res.statusCode <= 299) return (await cutList(res.body, opts.onListItem, `${method} ${path}`)) as T;
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode > 299) throw errorFromBody(res.statusCode, text, `${method} ${path}`);
    if (text === '') return undefined as T;
    // /healthz, /readyz, /version-like plain answers come back as text
    const ctype = String(res.headers['content-type'] ?? '');
    if (ctype !== '' && !ctype.includes('json')) return text as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.statusCode, 'InternalError', failure(`the server answered ${method} ${path} with a body that is not JSON`, 'InternalError', 500));
    }
  }

  async get<T extends KubeObject>(info: ResourceInfo, name: string, opts: { namespace?: string; resourceVersion?: string; timeoutMs?: number } = {}): Promise<T> {
    return this.request<T>('GET', RestClient.resourcePath(info, { namespace: opts.namespace, name }), { query: { resourceVersion: opts.resourceVersion }, timeoutMs: opts.timeoutMs });
  }

  /** One page of a list (follow `metadata.continue` for the next); items get apiVersion/kind filled in. */
  async list<T extends KubeObject>(info: ResourceInfo, opts: ListOptions = {}): Promise<KubeList<T>> {
    const list = await this.request<KubeList<T>>('GET', RestClient.resourcePath(info, { namespace: opts.namespace }), {
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        resourceVersion: opts.resourceVersion,
        resourceVersionMatch: opts.resourceVersionMatch,
        limit: opts.limit,
        continue: opts.continue,
      },
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      onListItem: opts.mapItem
        ? (item) => {
            const o = item as KubeObject;
            o.apiVersion ??= apiVersionOf(info);
            o.kind ??= info.kind;
            return opts.mapItem!(o);
          }
        : undefined,
    });
    if (!list || !Array.isArray(list.items) || !list.metadata) throw new ApiError(500, 'InternalError', failure(`the server answered a list of ${info.resource} with something that is not a ${info.listKind}`, 'InternalError', 500));
    // kube-apiserver omits TypeMeta on list items; watch events carry it. Make both the same.
    const apiVersion = apiVersionOf(info);
    for (const item of list.items) {
      item.apiVersion ??= apiVersion;
      item.kind ??= info.kind;
    }
    return list;
  }

  /** Every page of a list at one consistent resourceVersion. */
  async listAll<T extends KubeObject>(info: ResourceInfo, opts: Omit<ListOptions, 'continue'> = {}): Promise<KubeList<T>> {
    const first = await this.list<T>(info, opts);
    let cont = first.metadata.continue;
    while (cont) {
      const page = await this.list<T>(info, { ...opts, resourceVersion: undefined, resourceVersionMatch: undefined, continue: cont });
      first.items.push(...page.items);
      cont = page.metadata.continue;
    }
    delete first.metadata.continue;
    delete first.metadata.remainingItemCount;
    return first;
  }

  async create<T extends KubeObject>(info: ResourceInfo, obj: T, opts: WriteOptions = {}): Promise<T> {
    const namespace = opts.namespace ?? obj.metadata.namespace;
    return this.request<T>('POST', RestClient.resourcePath(info, { namespace }), { body: obj, query: writeQuery(opts), timeoutMs: opts.timeoutMs });
  }

  /** PUT; send metadata.resourceVersion to get optimistic concurrency (409 Conflict). */
  async update<T extends KubeObject>(info: ResourceInfo, obj: T, opts: WriteOptions = {}): Promise<T> {
    const namespace = opts.namespace ?? obj.metadata.namespace;
    const name = obj.metadata.name ?? '';
    return this.request<T>('PUT', RestClient.resourcePath(info, { namespace, name, subresource: opts.subresource }), { body: obj, query: writeQuery(opts), timeoutMs: opts.timeoutMs });
  }

  async patch<T extends KubeObject>(info: ResourceInfo, name: string, patch: unknown, type: PatchType, opts: WriteOptions & { force?: boolean } = {}): Promise<T> {
    if (type === 'apply' && !opts.fieldManager) throw new Error('server-side apply needs a fieldManager');
    return this.request<T>('PATCH', RestClient.resourcePath(info, { namespace: opts.namespace, name, subresource: opts.subresource }), {
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
      query: { ...writeQuery(opts), force: opts.force },
      timeoutMs: opts.timeoutMs,
    });
  }

  /** Returns the deleted object or the server's Success Status, whichever it sends. */
  async delete(info: ResourceInfo, name: string, opts: DeleteOptions = {}): Promise<KubeObject | Status> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    return this.request('DELETE', RestClient.resourcePath(info, { namespace: opts.namespace, name }), { body, timeoutMs: opts.timeoutMs });
  }

  /**
   * Opens a watch. HTTP errors (a 410 before the stream starts, 403, ...) reject here;
   * errors inside the stream arrive as ERROR events, and a cut connection makes the
   * iteration throw.
   */
  async watch<T extends KubeObject>(info: ResourceInfo, opts: WatchOptions = {}): Promise<WatchStream<T>> {
    const ac = new AbortController();
    const signals = [ac.signal];
    if (opts.signal) signals.push(opts.signal);
    // The server ends the watch at timeoutSeconds; a connection that goes silent well past
    // that is dead (a cut without FIN), so give up on it then.
    const idleMs = opts.timeoutSeconds ? (opts.timeoutSeconds + 30) * 1000 : 0;
    const path = RestClient.resourcePath(info, { namespace: opts.namespace });
    const res = await request(
      this.url(path, {
        watch: 'true',
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        resourceVersion: opts.resourceVersion,
        allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
        timeoutSeconds: opts.timeoutSeconds,
      }),
      {
        method: 'GET',
        headers: this.headers(),
        dispatcher: this.dispatcher,
        headersTimeout: this.timeoutMs,
        bodyTimeout: idleMs,
        signal: AbortSignal.any(signals),
      },
    );
    if (res.statusCode < 200 || res.statusCode > 299) {
      const text = await res.body.text().catch(() => '');
      throw errorFromBody(res.statusCode, text, `watch ${path}`);
    }
    const body = res.body;
    const events = (async function* () {
      try {
        for await (const ev of decodeWatchStream(body)) yield ev as WatchEvent<T>;
      } finally {
        if (!body.destroyed) body.destroy();
      }
    })();
    return {
      events,
      close: () => {
        ac.abort();
        if (!body.destroyed) body.destroy();
      },
    };
  }

  async close(): Promise<void> {
    await this.dispatcher.destroy();
  }
}

function writeQuery(opts: WriteOptions): Query {
  return { fieldManager: opts.fieldManager, dryRun: opts.dryRun ? 'All' : undefined };
}

function failure(message: string, reason: string, code: number): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function errorFromBody(code: number, text: string, what: string): ApiError {
  try {
    const v = JSON.parse(text) as Status;
    if (v && v.kind === 'Status') return ApiError.fromStatus(v, code);
  } catch {
    // not JSON: a proxy's page or plain text
  }
  return ApiError.fromResponse(code, text, what);
}

/** A list body read item by item: each item decoded and handed to `each` as its text ends. */
async function cutList(body: AsyncIterable<Buffer>, each: (item: unknown) => unknown, what: string): Promise<unknown> {
  const items: unknown[] = [];
  const cutter = new JsonItemsCutter((bytes) => items.push(each(JSON.parse(bytes.toString('utf8')))));
  try {
    for await (const chunk of body) cutter.write(chunk);
    const list = cutter.end();
    if (cutter.hadItems) list.items = items;
    return list;
  } catch (err) {
    if (err instanceof NotCuttable || err instanceof SyntaxError) throw new ApiError(500, 'InternalError', failure(`the server answered ${what} with a body that is not a JSON list`, 'InternalError', 500));
    throw err;
  }
}
