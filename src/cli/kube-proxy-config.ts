// kube-proxy's --config file (KubeProxyConfiguration, kubeproxy.config.k8s.io/v1alpha1), so the
// ConfigMap an operator already has keeps working. Fields kubeplane does not use are ignored.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UsageError } from './command.js';
import { parseDuration } from './flags.js';
import type { ProxyConfig, ProxyMode } from '../proxy/config.js';

interface ModeSection {
  masqueradeAll?: boolean;
  masqueradeBit?: number;
  minSyncPeriod?: string;
  syncPeriod?: string;
  localhostNodePorts?: boolean;
}

interface KubeProxyConfiguration {
  apiVersion?: string;
  kind?: string;
  mode?: string;
  clusterCIDR?: string;
  hostnameOverride?: string;
  healthzBindAddress?: string;
  metricsBindAddress?: string;
  nodePortAddresses?: string[];
  iptables?: ModeSection;
  nftables?: ModeSection;
  ipvs?: ModeSection;
}

/** Overlays the file's settings on `base` (the flags' values), as kube-proxy lets --config win. */
export function applyKubeProxyConfiguration(base: ProxyConfig, path: string): ProxyConfig {
  let doc: KubeProxyConfiguration;
  try {
    doc = parse(readFileSync(path, 'utf8')) as KubeProxyConfiguration;
  } catch (err) {
    throw new UsageError(`cannot read --config ${path}: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || doc.kind !== 'KubeProxyConfiguration') throw new UsageError(`--config ${path}: not a KubeProxyConfiguration`);
  const cfg: ProxyConfig = { ...base };
  if (doc.mode) {
    if (doc.mode !== 'iptables' && doc.mode !== 'nftables' && doc.mode !== 'ipvs') throw new UsageError(`--config ${path}: mode "${doc.mode}" must be iptables, nftables or ipvs`);
    cfg.mode = doc.mode as ProxyMode;
  }
  if (doc.clusterCIDR) cfg.clusterCIDRs = doc.clusterCIDR.split(',').map((c) => c.trim()).filter(Boolean);
  if (doc.hostnameOverride) cfg.nodeName = doc.hostnameOverride;
  if (doc.healthzBindAddress !== undefined) cfg.healthzBindAddress = doc.healthzBindAddress;
  if (doc.metricsBindAddress !== undefined) cfg.metricsBindAddress = doc.metricsBindAddress;
  if (doc.nodePortAddresses) cfg.nodePortAddresses = doc.nodePortAddresses;
  const section = doc[cfg.mode] ?? {};
  const duration = (name: string, v: string | undefined, fallback: number): number => {
    if (v === undefined) return fallback;
    try {
      return parseDuration(v);
    } catch {
      throw new UsageError(`--config ${path}: ${cfg.mode}.${name} "${v}" is not a duration`);
    }
  };
  if (section.masqueradeAll !== undefined) cfg.masqueradeAll = section.masqueradeAll;
  if (section.masqueradeBit !== undefined) {
    if (!Number.isInteger(section.masqueradeBit) || section.masqueradeBit < 0 || section.masqueradeBit > 31) throw new UsageError(`--config ${path}: ${cfg.mode}.masqueradeBit must be in [0, 31]`);
    cfg.masqueradeBit = section.masqueradeBit;
  }
  if (section.localhostNodePorts !== undefined) cfg.localhostNodePorts = section.localhostNodePorts;
  cfg.minSyncPeriodMs = duration('minSyncPeriod', section.minSyncPeriod, cfg.minSyncPeriodMs);
  cfg.syncPeriodMs = duration('syncPeriod', section.syncPeriod, cfg.syncPeriodMs);
  return cfg;
}
