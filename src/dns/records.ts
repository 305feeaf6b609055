// The record index: trimmed projections of Services, EndpointSlices, Namespaces and Pods,
// kept current from informer events (never rebuilt per query). Every DNS-visible change
// bumps `generation` (answer caches key on it) and `serial` (the SOA serial, unix time).
import { isIP } from 'node:net';
import type { EndpointSlice, Namespace, Pod, Service } from '../api/types.js';

export type ServiceKind = 'ClusterIP' | 'Headless' | 'ExternalName';

export interface PortRecord {
  /** lower-case port name, '' when unnamed */
  name: string;
  /** lower-case protocol: tcp, udp, sctp */
  protocol: string;
  /** -1 for a slice without ports: address records only, no SRV */
  port: number;
}

export interface ServiceRecord {
  name: string;
  namespace: string;
  kind: ServiceKind;
  clusterIPs: string[];
  externalName: string;
  ports: PortRecord[];
}

export interface EndpointRecord {
  readonly ip: string;
  readonly family: 4 | 6;
  /** the DNS label: hostname, pod name (endpoint_pod_names) or the dashed IP, lower-case */
  readonly hostname: string;
  readonly ports: PortRecord[];
}

export interface ReverseTarget {
  /** '' for a ClusterIP match */
  hostname: string;
  service: string;
  namespace: string;
}

export interface RecordIndexOptions {
  endpointPodNames?: boolean;
  /** keep pod IPs (pods verified) */
  pods?: boolean;
}

/** The ready endpoints of one EndpointSlice, as the index keeps them. */
export interface SliceRecord {
  /** `namespace/service`, lower-case */
  readonly serviceKey: string;
  readonly namespace: string;
  readonly service: string;
  readonly endpoints: SliceEndpoint[];
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * One address of a ready endpoint: 50,000 of these for 50,000 endpoints, so it holds only
 * what the answers need. The dashed-IP label and the family are computed when asked (only
 * for answers not already stored encoded), the slice it came from answers PTR questions.
 */
export class SliceEndpoint implements EndpointRecord {
  constructor(
    readonly ip: string,
    /** hostname or pod name when one names it, lower-case; undefined: the dashed IP */
    readonly label: string | undefined,
    readonly ports: PortRecord[],
    readonly slice: SliceRecord,
  ) {}

  get family(): 4 | 6 {
    return this.ip.includes(':') ? 6 : 4;
  }

