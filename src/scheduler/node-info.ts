// What the scheduler knows about one node: its object plus the sum of what the pods bound
// to it request, kept up to date as pods are bound and removed (kube-scheduler's NodeInfo).

import type { Node, Pod } from '../api/types.js';
import { milliCPU, parseQuantity } from '../api/quantity.js';
import { hasPodAffinity, requiredAntiAffinityTerms } from './terms.js';

export interface Resources {
  milliCPU: number;
  memory: number;
  pods: number;
  /** extended resources and ephemeral-storage by name */
  scalar: Map<string, number>;
}

export function emptyResources(): Resources {
  return { milliCPU: 0, memory: 0, pods: 0, scalar: new Map() };
}

// Pods without requests still count for scoring, as kube-scheduler's non-zero defaults.
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export interface PodRequests {
  milliCPU: number;
  memory: number;
  scalar: Map<string, number>;
  /** with the non-zero defaults applied, for scoring */
  nonZeroMilliCPU: number;
  nonZeroMemory: number;
}

function addRequests(into: Map<string, number>, reqs: Record<string, string> | undefined, mode: 'sum' | 'max'): void {
  for (const [name, q] of Object.entries(reqs ?? {})) {
    const v = name === 'cpu' ? milliCPU(q) : parseQuantity(q);
    const cur = into.get(name) ?? 0;
    into.set(name, mode === 'sum' ? cur + v : Math.max(cur, v));
  }
}

/** Effective requests: sum over containers, at least the max of any init container, plus overhead. */
export function podRequests(pod: Pod): PodRequests {
  const sum = new Map<string, number>();
  for (const c of pod.spec.containers ?? []) addRequests(sum, c.resources?.requests, 'sum');
  const init = new Map<string, number>();
  for (const c of pod.spec.initContainers ?? []) addRequests(init, c.resources?.requests, 'max');
  for (const [k, v] of init) sum.set(k, Math.max(sum.get(k) ?? 0, v));
  addRequests(sum, pod.spec.overhead, 'sum');
  const cpu = sum.get('cpu') ?? 0;
  const memory = sum.get('memory') ?? 0;
  sum.delete('cpu');
  sum.delete('memory');
  let nonZeroMilliCPU = 0;
  let nonZeroMemory = 0;
  for (const c of pod.spec.containers ?? []) {
    const r = c.resources?.requests ?? {};
    nonZeroMilliCPU += r.cpu !== undefined ? milliCPU(r.cpu) : DEFAULT_MILLI_CPU_REQUEST;
    nonZeroMemory += r.memory !== undefined ? parseQuantity(r.memory) : DEFAULT_MEMORY_REQUEST;
  }
  return { milliCPU: cpu, memory, scalar: sum, nonZeroMilliCPU, nonZeroMemory };
}

export function allocatableOf(node: Node): Resources {
  const alloc = node.status?.allocatable ?? node.status?.capacity ?? {};
  const r = emptyResources();
  for (const [name, q] of Object.entries(alloc)) {
    if (name === 'cpu') r.milliCPU = milliCPU(q);
    else if (name === 'memory') r.memory = parseQuantity(q);
    else if (name === 'pods') r.pods = parseQuantity(q);
    else r.scalar.set(name, parseQuantity(q));
  }
  return r;
}

export interface HostPortUse {
  hostIP: string;
  protocol: string;
  port: number;
}

export function podHostPorts(pod: Pod): HostPortUse[] {
  const out: HostPortUse[] = [];
  for (const c of pod.spec.containers ?? [])
    for (const p of c.ports ?? []) if (p.hostPort) out.push({ hostIP: p.hostIP || '0.0.0.0', protocol: p.protocol ?? 'TCP', port: p.hostPort });
  return out;
}

/** Key of NodeInfo.podLabelCounts: a label of pods in one namespace. */
export function podLabelKey(namespace: string | undefined, key: string, value: string): string {
  return `${namespace ?? ''}\x00${key}\x00${value}`;
}

export class NodeInfo {
  readonly allocatable: Resources;
  readonly requested: Resources = emptyResources();
  /** requests with non-zero defaults, for scoring */
  nonZeroMilliCPU = 0;
  nonZeroMemory = 0;
  readonly pods = new Map<string, Pod>();
  readonly hostPorts: HostPortUse[] = [];
  /** pods with any pod (anti-)affinity, and those with required anti-affinity: the only ones
   * InterPodAffinity must look at when the incoming pod has no terms of its own */
  readonly podsWithAffinity = new Map<string, Pod>();
  readonly podsWithRequiredAntiAffinity = new Map<string, Pod>();
  /** pods per podLabelKey(namespace, label, value), kept as pods come and go, so default
   * spreading can tell a node holds none of a pod's siblings without visiting its pods */
  readonly podLabelCounts = new Map<string, number>();

  constructor(readonly node: Node) {
    this.allocatable = allocatableOf(node);
  }

  get name(): string {
    return this.node.metadata.name!;
  }

  addPod(key: string, pod: Pod, req: PodRequests = podRequests(pod)): void {
    if (this.pods.has(key)) this.removePod(key);
    this.pods.set(key, pod);
    this.requested.milliCPU += req.milliCPU;
    this.requested.memory += req.memory;
    this.requested.pods += 1;
    for (const [k, v] of req.scalar) this.requested.scalar.set(k, (this.requested.scalar.get(k) ?? 0) + v);
    this.nonZeroMilliCPU += req.nonZeroMilliCPU;
    this.nonZeroMemory += req.nonZeroMemory;
    this.hostPorts.push(...podHostPorts(pod));
    const labels = pod.metadata.labels;
    for (const k in labels) {
      const lk = podLabelKey(pod.metadata.namespace, k, labels[k]!);
      this.podLabelCounts.set(lk, (this.podLabelCounts.get(lk) ?? 0) + 1);
    }
    if (hasPodAffinity(pod)) {
      this.podsWithAffinity.set(key, pod);
      if (requiredAntiAffinityTerms(pod).length > 0) this.podsWithRequiredAntiAffinity.set(key, pod);
    }
  }

  removePod(key: string): void {
    const pod = this.pods.get(key);
    if (!pod) return;
    this.pods.delete(key);
    this.podsWithAffinity.delete(key);
    this.podsWithRequiredAntiAffinity.delete(key);
    const req = podRequests(pod);
    this.requested.milliCPU -= req.milliCPU;
    this.requested.memory -= req.memory;
    this.requested.pods -= 1;
    for (const [k, v] of req.scalar) this.requested.scalar.set(k, (this.requested.scalar.get(k) ?? 0) - v);
    this.nonZeroMilliCPU -= req.nonZeroMilliCPU;
    this.nonZeroMemory -= req.nonZeroMemory;
    const labels = pod.metadata.labels;
    for (const k in labels) {
      const lk = podLabelKey(pod.metadata.namespace, k, labels[k]!);
      const n = (this.podLabelCounts.get(lk) ?? 0) - 1;
      if (n > 0) this.podLabelCounts.set(lk, n);
      else this.podLabelCounts.delete(lk);
    }
    const ports = podHostPorts(pod);
    for (const p of ports) {
      const i = this.hostPorts.findIndex((h) => h.hostIP === p.hostIP && h.protocol === p.protocol && h.port === p.port);
      if (i >= 0) this.hostPorts.splice(i, 1);
    }
  }
}
