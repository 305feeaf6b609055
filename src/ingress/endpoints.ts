import type { EndpointSlice, Service } from '../api/types.js';
import type { ServiceRef } from './routes.js';

/** A pod address and port the proxy connects to directly, as ingress-nginx does. */
export interface UpstreamEndpoint {
  address: string;
  port: number;
  /** `http://address:port` (IPv6 bracketed): the pool key */
  origin: string;
}

export type UpstreamState = 'ok' | 'no-service' | 'no-port' | 'no-endpoints';

export interface ResolvedUpstream {
  state: UpstreamState;
  endpoints: UpstreamEndpoint[];
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * Resolves an Ingress backend (Service + port by number or name) to endpoints: the
 * Service port picks the EndpointSlice port of the same name; ready endpoints are used,
 * and serving-but-terminating ones only when none is ready (kube-proxy's rule).
 */
export function resolveUpstream(ref: ServiceRef, service: Service | undefined, slices: readonly EndpointSlice[]): ResolvedUpstream {
  if (!service) return { state: 'no-service', endpoints: [] };
  const sp = (service.spec.ports ?? []).find((p) => (ref.port.number !== undefined ? p.port === ref.port.number : ref.port.name !== undefined ? p.name === ref.port.name : true));
  if (!sp) return { state: 'no-port', endpoints: [] };
  const portName = sp.name ?? '';
  const ready: UpstreamEndpoint[] = [];
  const terminating: UpstreamEndpoint[] = [];
  const seen = new Set<string>();
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName);
    if (!port?.port) continue;
    for (const ep of slice.endpoints ?? []) {
      const c = ep.conditions ?? {};
      const isReady = c.ready !== false;
      const isServingTerminating = !isReady && c.serving === true && c.terminating === true;
      if (!isReady && !isServingTerminating) continue;
      for (const address of ep.addresses.slice(0, 1)) {
        const origin = slice.addressType === 'IPv6' ? `http://[${address}]:${port.port}` : `http://${address}:${port.port}`;
        if (seen.has(origin)) continue;
        seen.add(origin);
        (isReady ? ready : terminating).push({ address, port: port.port, origin });
      }
    }
  }
  const endpoints = ready.length > 0 ? ready : terminating;
  endpoints.sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
  return { state: endpoints.length > 0 ? 'ok' : 'no-endpoints', endpoints };
}
