// `kubeplane trace dns`: explains how the cluster DNS answers a name, by running the same
// record index and kubernetes handler the server runs (no second implementation of the
// answer rules), and describing the parse and the objects behind the records beside it.
// Pure apart from the handler's promise: objects and configuration in, a report out.
import type { EndpointSlice, Namespace, Pod, Service } from '../api/types.js';
import { isReverseZone, matchZone, reverseToIP, type KubernetesOptions } from './answer.js';
import type { DnsConfig, ServerBlockConfig } from './config.js';
import { KubernetesHandler } from './kubernetes.js';
import type { DnsRequest, Handler, ResponseWriter } from './plugin.js';
import { RecordIndex, type ServiceRecord } from './records.js';
import { rcodeName, TYPE, typeName, type Message, type RR } from './wire.js';

export interface DnsObjects {
  services: Service[];
  endpointSlices: EndpointSlice[];
  namespaces: Namespace[];
  pods: Pod[];
}

export interface DnsTraceRequest {
  /** the name as a client would ask it; a trailing dot makes it absolute (no search) */
  name: string;
  qtype: number;
  /** the asking pod's namespace: expands the name over the pod search path */
  searchNamespace?: string;
  /** resolv.conf ndots (Kubernetes pods: 5) */
  ndots?: number;
}

/** What the parse of a cluster-zone name found, label by label. */
export interface NameParse {
  zone: string;
  /** svc, pod, reverse, apex, dns-version, ns.dns, or other */
  kind: string;
  namespace?: string;
  service?: string;
  endpoint?: string;
  port?: string;
  protocol?: string;
  pod?: string;
  /** reverse lookups: the IP the name stands for */
  ip?: string;
}

export interface CandidateTrace {
  /** the name actually asked, without trailing dot */
  qname: string;
  /** the server block's zone that takes the query, undefined: none (REFUSED) */
  serverBlock?: string;
  /** kubernetes, forward, or none (the chain's end: SERVFAIL) */
  handledBy: 'kubernetes' | 'forward' | 'none' | 'refused';
  parse?: NameParse;
  /** the objects behind the answer, in words */
  sources: string[];
  /** why the answer is what it is, in words */
  reasons: string[];
  /** rcode name; for forwarded names: what the upstream says (unknown here) */
  rcode: string;
  answer: RR[];
  authority: RR[];
  additional: RR[];
  /** per answer record (same order): the object it comes from, '' when none is named */
  answerFrom: string[];
  /** forward: the upstreams tried, in random order */
  upstreams?: string[];
  /** an ExternalName target that would be resolved through forward */
  chasedUpstream?: string;
}

export interface DnsTrace {
  name: string;
  qtype: string;
  /** every name the resolver would try, in order */
  search: string[];
  /** the candidates tried, in search order, up to the one that matched */
  candidates: CandidateTrace[];
  /** index into candidates of the one a resolver stops at; -1 when none has records */
  matched: number;
}

/** The index the server would build from these objects (connectInformers' event intake). */
export function indexFromObjects(objects: DnsObjects, config: DnsConfig): RecordIndex {
  const k8s = config.blocks.map((b) => b.kubernetes).filter((k) => k !== undefined);
  const index = new RecordIndex({ endpointPodNames: k8s.some((k) => k.endpointPodNames), pods: k8s.some((k) => k.pods === 'verified') });
  for (const ns of objects.namespaces) index.upsertNamespace(ns);
  for (const s of objects.services) index.upsertService(s);
  for (const s of objects.endpointSlices) index.upsertEndpointSlice(s);
  if (k8s.some((k) => k.pods === 'verified')) for (const p of objects.pods) index.upsertPod(p);
  return index;
}

/** The names a pod's resolver asks, in order (glibc res_search with Kubernetes' search path). */
export function searchCandidates(name: string, namespace: string | undefined, zone: string, ndots: number): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  if (namespace === undefined) return [name];
  const search = [`${namespace}.svc.${zone}`, `svc.${zone}`, zone];
  const dots = name.split('.').length - 1;
  const expanded = search.map((s) => `${name}.${s}`);
  return dots >= ndots ? [name, ...expanded] : [...expanded, name];
}

class CaptureWriter implements ResponseWriter {
  msg: Message | undefined;
  written = false;
  writeMessage(msg: Message): void {
    this.msg = msg;
    this.written = true;
  }
  writeRaw(): void {
    this.written = true;
  }
}

