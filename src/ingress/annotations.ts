import { linearRegExp } from './regex.js';
import ipaddr from 'ipaddr.js';

/**
 * ingress-nginx annotations, parsed into typed values. Values are validated and stored
 * as data; nothing here is ever pasted into a configuration language, which is the
 * whole class of bugs (snippets, IngressNightmare) kubeplane is built to avoid.
 * Both `nginx.ingress.kubernetes.io/` and `kubeplane.io/` prefixes are accepted; when
 * both name the same key the `kubeplane.io/` one wins.
 */

export const PREFIXES = ['nginx.ingress.kubernetes.io/', 'kubeplane.io/'] as const;

export type BackendProtocol = 'HTTP' | 'HTTPS' | 'GRPC';
export type LoadBalance = 'round_robin' | 'least_request';

export interface Canary {
  header?: string;
  headerValue?: string;
  headerPattern?: RegExp;
  cookie?: string;
  weight: number;
  weightTotal: number;
}

export interface Cors {
  allowOrigin: string[];
  allowMethods: string;
  allowHeaders: string;
  allowCredentials: boolean;
  exposeHeaders: string;
  maxAge: number;
}

export interface Affinity {
  cookieName: string;
  path?: string;
  maxAge?: number;
}

export interface Redirect {
  url: string;
  code: number;
}

/** Everything the proxy needs from an Ingress's annotations, with ingress-nginx defaults. */
export interface IngressAnnotations {
  rewriteTarget?: string;
  useRegex: boolean;
  /** TLS connections for this Ingress's hosts are piped by SNI to the backend, undecrypted (needs --enable-ssl-passthrough) */
  sslPassthrough: boolean;
  sslRedirect: boolean;
  forceSslRedirect: boolean;
  backendProtocol: BackendProtocol;
  /** bytes; 0 = unlimited */
  proxyBodySize: number;
  /** milliseconds */
  connectTimeout: number;
  readTimeout: number;
  sendTimeout: number;
  allowSourceRange?: [ipaddr.IPv4 | ipaddr.IPv6, number][];
  canary?: Canary;
  affinity?: Affinity;
  cors?: Cors;
  responseHeaders: [string, string][];
  redirect?: Redirect;
  limitRps: number;
  limitConnections: number;
  loadBalance: LoadBalance;
}

export const DEFAULT_ANNOTATIONS: IngressAnnotations = Object.freeze({
  useRegex: false,
  sslPassthrough: false,
  sslRedirect: true,
  forceSslRedirect: false,
  backendProtocol: 'HTTP',
  proxyBodySize: 1024 * 1024,
  connectTimeout: 5000,
  readTimeout: 60000,
  sendTimeout: 60000,
  responseHeaders: [],
  limitRps: 0,
  limitConnections: 0,
  loadBalance: 'round_robin',
}) as IngressAnnotations;

export class AnnotationError extends Error {
  override name = 'AnnotationError';
  readonly code = 'KP_INGRESS_INVALID_ANNOTATION';
  constructor(
    readonly annotation: string,
    message: string,
  ) {
    super(`annotation ${annotation}: ${message}`);
  }
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Header values and URLs: printable ASCII and tabs only, so no CR/LF can split a message.
const SAFE_TEXT = /^[\t\x20-\x7e]*$/;

function bool(name: string, v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new AnnotationError(name, `"${v}" is not a boolean (want true or false)`);
}

function int(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) throw new AnnotationError(name, `"${v}" is not a non-negative integer`);
  const n = Number(v);
  if (n < min || n > max) throw new AnnotationError(name, `${n} is out of range [${min}, ${max}]`);
  return n;
}

