import type { EndpointSlice, Service } from '../api/types.js';
import { resolveUpstream, type UpstreamEndpoint, type UpstreamState } from './endpoints.js';
import type { LoadBalance } from './annotations.js';
import type { BackendTarget, ServiceRef } from './routes.js';

/** How long an endpoint that failed a connect is skipped (nginx's fail_timeout is 10s). */
export const FAIL_TIMEOUT_MS = 10_000;

/**
 * A Service port's live endpoint set. Routes hold the Upstream object, and endpoint
 * changes replace its array in place, so a rolling update never rebuilds the route table.
 */
export class Upstream {
  state: UpstreamState = 'no-service';
  endpoints: UpstreamEndpoint[] = [];
  private next = 0;

  constructor(
    readonly key: string,
    readonly ref: ServiceRef | undefined,
  ) {}

  /**
   * Picks an endpoint: round robin or least in-flight requests, skipping endpoints that
   * recently failed a connect (unless every one did) and those already tried.
   */
  pick(policy: LoadBalance, health: EndpointHealth, tried: readonly string[] | undefined): UpstreamEndpoint | undefined {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 0) return undefined;
    const now = Date.now();
    let fallback: UpstreamEndpoint | undefined;
    if (policy === 'least_request') {
      let best: UpstreamEndpoint | undefined;
      let bestLoad = Infinity;
      const offset = this.next++ % n;
      for (let i = 0; i < n; i++) {
        const ep = eps[(offset + i) % n]!;
        if (tried?.includes(ep.origin)) continue;
        if (health.failedUntil(ep.origin) > now) {
          fallback ??= ep;
          continue;
        }
        const load = health.inflight(ep.origin);
        if (load < bestLoad) {
          best = ep;
          bestLoad = load;
        }
      }
      return best ?? fallback;
    }
    for (let i = 0; i < n; i++) {
      const ep = eps[this.next++ % n]!;
      if (tried?.includes(ep.origin)) continue;
      if (health.failedUntil(ep.origin) > now) {
        fallback ??= ep;
        continue;
      }
      return ep;
    }
    return fallback;
  }

  byOrigin(origin: string): UpstreamEndpoint | undefined {
    for (const ep of this.endpoints) if (ep.origin === origin) return ep;
    return undefined;
  }
}

/** Passive health and in-flight counts per endpoint, shared by every upstream. */
export class EndpointHealth {
  private readonly failed = new Map<string, number>();
  private readonly active = new Map<string, number>();
  failedUntil(origin: string): number {
    return this.failed.size === 0 ? 0 : (this.failed.get(origin) ?? 0);
  }
  markFailed(origin: string): void {
    this.failed.set(origin, Date.now() + FAIL_TIMEOUT_MS);
  }
  markOk(origin: string): void {
    if (this.failed.size !== 0) this.failed.delete(origin);
  }
  inflight(origin: string): number {
    return this.active.get(origin) ?? 0;
  }
  begin(origin: string): void {
    this.active.set(origin, (this.active.get(origin) ?? 0) + 1);
  }
  end(origin: string): void {
    const n = (this.active.get(origin) ?? 1) - 1;
    if (n <= 0) this.active.delete(origin);
    else this.active.set(origin, n);
  }
}

export interface ServiceLookup {
  service(namespace: string, name: string): Service | undefined;
  slices(namespace: string, name: string): EndpointSlice[];
}

/** All upstreams by key, re-resolved per Service when its Service or EndpointSlices change. */
export class Upstreams {
  private readonly byKey = new Map<string, Upstream>();
  private readonly byService = new Map<string, Set<Upstream>>();

  constructor(private readonly lookup: ServiceLookup) {}

  get(target: BackendTarget): Upstream {
    let u = this.byKey.get(target.upstreamKey);
    if (u) return u;
    u = new Upstream(target.upstreamKey, target.service);
    this.byKey.set(target.upstreamKey, u);
    if (target.service) {
      const sk = `${target.service.namespace}/${target.service.name}`;
      let set = this.byService.get(sk);
      if (!set) this.byService.set(sk, (set = new Set()));
      set.add(u);
      this.resolve(u);
    }
    return u;
  }

  /** Re-resolves the upstreams of one Service; returns how many there were. */
  refreshService(namespace: string, name: string): number {
    const set = this.byService.get(`${namespace}/${name}`);
    if (!set) return 0;
    for (const u of set) this.resolve(u);
    return set.size;
  }

  /** Every endpoint origin any upstream currently uses (to close pools of the others). */
  origins(): Set<string> {
    const out = new Set<string>();
    for (const u of this.byKey.values()) for (const ep of u.endpoints) out.add(ep.origin);
    return out;
  }

  private resolve(u: Upstream): void {
    const ref = u.ref!;
    const r = resolveUpstream(ref, this.lookup.service(ref.namespace, ref.name), this.lookup.slices(ref.namespace, ref.name));
    u.state = r.state;
    u.endpoints = r.endpoints;
  }
}