/** The next plugin as the trace sees it: records that the kubernetes plugin handed the query on. */
class HandedOn implements Handler {
  readonly name = 'next';
  called = false;
  serve(): number {
    this.called = true;
    return 2;
  }
}

function forwardTakes(b: ServerBlockConfig, name: string): boolean {
  const f = b.forward;
  if (!f) return false;
  if (!(f.from === '' || name === f.from || name.endsWith('.' + f.from))) return false;
  return !f.except.some((e) => name === e || name.endsWith('.' + e));
}

function pickBlock(config: DnsConfig, name: string): { block: ServerBlockConfig; zone: string } | undefined {
  let best: { block: ServerBlockConfig; zone: string } | undefined;
  for (const b of config.blocks) {
    const z = matchZone(b.zones, name);
    if (z !== undefined && (best === undefined || z.length > best.zone.length)) best = { block: b, zone: z };
  }
  return best;
}

export function parseName(opts: KubernetesOptions, name: string): NameParse | undefined {
  const zone = matchZone(opts.zones, name);
  if (zone === undefined) return undefined;
  const rest = name === zone ? '' : name.slice(0, name.length - zone.length - (zone === '' ? 0 : 1));
  if (rest === '') return { zone, kind: 'apex' };
  if (isReverseZone(zone)) return { zone, kind: 'reverse', ip: reverseToIP(name) };
  if (rest === 'dns-version') return { zone, kind: 'dns-version' };
  if (rest === 'ns.dns') return { zone, kind: 'ns.dns' };
  const labels = rest.split('.');
  const kind = labels[labels.length - 1]!;
  if (kind !== 'svc' && kind !== 'pod') return { zone, kind: 'other' };
  const sub = labels.slice(0, -1);
  const p: NameParse = { zone, kind };
  if (sub.length >= 1) p.namespace = sub[sub.length - 1];
  if (kind === 'pod') {
    if (sub.length === 2) p.pod = sub[0];
    return p;
  }
  if (sub.length >= 2) p.service = sub[sub.length - 2];
  if (sub.length === 3) p.endpoint = sub[0];
  if (sub.length === 4) {
    p.port = sub[0]!.replace(/^_/, '');
    p.protocol = sub[1]!.replace(/^_/, '');
  }
  return p;
}

function describeService(s: ServiceRecord): string {
  const ports = s.ports.map((p) => `${p.name || '(unnamed)'} ${p.port}/${p.protocol}`).join(', ');
  if (s.kind === 'ExternalName') return `Service ${s.namespace}/${s.name}: ExternalName ${s.externalName}`;
  if (s.kind === 'Headless') return `Service ${s.namespace}/${s.name}: headless (clusterIP None), ports ${ports || 'none'}`;
  return `Service ${s.namespace}/${s.name}: clusterIPs ${s.clusterIPs.join(', ') || 'none'}, ports ${ports || 'none'}`;
}

