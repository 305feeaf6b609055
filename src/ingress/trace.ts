// `kubeplane trace http`: explains what the ingress controller does with one request, by
// building the same route table (routes.ts, table.ts) from the same objects and taking the
// request through the same decisions, in the same order, as Proxy.handle: host, path,
// allowlist, HTTPS redirect, redirect annotations, CORS preflight, body size, canary, then
// the backend Service port and its ready endpoints. Pure: objects and a request in, a report out.
import type { EndpointSlice, Ingress, IngressClass, Service } from '../api/types.js';
import { DEFAULT_ANNOTATIONS } from './annotations.js';
import { resolveUpstream, SERVICE_NAME_LABEL, type UpstreamEndpoint, type UpstreamState } from './endpoints.js';
import { chooseCanary, rewritePath, sourceAllowed } from './policy.js';
import { ingressKey, IngressRejectedError, ownsIngress, projectIngress, type ClassSelection, type PathRoute } from './routes.js';
import { CompiledHost, hostFromHeader, TableBuilder, type RouteTable } from './table.js';

export interface IngressObjects {
  ingresses: Ingress[];
  ingressClasses: IngressClass[];
  services: Service[];
  endpointSlices: EndpointSlice[];
}

export interface HttpTraceRequest {
  url: string;
  method?: string;
  /** lower-case names */
  headers?: Record<string, string>;
  /** the client address the allowlist sees */
  clientIP?: string;
  /** the HTTPS listener's port, for redirect Locations */
  httpsPort?: number;
}

export interface HttpTraceOptions {
  selection: ClassSelection;
  /** `namespace/name` of --default-backend-service */
  defaultBackendService?: string;
}

export interface PathCandidate {
  path: string;
  pathType: string;
  ingress: string;
  backend: string;
  matches: boolean;
  chosen: boolean;
}

export interface HttpTrace {
  method: string;
  scheme: 'http' | 'https';
  host: string;
  path: string;
  /** Ingresses not in the table, and why */
  skipped: { ingress: string; reason: string }[];
  /** which server the host selects: exact host, wildcard, or the no-host server */
  server: { kind: 'exact' | 'wildcard' | 'default'; name: string; regex: boolean; tls?: string };
  paths: PathCandidate[];
  /** how the winner was chosen */
  precedence: string;
  route?: { ingress: string; path: string; pathType: string; via: 'path' | 'fallback' | 'default-backend-service' };
  annotations: string[];
  canary?: { inputs: string[]; chosen: string | undefined; weight?: string };
  backend?: { service: string; port: string; state: UpstreamState; endpoints: string[] };
  /** the path sent upstream */
  upstreamPath?: string;
  /** proxy: forwarded to one of backend.endpoints; otherwise the status the controller answers itself */
  status: number | 'proxy';
  location?: string;
  reasons: string[];
}

function buildTable(objects: IngressObjects, opts: HttpTraceOptions): { table: RouteTable; skipped: HttpTrace['skipped'] } {
  const builder = new TableBuilder();
  const skipped: HttpTrace['skipped'] = [];
  for (const ing of objects.ingresses) {
    const key = ingressKey(ing);
    if (!ownsIngress(ing, objects.ingressClasses, opts.selection)) {
      const cls = ing.spec?.ingressClassName ?? ing.metadata.annotations?.['kubernetes.io/ingress.class'];
      skipped.push({ ingress: key, reason: cls ? `class "${cls}" is not served by this controller (${opts.selection.controllerName})` : 'no class, no default IngressClass of ours, and --watch-ingress-without-class is off' });
      continue;
    }
    try {
      builder.set(key, projectIngress(ing));
    } catch (err) {
      if (!(err instanceof IngressRejectedError)) throw err;
      skipped.push({ ingress: key, reason: `rejected: ${err.message}` });
    }
  }
  return { table: builder.build().table, skipped };
}

