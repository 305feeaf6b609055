import ipaddr from 'ipaddr.js';
import type { Protocol, Service } from '../../api/types.js';
import type { Family, ServicePortInfo } from './types.js';

const DEFAULT_AFFINITY_SECONDS = 10800;

export function ipFamilyOf(ip: string): Family | undefined {
  if (!ipaddr.isValid(ip)) return undefined;
  return ipaddr.parse(ip).kind() === 'ipv6' ? 'IPv6' : 'IPv4';
}

/** Normalised text form of an IP (`10.180.00.001` -> `10.180.0.1`), or undefined if invalid. */
export function normalizeIP(ip: string): string | undefined {
  const trimmed = ip.trim();
  if (/^\d+\.\d+\.\d+\.\d+$/.test(trimmed)) {
    const parts = trimmed.split('.').map((p) => Number.parseInt(p, 10));
    if (parts.some((p) => p > 255)) return undefined;
    return parts.join('.');
  }
  if (!ipaddr.IPv6.isValid(trimmed)) return undefined;
  return ipaddr.IPv6.parse(trimmed).toString();
}

function cidrFamily(cidr: string): Family | undefined {
  const slash = cidr.indexOf('/');
  return ipFamilyOf(slash >= 0 ? cidr.slice(0, slash) : cidr);
}

export function servicePortNameString(namespace: string, name: string, portName: string): string {
  return portName ? `${namespace}/${name}:${portName}` : `${namespace}/${name}`;
}

export function servicePortKey(nameString: string, protocol: Protocol): string {
  return `${nameString}/${protocol}`;
}

/**
 * The service ports of one Service in one IP family, as kube-proxy's service change tracker
 * builds them. Headless, ExternalName and wrong-family services produce none.
 */
export function servicePortsFor(svc: Service | undefined, family: Family): ServicePortInfo[] {
  if (!svc?.spec) return [];
  const spec = svc.spec;
  if (spec.type === 'ExternalName') return [];
  const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  let clusterIP: string | undefined;
  for (const ip of clusterIPs) {
    if (ip === 'None' || ip === '') continue;
    const n = normalizeIP(ip);
    if (n && ipFamilyOf(n) === family) {
      clusterIP = n;
      break;
    }
  }
  if (!clusterIP) return [];
  const namespace = svc.metadata.namespace ?? 'default';
  const name = svc.metadata.name ?? '';
  const ofFamily = (ips: string[] | undefined): string[] => {
    const out: string[] = [];
    for (const ip of ips ?? []) {
      const n = normalizeIP(ip);
      if (n && ipFamilyOf(n) === family && !out.includes(n)) out.push(n);
    }
    return out;
  };
  const externalIPs = ofFamily(spec.externalIPs);
  const lbIPs =
    spec.type === 'LoadBalancer' ? ofFamily((svc.status?.loadBalancer?.ingress ?? []).filter((i) => i.ip && i.ipMode !== 'Proxy').map((i) => i.ip!)) : [];
  const sourceRanges = (spec.loadBalancerSourceRanges ?? []).map((c) => c.trim()).filter((c) => cidrFamily(c) === family);
  const externalPolicyLocal = (spec.type === 'NodePort' || spec.type === 'LoadBalancer') && spec.externalTrafficPolicy === 'Local';
  const affinity = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : undefined;
  const out: ServicePortInfo[] = [];
  for (const p of spec.ports ?? []) {
    const protocol = p.protocol ?? 'TCP';
    const portName = p.name ?? '';
    const nameString = servicePortNameString(namespace, name, portName);
    out.push({
      namespace,
      name,
      portName,
      protocol,
      nameString,
      key: servicePortKey(nameString, protocol),
      clusterIP,
      port: p.port,
      nodePort: spec.type === 'NodePort' || spec.type === 'LoadBalancer' ? (p.nodePort ?? 0) : 0,
      externalIPs,
      loadBalancerVIPs: lbIPs,
      loadBalancerSourceRanges: sourceRanges,
      sessionAffinityTimeout: affinity,
      externalPolicyLocal,
      internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
      healthCheckNodePort: externalPolicyLocal && spec.type === 'LoadBalancer' ? (spec.healthCheckNodePort ?? 0) : 0,
    });
  }
  return out;
}
