/**
 * The request path of the ingress: route lookup, policy (annotations), and forwarding to
 * endpoints over undici pools. This file is the hot path, so it is larger than most and
 * keeps per-request state on one object instead of closures.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import { Pool } from 'undici';
import { hostFromHeader, type RouteTable, type PathMatch } from './table.js';
import type { PathRoute, BackendTarget } from './routes.js';
import { DEFAULT_ANNOTATIONS as defaultAnnotations, type IngressAnnotations } from './annotations.js';
import { EndpointHealth, Upstreams, type Upstream } from './upstreams.js';
import type { UpstreamEndpoint } from './endpoints.js';
import { GrpcUpstreams } from './grpc.js';
import { clientAddress, clientResponseHeaderList, setListHeader, upstreamRequestHead, upstreamRequestHeadFromLines, upstreamRequestHeaders } from './headers.js';
import { BodyTooLargeError, H1_BODY_TIMEOUT, H1_CONNECT_TIMEOUT, H1_HEADERS_TIMEOUT, H1_SEND_TIMEOUT, H1Pool, type H1Controller, type H1Handler, type H1Request, type UpstreamHead } from './h1.js';
import { applyCors, chooseCanary, LimitState, pickAffinity, rewritePath, sourceAllowed } from './policy.js';
import type { IngressMetrics } from './metrics.js';
import { LeanRequest, LeanResponse } from './h1server.js';
import type { ClientRequest, ClientResponse } from './messages.js';
import { logger } from '../observability/log.js';

const log = logger('ingress');

const HSTS = 'max-age=31536000; includeSubDomains';
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const MAX_TRIES = 3;
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', H1_CONNECT_TIMEOUT, 'ETIMEDOUT', 'EADDRNOTAVAIL']);
const TIMEOUTS = new Set([H1_HEADERS_TIMEOUT, H1_SEND_TIMEOUT, 'UND_ERR_HEADERS_TIMEOUT']);

export interface ProxyOptions {
  upstreams: Upstreams;
  metrics?: IngressMetrics;
  /** ns/name:port of --default-backend-service; requests no rule matches go there instead of 404 */
  defaultBackend?: BackendTarget;
  /** the HTTPS listener's port, for redirects (omitted from Location when 443) */
  httpsPort: number;
}

/** The HTTP/1.1 connections to one endpoint origin; shared by every route that reaches it. */
class H1Pools {
  private readonly pools = new Map<string, H1Pool>();
  get(ep: UpstreamEndpoint, a: IngressAnnotations): H1Pool {
    // backend-protocol HTTPS: TLS to the pod, unverified like ingress-nginx's default
    // (proxy-ssl-verify off); pod certificates rarely name the pod IP.
    const tls = a.backendProtocol === 'HTTPS';
    const key = a.connectTimeout === 5000 && !tls ? ep.origin : `${ep.origin}#${a.connectTimeout}${tls ? '#tls' : ''}`;
    let p = this.pools.get(key);
    if (!p) {
      p = new H1Pool({ host: ep.address, port: ep.port, tls, connectTimeout: a.connectTimeout });
      this.pools.set(key, p);
    }
    return p;
  }
  /** Closes pools of endpoints no upstream uses: idle sockets now, busy ones when their exchange ends. */
  sweep(live: Set<string>): void {
    for (const [key, p] of this.pools) {
      if (!live.has(key.split('#')[0]!)) {
        this.pools.delete(key);
        p.close();
      }
    }
  }
  close(): void {
    for (const p of this.pools.values()) p.destroy();
    this.pools.clear();
  }
}