function annotationSummary(r: PathRoute): string[] {
  const a = r.annotations;
  const out: string[] = [];
  if (a.rewriteTarget !== undefined) out.push(`rewrite-target ${a.rewriteTarget}`);
  if (a.useRegex) out.push('use-regex');
  if (!a.sslRedirect) out.push('ssl-redirect false');
  if (a.forceSslRedirect) out.push('force-ssl-redirect');
  if (a.backendProtocol !== 'HTTP') out.push(`backend-protocol ${a.backendProtocol}`);
  if (a.allowSourceRange) out.push(`allowlist-source-range ${a.allowSourceRange.map(([ip, bits]) => `${ip.toString()}/${bits}`).join(',')}`);
  if (a.redirect) out.push(`redirect ${a.redirect.code} ${a.redirect.url}`);
  if (a.cors) out.push(`enable-cors (origins ${a.cors.allowOrigin.join(',')})`);
  if (a.affinity) out.push(`affinity cookie ${a.affinity.cookieName}`);
  if (a.limitRps) out.push(`limit-rps ${a.limitRps}`);
  if (a.limitConnections) out.push(`limit-connections ${a.limitConnections}`);
  if (a.proxyBodySize !== 1024 * 1024) out.push(`proxy-body-size ${a.proxyBodySize || 'unlimited'}`);
  if (a.loadBalance !== 'round_robin') out.push(`load-balance ${a.loadBalance}`);
  if (a.responseHeaders.length) out.push(`custom-headers ${a.responseHeaders.map(([k]) => k).join(',')}`);
  return out;
}

function canaryInputs(canaries: readonly PathRoute[], headers: Record<string, string>): NonNullable<HttpTrace['canary']> {
  const inputs: string[] = [];
  let weight: string | undefined;
  for (const c of canaries) {
    const k = c.annotations.canary!;
    if (k.header) inputs.push(`${c.ingress}: header ${k.header}${k.headerValue !== undefined ? `=${k.headerValue}` : k.headerPattern ? ` ~ /${k.headerPattern.source}/` : ' (always|never)'}, request has ${headers[k.header.toLowerCase()] !== undefined ? JSON.stringify(headers[k.header.toLowerCase()]) : 'none'}`);
    if (k.cookie) inputs.push(`${c.ingress}: cookie ${k.cookie} (always|never)`);
    if (k.weight > 0) inputs.push(`${c.ingress}: weight ${k.weight}/${k.weightTotal}`);
  }
  // Header and cookie decide deterministically; the weight is a coin toss per request.
  const decided = chooseCanary(canaries, headers, () => 1);
  if (!decided) {
    const byWeight = canaries.find((c) => c.annotations.canary!.weight > 0);
    if (byWeight && chooseCanary(canaries, headers, () => 0) === byWeight) weight = `${byWeight.ingress} takes ${((byWeight.annotations.canary!.weight / byWeight.annotations.canary!.weightTotal) * 100).toFixed(1)}% of these requests by weight`;
  }
  return { inputs, chosen: decided?.ingress, weight };
}

function describeBackend(route: PathRoute, objects: IngressObjects): NonNullable<HttpTrace['backend']> {
  const ref = route.backend.service;
  if (!ref) return { service: route.backend.upstreamKey, port: '', state: 'no-service', endpoints: [] };
  const svc = objects.services.find((s) => s.metadata.name === ref.name && (s.metadata.namespace ?? 'default') === ref.namespace);
  const slices = objects.endpointSlices.filter((s) => (s.metadata.namespace ?? 'default') === ref.namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === ref.name);
  const r = resolveUpstream(ref, svc, slices);
  const port = ref.port.number !== undefined ? String(ref.port.number) : (ref.port.name ?? '(first port)');
  return { service: `${ref.namespace}/${ref.name}`, port, state: r.state, endpoints: r.endpoints.map((e: UpstreamEndpoint) => `${e.address}:${e.port}`) };
}

const STATE_WHY: Record<UpstreamState, string> = {
  ok: '',
  'no-service': 'the backend Service does not exist',
  'no-port': 'the backend Service has no such port',
  'no-endpoints': 'the backend Service port has no ready (or serving) endpoints',
};

