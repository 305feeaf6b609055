// The proxy's model of the node's view of Services: plain data derived from the informer
// caches, shared by every renderer (iptables, nftables, ipvs).

import type { IPFamily, Protocol } from '../../api/types.js';

/** `namespace/name`: the Service a port or endpoint belongs to. */
export type ServiceKey = string;

/** One Service port in one IP family, as kube-proxy's ServicePort. */
export interface ServicePortInfo {
  namespace: string;
  name: string;
  portName: string;
  protocol: Protocol;
  /** `ns/name` or `ns/name:port`: kube-proxy's ServicePortName.String() */
  nameString: string;
  /** map key: nameString + '/' + protocol, unique per service port */
  key: string;
  clusterIP: string;
  port: number;
  nodePort: number;
  externalIPs: string[];
  loadBalancerVIPs: string[];
  loadBalancerSourceRanges: string[];
  sessionAffinityTimeout: number | undefined;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  healthCheckNodePort: number;
}

export interface EndpointInfo {
  ip: string;
  port: number;
  /** `ip:port`, `[ip]:port` for IPv6 (Go net.JoinHostPort) */
  endpoint: string;
  isLocal: boolean;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  zoneHints: string[] | undefined;
  nodeName: string;
}

/** service port key -> port */
export type ServicePortMap = Map<string, ServicePortInfo>;
/** service port key -> endpoints, sorted by `ip:port` */
export type EndpointsMap = Map<string, EndpointInfo[]>;

export interface NodeTopology {
  name: string;
  zone: string | undefined;
}

export type Family = IPFamily;

export function externallyAccessible(s: ServicePortInfo): boolean {
  return s.nodePort !== 0 || s.loadBalancerVIPs.length > 0 || s.externalIPs.length > 0;
}

export function usesClusterEndpoints(s: ServicePortInfo): boolean {
  return !s.internalPolicyLocal || (externallyAccessible(s) && !s.externalPolicyLocal);
}

export function usesLocalEndpoints(s: ServicePortInfo): boolean {
  return s.internalPolicyLocal || (externallyAccessible(s) && s.externalPolicyLocal);
}