/** Where the records of a kubernetes answer come from, and why a negative answer is negative. */
function explainKubernetes(opts: KubernetesOptions, index: RecordIndex, p: NameParse, qtype: number, rcode: string, hasAnswer: boolean): { sources: string[]; reasons: string[] } {
  const sources: string[] = [];
  const reasons: string[] = [];
  const exposed = (ns: string): boolean => (opts.namespaces.length === 0 || opts.namespaces.includes(ns)) && index.namespaceExists(ns);
  const nsWhy = (ns: string): string => (opts.namespaces.length && !opts.namespaces.includes(ns) ? `namespace ${ns} is not in the plugin's namespaces (${opts.namespaces.join(' ')})` : `namespace ${ns} does not exist`);
  switch (p.kind) {
    case 'apex':
      reasons.push(qtype === TYPE.SOA || qtype === TYPE.NS ? `the zone apex ${p.zone} answers ${typeName(qtype)}` : `the zone apex ${p.zone} has SOA and NS only: NOERROR without data`);
      break;
    case 'dns-version':
      reasons.push(qtype === TYPE.TXT ? 'dns-version answers the schema version as TXT' : 'dns-version has only TXT: NXDOMAIN for other types, as CoreDNS');
      break;
    case 'ns.dns':
      reasons.push("ns.dns.<zone> answers the DNS server's own addresses");
      break;
    case 'other':
      reasons.push(`names under ${p.zone} other than <...>.svc, <...>.pod, dns-version and ns.dns do not exist`);
      break;
    case 'reverse': {
      if (!p.ip) {
        reasons.push('not a complete reverse name of an IP address');
        break;
      }
      if (qtype !== TYPE.PTR) reasons.push('reverse names answer PTR only');
      const owners = index.clusterIPOwners(p.ip);
      for (const s of owners) sources.push(`${p.ip} is a cluster IP of Service ${s.namespace}/${s.name}${owners.length > 1 && s !== owners[0] ? ' (not used: the first owner answers)' : ''}`);
      if (!owners.length) for (const t of index.endpointOwners(p.ip)) sources.push(`${p.ip} is endpoint ${t.hostname} of Service ${t.namespace}/${t.service}`);
      if (!sources.length) reasons.push(`${p.ip} is no cluster IP and no ready endpoint address`);
      break;
    }
    case 'pod': {
      if (opts.pods === 'disabled') {
        reasons.push('pod records are disabled (pods disabled): NXDOMAIN');
        break;
      }
      if (!p.namespace) break;
      if (!exposed(p.namespace)) {
        reasons.push(nsWhy(p.namespace));
        break;
      }
      if (!p.pod) {
        reasons.push(p.namespace ? `${p.namespace}.pod.<zone> exists but holds no records itself` : '');
        break;
      }
      sources.push(`pods ${opts.pods}: the address is read from the label ${p.pod}${opts.pods === 'verified' ? ' and must belong to a pod in the namespace' : ''}`);
      break;
    }
    case 'svc': {
      if (!p.namespace) {
        reasons.push('svc.<zone> holds no records itself');
        break;
      }
      if (!exposed(p.namespace)) {
        reasons.push(nsWhy(p.namespace));
        break;
      }
      if (!p.service) {
        reasons.push(`${p.namespace}.svc.<zone> exists (the namespace) but holds no records itself`);
        break;
      }
      const svc = index.service(p.namespace, p.service);
      if (!svc) {
        reasons.push(`no Service ${p.namespace}/${p.service}`);
        break;
      }
      sources.push(describeService(svc));
      const eps = index.endpoints(p.namespace, p.service);
      const headlessOrEndpoint = svc.kind === 'Headless' || p.endpoint !== undefined;
      if (svc.kind !== 'ExternalName') {
        for (const ep of eps) {
          if (p.endpoint !== undefined && ep.hostname !== p.endpoint) continue;
          const ports = ep.ports.filter((x) => x.port !== -1).map((x) => `${x.name || '(unnamed)'} ${x.port}/${x.protocol}`);
          sources.push(`ready endpoint ${ep.hostname} ${ep.ip}${ports.length ? ` ports ${ports.join(', ')}` : ''}${headlessOrEndpoint ? '' : ' (behind the cluster IP)'}`);
        }
      }
      if (svc.kind === 'ExternalName') {
        if (p.endpoint || p.port || p.protocol) reasons.push('names under an ExternalName Service do not exist');
        else reasons.push(`ExternalName: CNAME to ${svc.externalName}${qtype === TYPE.A || qtype === TYPE.AAAA ? ', then the target resolved through the chain' : ''}`);
        break;
      }
      if (p.endpoint !== undefined && !eps.some((e) => e.hostname === p.endpoint)) reasons.push(`no ready endpoint of ${p.namespace}/${p.service} is named ${p.endpoint}`);
      else if (svc.kind === 'Headless' && eps.length === 0) reasons.push('a headless Service without ready endpoints has no records');
      else if (svc.kind === 'ClusterIP' && opts.ignoreEmptyService && eps.length === 0) reasons.push('ignore empty_service: the Service has no ready endpoints');
      if (p.port !== undefined || p.protocol !== undefined) {
        const ports = headlessOrEndpoint ? eps.flatMap((e) => e.ports) : svc.ports;
        const hit = ports.some((x) => (p.port === '' || x.name === p.port) && (p.protocol === '' || x.protocol === p.protocol));
        reasons.push(hit ? `SRV port _${p.port}._${p.protocol} matches a ${headlessOrEndpoint ? 'endpoint' : 'Service'} port` : `no ${headlessOrEndpoint ? 'endpoint' : 'Service'} port is named ${p.port} with protocol ${p.protocol}`);
      }
      if (svc.kind === 'ClusterIP' && !headlessOrEndpoint && (qtype === TYPE.A || qtype === TYPE.AAAA)) {
        const want = qtype === TYPE.AAAA ? 6 : 4;
        if (!svc.clusterIPs.some((ip) => ip.includes(':') === (want === 6))) reasons.push(`the Service has no IPv${want} cluster IP`);
      }
      break;
    }
  }
  if (rcode === 'NOERROR' && !hasAnswer && !reasons.length) reasons.push(`the name exists but has no ${typeName(qtype)} records: NOERROR without data`);
  if (rcode === 'SERVFAIL') reasons.push('the informers have not synced: a missing name might only be missing from the cache');
  return { sources, reasons: reasons.filter(Boolean) };
}