/** nginx time: integer seconds, optionally suffixed s or ms (ingress-nginx takes seconds). */
function seconds(name: string, v: string): number {
  const m = /^(\d+)(ms|s)?$/.exec(v);
  if (!m) throw new AnnotationError(name, `"${v}" is not a duration in seconds`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : n * 1000;
  if (ms > 24 * 3600 * 1000) throw new AnnotationError(name, `${v} is longer than a day`);
  return ms;
}

/** nginx size: bytes, or k/m/g suffixed; 0 means unlimited. */
export function parseSize(name: string, v: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(v);
  if (!m) throw new AnnotationError(name, `"${v}" is not a size (like 8k, 1m, 0)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

function headerName(name: string, v: string): string {
  if (!TOKEN.test(v)) throw new AnnotationError(name, `"${v}" is not a valid header or cookie name`);
  return v;
}

function safeText(name: string, v: string): string {
  if (!SAFE_TEXT.test(v)) throw new AnnotationError(name, 'value contains control characters');
  return v;
}

function url(name: string, v: string): string {
  safeText(name, v);
  if (v.startsWith('/')) return v;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new AnnotationError(name, `"${v}" is not an absolute URL or path`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new AnnotationError(name, `"${v}" must be an http(s) URL`);
  return v;
}

function cidrs(name: string, v: string): [ipaddr.IPv4 | ipaddr.IPv6, number][] {
  const out: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const part of v.split(',')) {
    const s = part.trim();
    if (!s) continue;
    try {
      out.push(s.includes('/') ? ipaddr.parseCIDR(s) : [ipaddr.parse(s), ipaddr.parse(s).kind() === 'ipv4' ? 32 : 128]);
    } catch {
      throw new AnnotationError(name, `"${s}" is not an IP address or CIDR`);
    }
  }
  if (out.length === 0) throw new AnnotationError(name, 'empty source range');
  return out;
}

function regex(name: string, v: string): RegExp {
  try {
    return linearRegExp(v, false);
  } catch (err) {
    throw new AnnotationError(name, `invalid regular expression: ${(err as Error).message}`);
  }
}

/** Collects the annotations under either prefix; kubeplane.io/ overrides nginx's. */
function collect(annotations: Record<string, string> | undefined): Map<string, [string, string]> {
  const out = new Map<string, [string, string]>();
  if (!annotations) return out;
  for (const prefix of PREFIXES) {
    for (const [k, v] of Object.entries(annotations)) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), [k, v.trim()]);
  }
  return out;
}

/** Parses an Ingress's annotations; throws AnnotationError on the first invalid value. */
export function parseAnnotations(annotations: Record<string, string> | undefined): IngressAnnotations {
  const a = collect(annotations);
  if (a.size === 0) return DEFAULT_ANNOTATIONS;
  const r: IngressAnnotations = { ...DEFAULT_ANNOTATIONS, responseHeaders: [] };
  const get = (key: string): [string, string] | undefined => a.get(key);
  const each = <T>(key: string, f: (name: string, v: string) => T): T | undefined => {
    const e = get(key);
    return e ? f(e[0], e[1]) : undefined;
  };

  r.rewriteTarget = each('rewrite-target', (n, v) => {
    safeText(n, v);
    if (!v) throw new AnnotationError(n, 'empty rewrite target');
    return v;
  });
  r.useRegex = each('use-regex', bool) ?? false;
  r.sslPassthrough = each('ssl-passthrough', bool) ?? false;
  r.sslRedirect = each('ssl-redirect', bool) ?? true;
  r.forceSslRedirect = each('force-ssl-redirect', bool) ?? false;
  r.backendProtocol =
    each('backend-protocol', (n, v) => {
      const p = v.toUpperCase();
      if (p !== 'HTTP' && p !== 'HTTPS' && p !== 'GRPC') throw new AnnotationError(n, `"${v}" is not one of HTTP, HTTPS, GRPC`);
      return p as BackendProtocol;
    }) ?? 'HTTP';
  r.proxyBodySize = each('proxy-body-size', parseSize) ?? r.proxyBodySize;
  r.connectTimeout = each('proxy-connect-timeout', seconds) ?? r.connectTimeout;
  r.readTimeout = each('proxy-read-timeout', seconds) ?? r.readTimeout;
  r.sendTimeout = each('proxy-send-timeout', seconds) ?? r.sendTimeout;
  r.allowSourceRange = each('allowlist-source-range', cidrs) ?? each('whitelist-source-range', cidrs);

  if (get('canary') && each('canary', bool)) {
    const weightTotal = each('canary-weight-total', (n, v) => int(n, v, 1, 1_000_000)) ?? 100;
    r.canary = {
      header: each('canary-by-header', headerName),
      headerValue: each('canary-by-header-value', safeText),
      headerPattern: each('canary-by-header-pattern', regex),
      cookie: each('canary-by-cookie', headerName),
      weight: each('canary-weight', (n, v) => int(n, v, 0, weightTotal)) ?? 0,
      weightTotal,
    };
  }

  const affinity = each('affinity', (n, v) => {
    if (v !== 'cookie') throw new AnnotationError(n, `"${v}" is not supported (want cookie)`);
    return v;
  });
  if (affinity) {
    r.affinity = {
      cookieName: each('session-cookie-name', headerName) ?? 'INGRESSCOOKIE',
      path: each('session-cookie-path', (n, v) => {
        if (!/^\/[\x21-\x3a\x3c-\x7e]*$/.test(v)) throw new AnnotationError(n, `"${v}" is not a cookie path`);
        return v;
      }),
      maxAge: each('session-cookie-max-age', (n, v) => int(n, v, 0, 10 * 365 * 86400)),
    };
  }

  if (each('enable-cors', bool)) {
    r.cors = {
      allowOrigin: (each('cors-allow-origin', safeText) ?? '*').split(',').map((s) => s.trim()).filter(Boolean),
      allowMethods: each('cors-allow-methods', (n, v) => {
        for (const m of v.split(',')) if (!TOKEN.test(m.trim())) throw new AnnotationError(n, `"${m}" is not a method`);
        return v;
      }) ?? 'GET, PUT, POST, DELETE, PATCH, OPTIONS',
      allowHeaders: each('cors-allow-headers', (n, v) => {
        for (const h of v.split(',')) if (!TOKEN.test(h.trim())) throw new AnnotationError(n, `"${h}" is not a header name`);
        return v;
      }) ?? 'DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization',
      allowCredentials: each('cors-allow-credentials', bool) ?? true,
      exposeHeaders: each('cors-expose-headers', safeText) ?? '',
      maxAge: each('cors-max-age', (n, v) => int(n, v, 0, 86400 * 365)) ?? 1728000,
    };
  }

  // custom-headers: "Name: value" per line (ingress-nginx reads these from a ConfigMap;
  // kubeplane takes them inline so no extra object is needed).
  const custom = each('custom-headers', (n, v) => {
    const out: [string, string][] = [];
    if (/[\r\0]/.test(v)) throw new AnnotationError(n, 'value contains control characters');
    for (const line of v.split('\n')) {
      if (!line.trim()) continue;
      const i = line.indexOf(':');
      if (i <= 0) throw new AnnotationError(n, `"${line}" is not "Name: value"`);
      out.push([headerName(n, line.slice(0, i).trim()), safeText(n, line.slice(i + 1).trim())]);
    }
    return out;
  });
  if (custom) r.responseHeaders = custom;

  const perm = each('permanent-redirect', url);
  const temp = each('temporal-redirect', url);
  if (perm) r.redirect = { url: perm, code: each('permanent-redirect-code', (n, v) => redirectCode(n, v)) ?? 301 };
  else if (temp) r.redirect = { url: temp, code: each('temporal-redirect-code', (n, v) => redirectCode(n, v)) ?? 302 };

  r.limitRps = each('limit-rps', (n, v) => int(n, v, 0, 1_000_000)) ?? 0;
  r.limitConnections = each('limit-connections', (n, v) => int(n, v, 0, 1_000_000)) ?? 0;
  r.loadBalance =
    each('load-balance', (n, v) => {
      if (v === 'round_robin') return 'round_robin';
      if (v === 'ewma' || v === 'least_request' || v === 'least_conn') return 'least_request';
      throw new AnnotationError(n, `"${v}" is not one of round_robin, least_request, ewma`);
    }) ?? 'round_robin';
  return r;
}

function redirectCode(n: string, v: string): number {
  const c = int(n, v, 300, 308);
  if (![301, 302, 303, 307, 308].includes(c)) throw new AnnotationError(n, `${c} is not a redirect status code`);
  return c;
}
