import type { Ingress, LoadBalancerIngress } from '../api/types.js';

/**
 * Writes `status.loadBalancer.ingress` of owned Ingresses. The API-backed writer (REST
 * client + Lease leader election, writing only on change) plugs in here; with
 * --objects there is no API server to write to.
 */
export interface IngressStatusWriter {
  update(ingress: Ingress, addresses: LoadBalancerIngress[]): Promise<void>;
}

export class NoStatusWriter implements IngressStatusWriter {
  async update(): Promise<void> {}
}