/** Which object a record of a kubernetes answer comes from. */
function recordOrigin(index: RecordIndex, rr: RR, p: NameParse | undefined): string {
  const svcName = p?.namespace && p.service ? `${p.namespace}/${p.service}` : undefined;
  switch (rr.type) {
    case 'A':
    case 'AAAA': {
      // The asked Service first; a chased ExternalName target is some other Service's.
      const owners = index.clusterIPOwners(rr.data);
      const eps = index.endpointOwners(rr.data);
      const ep = eps.find((t) => `${t.namespace}/${t.service}` === svcName);
      const owner = ep ? undefined : (owners.find((o) => `${o.namespace}/${o.name}` === svcName) ?? owners[0]);
      if (owner) return `cluster IP of Service ${owner.namespace}/${owner.name}`;
      const anyEp = ep ?? eps[0];
      if (anyEp) return `endpoint ${anyEp.hostname} of Service ${anyEp.namespace}/${anyEp.service} (EndpointSlice)`;
      return p?.kind === 'pod' ? 'the address in the pod name' : '';
    }
    case 'SRV':
      return `port ${rr.data.port} of ${rr.data.target.split('.').length > 5 ? 'endpoint' : 'Service'} ${rr.data.target.split('.')[0]}`;
    case 'CNAME':
      return svcName ? `externalName of Service ${svcName}` : '';
    case 'PTR':
      return p?.ip ? `reverse of ${p.ip}` : '';
    default:
      return '';
  }
}

async function traceOne(config: DnsConfig, index: RecordIndex, nsAddrs: string[], qname: string, qtype: number): Promise<CandidateTrace> {
  const name = qname.toLowerCase();
  const picked = pickBlock(config, name);
  const out: CandidateTrace = { qname, handledBy: 'refused', sources: [], reasons: [], rcode: 'REFUSED', answer: [], authority: [], additional: [], answerFrom: [] };
  if (!picked) {
    out.reasons.push('no server block serves this name');
    return out;
  }
  const { block, zone } = picked;
  out.serverBlock = zone === '' ? '.' : zone;
  if (block.kubernetes) {
    const k = block.kubernetes;
    const next = new HandedOn();
    let chased: string | undefined;
    const handler = new KubernetesHandler(k, index, () => true, nsAddrs, next, async (target) => {
      chased = target;
      return undefined;
    });
    const w = new CaptureWriter();
    const req: DnsRequest = { raw: Buffer.alloc(0), query: { id: 0, flags: 0, opcode: 0, qname, qtype, qclass: 1, questionEnd: 0, hasOpt: false, udpSize: 512, ednsVersion: 0, dnssecOk: false }, name, transport: 'udp', remoteAddress: '127.0.0.1', internal: false };
    const rcode = await handler.serve(req, w);
    if (!next.called) {
      out.handledBy = 'kubernetes';
      out.parse = parseName(k, name);
      const msg = w.msg;
      out.rcode = rcodeName(msg?.rcode ?? rcode);
      out.answer = msg?.answer ?? [];
      out.authority = msg?.authority ?? [];
      out.additional = msg?.additional ?? [];
      out.answerFrom = out.answer.map((rr) => recordOrigin(index, rr, out.parse));
      if (out.parse) {
        const e = explainKubernetes(k, index, out.parse, qtype, out.rcode, out.answer.length > 0);
        out.sources = e.sources;
        out.reasons = e.reasons;
      }
      if (chased) {
        out.chasedUpstream = chased;
        out.reasons.push(`the CNAME target ${chased} is outside the cluster zones: its records come from the forward upstreams`);
      }
      return out;
    }
    const ft = k.fallthrough;
    if (matchZone(k.zones, name) !== undefined) out.reasons.push(`kubernetes would answer NXDOMAIN; fallthrough ${ft?.map((z) => z || '.').join(' ') ?? ''} hands it on`);
    else out.reasons.push(`not in the kubernetes zones (${k.zones.join(' ')})`);
  }
  if (forwardTakes(block, name)) {
    out.handledBy = 'forward';
    out.upstreams = [...block.forward!.to];
    out.rcode = 'UPSTREAM';
    out.reasons.push(`forward ${block.forward!.from || '.'}: sent to ${block.forward!.to.join(', ')}; the upstream's answer is relayed${block.cache ? ' (and cached)' : ''}`);
    return out;
  }
  out.handledBy = 'none';
  out.rcode = 'SERVFAIL';
  out.reasons.push('no plugin of the server block answers: SERVFAIL');
  return out;
}

