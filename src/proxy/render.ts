// The full-sync payload for a fixed set of objects: what `kubeplane proxy render` prints.
import type { KubeObject } from '../api/types.js';
import type { ProxyConfig } from './config.js';
import { ofFamily } from './config.js';
import { masqueradeMark } from './iptables/names.js';
import { renderIptables, type IptablesRenderConfig } from './iptables/render.js';
import { stateFromObjects } from './model/snapshot.js';
import type { Family } from './model/types.js';
import { nftablesText, renderNftables, type NftablesRenderConfig } from './nftables/render.js';
import { renderIpvs } from './ipvs/render.js';

export function families(cfg: ProxyConfig): Family[] {
  const fams = new Set<Family>();
  for (const ip of cfg.nodeIPs) fams.add(ip.includes(':') ? 'IPv6' : 'IPv4');
  if (fams.size === 0) fams.add('IPv4');
  return (['IPv4', 'IPv6'] as Family[]).filter((f) => fams.has(f));
}

export function iptablesConfig(cfg: ProxyConfig, family: Family, extra: Partial<IptablesRenderConfig> = {}): IptablesRenderConfig {
  const npa = ofFamily(cfg.nodePortAddresses.filter((a) => a !== 'primary'), family);
  const nodeIPs = ofFamily(cfg.nodeIPs, family);
  return {
    family,
    nodeIPs,
    clusterCIDR: ofFamily(cfg.clusterCIDRs, family)[0],
    masqueradeAll: cfg.masqueradeAll,
    masqueradeMark: masqueradeMark(cfg.masqueradeBit),
    localhostNodePorts: cfg.localhostNodePorts,
    nodePortAddresses: cfg.nodePortAddresses.includes('primary') ? nodeIPs : npa.length ? nodeIPs.filter((ip) => npa.some((c) => ipInCidrText(ip, c))) : 'all',
    randomFully: true,
    nfacct: false,
    conntrackTCPLiberal: false,
    ...extra,
  };
}

export function nftablesConfig(cfg: ProxyConfig, family: Family): NftablesRenderConfig {
  const nodeIPs = ofFamily(cfg.nodeIPs, family);
  const npa = ofFamily(cfg.nodePortAddresses.filter((a) => a !== 'primary'), family);
  return {
    family,
    nodeIPs,
    clusterCIDR: ofFamily(cfg.clusterCIDRs, family)[0],
    serviceCIDRs: ofFamily(cfg.serviceCIDRs, family),
    masqueradeAll: cfg.masqueradeAll,
    masqueradeMark: '0x' + (1 << cfg.masqueradeBit >>> 0).toString(16),
    // nftables mode defaults to the node's primary IPs rather than every local address.
    nodePortIPs: npa.length ? nodeIPs.filter((ip) => npa.some((c) => ipInCidrText(ip, c))) : nodeIPs,
  };
}

function ipInCidrText(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  if (ip.includes(':') !== net!.includes(':')) return false;
  const toBits = (a: string): string =>
    a.includes(':')
      ? expand6(a).map((g) => parseInt(g, 16).toString(2).padStart(16, '0')).join('')
      : a.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join('');
  const n = Number(bits ?? (ip.includes(':') ? 128 : 32));
  return toBits(ip).slice(0, n) === toBits(net!).slice(0, n);
}

function expand6(a: string): string[] {
  const [h, t] = a.split('::');
  const head = h ? h.split(':') : [];
  const tail = t ? t.split(':') : [];
  return a.includes('::') ? [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail] : head;
}

/** Every family's full-sync payload, each headed by a comment naming the program it feeds. */
export function renderFullSync(objects: readonly KubeObject[], cfg: ProxyConfig): string {
  let out = '';
  for (const family of families(cfg)) {
    const state = stateFromObjects(objects, family, cfg.nodeName);
    if (cfg.mode === 'iptables') {
      out += `# ${family === 'IPv4' ? 'iptables-restore' : 'ip6tables-restore'} --noflush\n`;
      out += renderIptables({ services: state.services, endpoints: state.endpoints, node: state.node }, iptablesConfig(cfg, family)).text;
    } else if (cfg.mode === 'nftables') {
      out += `# nft -f -\n`;
      out += nftablesText(renderNftables(state, nftablesConfig(cfg, family)));
    } else {
      out += renderIpvs(state, iptablesConfig(cfg, family));
    }
  }
  return out;
}
