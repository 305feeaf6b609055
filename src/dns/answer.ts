// Answers for the cluster zones, as the Kubernetes DNS specification (schema 1.1.0) and
// CoreDNS's kubernetes plugin give them. Pure: index + options + question in, message out.
import { isIP } from 'node:net';
import type { EndpointRecord, RecordIndex, ServiceRecord } from './records.js';
import { RCODE, TYPE, type Message, type RR } from './wire.js';

export type PodMode = 'disabled' | 'insecure' | 'verified';

export interface KubernetesOptions {
  /** lower-case, no trailing dot; reverse zones end in in-addr.arpa / ip6.arpa */
  zones: string[];
  ttl: number;
  pods: PodMode;
  endpointPodNames: boolean;
  /** exposed namespaces; empty = all */
  namespaces: string[];
  ignoreEmptyService: boolean;
  /** zones whose NXDOMAINs go to the next plugin; [''] means every zone */
  fallthrough: string[] | undefined;
}

export const defaultKubernetesOptions = (): KubernetesOptions => ({
  zones: [],
  ttl: 5,
  pods: 'disabled',
  endpointPodNames: false,
  namespaces: [],
  ignoreEmptyService: false,
  fallthrough: undefined,
});

export interface Question {
  /** as asked, no trailing dot */
  qname: string;
  qtype: number;
}

export interface AnswerContext {
  opts: KubernetesOptions;
  index: RecordIndex;
  synced: boolean;
  /** the server's own addresses, for ns.dns.<zone> */
  nsAddrs: string[];
}

/** `next`: not ours (or fallthrough); `chase`: append the target's records from the chain. */
export type Answer = { kind: 'next' } | { kind: 'answer'; msg: Message; chase?: { target: string; qtype: number } };

const DNS_SCHEMA_VERSION = '1.1.0';

export function isReverseZone(zone: string): boolean {
  return zone.endsWith('in-addr.arpa') || zone.endsWith('ip6.arpa');
}

export function matchZone(zones: readonly string[], name: string): string | undefined {
  let best: string | undefined;
  for (const z of zones) {
    const hit = z === '' || name === z || name.endsWith('.' + z);
    if (hit && (best === undefined || z.length > best.length)) best = z;
  }
  return best;
}

/** The first forward zone: PTR targets and the NS fallback live there. */
export function primaryZone(opts: KubernetesOptions): string {
  return opts.zones.find((z) => !isReverseZone(z)) ?? opts.zones[0] ?? 'cluster.local';
}

/** The IP a reverse name stands for, or undefined. */
export function reverseToIP(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4) return undefined;
    const ip = parts.reverse().join('.');
    return isIP(ip) === 4 ? ip : undefined;
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || nibbles.some((n) => !/^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(hex.slice(i, i + 4).replace(/^0+(?=.)/, ''));
    return canonicalIPv6(groups.join(':'));
  }
  return undefined;
}

/** Shortest IPv6 text, so reverse lookups match the API's notation. */
export function canonicalIPv6(ip: string): string {
  const groups = expandIPv6(ip).map((g) => g.replace(/^0+(?=.)/, ''));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return groups.slice(0, bestStart).join(':') + '::' + groups.slice(bestStart + bestLen).join(':');
}

