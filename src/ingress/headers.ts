import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Hop-by-hop fields (RFC 9110 §7.6.1) plus HTTP/2 pseudo-headers: never forwarded. */
export const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'trailer', 'host', 'http2-settings']);

// Added by the proxy itself; incoming copies are dropped so a client cannot spoof them.
export const SET_BY_PROXY = new Set(['x-forwarded-for', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-forwarded-scheme', 'x-scheme', 'x-request-id', 'x-original-forwarded-for']);

// Random bytes drawn in batches: one syscall per 256 request IDs instead of one each.
let pool = Buffer.alloc(0);
let poolOffset = 0;
function requestId(): string {
  if (poolOffset + 16 > pool.length) {
    pool = randomBytes(16 * 256);
    poolOffset = 0;
  }
  const id = pool.toString('hex', poolOffset, poolOffset + 16);
  poolOffset += 16;
  return id;
}

export interface ForwardInfo {
  host: string;
  clientIP: string;
  proto: 'http' | 'https';
  port: number;
}

function connectionTokens(v: string | string[] | undefined): Set<string> | undefined {
  if (!v) return undefined;
  const s = new Set<string>();
  for (const part of (Array.isArray(v) ? v.join(',') : v).split(',')) {
    const t = part.trim().toLowerCase();
    if (t) s.add(t);
  }
  return s;
}

/** Request headers for the upstream: hop-by-hop removed, X-Forwarded-* set as ingress-nginx does. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, f: ForwardInfo, upgrade?: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = connectionTokens(incoming.connection);
  for (const name in incoming) {
    if (name.charCodeAt(0) === 58 /* ':' */ || HOP_BY_HOP.has(name) || SET_BY_PROXY.has(name)) continue;
    if (listed?.has(name)) continue;
    const v = incoming[name];
    if (v !== undefined) out[name] = v;
  }
  out.host = f.host;
  const xri = incoming['x-request-id'];
  out['x-request-id'] = typeof xri === 'string' && /^[\x21-\x7e]{1,200}$/.test(xri) ? xri : requestId();
  out['x-real-ip'] = f.clientIP;
  out['x-forwarded-for'] = f.clientIP;
  const xff = incoming['x-forwarded-for'];
  if (xff) out['x-original-forwarded-for'] = xff;
  out['x-forwarded-host'] = f.host;
  out['x-forwarded-port'] = String(f.port);
  out['x-forwarded-proto'] = f.proto;
  out['x-forwarded-scheme'] = f.proto;
  out['x-scheme'] = f.proto;
  if (upgrade) {
    out.upgrade = upgrade;
    out.connection = 'upgrade';
  }
  return out;
}

/** Response headers for the client: hop-by-hop removed (and those the Connection header lists). */
export function clientResponseHeaders(incoming: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = connectionTokens(incoming.connection);
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    const v = incoming[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** The client address without the IPv4-mapped prefix. */
export function clientAddress(remote: string | undefined): string {
  if (!remote) return '';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}

/**
 * The upstream request's header lines ("name: value\r\n" each) straight from the client's
 * raw header list: hop-by-hop, framing and proxy-set fields dropped, X-Forwarded-* added.
 * Framing (Content-Length / Transfer-Encoding) is the upstream client's to write.
 */
export function upstreamRequestHead(raw: readonly string[], f: ForwardInfo): string {
  let listed: Set<string> | undefined;
  let xri: string | undefined;
  let xff: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 10 && name.toLowerCase() === 'connection') addTokens((listed ??= new Set()), raw[i + 1]!);
  }
  let head = 'host: ' + f.host + '\r\n';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'content-length' || listed?.has(lower)) continue;
    if (SET_BY_PROXY.has(lower)) {
      if (lower === 'x-request-id') xri ??= raw[i + 1];
      else if (lower === 'x-forwarded-for') xff = xff === undefined ? raw[i + 1] : xff + ', ' + raw[i + 1];
      continue;
    }
    head += name + ': ' + raw[i + 1] + '\r\n';
  }
  return head + forwardedFields(xri, xff, f);
}

/**
 * The same upstream head from header lines already filtered by the fast path's parser
 * (h1server.ts: `forwardLines`, the client's own text for the fields that pass).
 */
export function upstreamRequestHeadFromLines(lines: string, xri: string | undefined, xff: string | undefined, f: ForwardInfo): string {
  return 'host: ' + f.host + '\r\n' + lines + forwardedFields(xri, xff, f);
}

/** X-Request-ID, X-Real-IP and X-Forwarded-*, as ingress-nginx sets them. */
function forwardedFields(xri: string | undefined, xff: string | undefined, f: ForwardInfo): string {
  const id = xri !== undefined && SANE_REQUEST_ID.test(xri) ? xri : requestId();
  let out = 'x-request-id: ' + id + '\r\nx-real-ip: ' + f.clientIP + '\r\nx-forwarded-for: ' + f.clientIP + '\r\n';
  if (xff) out += 'x-original-forwarded-for: ' + xff + '\r\n';
  return out + 'x-forwarded-host: ' + f.host + '\r\nx-forwarded-port: ' + f.port + '\r\nx-forwarded-proto: ' + f.proto + '\r\nx-forwarded-scheme: ' + f.proto + '\r\nx-scheme: ' + f.proto + '\r\n';
}

const SANE_REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

function addTokens(s: Set<string>, v: string): void {
  for (const part of v.split(',')) {
    const t = part.trim().toLowerCase();
    if (t) s.add(t);
  }
}

/** The client's response header list from the upstream's (names lowercase): hop-by-hop removed. */
export function clientResponseHeaderList(upstream: readonly string[]): string[] {
  let listed: Set<string> | undefined;
  for (let i = 0; i < upstream.length; i += 2) if (upstream[i] === 'connection') addTokens((listed ??= new Set()), upstream[i + 1]!);
  const out: string[] = [];
  for (let i = 0; i < upstream.length; i += 2) {
    const name = upstream[i]!;
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    out.push(name, upstream[i + 1]!);
  }
  return out;
}

/** Sets a header in a flat list, replacing any values it had. */
export function setListHeader(list: string[], name: string, value: string): void {
  for (let i = list.length - 2; i >= 0; i -= 2) if (list[i] === name) list.splice(i, 2);
  list.push(name, value);
}