/** Traces one question (and its search-path candidates) through the configured server blocks. */
export async function traceDns(config: DnsConfig, objects: DnsObjects, req: DnsTraceRequest, nsAddrs: string[] = ['127.0.0.1']): Promise<DnsTrace> {
  const index = indexFromObjects(objects, config);
  const primary = config.blocks.map((b) => b.kubernetes).find((k) => k !== undefined);
  const zone = primary?.zones.find((z) => !isReverseZone(z)) ?? 'cluster.local';
  const names = searchCandidates(req.name, req.searchNamespace, zone, req.ndots ?? 5);
  const candidates: CandidateTrace[] = [];
  let matched = -1;
  for (const n of names) {
    const c = await traceOne(config, index, nsAddrs, n, req.qtype);
    candidates.push(c);
    // A resolver stops at the first candidate that is not NXDOMAIN with records (glibc goes on after NODATA).
    if (c.answer.length > 0 || c.handledBy === 'forward') {
      matched = candidates.length - 1;
      break;
    }
  }
  return { name: req.name, qtype: typeName(req.qtype), search: names, candidates, matched };
}

export function formatRR(rr: RR): string {
  let data: string;
  switch (rr.type) {
    case 'SRV':
      data = `${rr.data.priority} ${rr.data.weight} ${rr.data.port} ${rr.data.target}.`;
      break;
    case 'SOA':
      data = `${rr.data.mname}. ${rr.data.rname}. ${rr.data.serial} ${rr.data.refresh} ${rr.data.retry} ${rr.data.expire} ${rr.data.minimum}`;
      break;
    case 'TXT':
      data = rr.data.map((s) => JSON.stringify(s)).join(' ');
      break;
    case 'CNAME':
    case 'PTR':
    case 'NS':
      data = `${rr.data}.`;
      break;
    default:
      data = rr.data;
  }
  return `${rr.name}. ${rr.ttl} IN ${rr.type} ${data}`;
}

export function formatDnsTrace(t: DnsTrace): string {
  const lines = [`question: ${t.name} ${t.qtype}`];
  const searching = t.search.length > 1;
  if (searching) lines.push(`search: ${t.search.join(', ')}${t.matched < 0 ? ' (none has records)' : ''}`);
  t.candidates.forEach((c, i) => {
    const tag = searching ? (i === t.matched ? ' [matched]' : ' [no records, next]') : '';
    lines.push(`${searching ? `candidate ${i + 1}: ` : ''}${c.qname}.${tag}`);
    lines.push(`  server block: ${c.serverBlock ?? 'none'}, answered by: ${c.handledBy}`);
    const p = c.parse;
    if (p) {
      const parts = [`zone ${p.zone || '.'}`, `kind ${p.kind}`, p.namespace && `namespace ${p.namespace}`, p.service && `service ${p.service}`, p.endpoint && `endpoint ${p.endpoint}`, p.port !== undefined && `port ${p.port || '(any)'}`, p.protocol !== undefined && `protocol ${p.protocol || '(any)'}`, p.pod && `pod ${p.pod}`, p.ip && `ip ${p.ip}`].filter(Boolean);
      lines.push(`  parse: ${parts.join(', ')}`);
    }
    for (const s of c.sources) lines.push(`  from: ${s}`);
    lines.push(`  rcode: ${c.rcode}`);
    c.answer.forEach((rr, j) => lines.push(`  answer: ${formatRR(rr)}${c.answerFrom[j] ? `  <- ${c.answerFrom[j]}` : ''}`));
    for (const [section, rrs] of [['authority', c.authority], ['additional', c.additional]] as const) for (const rr of rrs) lines.push(`  ${section}: ${formatRR(rr)}`);
    for (const r of c.reasons) lines.push(`  why: ${r}`);
  });
  return lines.join('\n') + '\n';
}
