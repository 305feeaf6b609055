import type { EndpointSlice, Service } from '../../api/types.js';
import { objectKey } from '../../api/types.js';
import { endpointsForService, serviceKeyOfSlice } from './endpoints.js';
import { servicePortsFor } from './service-port.js';
import type { EndpointInfo, EndpointsMap, Family, ServiceKey, ServicePortInfo, ServicePortMap } from './types.js';

interface Pending<T> {
  previous: T;
  current: T;
}

const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

/**
 * Accumulates Service changes between syncs as previous/current per Service, as kube-proxy's
 * ServiceChangeTracker: a change that ends where it started is dropped, so a no-op update
 * costs nothing at sync time.
 */
export class ServiceChangeTracker {
  private readonly pending = new Map<ServiceKey, Pending<ServicePortInfo[]>>();
  /** Service -> its service port keys in the applied map, so a sync can find a Service's ports without a scan. */
  readonly portKeysByService = new Map<ServiceKey, string[]>();
  constructor(private readonly family: Family) {}

  /** Records add (prev undefined), update, or delete (cur undefined). Returns whether anything is pending. */
  update(prev: Service | undefined, cur: Service | undefined): boolean {
    const obj = cur ?? prev;
    if (!obj) return false;
    const key = objectKey(obj);
    const entry = this.pending.get(key);
    const current = servicePortsFor(cur, this.family);
    if (entry) entry.current = current;
    else this.pending.set(key, { previous: servicePortsFor(prev, this.family), current });
    const e = this.pending.get(key)!;
    if (JSON.stringify(e.previous) === JSON.stringify(e.current)) this.pending.delete(key);
    return this.pending.size > 0;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Moves the pending changes into `map`; returns the Services whose ports changed. */
  apply(map: ServicePortMap): Set<ServiceKey> {
    const updated = new Set<ServiceKey>();
    for (const [key, { previous, current }] of this.pending) {
      for (const p of previous) map.delete(p.key);
      for (const p of current) map.set(p.key, p);
      if (current.length) this.portKeysByService.set(key, current.map((p) => p.key));
      else this.portKeysByService.delete(key);
      updated.add(key);
    }
    this.pending.clear();
    return updated;
  }
}

export interface EndpointsApplyResult {
  updatedServices: Set<ServiceKey>;
  /** trigger times (ms) of the applied changes, for network-programming latency */
  lastChangeTriggerTimes: number[];
  /** endpoints removed per service port key (UDP conntrack cleanup needs them) */
  removed: Map<string, EndpointInfo[]>;
  /** service port keys (of the updated Services) that had a usable endpoint before this apply */
  previouslyServed: Set<string>;
}

/**
 * EndpointSlice changes grouped by Service (kube-proxy's EndpointsChangeTracker plus its
 * EndpointSliceCache): slices are merged per Service, and a Service whose merged endpoints
 * end up unchanged is dropped.
 */
export class EndpointsChangeTracker {
  private readonly slicesByService = new Map<ServiceKey, Map<string, EndpointSlice>>();
  private readonly pending = new Map<ServiceKey, Pending<Map<string, EndpointInfo[]>> & { triggers: number[] }>();
  constructor(
    private readonly family: Family,
    private readonly nodeName: string,
  ) {}

  update(prev: EndpointSlice | undefined, cur: EndpointSlice | undefined): boolean {
    const obj = cur ?? prev;
    if (!obj) return false;
    const svcKeyPrev = prev ? serviceKeyOfSlice(prev) : undefined;
    const svcKeyCur = cur ? serviceKeyOfSlice(cur) : undefined;
    // A slice relabelled to another Service is a delete from one and an add to the other.
    if (svcKeyPrev && svcKeyPrev !== svcKeyCur) this.change(svcKeyPrev, prev!, undefined);
    if (svcKeyCur) this.change(svcKeyCur, cur!, cur);
    else if (svcKeyPrev && svcKeyPrev === svcKeyCur) this.change(svcKeyPrev, prev!, undefined);
    return this.pending.size > 0;
  }

  private change(svcKey: ServiceKey, slice: EndpointSlice, cur: EndpointSlice | undefined): void {
    let slices = this.slicesByService.get(svcKey);
    if (!slices) this.slicesByService.set(svcKey, (slices = new Map()));
    let entry = this.pending.get(svcKey);
    if (!entry) {
      entry = { previous: endpointsForService(slices.values(), this.family, this.nodeName), current: new Map(), triggers: [] };
      this.pending.set(svcKey, entry);
    }
    const name = slice.metadata.name ?? '';
    if (cur) slices.set(name, cur);
    else slices.delete(name);
    if (slices.size === 0) this.slicesByService.delete(svcKey);
    entry.current = endpointsForService(slices.values(), this.family, this.nodeName);
    const trigger = cur?.metadata.annotations?.[TRIGGER_TIME_ANNOTATION];
    if (trigger) {
      const t = Date.parse(trigger);
      if (!Number.isNaN(t)) entry.triggers.push(t);
    }
    if (sameEndpoints(entry.previous, entry.current)) this.pending.delete(svcKey);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  apply(map: EndpointsMap): EndpointsApplyResult {
    const updatedServices = new Set<ServiceKey>();
    const lastChangeTriggerTimes: number[] = [];
    const removed = new Map<string, EndpointInfo[]>();
    const previouslyServed = new Set<string>();
    for (const [svcKey, { previous, current, triggers }] of this.pending) {
      for (const [portKey, eps] of previous) {
        if (eps.some((e) => e.ready || (e.serving && e.terminating))) previouslyServed.add(portKey);
        const still = new Set((current.get(portKey) ?? []).filter((e) => e.serving).map((e) => e.endpoint));
        const gone = eps.filter((e) => e.serving && !still.has(e.endpoint));
        if (gone.length) removed.set(portKey, gone);
        map.delete(portKey);
      }
      for (const [portKey, eps] of current) map.set(portKey, eps);
      updatedServices.add(svcKey);
      lastChangeTriggerTimes.push(...triggers);
    }
    this.pending.clear();
    return { updatedServices, lastChangeTriggerTimes, removed, previouslyServed };
  }
}

function sameEndpoints(a: Map<string, EndpointInfo[]>, b: Map<string, EndpointInfo[]>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || JSON.stringify(v) !== JSON.stringify(w)) return false;
  }
  return true;
}

/** `ns/name` of the Service a service port key belongs to. */
export function serviceKeyOfPort(p: ServicePortInfo): ServiceKey {
  return `${p.namespace}/${p.name}`;
}
