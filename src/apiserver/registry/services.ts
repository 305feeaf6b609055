// ClusterIP and NodePort allocation for Services, as kube-apiserver's allocators do it
// (KEP-3070/3668 bands: a static lower band for requested values, dynamic picks from the upper
// band first). Each allocated value is its own key in the store, written in the same
// transaction as the Service, so allocation survives restarts and is conflict-free across
// servers (the key's "must not exist" compare is the lock), as IPAddress objects are upstream.
import ipaddr from 'ipaddr.js';
import type { FieldError } from '../../api/validation/index.js';
import { invalid } from '../../api/validation/index.js';
import type { Compare, Op, Store } from '../storage/interface.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

export const SERVICE_IPS_PREFIX = '/registry/ranges/serviceips/';
export const NODE_PORTS_PREFIX = '/registry/ranges/servicenodeports/';

export class ServiceCIDR {
  readonly base: number; // network address as uint32
  readonly size: number;
  constructor(readonly cidr: string) {
    let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      parsed = ipaddr.parseCIDR(cidr);
    } catch {
      throw new Error(`invalid CIDR address: ${cidr}`);
    }
    const [addr, bits] = parsed;
    if (addr.kind() !== 'ipv4') throw new Error(`only IPv4 service CIDRs are supported: ${cidr}`);
    if (bits > 30 || bits < 8) throw new Error(`service CIDR ${cidr} must be between /8 and /30`);
    this.size = 2 ** (32 - bits);
    const n = (addr as ipaddr.IPv4).toByteArray().reduce((a, b) => a * 256 + b, 0);
    this.base = n - (n % this.size);
  }
  get networkString(): string {
    return `${this.ipAt(0)}/${32 - Math.log2(this.size)}`;
  }
  ipAt(offset: number): string {
    const n = this.base + offset;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  /** offset of ip in the range, or undefined when outside (network/broadcast excluded) */
  offsetOf(ip: string): number | undefined {
    if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) return undefined;
    const n = ipaddr.IPv4.parse(ip).toByteArray().reduce((a, b) => a * 256 + b, 0);
    const off = n - this.base;
    return off >= 1 && off < this.size - 1 ? off : undefined;
  }
  /** the first usable address: the `kubernetes` Service's */
  firstIP(): string {
    return this.ipAt(1);
  }
  get staticBand(): number {
    return Math.min(Math.max(16, Math.floor(this.size / 16)), 256);
  }
}

export class PortRange {
  constructor(
    readonly base: number,
    readonly size: number,
  ) {}
  static parse(text: string): PortRange {
    const m = /^(\d+)(?:-(\d+)|\+(\d+))?$/.exec(text.trim());
    if (!m) throw new Error(`invalid port range "${text}": expected "min-max"`);
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : m[3] !== undefined ? lo + Number(m[3]) : lo;
    if (lo < 1 || hi > 65535 || hi < lo) throw new Error(`invalid port range "${text}"`);
    return new PortRange(lo, hi - lo + 1);
  }
  contains(p: number): boolean {
    return Number.isInteger(p) && p >= this.base && p < this.base + this.size;
  }
  toString(): string {
    return `${this.base}-${this.base + this.size - 1}`;
  }
  get staticBand(): number {
    return Math.min(Math.max(16, Math.floor(this.size / 32)), 128);
  }
}

export interface AllocationPlan {
  compares: Compare[];
  ops: Op[];
  errors: FieldError[];
}

const needsNodePorts = (spec: Obj): boolean => spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
const needsHealthCheckPort = (spec: Obj): boolean => spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
const hasClusterIP = (spec: Obj): boolean => spec.type !== 'ExternalName' && spec.clusterIP !== 'None';