/** undici pools, for Upgrade (WebSocket) requests only; one per endpoint origin. */
class Pools {
  private readonly pools = new Map<string, Pool>();
  get(origin: string, a: IngressAnnotations): Pool {
    // backend-protocol HTTPS: TLS to the pod, unverified like ingress-nginx's default
    // (proxy-ssl-verify off); pod certificates rarely name the pod IP.
    const tls = a.backendProtocol === 'HTTPS';
    const key = a.connectTimeout === 5000 && !tls ? origin : `${origin}#${a.connectTimeout}${tls ? '#tls' : ''}`;
    let p = this.pools.get(key);
    if (!p) {
      const url = tls ? 'https' + origin.slice(4) : origin;
      p = new Pool(url, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000, connect: { timeout: a.connectTimeout, ...(tls ? { rejectUnauthorized: false } : {}) } });
      this.pools.set(key, p);
    }
    return p;
  }
  /** Gracefully closes pools of endpoints no upstream uses: in-flight requests finish first. */
  sweep(live: Set<string>): void {
    for (const [key, p] of this.pools) {
      const origin = key.split('#')[0]!;
      if (!live.has(origin)) {
        this.pools.delete(key);
        void p.close().catch(() => undefined);
      }
    }
  }
  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy().catch(() => undefined)));
    this.pools.clear();
  }
}

function statusText(code: number): string {
  return code === 404 ? 'default backend - 404' : code === 503 ? 'Service Temporarily Unavailable' : code === 502 ? 'Bad Gateway' : code === 504 ? 'Gateway Timeout' : code === 403 ? 'Forbidden' : code === 413 ? 'Request Entity Too Large' : 'Error';
}

/** One proxied request: the upstream handler and the client response tied together. */
class Exchange implements H1Handler {
  controller: H1Controller | undefined = undefined;
  endpoint: UpstreamEndpoint | undefined = undefined;
  tried: string[] | undefined = undefined;
  started = false;
  bytes = 0;
  upstream: Upstream | undefined = undefined;
  opts: H1Request | undefined = undefined;
  affinityCookie: string | undefined = undefined;
  hsts = false;

  constructor(
    readonly proxy: Proxy,
    readonly req: ClientRequest,
    readonly res: ClientResponse,
    readonly route: PathRoute,
    readonly canary: boolean,
    readonly t0: number,
  ) {}

  onRequestStart(controller: H1Controller): void {
    this.controller = controller;
    if (this.res.destroyed) controller.abort(new Error('client gone'));
  }

  onResponseStart(controller: H1Controller, statusCode: number, head: UpstreamHead): void {
    this.started = true;
    this.proxy.health.markOk(this.endpoint!.origin);
    const a = this.route.annotations;
    const res = this.res;
    try {
      // The common case on the plain-HTTP fast path: the upstream's header lines go out as they came.
      if (res instanceof LeanResponse && a.responseHeaders.length === 0 && !a.cors && !this.affinityCookie && !this.hsts) res.writeHeadLines(statusCode, head.forward, head.contentLength !== -1, head.hasDate);
      else res.writeHead(statusCode, this.responseHeaders(head));
    } catch (err) {
      controller.abort(err as Error);
      return;
    }
    this.status = statusCode;
  }

  /** The client's response header list: the upstream's without hop-by-hop fields, plus annotations'. */
  private responseHeaders(head: UpstreamHead): string[] {
    const out = clientResponseHeaderList(head.list());
    const a = this.route.annotations;
    for (const [k, v] of a.responseHeaders) setListHeader(out, k.toLowerCase(), v);
    if (a.cors) {
      const cors: Record<string, string | string[]> = {};
      applyCors(a.cors, this.req.headers.origin, cors);
      for (const k in cors) setListHeader(out, k, cors[k] as string);
    }
    if (this.affinityCookie) out.push('set-cookie', this.affinityCookie);
    // ingress-nginx's hsts default: on for HTTPS responses of hosts with TLS, unless the backend set one.
    if (this.hsts && !out.includes('strict-transport-security')) out.push('strict-transport-security', HSTS);
    return out;
  }

  status = 0;

