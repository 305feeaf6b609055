import type { EndpointSlice } from '../../api/types.js';
import { normalizeIP, servicePortKey, servicePortNameString } from './service-port.js';
import type { EndpointInfo, Family } from './types.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** The Service (`ns/name`) an EndpointSlice belongs to, or undefined for unowned slices. */
export function serviceKeyOfSlice(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  if (!svc) return undefined;
  return `${slice.metadata.namespace ?? 'default'}/${svc}`;
}

export function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * Merges one Service's slices of one family into endpoints per service port key:
 * deduplicated by `ip:port` (a ready copy wins) and sorted by that string, which decides
 * probabilities and numgen indexes.
 */
export function endpointsForService(slices: Iterable<EndpointSlice>, family: Family, nodeName: string): Map<string, EndpointInfo[]> {
  const byPort = new Map<string, Map<string, EndpointInfo>>();
  for (const slice of slices) {
    if (slice.addressType !== family) continue;
    const svcName = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svcName) continue;
    const namespace = slice.metadata.namespace ?? 'default';
    for (const port of slice.ports ?? []) {
      if (port.port === undefined || port.port === null) continue;
      const key = servicePortKey(servicePortNameString(namespace, svcName, port.name ?? ''), port.protocol ?? 'TCP');
      let eps = byPort.get(key);
      if (!eps) byPort.set(key, (eps = new Map()));
      for (const ep of slice.endpoints ?? []) {
        const raw = ep.addresses?.[0];
        if (!raw) continue;
        const ip = normalizeIP(raw);
        if (!ip) continue;
        const ready = ep.conditions?.ready ?? true;
        const info: EndpointInfo = {
          ip,
          port: port.port,
          endpoint: joinHostPort(ip, port.port),
          isLocal: !!ep.nodeName && ep.nodeName === nodeName,
          ready,
          serving: ep.conditions?.serving ?? ready,
          terminating: ep.conditions?.terminating ?? false,
          zoneHints: ep.hints?.forZones ? ep.hints.forZones.map((z) => z.name) : undefined,
          nodeName: ep.nodeName ?? '',
        };
        const prev = eps.get(info.endpoint);
        if (!prev || (!prev.ready && info.ready)) eps.set(info.endpoint, info);
      }
    }
  }
  const out = new Map<string, EndpointInfo[]>();
  for (const [key, eps] of byPort) {
    if (eps.size === 0) continue;
    out.set(key, [...eps.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0)));
  }
  return out;
}