/** Traces one request through the route table and the request decisions of Proxy.handle. */
export function traceHttp(objects: IngressObjects, opts: HttpTraceOptions, req: HttpTraceRequest): HttpTrace {
  const u = new URL(req.url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`cannot trace "${req.url}": only http and https URLs`);
  const headers: Record<string, string> = { ...(req.headers ?? {}) };
  headers.host ??= u.host;
  const secure = u.protocol === 'https:';
  const method = (req.method ?? 'GET').toUpperCase();
  const requestURL = u.pathname + u.search;
  const path = u.pathname;
  const host = hostFromHeader(headers.host);
  const { table, skipped } = buildTable(objects, opts);
  const compiled = table.hostFor(host);
  const kind: HttpTrace['server']['kind'] = compiled.routes.host === '' ? 'default' : compiled.routes.host.startsWith('*.') ? 'wildcard' : 'exact';
  const t: HttpTrace = {
    method,
    scheme: secure ? 'https' : 'http',
    host,
    path,
    skipped,
    server: { kind, name: compiled.routes.host || '_', regex: compiled.routes.useRegex, tls: compiled.tlsSecret === undefined ? undefined : compiled.tlsSecret || '(default certificate)' },
    paths: [],
    precedence: compiled.routes.useRegex ? 'regex mode (use-regex or rewrite-target on this host): paths tried longest first as case-insensitive regexes anchored at the start; the first match wins' : 'the longest matching path wins; on equal length Exact > Prefix > ImplementationSpecific',
    annotations: [],
    status: 404,
    reasons: [],
  };
  t.reasons.push(kind === 'exact' ? `host ${host} has rules of its own` : kind === 'wildcard' ? `host ${host} matches the wildcard ${compiled.routes.host} (one label)` : `no rule names host ${host || '(none)'}: the rules without a host apply`);
  const match = compiled.match(path);
  for (const r of compiled.routes.paths) {
    // Each path alone, compiled the same way, says whether it matches; the table says which wins.
    const alone = new CompiledHost({ host: compiled.routes.host, paths: [r], useRegex: compiled.routes.useRegex }).match(path);
    t.paths.push({ path: r.path, pathType: r.pathType, ingress: r.ingress, backend: r.backend.upstreamKey, matches: alone !== undefined, chosen: match?.route === r });
  }
  for (const bad of compiled.invalid) t.reasons.push(`path ${bad.route.path} of ${bad.route.ingress} is skipped: ${bad.reason}`);
  let route = match?.route;
  if (route) t.route = { ingress: route.ingress, path: route.path, pathType: route.pathType, via: 'path' };
  else if (compiled.routes.fallback) {
    route = compiled.routes.fallback;
    t.route = { ingress: route.ingress, path: route.path, pathType: route.pathType, via: 'fallback' };
    t.reasons.push(`no path matches ${path}: the defaultBackend of ${route.ingress} takes it`);
  }
  if (!route) {
    if (opts.defaultBackendService) {
      const [ns, name] = opts.defaultBackendService.split('/') as [string, string];
      const dflt: PathRoute = { host, path: '/', pathType: 'Prefix', ingress: '/', backend: { upstreamKey: `${ns}/${name}:!first`, service: { namespace: ns, name, port: {} } }, annotations: DEFAULT_ANNOTATIONS, canaries: [] };
      t.route = { ingress: '', path: '/', pathType: 'Prefix', via: 'default-backend-service' };
      t.reasons.push(`no rule matches: --default-backend-service ${opts.defaultBackendService} takes it`);
      return finishForward(t, dflt, objects, undefined, requestURL);
    }
    t.status = 404;
    t.reasons.push('no rule, no defaultBackend and no --default-backend-service: 404');
    return t;
  }
  const a = route.annotations;
  t.annotations = annotationSummary(route);
  const clientIP = req.clientIP ?? '127.0.0.1';
  if (a.allowSourceRange && !sourceAllowed(a.allowSourceRange, clientIP)) {
    t.status = 403;
    t.reasons.push(`client ${clientIP} is outside the allowlist-source-range: 403`);
    return t;
  }
  const tls = compiled.tlsSecret !== undefined;
  if (!secure && ((tls && a.sslRedirect) || a.forceSslRedirect)) {
    const port = req.httpsPort ?? 443;
    t.status = 308;
    t.location = `https://${headers.host.replace(/:\d+$/, '')}${port === 443 ? '' : ':' + port}${requestURL}`;
    t.reasons.push(a.forceSslRedirect ? 'force-ssl-redirect: plain HTTP is redirected to HTTPS (308)' : `host ${host} has TLS (${t.server.tls}) and ssl-redirect is on: plain HTTP is redirected to HTTPS (308)`);
    return t;
  }
  if (a.redirect) {
    t.status = a.redirect.code;
    t.location = a.redirect.url;
    t.reasons.push(`redirect annotation: ${a.redirect.code} to ${a.redirect.url}`);
    return t;
  }
  if (a.cors && method === 'OPTIONS' && headers['access-control-request-method']) {
    t.status = 204;
    t.reasons.push('enable-cors: a CORS preflight is answered by the controller (204)');
    return t;
  }
  if (a.proxyBodySize > 0 && Number(headers['content-length'] ?? 0) > a.proxyBodySize) {
    t.status = 413;
    t.reasons.push(`Content-Length is over proxy-body-size ${a.proxyBodySize}: 413`);
    return t;
  }
  let chosen = route;
  if (route.canaries.length) {
    t.canary = canaryInputs(route.canaries, headers);
    const c = t.canary.chosen !== undefined ? route.canaries.find((x) => x.ingress === t.canary!.chosen) : undefined;
    if (c) {
      chosen = c;
      t.reasons.push(`canary ${c.ingress} is chosen by header or cookie`);
    } else t.reasons.push(t.canary.weight ? `no header or cookie decides; ${t.canary.weight}, the rest go to the main backend` : 'no canary applies: the main backend');
  }
  return finishForward(t, chosen, objects, { route, match }, requestURL);
}

