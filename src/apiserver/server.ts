// The API server: HTTPS (or explicitly plain HTTP) listeners, authentication, routing of
// non-resource paths (version, health, discovery, OpenAPI) and of resource requests to the
// registry, and turning every failure into a Status object.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { stringify as toYaml, parse as parseYaml } from 'yaml';
import { apiVersionOf, resourceFor, type ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { SelectorError, checkFieldSelector, parseFieldSelector, parseLabelSelector, type FieldSelector, type LabelSelector } from '../api/selectors.js';
import { logger } from '../observability/log.js';
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, discoveryContentType, negotiateDiscovery } from './discovery.js';
import { openapiV3Document, openapiV3Root, validateFields } from './openapi/index.js';
import { openapiV2Response } from './openapi/v2.js';
import { encodeProtobuf, PROTOBUF_CONTENT_TYPE } from './protobuf/index.js';
import { ApplyConflictError, PatchError, applyJsonPatch, applyMergePatch, applyStrategicMergePatch, serverSideApply } from './patch/index.js';
import { toTable } from './table.js';
import { tokenRequestPath, type ServiceAccountTokens } from './auth-serviceaccount.js';
import { impersonate } from './authz/impersonation.js';
import { allowAll, verifiedClientCertificate, type Authenticator, type UserInfo } from './auth.js';
import { checkReviewKind, forbiddenError, newAuthorizer, requestAttributes, requestUser, selfSubjectAccessReview, selfSubjectRulesReview, type AuthorizationMode, type Authorizer } from './authz/index.js';
import { ApiError, badRequest, invalidParameter, methodNotSupported, notAcceptable, pathNotFound, unauthorized, unsupportedMediaType } from './errors.js';
import { TABLE_CONTENT_TYPE, checkBodyKind, decodeObjectBody, mediaType, negotiate, parseResourcePath, pruneFields, readBody, type ResourcePath, type ResponseFormat } from './request.js';
import { Registry, nowRFC3339, storageToApiError, type DeleteOptions, type ListQuery } from './registry/registry.js';
import { ServiceAllocator, type PortRange, type ServiceCIDR } from './registry/services.js';
import type { Store } from './storage/interface.js';
import { serveWatch, type EventEncoder, type EventType } from './watch.js';
import { scaleOf, applyScale } from './scale.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const log = logger('apiserver');

export const KUBERNETES_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4-kubeplane',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-23T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

export interface ApiServerOptions {
  store: Store;
  authenticator: Authenticator;
  serviceCIDR: ServiceCIDR;
  nodePorts: PortRange;
  bindAddress: string;
  port: number;
  /** PEM serving certificate and key; plain HTTP when absent */
  tls?: { cert: string; key: string };
  /** the address written into the `kubernetes` endpoints */
  advertiseAddress: string;
  /** PEM CA bundle client certificates are verified against (x509 authentication); none: tokens only */
  clientCA?: string;
  /** RBAC unless the authenticator is allowAll (anonymous admin), which implies AlwaysAllow */
  authorization?: AuthorizationMode;
  /** issues ServiceAccount tokens (TokenRequest); the authenticator should accept them too */
  serviceAccountTokens?: ServiceAccountTokens;
}

const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);

function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private', ...headers });
  res.end(text);
}

function sendStatus(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, err.code, err.toStatus(), 'application/json', err.headers);
}

function boolParam(v: string | null): boolean {
  return v === 'true' || v === '1';
}

/** fieldManager default: the User-Agent up to its first '/', as kube-apiserver derives it */
function managerFrom(q: URLSearchParams, req: IncomingMessage): string {
  const explicit = q.get('fieldManager');
  if (explicit) return explicit;
  return (req.headers['user-agent'] ?? 'unknown').split('/')[0]!.slice(0, 128);
}

export class ApiServer {
  readonly registry: Registry;
  readonly authorizer: Authorizer;
  private server?: Server;
  private readonly sockets = new Set<import('node:net').Socket>();
  private readonly closers = new Set<() => void>();

  constructor(private readonly opts: ApiServerOptions) {
    this.registry = new Registry(opts.store, new ServiceAllocator(opts.store, opts.serviceCIDR, opts.nodePorts));
    this.authorizer = newAuthorizer(opts.authorization ?? (opts.authenticator === allowAll ? 'AlwaysAllow' : 'RBAC'), opts.store);
  }