function realIPs(spec: Obj | undefined): string[] {
  if (!spec || spec.type === 'ExternalName') return [];
  const ips: unknown[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  return ips.filter((ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None');
}

function nodePortsOf(spec: Obj | undefined): number[] {
  if (!spec) return [];
  const out = new Set<number>();
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) if (p && Number.isInteger(p.nodePort) && p.nodePort > 0) out.add(p.nodePort);
  if (Number.isInteger(spec.healthCheckNodePort) && spec.healthCheckNodePort > 0) out.add(spec.healthCheckNodePort);
  return [...out];
}

/**
 * Upstream's patchAllocatedValues: an update that leaves out values the server allocated
 * (clusterIP(s), nodePorts, healthCheckNodePort) keeps them, as `kubectl replace` relies on.
 * Runs before validation, which would otherwise see them as being unset.
 */
export function patchAllocatedValues(svc: Obj, old: Obj): void {
  const spec: Obj | undefined = svc.spec;
  const oldSpec: Obj | undefined = old.spec;
  if (!spec || !oldSpec) return;
  const oldIPs = realIPs(oldSpec);
  if (hasClusterIP(spec) && oldIPs.length > 0 && !spec.clusterIP && (!Array.isArray(spec.clusterIPs) || spec.clusterIPs.length === 0)) {
    spec.clusterIP = oldIPs[0];
    spec.clusterIPs = [...oldIPs];
  }
  if (needsNodePorts(spec) && Array.isArray(spec.ports)) {
    const oldByPort = new Map<string, number>();
    for (const p of Array.isArray(oldSpec.ports) ? oldSpec.ports : []) if (p?.nodePort) oldByPort.set(`${p.port}/${p.protocol ?? 'TCP'}`, p.nodePort);
    for (const p of spec.ports) if (p && typeof p === 'object' && !p.nodePort) {
      const prev = oldByPort.get(`${p.port}/${p.protocol ?? 'TCP'}`);
      if (prev) p.nodePort = prev;
    }
  }
  if (needsHealthCheckPort(spec) && !spec.healthCheckNodePort && oldSpec.healthCheckNodePort) spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
}

export class ServiceAllocator {
  constructor(
    private readonly store: Store,
    readonly cidr: ServiceCIDR,
    readonly ports: PortRange,
  ) {}

  private ipKey(ip: string): string {
    return SERVICE_IPS_PREFIX + ip;
  }
  private portKey(p: number): string {
    return NODE_PORTS_PREFIX + p;
  }

  private async taken(key: string): Promise<boolean> {
    return (await this.store.get(key)).kv !== undefined;
  }

  /** a free value: random probes in the upper band, then the lower band, then a full scan */
  private async pick(size: number, staticBand: number, first: number, keyOf: (off: number) => string, exclude: Set<string>): Promise<number | undefined> {
    const bands: [number, number][] = [
      [first + staticBand, size - first - staticBand],
      [first, staticBand],
    ];
    for (const [lo, n] of bands) {
      if (n <= 0) continue;
      for (let i = 0; i < 32; i++) {
        const off = lo + Math.floor(Math.random() * n);
        const k = keyOf(off);
        if (!exclude.has(k) && !(await this.taken(k))) return off;
      }
    }
    const prefix = keyOf(0).slice(0, keyOf(0).lastIndexOf('/') + 1);
    const used = new Set((await this.store.range(prefix)).kvs.map((kv) => kv.key));
    for (const [lo, n] of bands) {
      const start = Math.floor(Math.random() * Math.max(n, 1));
      for (let i = 0; i < n; i++) {
        const k = keyOf(lo + ((start + i) % n));
        if (!used.has(k) && !exclude.has(k)) return lo + ((start + i) % n);
      }
    }
    return undefined;
  }

  /**
   * Fills clusterIP(s), nodePorts and healthCheckNodePort into `svc` (kept from `old` when the
   * client left them out), and returns the store operations that claim new values and release
   * dropped ones. Values a client asks for are checked against the range and current owners.
   */
  async plan(svc: Obj, old: Obj | undefined, owner: string): Promise<AllocationPlan> {
    const spec: Obj = svc.spec ?? (svc.spec = {});
    const oldSpec: Obj | undefined = old?.spec;
    const plan: AllocationPlan = { compares: [], ops: [], errors: [] };
    const claimed = new Set<string>();
    const claim = (key: string): void => {
      claimed.add(key);
      plan.compares.push({ key, modRevision: 0 });
      plan.ops.push({ type: 'put', key, value: JSON.stringify({ owner }) });
    };

    // ---- cluster IPs ----
    const oldIPs = realIPs(oldSpec);
    if (hasClusterIP(spec)) {
      if (oldIPs.length > 0 && (!spec.clusterIP || spec.clusterIP === '') && (!Array.isArray(spec.clusterIPs) || spec.clusterIPs.length === 0)) {
        spec.clusterIP = oldIPs[0];
        spec.clusterIPs = [...oldIPs];
      }
      const requested: string | undefined = spec.clusterIP || (Array.isArray(spec.clusterIPs) ? spec.clusterIPs[0] : undefined) || undefined;
      if (requested && oldIPs.includes(requested)) {
        // already ours
      } else if (requested) {
        const off = this.cidr.offsetOf(requested);
        if (off === undefined) {
          plan.errors.push(invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is not in the valid range. The range of valid IPs is ${this.cidr.networkString}`));
        } else if (await this.taken(this.ipKey(requested))) {
          plan.errors.push(invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is already allocated`));
        } else claim(this.ipKey(requested));
      } else {
        const off = await this.pick(this.cidr.size - 1, this.cidr.staticBand, 1, (o) => this.ipKey(this.cidr.ipAt(o)), claimed);
        if (off === undefined) plan.errors.push(invalid('spec.clusterIPs', [], `failed to allocate a serviceIP: range is full`));
        else {
          const ip = this.cidr.ipAt(off);
          claim(this.ipKey(ip));
          spec.clusterIP = ip;
          spec.clusterIPs = [ip];
        }
      }
      if (spec.clusterIP && (!Array.isArray(spec.clusterIPs) || spec.clusterIPs.length === 0)) spec.clusterIPs = [spec.clusterIP];
      if (!spec.ipFamilies || spec.ipFamilies.length === 0) spec.ipFamilies = ['IPv4'];
      if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = 'SingleStack';
    } else if (spec.type === 'ExternalName') {
      delete spec.clusterIP;
      delete spec.clusterIPs;
      delete spec.ipFamilies;
      delete spec.ipFamilyPolicy;
    } else {
      // headless
      spec.clusterIPs = ['None'];
      if (!spec.ipFamilies || spec.ipFamilies.length === 0) spec.ipFamilies = ['IPv4'];
      if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = 'SingleStack';
    }
    const newIPs = new Set(realIPs(spec));
    for (const ip of oldIPs) if (!newIPs.has(ip)) plan.ops.push({ type: 'delete', key: this.ipKey(ip) });

    // ---- node ports ----
    const oldPorts = new Set(nodePortsOf(oldSpec));
    const ports: Obj[] = Array.isArray(spec.ports) ? spec.ports.filter((p: unknown) => p && typeof p === 'object') : [];
    const wantNodePort = async (requested: number | undefined, field: string): Promise<number | undefined> => {
      if (requested !== undefined && requested !== 0) {
        if (oldPorts.has(requested) || claimed.has(this.portKey(requested))) return requested;
        if (!this.ports.contains(requested)) {
          plan.errors.push(invalid(field, requested, `provided port is not in the valid range. The range of valid ports is ${this.ports}`));
          return requested;
        }
        if (await this.taken(this.portKey(requested))) {
          plan.errors.push(invalid(field, requested, `provided port is already allocated`));
          return requested;
        }
        claim(this.portKey(requested));
        return requested;
      }
      const off = await this.pick(this.ports.size, this.ports.staticBand, 0, (o) => this.portKey(this.ports.base + o), claimed);
      if (off === undefined) {
        plan.errors.push(invalid(field, 0, 'failed to allocate a nodePort: range is full'));
        return undefined;
      }
      claim(this.portKey(this.ports.base + off));
      return this.ports.base + off;
    };
    if (needsNodePorts(spec)) {
      const oldByPort = new Map<string, number>();
      for (const p of Array.isArray(oldSpec?.ports) ? oldSpec.ports : []) if (p?.nodePort) oldByPort.set(`${p.port}/${p.protocol ?? 'TCP'}`, p.nodePort);
      for (let i = 0; i < ports.length; i++) {
        const p = ports[i]!;
        if (!p.nodePort) p.nodePort = oldByPort.get(`${p.port}/${p.protocol ?? 'TCP'}`);
        // the same port number for TCP and UDP shares one node port, as upstream allows
        const twin = ports.slice(0, i).find((q) => q.port === p.port && q.nodePort);
        if (!p.nodePort && twin) p.nodePort = twin.nodePort;
        const got = await wantNodePort(p.nodePort, `spec.ports[${i}].nodePort`);
        if (got !== undefined) p.nodePort = got;
      }
    } else if (spec.type !== 'LoadBalancer') {
      // ClusterIP/ExternalName services carry no node ports (LBs without allocation keep requested ones)
      for (const p of ports) delete p.nodePort;
    }
    if (needsHealthCheckPort(spec)) {
      if (!spec.healthCheckNodePort && oldSpec?.healthCheckNodePort) spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
      const got = await wantNodePort(spec.healthCheckNodePort, 'spec.healthCheckNodePort');
      if (got !== undefined) spec.healthCheckNodePort = got;
    }
    const newPorts = new Set(nodePortsOf(spec));
    for (const p of oldPorts) if (!newPorts.has(p)) plan.ops.push({ type: 'delete', key: this.portKey(p) });
    return plan;
  }

  /** the keys a deleted Service gives back */
  releaseOps(svc: Obj): Op[] {
    return [...realIPs(svc.spec).map((ip) => ({ type: 'delete' as const, key: this.ipKey(ip) })), ...nodePortsOf(svc.spec).map((p) => ({ type: 'delete' as const, key: this.portKey(p) }))];
  }

  /** claim a fixed IP for a bootstrap Service without a transaction partner */
  ipKeyFor(ip: string): string {
    return this.ipKey(ip);
  }
}