function finishForward(t: HttpTrace, chosen: PathRoute, objects: IngressObjects, rewrite: { route: PathRoute; match: ReturnType<CompiledHost['match']> } | undefined, requestURL: string): HttpTrace {
  t.backend = describeBackend(chosen, objects);
  if (t.backend.state !== 'ok') {
    t.status = 503;
    t.reasons.push(`${STATE_WHY[t.backend.state]}: 503`);
    return t;
  }
  t.upstreamPath = (rewrite ? rewritePath(rewrite.route, rewrite.match, requestURL, t.path) : undefined) ?? requestURL;
  if (rewrite?.route.annotations.rewriteTarget !== undefined) t.reasons.push(`rewrite-target ${rewrite.route.annotations.rewriteTarget}: the backend sees ${t.upstreamPath}`);
  t.status = 'proxy';
  t.reasons.push(`proxied to ${t.backend.service}:${t.backend.port}, one of ${t.backend.endpoints.length} endpoint${t.backend.endpoints.length === 1 ? '' : 's'} (${chosen.annotations.loadBalance})`);
  return t;
}

export function formatHttpTrace(t: HttpTrace): string {
  const lines = [`request: ${t.method} ${t.scheme}://${t.host}${t.path}`];
  for (const s of t.skipped) lines.push(`ignored: ${s.ingress}: ${s.reason}`);
  lines.push(`server: ${t.server.name} (${t.server.kind}${t.server.regex ? ', regex' : ''}${t.server.tls ? `, tls ${t.server.tls}` : ''})`);
  for (const p of t.paths) lines.push(`  ${p.chosen ? '*' : p.matches ? '+' : '-'} ${p.pathType} ${p.path} -> ${p.backend} (${p.ingress})`);
  lines.push(`precedence: ${t.precedence}`);
  if (t.route) lines.push(`route: ${t.route.via === 'default-backend-service' ? '--default-backend-service' : `${t.route.pathType} ${t.route.path} of ${t.route.ingress}${t.route.via === 'fallback' ? ' (defaultBackend)' : ''}`}`);
  if (t.annotations.length) lines.push(`annotations: ${t.annotations.join('; ')}`);
  if (t.canary) {
    for (const i of t.canary.inputs) lines.push(`canary input: ${i}`);
    lines.push(`canary: ${t.canary.chosen ?? 'not by header or cookie'}${t.canary.weight ? `; ${t.canary.weight}` : ''}`);
  }
  if (t.backend) lines.push(`backend: ${t.backend.service} port ${t.backend.port}: ${t.backend.state}${t.backend.endpoints.length ? `, endpoints ${t.backend.endpoints.join(' ')}` : ''}`);
  if (t.upstreamPath !== undefined) lines.push(`upstream path: ${t.upstreamPath}`);
  lines.push(`result: ${t.status === 'proxy' ? 'proxied' : t.status}${t.location ? ` location ${t.location}` : ''}`);
  for (const r of t.reasons) lines.push(`why: ${r}`);
  return lines.join('\n') + '\n';
}