  onResponseData(controller: H1Controller, chunk: Buffer): void {
    this.bytes += chunk.length;
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', resumeController.bind(controller));
    }
  }

  onResponseEnd(): void {
    this.res.end();
    this.finish(this.status);
  }

  onResponseError(_controller: H1Controller, err: Error): void {
    const code = (err as { code?: string }).code ?? '';
    if (err instanceof BodyTooLargeError && !this.started) {
      this.proxy.reply(this.res, 413, { connection: 'close' });
      this.finish(413);
      return;
    }
    if (!this.started) {
      if (CONNECT_ERRORS.has(code) && this.endpoint) {
        this.proxy.health.markFailed(this.endpoint.origin);
        this.proxy.metrics?.upstreamErrors.inc({ reason: 'connect' });
        (this.tried ??= []).push(this.endpoint.origin);
        if (this.canRetry()) {
          this.proxy.metrics?.retries.inc();
          this.proxy.send(this);
          return;
        }
        this.proxy.reply(this.res, 502);
        this.finish(502);
        return;
      }
      const status = TIMEOUTS.has(code) ? 504 : 502;
      this.proxy.metrics?.upstreamErrors.inc({ reason: status === 504 ? 'timeout' : 'error' });
      if (!this.res.destroyed) this.proxy.reply(this.res, status);
      this.finish(status);
      return;
    }
    // Headers already sent: the only honest signal left is to cut the response.
    this.proxy.metrics?.upstreamErrors.inc({ reason: code === H1_BODY_TIMEOUT ? 'timeout' : 'reset' });
    this.res.destroy();
    this.finish(this.status);
  }

  private canRetry(): boolean {
    if (!IDEMPOTENT.has(this.req.method ?? '')) return false;
    if ((this.tried?.length ?? 0) >= MAX_TRIES) return false;
    // A streamed body cannot be replayed; only bodiless requests are retried.
    const h = this.req.headers;
    if (h['transfer-encoding'] || (h['content-length'] && h['content-length'] !== '0')) return false;
    return this.upstream!.endpoints.some((e) => !this.tried!.includes(e.origin));
  }

  private finished = false;

  finish(status: number): void {
    if (this.finished) return;
    this.finished = true;
    if (this.endpoint) this.proxy.health.end(this.endpoint.origin);
    // only limit-connections holds a slot (skips a WeakMap lookup per request otherwise)
    if (this.route.annotations.limitConnections > 0) this.proxy.limits.release(this);
    const m = this.proxy.metrics;
    if (!m) return;
    this.status = status;
    m.observe(this.route, this, metricLabels, this.req.method ?? '', status, (performance.now() - this.t0) / 1000, this.bytes);
  }
}

/** What the request labels are made of: a proxied Exchange, or an answer the controller wrote itself. */
interface Answered {
  readonly route: PathRoute | undefined;
  readonly req: { readonly method?: string | undefined };
  readonly status: number;
  readonly canary: boolean;
}

/**
 * The series key of answers no route matched (404, or 400 for a request that never parsed).
 * Their host label is empty like the rest: a label per Host header a client makes up
 * would let any client grow the metrics without bound.
 */
const NO_ROUTE = {};

/** Built only the first time a (route, method, status) is seen. */
function metricLabels(ex: Answered): Record<'host' | 'ingress' | 'namespace' | 'service' | 'path' | 'method' | 'status' | 'canary', string> {
  const r = ex.route;
  if (!r) return { host: '', ingress: '', namespace: '', service: '', path: '', method: ex.req.method ?? '', status: String(ex.status), canary: '' };
  const [namespace, ingress] = r.ingress.split('/');
  const service = r.backend.service?.name ?? '';
  return { host: r.host, ingress: ingress ?? '', namespace: namespace ?? '', service, path: r.path, method: ex.req.method ?? '', status: String(ex.status), canary: ex.canary ? service : '' };
}

function resumeController(this: H1Controller): void {
  this.resume();
}

const kExchange = Symbol('exchange');

/** 'close' on the client response (a module-level listener: no closure per request). */
function onClientClose(this: ClientResponse & { [kExchange]?: Exchange }): void {
  const ex = this[kExchange];
  if (ex && !this.writableFinished) ex.controller?.abort(new Error('client closed the connection'));
}

