import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import ipaddr from 'ipaddr.js';
import type { Affinity, Cors, IngressAnnotations } from './annotations.js';
import type { PathRoute } from './routes.js';
import type { PathMatch } from './table.js';
import type { Upstream } from './upstreams.js';
import type { UpstreamEndpoint } from './endpoints.js';

/** Per-request decisions driven by annotations, kept pure where they can be. */

export function sourceAllowed(ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][], client: string): boolean {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(client);
  } catch {
    return false;
  }
  for (const [net, bits] of ranges) if (addr.kind() === net.kind() && addr.match(net as never, bits)) return true;
  return false;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * ingress-nginx canary order: header ("always"/"never", or the configured value or
 * pattern), then cookie ("always"/"never"), then weight.
 */
export function chooseCanary(canaries: readonly PathRoute[], headers: IncomingHttpHeaders, random: () => number = Math.random): PathRoute | undefined {
  for (const c of canaries) {
    const k = c.annotations.canary!;
    if (k.header) {
      const v = headers[k.header.toLowerCase()];
      const value = Array.isArray(v) ? v[0] : v;
      if (value !== undefined) {
        if (k.headerValue !== undefined || k.headerPattern !== undefined) {
          if (k.headerValue !== undefined && value === k.headerValue) return c;
          if (k.headerPattern !== undefined && k.headerPattern.test(value)) return c;
        } else if (value === 'always') return c;
        else if (value === 'never') return undefined;
      }
    }
    if (k.cookie) {
      const v = cookieValue(headers.cookie, k.cookie);
      if (v === 'always') return c;
      if (v === 'never') return undefined;
    }
    if (k.weight > 0 && random() * k.weightTotal < k.weight) return c;
  }
  return undefined;
}

export function affinityValue(ep: UpstreamEndpoint): string {
  return createHash('sha1').update(ep.origin).digest('hex');
}

/** Sticky endpoint from the affinity cookie, or a Set-Cookie for the endpoint picked next. */
export function pickAffinity(a: Affinity, cookieHeader: string | undefined, upstream: Upstream): { endpoint?: UpstreamEndpoint; setCookie?: string } {
  const v = cookieValue(cookieHeader, a.cookieName);
  if (v) for (const ep of upstream.endpoints) if (affinityValue(ep) === v) return { endpoint: ep };
  // Pick now so the cookie names the endpoint the request actually goes to.
  const ep = upstream.endpoints.length ? upstream.endpoints[Math.floor(Math.random() * upstream.endpoints.length)] : undefined;
  if (!ep) return {};
  let cookie = `${a.cookieName}=${affinityValue(ep)}; Path=${a.path ?? '/'}; HttpOnly`;
  if (a.maxAge !== undefined) cookie += `; Max-Age=${a.maxAge}`;
  return { endpoint: ep, setCookie: cookie };
}

export function applyCors(c: Cors, origin: string | undefined, out: Record<string, string | string[]>, preflight = false): void {
  let allow: string | undefined;
  if (c.allowOrigin.includes('*')) allow = '*';
  else if (origin && c.allowOrigin.includes(origin)) allow = origin;
  if (!allow) return;
  out['access-control-allow-origin'] = allow;
  if (c.allowCredentials) out['access-control-allow-credentials'] = 'true';
  if (c.exposeHeaders) out['access-control-expose-headers'] = c.exposeHeaders;
  if (preflight) {
    out['access-control-allow-methods'] = c.allowMethods;
    out['access-control-allow-headers'] = c.allowHeaders;
    out['access-control-max-age'] = String(c.maxAge);
  }
}

/** rewrite-target: `$n` replaced by the path regex's captures; the query string is kept. */
export function rewritePath(route: PathRoute, match: PathMatch | undefined, url: string, path: string): string | undefined {
  const target = route.annotations.rewriteTarget;
  if (target === undefined) return undefined;
  const m = match?.captures;
  let out = target.replace(/\$(\d)/g, (_, d: string) => (m ? (m[Number(d)] ?? '') : ''));
  if (!out.startsWith('/')) out = '/' + out;
  const q = url.length > path.length ? url.slice(path.length) : '';
  return out + q;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * limit-connections and limit-rps, per client address and Ingress, like nginx's
 * limit_conn/limit_req zones keyed by $binary_remote_addr (burst = 5 × rps).
 */
export class LimitState {
  private readonly conns = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly held = new WeakMap<object, string>();

  admit(owner: object, a: IngressAnnotations, client: string): boolean {
    if (a.limitConnections === 0 && a.limitRps === 0) return true;
    const key = `${(owner as { route: PathRoute }).route.ingress}|${client}`;
    if (a.limitRps > 0) {
      const now = Date.now();
      const burst = a.limitRps * 5;
      let b = this.buckets.get(key);
      if (!b) this.buckets.set(key, (b = { tokens: burst, at: now }));
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * a.limitRps);
      b.at = now;
      if (b.tokens < 1) return false;
      b.tokens -= 1;
    }
    if (a.limitConnections > 0) {
      const n = this.conns.get(key) ?? 0;
      if (n >= a.limitConnections) return false;
      this.conns.set(key, n + 1);
      this.held.set(owner, key);
    }
    return true;
  }

  release(owner: object): void {
    const key = this.held.get(owner);
    if (key === undefined) return;
    this.held.delete(owner);
    const n = (this.conns.get(key) ?? 1) - 1;
    if (n <= 0) this.conns.delete(key);
    else this.conns.set(key, n);
  }
}
