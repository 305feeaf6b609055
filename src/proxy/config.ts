// Validated proxy configuration, shared by `kubeplane proxy` and `kubeplane proxy render`.
import type { Family } from './model/types.js';

export type ProxyMode = 'iptables' | 'nftables' | 'ipvs';

export interface ProxyConfig {
  mode: ProxyMode;
  nodeName: string;
  /** node IPs, any family; each family's proxier uses its own */
  nodeIPs: string[];
  clusterCIDRs: string[];
  /** ServiceCIDRs (nftables drops traffic to unallocated ClusterIPs inside them) */
  serviceCIDRs: string[];
  masqueradeAll: boolean;
  masqueradeBit: number;
  /** CIDRs, or ['primary'] (nftables default); [] means every local address (iptables default) */
  nodePortAddresses: string[];
  localhostNodePorts: boolean;
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  healthzBindAddress: string;
  metricsBindAddress: string;
}

export function familyOfCidr(cidr: string): Family {
  return cidr.includes(':') ? 'IPv6' : 'IPv4';
}

export function ofFamily(values: readonly string[], family: Family): string[] {
  return values.filter((v) => familyOfCidr(v) === family);
}