export class Proxy {
  table!: RouteTable;
  readonly health = new EndpointHealth();
  readonly limits = new LimitState();
  readonly pools = new Pools();
  readonly h1 = new H1Pools();
  readonly grpc = new GrpcUpstreams();
  readonly upstreams: Upstreams;
  readonly metrics: IngressMetrics | undefined;
  private readonly defaultBackend: BackendTarget | undefined;
  /** the HTTPS listener's real port, for redirect Locations */
  httpsPort: number;

  constructor(opts: ProxyOptions) {
    this.upstreams = opts.upstreams;
    this.metrics = opts.metrics;
    this.defaultBackend = opts.defaultBackend;
    this.httpsPort = opts.httpsPort;
  }

  /**
   * ssl-passthrough: the endpoint a TLS connection for `servername` is piped to, 'unavailable'
   * when the host is passthrough but has no ready endpoint, undefined to terminate TLS here.
   */
  passthroughTarget(servername: string): UpstreamEndpoint | 'unavailable' | undefined {
    const backend = this.table.hostFor(servername).routes.passthrough;
    if (!backend) return undefined;
    const upstream = this.upstreams.get(backend);
    if (upstream.state !== 'ok') return 'unavailable';
    return upstream.pick('round_robin', this.health, undefined) ?? 'unavailable';
  }

  /** Closes connection pools of endpoints no upstream uses any more. */
  sweep(live: Set<string>): void {
    this.pools.sweep(live);
    this.h1.sweep(live);
  }

  /** Swaps in a new table; requests already routed keep the route they matched. */
  setTable(table: RouteTable): void {
    this.table = table;
  }