  async start(): Promise<AddressInfo> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((e) => {
        if (!(e instanceof ApiError) || e.code >= 500) log.error('request failed', e, { method: req.method, url: req.url });
        // a store failure outside the registry's own mapping (e.g. the namespace lookup) is
        // still an outage or a full disk, not a 500
        sendStatus(res, storageToApiError(e));
      });
    };
    // The policy is loaded before the first request can arrive.
    await this.authorizer.start(this.registry);
    // Client certificates are asked for, not required: token clients send none; handle() only
    // trusts one the TLS layer verified against the client CA.
    const clientAuth = this.opts.clientCA ? { requestCert: true, rejectUnauthorized: false, ca: this.opts.clientCA } : {};
    this.server = this.opts.tls ? createHttpsServer({ cert: this.opts.tls.cert, key: this.opts.tls.key, ...clientAuth }, handler) : createHttpServer(handler);
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    this.server.requestTimeout = 0; // watches are long-lived
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port, this.opts.bindAddress, () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    await this.registry.bootstrap({ address: this.opts.advertiseAddress, port: addr.port });
    return addr;
  }

  async stop(): Promise<void> {
    this.registry.close();
    this.authorizer.stop();
    for (const c of this.closers) c();
    this.closers.clear();
    if (this.server) {
      const closed = new Promise<void>((r) => this.server!.close(() => r()));
      this.server.closeIdleConnections?.();
      for (const s of this.sockets) s.destroy();
      await closed;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const q = url.searchParams;

    let user: UserInfo | undefined = this.opts.authenticator.authenticate(req.headers.authorization, this.opts.clientCA ? verifiedClientCertificate(req.socket) : undefined);
    if (!user && !(PUBLIC_PATHS.has(path) && !req.headers.authorization)) throw unauthorized();
    user ??= { name: 'system:anonymous', uid: '', groups: ['system:unauthenticated'] };
    if (req.headers['impersonate-user'] !== undefined || req.headers['impersonate-group'] !== undefined) user = impersonate(this.authorizer, user, req.headers);
    const attrs = requestAttributes(user, req.method ?? 'GET', path, q);
    const decision = this.authorizer.authorize(attrs);
    if (!decision.allowed) throw forbiddenError(attrs, decision.reason);
    // writes below know who asks (RBAC escalation checks)
    return requestUser.run(user, () => this.route(req, res, path, q, user));
  }

  private async route(req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams, user: UserInfo): Promise<void> {

    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/healthz' || path === '/livez' || path === '/readyz') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        res.end('ok');
        return;
      }
      if (path === '/version' || path === '/version/') return sendJson(res, 200, KUBERNETES_VERSION);
      if (path === '/api' || path === '/api/') return this.discovery(req, res, 'api');
      if (path === '/apis' || path === '/apis/') return this.discovery(req, res, 'apis');
      const segs = path.split('/').filter(Boolean);
      if (segs[0] === 'api' && segs.length === 2) {
        const list = apiResourceList('', segs[1]!);
        if (list) return sendJson(res, 200, list);
        throw pathNotFound();
      }
      if (segs[0] === 'apis' && segs.length === 2) {
        const g = apiGroup(segs[1]!);
        if (g) return sendJson(res, 200, g);
        throw pathNotFound();
      }
      if (segs[0] === 'apis' && segs.length === 3) {
        const list = apiResourceList(segs[1]!, segs[2]!);
        if (list) return sendJson(res, 200, list);
        throw pathNotFound();
      }
      if (path === '/openapi/v2' || path === '/openapi/v2/') {
        const doc = openapiV2Response(req.headers.accept);
        if (req.headers['if-none-match'] === doc.etag) {
          res.writeHead(304, { ETag: doc.etag });
          res.end();
          return;
        }
        res.writeHead(200, { 'Content-Type': doc.contentType, 'Content-Length': doc.body.length, ETag: doc.etag, 'Cache-Control': 'no-cache, private', Vary: 'Accept' });
        res.end(req.method === 'HEAD' ? undefined : doc.body);
        return;
      }
      if (path === '/openapi/v3' || path === '/openapi/v3/') return sendJson(res, 200, openapiV3Root());
      if (path.startsWith('/openapi/v3/')) {
        const doc = openapiV3Document(path.slice('/openapi/v3/'.length));
        if (doc) return sendJson(res, 200, doc, 'application/json', { 'Cache-Control': q.has('hash') ? 'public, immutable' : 'no-cache, private' });
        throw pathNotFound();
      }
    }
    if (req.method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      const { obj } = decodeObjectBody(req.headers['content-type'], await readBody(req));
      checkReviewKind(obj);
      return sendJson(res, 201, selfSubjectAccessReview(this.authorizer, user, obj));
    }
    if (req.method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews') {
      const { obj } = decodeObjectBody(req.headers['content-type'], await readBody(req));
      checkReviewKind(obj, 'SelfSubjectRulesReview');
      return sendJson(res, 201, selfSubjectRulesReview(this.authorizer, user, obj));
    }
    if (req.method === 'POST' && path === '/apis/authentication.k8s.io/v1/selfsubjectreviews') {
      // kubectl auth whoami: who the server takes the requester for
      await readBody(req);
      return sendJson(res, 201, { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, status: { userInfo: { username: user.name, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups } } });
    }
    const tokenFor = req.method === 'POST' ? tokenRequestPath(path) : undefined;
    if (tokenFor && this.opts.serviceAccountTokens) {
      const { obj } = decodeObjectBody(req.headers['content-type'], await readBody(req));
      const sa = await this.registry.get(resourceFor('', 'serviceaccounts')!, tokenFor.namespace, tokenFor.name);
      return sendJson(res, 201, this.opts.serviceAccountTokens.issue(sa, obj));
    }
    const routed = parseResourcePath(path);
    if (!routed || routed.kind === 'unknown') throw pathNotFound();
    await this.resource(req, res, routed.path, q, user);
  }

  private discovery(req: IncomingMessage, res: ServerResponse, root: 'api' | 'apis'): void {
    const format = negotiateDiscovery(req.headers.accept);
    if (format === 'legacy') {
      const host = (req.headers.host ?? `${this.opts.advertiseAddress}:${this.opts.port}`).toString();
      return sendJson(res, 200, root === 'api' ? apiVersions(host) : apiGroupList());
    }
    res.setHeader('Vary', 'Accept');
    sendJson(res, 200, aggregatedDiscovery(root, format), discoveryContentType(format));
  }

  // ---- resources ----

  private responseFormat(req: IncomingMessage, q: URLSearchParams, allowTable: boolean): ResponseFormat {
    const f = negotiate(req.headers.accept, allowTable, q.get('includeObject'));
    if (!f) throw notAcceptable();
    return f;
  }

  private sendObject(res: ServerResponse, code: number, info: ResourceInfo, obj: KubeObject, format: ResponseFormat, headers: Record<string, string> = {}): void {
    if (format.kind === 'table') {
      return sendJson(res, code, toTable(info, [obj], { includeObject: format.includeObject }, { resourceVersion: obj.metadata.resourceVersion }, new Date()), TABLE_CONTENT_TYPE, headers);
    }
    if (format.kind === 'yaml') {
      const text = toYaml(obj);
      res.writeHead(code, { 'Content-Type': 'application/yaml', ...headers });
      res.end(text);
      return;
    }
    if (format.kind === 'protobuf') {
      try {
        const body = encodeProtobuf(obj);
        res.writeHead(code, { 'Content-Type': PROTOBUF_CONTENT_TYPE, 'Content-Length': body.length, ...headers });
        res.end(body);
        return;
      } catch {
        // kinds the protobuf codec cannot encode go out as JSON, which every client accepts
      }
    }
    sendJson(res, code, obj, 'application/json', headers);
  }

  private selectors(info: ResourceInfo, q: URLSearchParams): { labelSelector?: LabelSelector; fieldSelector?: FieldSelector } {
    const out: { labelSelector?: LabelSelector; fieldSelector?: FieldSelector } = {};
    try {
      const l = q.get('labelSelector');
      if (l) out.labelSelector = parseLabelSelector(l);
      const f = q.get('fieldSelector');
      if (f) out.fieldSelector = checkFieldSelector(info, parseFieldSelector(f));
    } catch (e) {
      if (e instanceof SelectorError) throw badRequest(e.message);
      throw e;
    }
    return out;
  }

  private async resource(req: IncomingMessage, res: ServerResponse, p: ResourcePath, q: URLSearchParams, _user: UserInfo): Promise<void> {
    const { info, namespace, name, subresource } = p;
    const method = req.method ?? 'GET';
    const dryRun = q.getAll('dryRun');
    if (dryRun.some((d) => d !== 'All')) throw badRequest(`Invalid dryRun value: ${dryRun.join(',')}; only "All" is supported`);
    const isDryRun = dryRun.length > 0;
    const fieldManager = managerFrom(q, req);
    const fv = q.get('fieldValidation') ?? 'Warn';
    if (!['Strict', 'Warn', 'Ignore'].includes(fv)) throw badRequest(`fieldValidation must be one of Ignore, Warn, Strict; got ${fv}`);
    const verbOk = (verb: string): void => {
      if (!info.verbs.includes(verb)) throw methodNotSupported(info, verb);
    };
    if (info.namespaced && name !== undefined && namespace === undefined && method !== 'GET') throw pathNotFound();

    if (method === 'GET' && name === undefined) {
      const watch = boolParam(q.get('watch'));
      verbOk(watch ? 'watch' : 'list');
      const format = this.responseFormat(req, q, true);
      const sel = this.selectors(info, q);
      const rvm = q.get('resourceVersionMatch') ?? undefined;
      const rv = q.get('resourceVersion') ?? undefined;
      if (rvm && rvm !== 'Exact' && rvm !== 'NotOlderThan') throw invalidParameter(info, [{ reason: 'FieldValueNotSupported', field: 'resourceVersionMatch', message: `Unsupported value: "${rvm}"` }], `resourceVersionMatch: Unsupported value: "${rvm}": supported values: "Exact", "NotOlderThan"`);
      if (rvm && !rv && !watch) throw invalidParameter(info, [{ reason: 'FieldValueForbidden', field: 'resourceVersionMatch' }], 'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
      if (watch) return this.watch(req, res, p, q, format, sel);
      const limit = q.get('limit');
      if (limit !== null && !/^\d+$/.test(limit)) throw badRequest(`invalid limit: ${limit}`);
      const list = await this.registry.list(info, namespace, { ...sel, limit: limit ? Number(limit) : 0, continue: q.get('continue') ?? undefined, resourceVersion: rv, resourceVersionMatch: rvm, raw: format.kind === 'json' || format.kind === 'protobuf' });
      const listMeta = { resourceVersion: list.resourceVersion, ...(list.continue ? { continue: list.continue } : {}), ...(list.remainingItemCount !== undefined ? { remainingItemCount: list.remainingItemCount } : {}) };
      if (format.kind === 'table') return sendJson(res, 200, toTable(info, list.items, { includeObject: format.includeObject }, listMeta, new Date()), TABLE_CONTENT_TYPE);
      if (list.raw) {
        // items spliced in as stored: no decode/encode per object
        const head = JSON.stringify({ kind: info.listKind, apiVersion: apiVersionOf(info), metadata: listMeta });
        const text = `${head.slice(0, -1)},"items":[${list.raw.join(',')}]}`;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
        res.end(text);
        return;
      }
      const body = { kind: info.listKind, apiVersion: apiVersionOf(info), metadata: listMeta, items: list.items };
      if (format.kind === 'yaml') {
        res.writeHead(200, { 'Content-Type': 'application/yaml' });
        res.end(toYaml(body));
        return;
      }
      return sendJson(res, 200, body);
    }

    if (method === 'GET') {
      verbOk('get');
      const format = this.responseFormat(req, q, subresource !== 'scale');
      const obj = await this.registry.get(info, namespace, name!);
      if (subresource === 'scale') return sendJson(res, 200, scaleOf(info, obj));
      return this.sendObject(res, 200, info, obj, format);
    }

    if (method === 'POST' && name === undefined) {
      verbOk('create');
      const format = this.responseFormat(req, q, false);
      const body = await readBody(req);
      const { obj, rawJson } = decodeObjectBody(req.headers['content-type'], body);
      checkBodyKind(info, obj);
      if (info.namespaced && obj.metadata.namespace && obj.metadata.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      const warnings = this.fieldValidation(info, obj, rawJson, fv);
      const created = await this.registry.create(info, namespace, obj, { dryRun: isDryRun, fieldManager });
      return this.sendObject(res, 201, info, created, format, warnings);
    }

    if (method === 'POST' && subresource === 'binding' && info.resource === 'pods' && info.group === '') {
      const body = await readBody(req);
      const { obj } = decodeObjectBody(req.headers['content-type'], body);
      return this.bind(res, info, namespace!, name!, obj as Obj, fieldManager, isDryRun);
    }

    if (method === 'PUT' && name !== undefined) {
      verbOk('update');
      const format = this.responseFormat(req, q, false);
      const body = await readBody(req);
      const { obj, rawJson } = decodeObjectBody(req.headers['content-type'], body);
      if (subresource === 'scale') {
        checkBodyKind(info, obj, 'Scale', 'autoscaling/v1');
        const { obj: updated } = await this.registry.update(info, namespace, name, (cur) => applyScale(info, cur!, obj as Obj), { fieldManager, subresource: 'scale', dryRun: isDryRun, createOnUpdate: false });
        return sendJson(res, 200, scaleOf(info, updated));
      }
      checkBodyKind(info, obj);
      const warnings = this.fieldValidation(info, obj, rawJson, fv);
      const { obj: updated, created } = await this.registry.update(
        info,
        namespace,
        name,
        (cur) => {
          if (subresource === 'finalize' && cur) {
            (cur as Obj).spec = { ...((cur as Obj).spec ?? {}), finalizers: (obj as Obj).spec?.finalizers ?? [] };
            if (obj.metadata.resourceVersion) cur.metadata.resourceVersion = obj.metadata.resourceVersion;
            return cur;
          }
          return obj;
        },
        { fieldManager, subresource, dryRun: isDryRun, createOnUpdate: subresource === undefined ? undefined : false },
      );
      return this.sendObject(res, created ? 201 : 200, info, updated, format, warnings);
    }

    if (method === 'PATCH' && name !== undefined) {
      verbOk('patch');
      const format = this.responseFormat(req, q, false);
      return this.patch(req, res, p, q, format, fieldManager, fv, isDryRun);
    }

    if (method === 'DELETE' && name !== undefined) {
      verbOk('delete');
      const format = this.responseFormat(req, q, false);
      const opts = await this.deleteOptions(req, q);
      const { obj, deleted } = await this.registry.delete(info, namespace, name, { ...opts, dryRun: isDryRun || opts.dryRun });
      if (deleted && !returnsObject(info)) {
        return sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, ...(info.group ? { group: info.group } : {}), kind: info.resource, uid: obj.metadata.uid } });
      }
      return this.sendObject(res, deleted ? 200 : 202, info, obj, format);
    }

    if (method === 'DELETE') {
      verbOk('deletecollection');
      const opts = await this.deleteOptions(req, q);
      const sel = this.selectors(info, q);
      const list = await this.registry.deleteCollection(info, namespace, sel, { ...opts, dryRun: isDryRun || opts.dryRun });
      return sendJson(res, 200, { kind: info.listKind, apiVersion: apiVersionOf(info), metadata: { resourceVersion: list.resourceVersion }, items: list.items });
    }

    throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }

  /** fieldValidation=Strict rejects unknown/duplicate fields, Warn reports them; both drop them */
  private fieldValidation(info: ResourceInfo, obj: KubeObject, rawJson: string | undefined, mode: string): Record<string, string> {
    if (mode === 'Ignore') {
      pruneFields(obj, validateFields(info, obj).problems.filter((p) => p.startsWith('unknown field ')).map((p) => JSON.parse(p.slice('unknown field '.length)) as string));
      return {};
    }
    const result = validateFields(info, obj, rawJson);
    if (result.problems.length === 0) return {};
    if (mode === 'Strict') throw badRequest(result.strictError!);
    pruneFields(obj, result.problems.filter((p) => p.startsWith('unknown field ')).map((p) => JSON.parse(p.slice('unknown field '.length)) as string));
    return { Warning: result.problems.map((p) => `299 - ${JSON.stringify(p)}`).join(', ') };
  }

  private async deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
    const body = await readBody(req);
    let opts: Obj = {};
    if (body.length > 0) {
      try {
        opts = mediaType(req.headers['content-type']) === 'application/yaml' ? parseYaml(body.toString()) : JSON.parse(body.toString());
      } catch (e) {
        throw badRequest(`couldn't decode DeleteOptions: ${(e as Error).message}`);
      }
      if (typeof opts !== 'object' || opts === null) throw badRequest('DeleteOptions must be an object');
    }
    const grace = q.get('gracePeriodSeconds') ?? opts.gracePeriodSeconds;
    const out: DeleteOptions = {};
    if (grace !== undefined && grace !== null) {
      if (!/^-?\d+$/.test(String(grace))) throw badRequest(`invalid gracePeriodSeconds: ${grace}`);
      out.gracePeriodSeconds = Math.max(0, Number(grace));
    }
    const policy = q.get('propagationPolicy') ?? opts.propagationPolicy;
    if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) throw badRequest(`propagationPolicy: Unsupported value: "${policy}"`);
    out.propagationPolicy = policy;
    if (opts.preconditions) out.preconditions = opts.preconditions;
    if (Array.isArray(opts.dryRun) && opts.dryRun.includes('All')) out.dryRun = true;
    return out;
  }

  private async patch(req: IncomingMessage, res: ServerResponse, p: ResourcePath, q: URLSearchParams, format: ResponseFormat, fieldManager: string, fv: string, dryRun: boolean): Promise<void> {
    const { info, namespace, name, subresource } = p;
    const type = mediaType(req.headers['content-type']);
    const body = (await readBody(req)).toString('utf8');
    let patch: unknown;
    try {
      patch = type === 'application/apply-patch+yaml' ? parseYaml(body, { uniqueKeys: true }) : JSON.parse(body);
    } catch (e) {
      if (!['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'].includes(type)) throw unsupportedMediaType(type);
      throw badRequest(type === 'application/apply-patch+yaml' ? `error decoding YAML: ${(e as Error).message.split('\n')[0]}` : `couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
    const time = nowRFC3339();
    let warnings: Record<string, string> = {};
    const patchOne = <T>(doc: T): T => {
      switch (type) {
        case 'application/json-patch+json':
          return applyJsonPatch(doc, patch);
        case 'application/merge-patch+json':
          return applyMergePatch(doc, patch);
        case 'application/strategic-merge-patch+json':
          return subresource === 'scale' ? applyMergePatch(doc, patch) : applyStrategicMergePatch(info, doc, patch);
        default:
          throw unsupportedMediaType(type);
      }
    };
    const checkFields = (obj: KubeObject): void => {
      if (fv === 'Ignore') return;
      warnings = this.fieldValidation(info, obj, undefined, fv);
    };
    try {
      if (type === 'application/apply-patch+yaml') {
        if (subresource === 'scale') throw unsupportedMediaType(type);
        if (!q.get('fieldManager')) throw badRequest('PATCH, application/apply-patch+yaml requests must have a fieldManager');
        const applied = patch as KubeObject;
        if (typeof applied !== 'object' || applied === null) throw badRequest('the applied configuration must be an object');
        checkBodyKind(info, applied);
        if (applied.metadata.name && applied.metadata.name !== name) throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
        checkFields(applied);
        const force = boolParam(q.get('force'));
        const { obj, created } = await this.registry.update(
          info,
          namespace,
          name!,
          (cur) => {
            const next = serverSideApply(info, cur, { ...applied, metadata: { ...applied.metadata, name } }, { fieldManager, force, time });
            if (cur && !applied.metadata.resourceVersion) next.metadata.resourceVersion = cur.metadata.resourceVersion;
            return next;
          },
          { fieldManager, subresource, dryRun, applied: true, createOnUpdate: subresource === undefined },
        );
        return this.sendObject(res, created ? 201 : 200, info, obj, format, warnings);
      }
      if (subresource === 'scale') {
        const { obj } = await this.registry.update(info, namespace, name!, (cur) => applyScale(info, cur!, patchOne(scaleOf(info, cur!)) as Obj), { fieldManager, subresource, dryRun, createOnUpdate: false });
        return sendJson(res, 200, scaleOf(info, obj));
      }
      const { obj } = await this.registry.update(
        info,
        namespace,
        name!,
        (cur) => {
          const patched = patchOne(cur!);
          if (typeof patched !== 'object' || patched === null) throw badRequest('the patch produced an invalid object');
          checkFields(patched);
          return patched;
        },
        { fieldManager, subresource, dryRun, createOnUpdate: false },
      );
      return this.sendObject(res, 200, info, obj, format, warnings);
    } catch (e) {
      if (e instanceof ApplyConflictError || e instanceof PatchError) throw ApiError.fromStatus(e.toStatus());
      throw e;
    }
  }

  private async bind(res: ServerResponse, info: ResourceInfo, namespace: string, name: string, binding: Obj, fieldManager: string, dryRun: boolean): Promise<void> {
    const target = binding.target;
    if (!target?.name) throw ApiError.fromStatus({ code: 422, reason: 'Invalid', message: `Binding.core "${name}" is invalid: target.name: Required value`, details: { name, kind: 'Binding', causes: [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }] } });
    await this.registry.update(
      info,
      namespace,
      name,
      (cur) => {
        const pod = cur as Obj;
        if (binding.metadata?.uid && binding.metadata.uid !== pod.metadata.uid) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": Precondition failed: UID in precondition: ${binding.metadata.uid}, UID in object meta: ${pod.metadata.uid}`);
        if (pod.metadata.deletionTimestamp) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is being deleted, cannot be assigned to a host`);
        if (pod.spec?.nodeName) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
        pod.spec = { ...(pod.spec ?? {}), nodeName: target.name };
        if (binding.metadata?.annotations) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...binding.metadata.annotations };
        const conditions = (pod.status?.conditions ?? []).filter((c: Obj) => c.type !== 'PodScheduled');
        conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowRFC3339() });
        pod.status = { ...(pod.status ?? {}), conditions };
        return pod as KubeObject;
      },
      { fieldManager, subresource: 'binding', dryRun, createOnUpdate: false },
    );
    sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }

  private async watch(req: IncomingMessage, res: ServerResponse, p: ResourcePath, q: URLSearchParams, format: ResponseFormat, sel: { labelSelector?: LabelSelector; fieldSelector?: FieldSelector }): Promise<void> {
    const { info } = p;
    const sendInitialEvents = q.has('sendInitialEvents') ? boolParam(q.get('sendInitialEvents')) : undefined;
    if (sendInitialEvents !== undefined && q.get('resourceVersionMatch') !== 'NotOlderThan') {
      throw invalidParameter(info, [{ reason: 'FieldValueForbidden', field: 'sendInitialEvents' }], `sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan`);
    }
    if (q.get('resourceVersionMatch') && sendInitialEvents === undefined) {
      throw invalidParameter(info, [{ reason: 'FieldValueForbidden', field: 'resourceVersionMatch' }], 'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
    }
    const ts = q.get('timeoutSeconds');
    if (ts !== null && !/^\d+$/.test(ts)) throw badRequest(`invalid timeoutSeconds: ${ts}`);
    let encoder: EventEncoder;
    if (format.kind === 'table') {
      let first = true;
      encoder = {
        contentType: TABLE_CONTENT_TYPE,
        encode: (type: EventType, obj: unknown) => {
          if (type === 'ERROR' || type === 'BOOKMARK') return JSON.stringify({ type, object: obj }) + '\n';
          const table = toTable(info, [obj as KubeObject], { includeObject: format.includeObject, noHeaders: !first }, { resourceVersion: (obj as KubeObject).metadata.resourceVersion }, new Date());
          first = false;
          return JSON.stringify({ type, object: table }) + '\n';
        },
      };
    } else {
      encoder = { contentType: 'application/json', id: 'json', encode: (type, obj) => JSON.stringify({ type, object: obj }) + '\n' };
    }
    await serveWatch(
      res,
      this.registry,
      this.opts.store,
      {
        info,
        namespace: p.namespace,
        resourceVersion: q.get('resourceVersion') ?? undefined,
        resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
        sendInitialEvents,
        allowWatchBookmarks: boolParam(q.get('allowWatchBookmarks')),
        timeoutSeconds: ts === null ? undefined : Number(ts),
        ...sel,
      },
      encoder,
      (cb) => {
        this.closers.add(cb);
        const done = (): void => {
          this.closers.delete(cb);
          cb();
        };
        req.on('close', done);
        res.on('close', done);
      },
    );
  }
}

function returnsObject(info: ResourceInfo): boolean {
  return info.group === '' && (info.resource === 'pods' || info.resource === 'serviceaccounts');
}