  get hostname(): string {
    return this.label ?? endpointHostname(this.ip, undefined, undefined, false);
  }
}

// Port lists are the same for most services (one `http` port, say): one shared copy of each.
const portLists = new Map<string, PortRecord[]>();
const MAX_PORT_LISTS = 10_000;

function internPorts(ports: PortRecord[]): PortRecord[] {
  const k = ports.map((p) => `${p.name}/${p.protocol}/${p.port}`).join(',');
  const known = portLists.get(k);
  if (known) return known;
  // Bounded: past it lists are kept per object, as before.
  if (portLists.size < MAX_PORT_LISTS) portLists.set(k, ports);
  return ports;
}

function portRecords(ports: readonly { name?: string; protocol?: string; port: number }[]): PortRecord[] {
  return internPorts(ports.map((p) => ({ name: (p.name ?? '').toLowerCase(), protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port })));
}

function key(namespace: string, name: string): string {
  return `${namespace.toLowerCase()}/${name.toLowerCase()}`;
}

/** The endpoint's DNS label as CoreDNS derives it. */
export function endpointHostname(ip: string, hostname: string | undefined, podName: string | undefined, endpointPodNames: boolean): string {
  if (hostname) return hostname.toLowerCase();
  if (endpointPodNames && podName && podName.length < 64) return podName.toLowerCase();
  if (ip.includes(':')) {
    const dashed = ip.replaceAll(':', '-');
    // A label cannot end in '-': CoreDNS appends a 0 (2001-db8--  →  2001-db8--0).
    return dashed.endsWith('-') ? dashed + '0' : dashed;
  }
  return ip.replaceAll('.', '-');
}

export function serviceRecord(svc: Service): ServiceRecord {
  const spec = svc.spec ?? {};
  const name = (svc.metadata.name ?? '').toLowerCase();
  const namespace = (svc.metadata.namespace ?? 'default').toLowerCase();
  let kind: ServiceKind = 'ClusterIP';
  if (spec.type === 'ExternalName') kind = 'ExternalName';
  else if (spec.clusterIP === 'None') kind = 'Headless';
  const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  return {
    name,
    namespace,
    kind,
    clusterIPs: kind === 'ClusterIP' ? ips.filter((ip) => isIP(ip) !== 0) : [],
    externalName: kind === 'ExternalName' ? (spec.externalName ?? '').replace(/\.$/, '') : '',
    ports: portRecords(spec.ports ?? []),
  };
}

const NO_PORTS: PortRecord[] = [{ name: '', protocol: 'tcp', port: -1 }];

/** The slice's ready endpoints; undefined for a slice DNS does not serve (no service label, FQDN). */
export function sliceRecord(slice: EndpointSlice, endpointPodNames: boolean): SliceRecord | undefined {
  const svcName = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  if (!svcName || slice.addressType === 'FQDN') return undefined;
  const ports = slice.ports?.length ? portRecords(slice.ports) : NO_PORTS;
  const namespace = (slice.metadata.namespace ?? 'default').toLowerCase();
  const service = svcName.toLowerCase();
  const rec: SliceRecord = { serviceKey: `${namespace}/${service}`, namespace, service, endpoints: [] };
  for (const ep of slice.endpoints ?? []) {
    // ready unset means unknown, which counts as ready (as the API documents it).
    if (ep.conditions?.ready === false) continue;
    for (const ip of ep.addresses ?? []) {
      if (isIP(ip) === 0) continue;
      const label = endpointHostname(ip, ep.hostname, ep.targetRef?.name, endpointPodNames);
      rec.endpoints.push(new SliceEndpoint(ip, label === endpointHostname(ip, undefined, undefined, false) ? undefined : label, ports, rec));
    }
  }
  return rec;
}

function serviceEqual(a: ServiceRecord, b: ServiceRecord): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sliceEqual(a: SliceRecord, b: SliceRecord): boolean {
  if (a.serviceKey !== b.serviceKey || a.endpoints.length !== b.endpoints.length) return false;
  for (let i = 0; i < a.endpoints.length; i++) {
    const x = a.endpoints[i]!;
    const y = b.endpoints[i]!;
    if (x.ip !== y.ip || x.label !== y.label || (x.ports !== y.ports && JSON.stringify(x.ports) !== JSON.stringify(y.ports))) return false;
  }
  return true;
}

/**
 * Where an informer transform (trim.ts) leaves the record it made from an object, so the
 * index keeps that one copy and the informer cache keeps a stub around it, as CoreDNS's
 * informers cache its own small objects instead of the API's.
 */
export const DNS_RECORD: unique symbol = Symbol('kubeplane.dns.record');

export interface ProjectedObject<R> {
  [DNS_RECORD]?: R;
}

function carried<R>(obj: object): R | undefined {
  return (obj as ProjectedObject<R>)[DNS_RECORD];
}

export class RecordIndex {
  /** bumped on every DNS-visible change */
  generation = 0;
  /** SOA serial: unix time of the last DNS-visible change */
  serial = Math.floor(Date.now() / 1000);
  private readonly services = new Map<string, ServiceRecord>();
  private readonly slices = new Map<string, SliceRecord>();
  private readonly slicesByService = new Map<string, Set<string>>();
  /** endpoints of services with several slices, joined once per change */
  private readonly endpointCache = new Map<string, EndpointRecord[]>();
  private readonly namespaces = new Set<string>();
  private readonly podIPs = new Map<string, Map<string, number>>();
  private readonly reverseClusterIP = new Map<string, string[]>();
  private readonly changeListeners: (() => void)[] = [];
  /** endpoint IP to the endpoint (one in nearly every cluster) or endpoints with that IP */
  private readonly reverseEndpoints = new Map<string, SliceEndpoint | SliceEndpoint[]>();