  /** Writes the controller's own answer; returns the body's length. */
  reply(res: ClientResponse, status: number, headers: Record<string, string> = {}): number {
    if (res.headersSent) {
      res.destroy();
      return 0;
    }
    const body = status >= 400 ? `${status} ${statusText(status)}\n` : '';
    const length = Buffer.byteLength(body);
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(length), ...headers });
    res.end(body);
    return length;
  }

  /**
   * Answers a request without an upstream (no route, allowlist, redirect, body size, no
   * endpoints, limits) and counts it as ingress-nginx does every request it answers, under
   * the matched route's labels (all empty when none matched).
   */
  answer(req: ClientRequest, res: ClientResponse, route: PathRoute | undefined, status: number, t0: number, headers?: Record<string, string>, canary = false): void {
    const bytes = this.reply(res, status, headers);
    this.count({ route, req, status, canary }, t0, bytes);
  }

  /** Counts an answer written by other means (a WebSocket refusal, a 400 for a request that never parsed). */
  count(answered: Answered, t0: number, bytes: number): void {
    this.metrics?.observe(answered.route ?? NO_ROUTE, answered, metricLabels, answered.req.method ?? '', answered.status, (performance.now() - t0) / 1000, bytes);
  }

  private route(req: ClientRequest): { match: PathMatch | undefined; route: PathRoute | undefined; host: string; path: string; tls: boolean } {
    const authority = (req.headers[':authority'] as string | undefined) ?? req.headers.host;
    const host = hostFromHeader(authority);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const compiled = this.table.hostFor(host);
    const match = compiled.match(path);
    return { match, route: match?.route ?? compiled.routes.fallback, host, path, tls: compiled.tlsSecret !== undefined };
  }

  /** Handles one HTTP request from either listener. */
  handle(req: ClientRequest, res: ClientResponse, secure: boolean, port: number): void {
    const t0 = performance.now();
    const { match, route, host, path, tls } = this.route(req);
    if (!route) {
      if (this.defaultBackend) return this.forward(req, res, this.defaultRoute(host), undefined, false, secure, port, t0);
      return this.answer(req, res, undefined, 404, t0);
    }
    const a = route.annotations;
    const clientIP = clientAddress(req.socket.remoteAddress);
    if (a.allowSourceRange && !sourceAllowed(a.allowSourceRange, clientIP)) return this.answer(req, res, route, 403, t0);
    if (!secure && ((tls && a.sslRedirect) || a.forceSslRedirect)) {
      const hostPart = (authority(req) ?? host).replace(/:\d+$/, '');
      const location = `https://${hostPart}${this.httpsPort === 443 ? '' : ':' + this.httpsPort}${req.url ?? '/'}`;
      return this.answer(req, res, route, 308, t0, { location });
    }
    if (a.redirect) return this.answer(req, res, route, a.redirect.code, t0, { location: a.redirect.url });
    if (a.cors && req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      const h: Record<string, string | string[]> = { 'content-length': '0', 'content-type': 'text/plain charset=UTF-8' };
      applyCors(a.cors, req.headers.origin, h, true);
      res.writeHead(204, h);
      res.end();
      return this.count({ route, req, status: 204, canary: false }, t0, 0);
    }
    if (a.proxyBodySize > 0 && Number(req.headers['content-length'] ?? 0) > a.proxyBodySize) return this.answer(req, res, route, 413, t0);
    const canary = route.canaries.length > 0 ? chooseCanary(route.canaries, req.headers) : undefined;
    const chosen = canary ?? route;
    this.forward(req, res, chosen, rewritePath(route, match, req.url ?? '/', path), canary !== undefined, secure, port, t0, tls);
  }

  private defaultRoute(host: string): PathRoute {
    return { host, path: '/', pathType: 'Prefix', ingress: '/', backend: this.defaultBackend!, annotations: defaultAnnotations, canaries: [] };
  }

  private forward(req: ClientRequest, res: ClientResponse, route: PathRoute, upstreamPath: string | undefined, canary: boolean, secure: boolean, port: number, t0: number, tls = false): void {
    const a = route.annotations;
    const upstream = this.upstreams.get(route.backend);
    if (upstream.state !== 'ok') return this.answer(req, res, route, 503, t0, undefined, canary);
    const ex = new Exchange(this, req, res, route, canary, t0);
    ex.hsts = secure && tls;
    const clientIP = clientAddress(req.socket.remoteAddress);
    if (!this.limits.admit(ex, a, clientIP)) return this.answer(req, res, route, 503, t0, undefined, canary);
    ex.upstream = upstream;
    const fwd = { host: authority(req) ?? '', clientIP, proto: secure ? ('https' as const) : ('http' as const), port };
    const method = req.method ?? 'GET';
    const path = upstreamPath ?? req.url ?? '/';
    if (a.backendProtocol === 'GRPC') return this.forwardGrpc(ex, upstream, path, upstreamRequestHeaders(req.headers, fwd));
    const cl = req.headers['content-length'];
    const length = cl !== undefined && /^\d{1,15}$/.test(cl) ? Number(cl) : undefined;
    // Any method's body goes upstream, as nginx's proxy_pass_request_body does (search APIs take
    // GET bodies). HTTP/2 has no framing header to tell: there a GET/HEAD is taken as bodiless.
    const h2Streamed = (req as Http2ServerRequest).stream !== undefined && method !== 'GET' && method !== 'HEAD';
    const hasBody = length !== undefined ? length > 0 : req.headers['transfer-encoding'] !== undefined || h2Streamed;
    ex.opts = {
      method,
      path,
      head: req instanceof LeanRequest && req.forwardLines !== undefined ? upstreamRequestHeadFromLines(req.forwardLines, req.headers['x-request-id'] as string | undefined, req.headers['x-forwarded-for'] as string | undefined, fwd) : upstreamRequestHead(req.rawHeaders, fwd),
      body: hasBody ? (req instanceof LeanRequest ? (req.body ?? null) : (req as IncomingMessage)) : null,
      ...(hasBody && length !== undefined ? { contentLength: length } : {}),
      // A body without Content-Length is counted as it streams; Content-Length was checked already.
      maxBody: hasBody && length === undefined ? a.proxyBodySize : 0,
      readTimeout: a.readTimeout,
      sendTimeout: a.sendTimeout,
    };
    if (a.affinity) {
      const chosen = pickAffinity(a.affinity, req.headers.cookie, upstream);
      if (chosen.endpoint) ex.endpoint = chosen.endpoint;
      ex.affinityCookie = chosen.setCookie;
    }
    (res as unknown as { [kExchange]: Exchange })[kExchange] = ex;
    res.once('close', onClientClose);
    this.send(ex);
  }

  private forwardGrpc(ex: Exchange, upstream: Upstream, path: string, headers: Record<string, string | string[]>): void {
    const a = ex.route.annotations;
    const ep = upstream.pick(a.loadBalance, this.health, undefined);
    if (!ep) {
      this.reply(ex.res, 503);
      return ex.finish(503);
    }
    ex.endpoint = ep;
    this.health.begin(ep.origin);
    const body = ex.req instanceof LeanRequest ? (ex.req.body ?? null) : (ex.req as IncomingMessage);
    this.grpc.forward(ex.req, body, ex.res, ep.origin, path, headers, { connect: a.connectTimeout, read: a.readTimeout }, (status) => ex.finish(status));
  }

  /** Dispatches (or re-dispatches after a connect failure) to the next endpoint. */
  send(ex: Exchange): void {
    const a = ex.route.annotations;
    const upstream = ex.upstream!;
    let ep = ex.tried === undefined && ex.endpoint ? ex.endpoint : undefined;
    if (ex.endpoint && ex.tried !== undefined) this.health.end(ex.endpoint.origin);
    ep ??= upstream.pick(a.loadBalance, this.health, ex.tried);
    if (!ep) {
      this.reply(ex.res, 503);
      ex.endpoint = undefined;
      ex.finish(503);
      return;
    }
    ex.endpoint = ep;
    this.health.begin(ep.origin);
    this.h1.get(ep, a).dispatch(ex.opts!, ex);
  }

  /** WebSocket (and any HTTP/1.1 Upgrade): routed like a request, then piped both ways. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean, port: number): void {
    const t0 = performance.now();
    socket.on('error', () => socket.destroy());
    const { route, host } = this.route(req);
    const chosen = route ?? (this.defaultBackend ? this.defaultRoute(host) : undefined);
    const fail = (status: number): void => {
      socket.end(`HTTP/1.1 ${status} ${statusText(status)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      this.count({ route: chosen, req, status, canary: false }, t0, 0);
    };
    if (!chosen) return fail(404);
    const a = chosen.annotations;
    const clientIP = clientAddress(req.socket.remoteAddress);
    if (a.allowSourceRange && !sourceAllowed(a.allowSourceRange, clientIP)) return fail(403);
    const upstream = this.upstreams.get(chosen.backend);
    const ep = upstream.pick(a.loadBalance, this.health, undefined);
    if (!ep) return fail(503);
    const headers = upstreamRequestHeaders(req.headers, { host: req.headers.host ?? '', clientIP, proto: secure ? 'https' : 'http', port }, String(req.headers.upgrade ?? 'websocket'));
    delete headers.upgrade;
    delete headers.connection;
    this.pools.get(ep.origin, a).upgrade({ path: req.url ?? '/', method: req.method, headers, protocol: String(req.headers.upgrade ?? 'websocket') }).then(
      ({ headers: upHeaders, socket: upSocket }) => {
        let head101 = 'HTTP/1.1 101 Switching Protocols\r\n';
        for (const [k, v] of Object.entries(upHeaders)) {
          if (v === undefined) continue;
          for (const one of Array.isArray(v) ? v : [v]) head101 += `${k}: ${one}\r\n`;
        }
        socket.write(head101 + '\r\n');
        if (head.length) upSocket.write(head);
        upSocket.on('error', () => socket.destroy());
        socket.on('close', () => upSocket.destroy());
        upSocket.on('close', () => socket.destroy());
        upSocket.pipe(socket);
        socket.pipe(upSocket);
      },
      (err: Error & { code?: string }) => {
        if (CONNECT_ERRORS.has(err.code ?? '')) this.health.markFailed(ep.origin);
        log.v(2, 'Upgrade to upstream failed', { endpoint: ep.origin, err: err.message });
        fail(502);
      },
    );
  }

  async close(): Promise<void> {
    this.grpc.close();
    this.h1.close();
    await this.pools.close();
  }
}

function authority(req: ClientRequest): string | undefined {
  return (req.headers[':authority'] as string | undefined) ?? req.headers.host;
}