function expandIPv6(ip: string): string[] {
  const [head, tail] = ip.toLowerCase().split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  if (tail === undefined) return h;
  const t = tail ? tail.split(':') : [];
  return [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
}

function exposed(ctx: AnswerContext, ns: string): boolean {
  if (ctx.opts.namespaces.length && !ctx.opts.namespaces.includes(ns)) return false;
  return ctx.index.namespaceExists(ns);
}

/** One (host, port) entry behind a name, as CoreDNS's msg.Service. */
interface Entry {
  /** IP, or a domain name for ExternalName */
  host: string;
  port: number;
  /** owner name of the address record behind an SRV target (without zone) */
  target: string;
}

class Negative {
  constructor(readonly rcode: 'NXDOMAIN' | 'NODATA') {}
}
const NXDOMAIN = new Negative('NXDOMAIN');
const NODATA = new Negative('NODATA');

function matchPort(want: string, have: string): boolean {
  return want === '' || want === have;
}

/** Entries behind a service-tree name: labels right to left are ns, svc[, endpoint | port, proto]. */
function findServices(ctx: AnswerContext, labels: string[]): Entry[] | Negative {
  const ns = labels[labels.length - 1]!;
  if (!exposed(ctx, ns)) return NXDOMAIN;
  if (labels.length === 1) return NODATA;
  if (labels.length > 4) return NXDOMAIN;
  const svcName = labels[labels.length - 2]!;
  const svc = ctx.index.service(ns, svcName);
  if (!svc) return NXDOMAIN;
  let endpoint = '';
  let port = '';
  let proto = '';
  if (labels.length === 3) endpoint = labels[0]!;
  if (labels.length === 4) {
    port = labels[0]!.replace(/^_/, '');
    proto = labels[1]!.replace(/^_/, '');
  }
  if (svc.kind === 'ExternalName') {
    if (endpoint || port || proto) return NXDOMAIN;
    return [{ host: svc.externalName, port: -1, target: '' }];
  }
  const base = `${svc.name}.${svc.namespace}.svc`;
  const out: Entry[] = [];
  if (svc.kind === 'Headless' || endpoint !== '') {
    for (const ep of ctx.index.endpoints(ns, svcName)) {
      if (endpoint && ep.hostname !== endpoint) continue;
      for (const p of ep.ports) {
        if (!(matchPort(port, p.name) && matchPort(proto, p.protocol))) continue;
        out.push({ host: ep.ip, port: p.port, target: `${ep.hostname}.${base}` });
      }
    }
    return out.length ? out : NXDOMAIN;
  }
  if (ctx.opts.ignoreEmptyService && ctx.index.endpoints(ns, svcName).length === 0) return NXDOMAIN;
  for (const ip of svc.clusterIPs) {
    for (const p of svc.ports) {
      if (!(matchPort(port, p.name) && matchPort(proto, p.protocol))) continue;
      out.push({ host: ip, port: p.port, target: base });
    }
    if (svc.ports.length === 0 && !port && !proto) out.push({ host: ip, port: -1, target: base });
  }
  return out.length ? out : NXDOMAIN;
}

function findPods(ctx: AnswerContext, labels: string[]): Entry[] | Negative {
  if (ctx.opts.pods === 'disabled') return NXDOMAIN;
  const ns = labels[labels.length - 1]!;
  if (!exposed(ctx, ns)) return NXDOMAIN;
  if (labels.length === 1) return NODATA;
  if (labels.length !== 2) return NXDOMAIN;
  const label = labels[0]!;
  let ip = label.split('-').length === 4 && !label.includes('--') ? label.replaceAll('-', '.') : label.replaceAll('-', ':');
  const family = isIP(ip);
  if (family === 0) return NXDOMAIN;
  if (family === 6) ip = canonicalIPv6(ip);
  if (ctx.opts.pods === 'verified' && !ctx.index.podIPExists(ns, ip)) return NXDOMAIN;
  return [{ host: ip, port: -1, target: '' }];
}

function soa(ctx: AnswerContext, zoneAsAsked: string): RR {
  return {
    name: zoneAsAsked,
    type: 'SOA',
    ttl: Math.min(ctx.opts.ttl, 300),
    data: {
      mname: `ns.dns.${zoneAsAsked}`,
      rname: `hostmaster.${zoneAsAsked}`,
      serial: ctx.index.serial,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: ctx.opts.ttl,
    },
  };
}

function addr(name: string, ip: string, ttl: number): RR {
  return { name, type: isIP(ip) === 6 ? 'AAAA' : 'A', ttl, data: ip };
}

function famOf(qtype: number): number {
  return qtype === TYPE.AAAA ? 6 : 4;
}

/** Answers one question in a cluster zone, or hands it on. */
export function answer(ctx: AnswerContext, q: Question): Answer {
  const name = q.qname.toLowerCase();
  const zone = matchZone(ctx.opts.zones, name);
  if (zone === undefined) return { kind: 'next' };
  const zoneAsAsked = zone === '' ? '' : q.qname.slice(q.qname.length - zone.length);
  const ttl = ctx.opts.ttl;
  const msg: Message = { rcode: RCODE.NOERROR, aa: true, answer: [], authority: [], additional: [] };
  const done = (): Answer => ({ kind: 'answer', msg });
  const negative = (n: Negative): Answer => {
    if (n === NXDOMAIN) {
      if (ctx.opts.fallthrough && ctx.opts.fallthrough.some((z) => z === '' || name === z || name.endsWith('.' + z))) return { kind: 'next' };
      // Until the informers have synced a missing name may only be missing from our cache.
      msg.rcode = ctx.synced ? RCODE.NXDOMAIN : RCODE.SERVFAIL;
    }
    msg.authority.push(soa(ctx, zoneAsAsked));
    return done();
  };

  if (q.qtype === TYPE.AXFR || q.qtype === TYPE.IXFR) {
    msg.rcode = RCODE.REFUSED;
    msg.aa = false;
    return done();
  }

  const rest = name === zone ? '' : name.slice(0, name.length - zone.length - (zone === '' ? 0 : 1));
  if (rest === '') {
    if (q.qtype === TYPE.SOA) {
      msg.answer.push(soa(ctx, zoneAsAsked));
      return done();
    }
    if (q.qtype === TYPE.NS) {
      const ns = `ns.dns.${zoneAsAsked}`;
      msg.answer.push({ name: q.qname, type: 'NS', ttl, data: ns });
      for (const ip of ctx.nsAddrs) msg.additional.push(addr(ns, ip, ttl));
      return done();
    }
    return negative(NODATA);
  }

  if (isReverseZone(zone)) {
    const ip = reverseToIP(name);
    if (q.qtype !== TYPE.PTR || !ip) return negative(NXDOMAIN);
    const primary = primaryZone(ctx.opts);
    const owners = ctx.index.clusterIPOwners(ip);
    if (owners.length) {
      const s = owners[0]!;
      msg.answer.push({ name: q.qname, type: 'PTR', ttl, data: `${s.name}.${s.namespace}.svc.${primary}` });
      return done();
    }
    const seen = new Set<string>();
    for (const t of ctx.index.endpointOwners(ip)) {
      const target = `${t.hostname}.${t.service}.${t.namespace}.svc.${primary}`;
      if (seen.has(target)) continue;
      seen.add(target);
      msg.answer.push({ name: q.qname, type: 'PTR', ttl, data: target });
    }
    return msg.answer.length ? done() : negative(NXDOMAIN);
  }

  const labels = rest.split('.');
  if (rest === 'dns-version') {
    if (q.qtype !== TYPE.TXT) return negative(NXDOMAIN);
    msg.answer.push({ name: q.qname, type: 'TXT', ttl: 28800, data: [DNS_SCHEMA_VERSION] });
    return done();
  }
  if (rest === 'ns.dns') {
    if (q.qtype !== TYPE.A && q.qtype !== TYPE.AAAA) return negative(NXDOMAIN);
    for (const ip of ctx.nsAddrs) if (isIP(ip) === famOf(q.qtype)) msg.answer.push(addr(q.qname, ip, ttl));
    return msg.answer.length ? done() : negative(NODATA);
  }
  const kind = labels[labels.length - 1];
  if (kind !== 'svc' && kind !== 'pod') return negative(NXDOMAIN);
  if (labels.length === 1) return negative(NODATA);
  const sub = labels.slice(0, -1);
  const found = kind === 'svc' ? findServices(ctx, sub) : findPods(ctx, sub);
  if (found instanceof Negative) return negative(found);
  return fromEntries(ctx, q, msg, found, zoneAsAsked, negative);
}

function fromEntries(ctx: AnswerContext, q: Question, msg: Message, entries: Entry[], zoneAsAsked: string, negative: (n: Negative) => Answer): Answer {
  const ttl = ctx.opts.ttl;
  const done: Answer = { kind: 'answer', msg };
  const cname = entries.find((e) => isIP(e.host) === 0);
  switch (q.qtype) {
    case TYPE.A:
    case TYPE.AAAA: {
      if (cname) {
        // ExternalName: CNAME, then the target's addresses through the normal path.
        if (cname.host === '' || cname.host.toLowerCase() === q.qname.toLowerCase()) return negative(NODATA);
        msg.answer.push({ name: q.qname, type: 'CNAME', ttl, data: cname.host });
        return { kind: 'answer', msg, chase: { target: cname.host, qtype: q.qtype } };
      }
      const seen = new Set<string>();
      for (const e of entries) {
        if (isIP(e.host) !== famOf(q.qtype) || seen.has(e.host)) continue;
        seen.add(e.host);
        msg.answer.push(addr(q.qname, e.host, ttl));
      }
      return msg.answer.length ? done : negative(NODATA);
    }
    case TYPE.CNAME:
      if (cname && cname.host) msg.answer.push({ name: q.qname, type: 'CNAME', ttl, data: cname.host });
      return msg.answer.length ? done : negative(NODATA);
    case TYPE.SRV: {
      if (cname) return negative(NODATA);
      // Each entry weighs 100; weights are normalised to 100 over all entries (priority 0).
      const weight = Math.floor(100 / entries.length);
      const srvSeen = new Set<string>();
      const addrSeen = new Set<string>();
      for (const e of entries) {
        if (e.port === -1 || e.target === '') continue;
        const target = `${e.target}.${zoneAsAsked}`;
        const sk = `${target}|${e.port}`;
        if (!srvSeen.has(sk)) {
          srvSeen.add(sk);
          msg.answer.push({ name: q.qname, type: 'SRV', ttl, data: { priority: 0, weight, port: e.port, target } });
        }
        const ak = `${target}|${e.host}`;
        if (!addrSeen.has(ak)) {
          addrSeen.add(ak);
          msg.additional.push(addr(target, e.host, ttl));
        }
      }
      return msg.answer.length ? done : negative(NODATA);
    }
    default:
      // Names that exist with other types: NODATA (CoreDNS decides with a lookup of A).
      return negative(NODATA);
  }
}