  constructor(readonly opts: RecordIndexOptions = {}) {}

  onChange(fn: () => void): void {
    this.changeListeners.push(fn);
  }

  private changed(): void {
    this.generation++;
    this.serial = Math.max(this.serial, Math.floor(Date.now() / 1000));
    for (const fn of this.changeListeners) fn();
  }

  // ---- event intake ----------------------------------------------------------

  upsertService(svc: Service): void {
    const rec = carried<ServiceRecord>(svc) ?? serviceRecord(svc);
    const k = key(rec.namespace, rec.name);
    const old = this.services.get(k);
    if (old && serviceEqual(old, rec)) return;
    if (old) this.unindexClusterIPs(k, old);
    this.services.set(k, rec);
    for (const ip of rec.clusterIPs) push(this.reverseClusterIP, ip, k);
    this.changed();
  }

  deleteService(svc: Service): void {
    const k = key(svc.metadata.namespace ?? 'default', svc.metadata.name ?? '');
    const old = this.services.get(k);
    if (!old) return;
    this.unindexClusterIPs(k, old);
    this.services.delete(k);
    this.changed();
  }

  upsertEndpointSlice(slice: EndpointSlice): void {
    const sk = key(slice.metadata.namespace ?? 'default', slice.metadata.name ?? '');
    const rec = DNS_RECORD in slice ? carried<SliceRecord>(slice) : sliceRecord(slice, this.opts.endpointPodNames ?? false);
    const old = this.slices.get(sk);
    if (!rec) {
      if (old) this.deleteEndpointSlice(slice);
      return;
    }
    if (old && sliceEqual(old, rec)) return;
    if (old) this.detachSlice(sk, old);
    this.slices.set(sk, rec);
    this.indexReverse(rec, true);
    let set = this.slicesByService.get(rec.serviceKey);
    if (!set) this.slicesByService.set(rec.serviceKey, (set = new Set()));
    set.add(sk);
    this.endpointCache.delete(rec.serviceKey);
    this.changed();
  }

  deleteEndpointSlice(slice: EndpointSlice): void {
    const sk = key(slice.metadata.namespace ?? 'default', slice.metadata.name ?? '');
    const old = this.slices.get(sk);
    if (!old) return;
    this.detachSlice(sk, old);
    this.slices.delete(sk);
    this.changed();
  }

  upsertNamespace(ns: Namespace): void {
    const name = (ns.metadata.name ?? '').toLowerCase();
    if (this.namespaces.has(name)) return;
    this.namespaces.add(name);
    this.changed();
  }

  deleteNamespace(ns: Namespace): void {
    if (this.namespaces.delete((ns.metadata.name ?? '').toLowerCase())) this.changed();
  }

  upsertPod(pod: Pod): void {
    const ns = (pod.metadata.namespace ?? 'default').toLowerCase();
    const k = key(ns, pod.metadata.name ?? '');
    // Terminating pods are dropped, as CoreDNS's pod projection does.
    const ips = pod.metadata.deletionTimestamp ? [] : (pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []));
    const before = this.podKeys.get(k) ?? [];
    if (before.join() === ips.join()) return;
    this.removePodIPs(ns, before);
    for (const ip of ips) {
      let m = this.podIPs.get(ns);
      if (!m) this.podIPs.set(ns, (m = new Map()));
      m.set(ip, (m.get(ip) ?? 0) + 1);
    }
    if (ips.length) this.podKeys.set(k, ips);
    else this.podKeys.delete(k);
    this.changed();
  }

