import type { Ingress, LoadBalancerIngress } from '../api/types.js';

/**
 * Writes `status.loadBalancer.ingress` of owned Ingresses. The API-backed writer (REST
 * client + Lease leader election) plugs in here; with --objects there is no API server
 * to write to, so nothing is written.
 */
export interface IngressStatusWriter {
  /** Whether this replica may write (the Lease holder); non-leaders never write. */
  isLeader(): boolean;
  update(ingress: Ingress, addresses: LoadBalancerIngress[]): Promise<void>;
}

export class NoStatusWriter implements IngressStatusWriter {
  isLeader(): boolean {
    return false;
  }
  async update(): Promise<void> {}
}

/** `--publish-status-address` values: IPs become `ip`, names become `hostname`. */
export function publishAddresses(values: readonly string[]): LoadBalancerIngress[] {
  return values.map((v) => (/^[0-9.]+$/.test(v) || v.includes(':') ? { ip: v } : { hostname: v }));
}

function key(a: { ip?: string; hostname?: string }): string {
  return `${a.ip ?? ''}|${a.hostname ?? ''}`;
}

/** True when the Ingress's status differs from `addresses` (order-insensitive): write only then. */
export function statusNeedsUpdate(ing: Ingress, addresses: readonly LoadBalancerIngress[]): boolean {
  const current = ing.status?.loadBalancer?.ingress ?? [];
  if (current.length !== addresses.length) return true;
  const want = new Set(addresses.map(key));
  return current.some((c) => !want.has(key(c)));
}
