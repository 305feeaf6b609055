import type { Ingress, LoadBalancerIngress } from '../api/types.js';
import { resourceFor } from '../api/resources.js';
import type { RestClient } from '../client/rest.js';

const INGRESSES = resourceFor('networking.k8s.io', 'ingresses')!;

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

/**
 * The API-backed writer: status goes through the REST client with a merge patch on
 * `ingresses/status`, and only while this replica holds the Lease (`isLeader` comes from a
 * LeaderElector), so several controller replicas never fight over the field.
 */
export class ApiStatusWriter implements IngressStatusWriter {
  constructor(
    private readonly client: RestClient,
    private readonly leader: { isLeader(): boolean },
  ) {}
  isLeader(): boolean {
    return this.leader.isLeader();
  }
  async update(ingress: Ingress, addresses: LoadBalancerIngress[]): Promise<void> {
    await this.client.patch(INGRESSES, ingress.metadata.name!, { status: { loadBalancer: { ingress: addresses } } }, 'merge', {
      namespace: ingress.metadata.namespace,
      subresource: 'status',
      fieldManager: 'kubeplane-ingress',
    });
  }
}