  deletePod(pod: Pod): void {
    const ns = (pod.metadata.namespace ?? 'default').toLowerCase();
    const k = key(ns, pod.metadata.name ?? '');
    const before = this.podKeys.get(k);
    if (!before) return;
    this.removePodIPs(ns, before);
    this.podKeys.delete(k);
    this.changed();
  }

  private readonly podKeys = new Map<string, string[]>();

  private removePodIPs(ns: string, ips: string[]): void {
    const m = this.podIPs.get(ns);
    if (!m) return;
    for (const ip of ips) {
      const n = (m.get(ip) ?? 0) - 1;
      if (n <= 0) m.delete(ip);
      else m.set(ip, n);
    }
  }

  private unindexClusterIPs(k: string, rec: ServiceRecord): void {
    for (const ip of rec.clusterIPs) {
      const list = this.reverseClusterIP.get(ip);
      if (!list) continue;
      const rest = list.filter((x) => x !== k);
      if (rest.length) this.reverseClusterIP.set(ip, rest);
      else this.reverseClusterIP.delete(ip);
    }
  }

  private detachSlice(sk: string, old: SliceRecord): void {
    this.indexReverse(old, false);
    const set = this.slicesByService.get(old.serviceKey);
    set?.delete(sk);
    if (set && set.size === 0) this.slicesByService.delete(old.serviceKey);
    this.endpointCache.delete(old.serviceKey);
  }

  // ---- lookups (all names lower-case) ---------------------------------------

  namespaceExists(ns: string): boolean {
    return this.namespaces.has(ns);
  }

  service(namespace: string, name: string): ServiceRecord | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  /** Ready endpoints of a service across all its slices. */
  endpoints(namespace: string, name: string): EndpointRecord[] {
    const k = `${namespace}/${name}`;
    const slices = this.slicesByService.get(k);
    if (!slices) return [];
    // One slice (services under 100 endpoints): its own list, no copy.
    if (slices.size === 1) for (const sk of slices) return this.slices.get(sk)!.endpoints;
    let eps = this.endpointCache.get(k);
    if (eps) return eps;
    eps = [];
    for (const sk of slices) eps.push(...this.slices.get(sk)!.endpoints);
    this.endpointCache.set(k, eps);
    return eps;
  }

  podIPExists(namespace: string, ip: string): boolean {
    return this.podIPs.get(namespace)?.has(ip) ?? false;
  }

  /** Services whose cluster IP this is, in insertion order. */
  clusterIPOwners(ip: string): ServiceRecord[] {
    return (this.reverseClusterIP.get(ip) ?? []).map((k) => this.services.get(k)!).filter(Boolean);
  }

  /** Endpoint names behind an IP. */
  endpointOwners(ip: string): ReverseTarget[] {
    const found = this.reverseEndpoints.get(ip);
    if (!found) return [];
    return (Array.isArray(found) ? found : [found]).map((ep) => ({ hostname: ep.hostname, service: ep.slice.service, namespace: ep.slice.namespace }));
  }

  /** Adds or removes one slice's endpoints in the reverse map (kept current per event). */
  private indexReverse(rec: SliceRecord, add: boolean): void {
    for (const ep of rec.endpoints) {
      const found = this.reverseEndpoints.get(ep.ip);
      if (add) {
        if (!found) this.reverseEndpoints.set(ep.ip, ep);
        else if (Array.isArray(found)) found.push(ep);
        else this.reverseEndpoints.set(ep.ip, [found, ep]);
        continue;
      }
      if (found === ep) this.reverseEndpoints.delete(ep.ip);
      else if (Array.isArray(found)) {
        const i = found.indexOf(ep);
        if (i >= 0) found.splice(i, 1);
        if (found.length === 1) this.reverseEndpoints.set(ep.ip, found[0]!);
      }
    }
  }

  get serviceCount(): number {
    return this.services.size;
  }
}

function push<V>(m: Map<string, V[]>, k: string, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
