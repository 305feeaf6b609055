// The nftables ruleset for one IP family, as kube-proxy's nftables proxier builds it: table
// `kube-proxy`, verdict maps for dispatch, one chain per service port and per endpoint.
// Rendered as structured desired state, so the runner can diff elements and chains and send
// only what changed; nftablesText() gives the full-sync script.

import { categorizeEndpoints } from '../model/topology.js';
import { externallyAccessible, usesClusterEndpoints, usesLocalEndpoints, type EndpointsMap, type Family, type NodeTopology, type ServicePortInfo, type ServicePortMap } from '../model/types.js';
import { hashAndTruncate, servicePortChainNameBase, servicePortEndpointChainNameBase } from './names.js';

export const TABLE = 'kube-proxy';

export interface NftablesRenderConfig {
  family: Family;
  nodeIPs: string[];
  clusterCIDR: string | undefined;
  serviceCIDRs: string[];
  masqueradeAll: boolean;
  /** e.g. `0x4000` */
  masqueradeMark: string;
  /** addresses accepting NodePort traffic (nftables mode: the primary node IPs by default) */
  nodePortIPs: string[];
}

export interface NftChain {
  rules: string[];
}

export interface NftState {
  family: 'ip' | 'ip6';
  /** table, sets, maps, base and helper chains: rewritten on full syncs only */
  base: string[];
  /** names of chains declared in `base` (flushed on full syncs) */
  baseChains: string[];
  /** per-service and per-endpoint chains */
  chains: Map<string, NftChain>;
  /** affinity sets: name -> declaration body */
  sets: Map<string, string>;
  /** set/map name -> element key -> element text inside `{ }` */
  elements: Map<string, Map<string, string>>;
  counts: { noLocalInternal: number; noLocalExternal: number };
}

function addElement(state: NftState, set: string, key: string, text: string): void {
  let m = state.elements.get(set);
  if (!m) state.elements.set(set, (m = new Map()));
  m.set(key, text);
}

const ELEMENT_SETS = ['cluster-ips', 'nodeport-ips', 'service-ips', 'service-nodeports', 'no-endpoint-services', 'no-endpoint-nodeports', 'firewall-ips'];

function baseObjects(cfg: NftablesRenderConfig, fam: 'ip' | 'ip6'): { lines: string[]; chains: string[] } {
  const p = `${fam} ${TABLE}`;
  const addr = cfg.family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr';
  const daddr = cfg.family === 'IPv4' ? 'ip daddr' : 'ip6 daddr';
  const m = cfg.masqueradeMark;
  const chains = [
    'cluster-ips-check',
    'filter-prerouting-pre-dnat',
    'filter-output-pre-dnat',
    'filter-forward',
    'filter-input',
    'filter-output',
    'firewall-check',
    'mark-for-masquerade',
    'masquerading',
    'nat-output',
    'nat-postrouting',
    'nat-prerouting',
    'nodeport-endpoints-check',
    'reject-chain',
    'services',
    'service-endpoints-check',
  ];
  const hook: Record<string, string> = {
    'filter-prerouting-pre-dnat': ' { type filter hook prerouting priority -110 ; }',
    'filter-output-pre-dnat': ' { type filter hook output priority -110 ; }',
    'filter-forward': ' { type filter hook forward priority 0 ; }',
    'filter-input': ' { type filter hook input priority 0 ; }',
    'filter-output': ' { type filter hook output priority 0 ; }',
    'nat-output': ' { type nat hook output priority -100 ; }',
    'nat-postrouting': ' { type nat hook postrouting priority 100 ; }',
    'nat-prerouting': ' { type nat hook prerouting priority -100 ; }',
    'reject-chain': ' { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }',
  };
  const lines = [
    `add table ${p} { comment "rules for kube-proxy" ; }`,
    `add set ${p} cluster-ips { type ${addr} ; comment "Active ClusterIPs" ; }`,
    `add set ${p} nodeport-ips { type ${addr} ; comment "IPs that accept NodePort traffic" ; }`,
    `add map ${p} firewall-ips { type ${addr} . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
    `add map ${p} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
    `add map ${p} no-endpoint-services { type ${addr} . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    `add map ${p} service-ips { type ${addr} . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${p} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
    ...chains.map((c) => `add chain ${p} ${c}${hook[c] ?? ''}`),
    `add rule ${p} cluster-ips-check ${daddr} @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`,
    ...(cfg.serviceCIDRs.length ? [`add rule ${p} cluster-ips-check ${daddr} { ${cfg.serviceCIDRs.join(', ')} } drop comment "Drop traffic to unallocated ClusterIPs"`] : []),
    `add rule ${p} filter-prerouting-pre-dnat ct state new jump firewall-check`,
    `add rule ${p} filter-forward ct state new jump service-endpoints-check`,
    `add rule ${p} filter-forward ct state new jump cluster-ips-check`,
    `add rule ${p} filter-input ct state new jump nodeport-endpoints-check`,
    `add rule ${p} filter-input ct state new jump service-endpoints-check`,
    `add rule ${p} filter-output ct state new jump service-endpoints-check`,
    `add rule ${p} filter-output-pre-dnat ct state new jump firewall-check`,
    `add rule ${p} filter-output ct state new jump cluster-ips-check`,
    `add rule ${p} firewall-check ${daddr} . meta l4proto . th dport vmap @firewall-ips`,
    `add rule ${p} mark-for-masquerade mark set mark or ${m}`,
    `add rule ${p} masquerading mark and ${m} == 0 return`,
    `add rule ${p} masquerading mark set mark xor ${m}`,
    `add rule ${p} masquerading masquerade fully-random`,
    `add rule ${p} nat-output jump services`,
    `add rule ${p} nat-postrouting jump masquerading`,
    `add rule ${p} nat-prerouting jump services`,
    `add rule ${p} nodeport-endpoints-check ${daddr} @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`,
    `add rule ${p} reject-chain reject`,
    `add rule ${p} services ${daddr} . meta l4proto . th dport vmap @service-ips`,
    `add rule ${p} services ${daddr} @nodeport-ips meta l4proto . th dport vmap @service-nodeports`,
    `add rule ${p} service-endpoints-check ${daddr} . meta l4proto . th dport vmap @no-endpoint-services`,
  ];
  return { lines, chains };
}

/** An empty state holding only the base objects (and the node's NodePort addresses). */
export function emptyNftState(cfg: NftablesRenderConfig): NftState {
  const fam = cfg.family === 'IPv4' ? 'ip' : 'ip6';
  const base = baseObjects(cfg, fam);
  const state: NftState = { family: fam, base: base.lines, baseChains: base.chains, chains: new Map(), sets: new Map(), elements: new Map(), counts: { noLocalInternal: 0, noLocalExternal: 0 } };
  for (const s of ELEMENT_SETS) state.elements.set(s, new Map());
  for (const ip of cfg.nodePortIPs) addElement(state, 'nodeport-ips', ip, ip);
  return state;
}

/** One service port's chains, sets and elements: the unit partial syncs recompute and diff. */
export type NftFragment = Pick<NftState, 'chains' | 'sets' | 'elements' | 'counts'>;

export function renderServicePortFragment(svc: ServicePortInfo, input: { endpoints: EndpointsMap; node: NodeTopology }, cfg: NftablesRenderConfig): NftFragment {
  const f: NftFragment = { chains: new Map(), sets: new Map(), elements: new Map(), counts: { noLocalInternal: 0, noLocalExternal: 0 } };
  writeServicePort(f as NftState, svc, input, cfg);
  return f;
}

/** Adds fragments into a state (in the given order). */
export function mergeFragments(state: NftState, fragments: Iterable<NftFragment>): NftState {
  for (const f of fragments) {
    for (const [k, v] of f.chains) state.chains.set(k, v);
    for (const [k, v] of f.sets) state.sets.set(k, v);
    for (const [set, elems] of f.elements) for (const [k, v] of elems) addElement(state, set, k, v);
    state.counts.noLocalInternal += f.counts.noLocalInternal;
    state.counts.noLocalExternal += f.counts.noLocalExternal;
  }
  return state;
}

export function renderNftables(input: { services: ServicePortMap; endpoints: EndpointsMap; node: NodeTopology }, cfg: NftablesRenderConfig): NftState {
  const state = emptyNftState(cfg);
  const keys = [...input.services.keys()].sort();
  return mergeFragments(
    state,
    keys.map((key) => renderServicePortFragment(input.services.get(key)!, input, cfg)),
  );
}

function writeServicePort(state: NftState, svc: ServicePortInfo, input: { endpoints: EndpointsMap; node: NodeTopology }, cfg: NftablesRenderConfig): void {
  const ipx = cfg.family === 'IPv4' ? 'ip' : 'ip6';
  const addrType = cfg.family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr';
  const proto = svc.protocol.toLowerCase();
  const baseName = servicePortChainNameBase(svc.namespace, svc.name, svc.protocol, svc.portName);
  const hashed = hashAndTruncate(baseName);
  const clusterChain = `service-${hashed}`;
  const localChain = `local-${hashed}`;
  const externalChain = `external-${hashed}`;
  const firewallChain = `firewall-${hashed}`;
  const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints: hasEndpoints } = categorizeEndpoints(input.endpoints.get(svc.key) ?? [], svc, input.node);
  const usesCluster = clusterEndpoints.length > 0 && usesClusterEndpoints(svc);
  const usesLocal = localEndpoints.length > 0 && usesLocalEndpoints(svc);
  let internalChain = clusterChain;
  let hasInternal = hasEndpoints;
  if (svc.internalPolicyLocal) {
    internalChain = localChain;
    if (localEndpoints.length === 0) hasInternal = false;
  }
  let externalPolicyChain = clusterChain;
  let hasExternal = hasEndpoints;
  if (svc.externalPolicyLocal) {
    externalPolicyChain = localChain;
    if (localEndpoints.length === 0) hasExternal = false;
  }
  const usesExternal = hasEndpoints && externallyAccessible(svc);
  const usesFirewall = hasEndpoints && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  let internalVerdict = '';
  let externalVerdict = '';
  if (!hasEndpoints) internalVerdict = externalVerdict = 'goto reject-chain';
  else {
    if (!hasInternal) {
      internalVerdict = 'drop';
      state.counts.noLocalInternal++;
    }
    if (!hasExternal) {
      externalVerdict = 'drop';
      state.counts.noLocalExternal++;
    }
  }
  const comment = `comment "${svc.nameString}"`;
  const port = svc.port;
  addElement(state, 'cluster-ips', svc.clusterIP, svc.clusterIP);
  const k = (ip: string): string => `${ip} . ${proto} . ${port}`;
  if (hasInternal) addElement(state, 'service-ips', k(svc.clusterIP), `${k(svc.clusterIP)} : goto ${internalChain}`);
  else addElement(state, 'no-endpoint-services', k(svc.clusterIP), `${k(svc.clusterIP)} ${comment} : ${internalVerdict}`);
  for (const ip of [...svc.externalIPs, ...svc.loadBalancerVIPs]) {
    if (usesExternal) addElement(state, 'service-ips', k(ip), `${k(ip)} : goto ${externalChain}`);
    if (!hasExternal) addElement(state, 'no-endpoint-services', k(ip), `${k(ip)} ${comment} : ${externalVerdict}`);
  }
  if (svc.nodePort !== 0) {
    const nk = `${proto} . ${svc.nodePort}`;
    if (usesExternal) addElement(state, 'service-nodeports', nk, `${nk} : goto ${externalChain}`);
    if (!hasExternal) addElement(state, 'no-endpoint-nodeports', nk, `${nk} ${comment} : ${externalVerdict}`);
  }
  if (usesFirewall) {
    // The source-range check runs before DNAT, in filter prerouting, via @firewall-ips.
    const ranges = [...svc.loadBalancerSourceRanges];
    if (cfg.nodeIPs.some((ip) => svc.loadBalancerSourceRanges.some((c) => cidrHas(c, ip)))) ranges.push(...svc.loadBalancerVIPs);
    state.chains.set(firewallChain, { rules: [`${ipx} saddr != { ${ranges.join(', ')} } drop`] });
    for (const ip of svc.loadBalancerVIPs) addElement(state, 'firewall-ips', k(ip), `${k(ip)} : goto ${firewallChain}`);
  }
  const masqRule = (): string | undefined => {
    if (cfg.masqueradeAll) return `${ipx} daddr ${svc.clusterIP} jump mark-for-masquerade`;
    if (cfg.clusterCIDR) return `${ipx} daddr ${svc.clusterIP} ${ipx} saddr != ${cfg.clusterCIDR} jump mark-for-masquerade`;
    return undefined;
  };
  const epChain = (ip: string, p: number): string => `endpoint-${hashAndTruncate(servicePortEndpointChainNameBase(baseName, ip, p))}`;
  const affinitySet = (ip: string, p: number): string => `affinity-${hashAndTruncate(servicePortEndpointChainNameBase(baseName, ip, p))}`;
  const dispatch = (chain: string, eps: typeof clusterEndpoints): void => {
    const rules: string[] = [];
    if (chain === internalChain && hasInternal) {
      const m = masqRule();
      if (m) rules.push(m);
    }
    if (svc.sessionAffinityTimeout !== undefined) for (const ep of eps) rules.push(`${ipx} saddr @${affinitySet(ep.ip, ep.port)} goto ${epChain(ep.ip, ep.port)}`);
    rules.push(`numgen random mod ${eps.length} vmap { ${eps.map((ep, i) => `${i} : goto ${epChain(ep.ip, ep.port)}`).join(' , ')} }`);
    state.chains.set(chain, { rules });
  };
  if (usesCluster) dispatch(clusterChain, clusterEndpoints);
  if (usesLocal) dispatch(localChain, localEndpoints);
  if (usesExternal) {
    const rules: string[] = [];
    if (!svc.externalPolicyLocal) {
      rules.push('jump mark-for-masquerade');
    } else {
      if (cfg.clusterCIDR) rules.push(`${ipx} saddr ${cfg.clusterCIDR} goto ${clusterChain} comment "short-circuit pod traffic"`);
      rules.push('fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"');
      rules.push(`fib saddr type local goto ${clusterChain} comment "short-circuit local traffic"`);
    }
    if (hasExternal) rules.push(`goto ${externalPolicyChain}`);
    state.chains.set(externalChain, { rules });
  }
  for (const ep of allReachableEndpoints) {
    const rules = [`${ipx} saddr ${ep.ip} jump mark-for-masquerade`];
    if (svc.sessionAffinityTimeout !== undefined) {
      const set = affinitySet(ep.ip, ep.port);
      state.sets.set(set, `{ type ${addrType} ; flags dynamic,timeout ; timeout ${svc.sessionAffinityTimeout}s ; }`);
      rules.push(`update @${set} { ${ipx} saddr }`);
    }
    rules.push(`meta l4proto ${proto} dnat to ${ep.endpoint}`);
    state.chains.set(epChain(ep.ip, ep.port), { rules });
  }
}

function cidrHas(cidr: string, ip: string): boolean {
  const [net, bitsText] = cidr.split('/');
  if (!net || ip.includes(':') !== net.includes(':') || ip.includes(':')) return false;
  const toNum = (a: string): number => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const bits = Number(bitsText ?? 32);
  const div = 2 ** (32 - bits);
  return Math.floor(toNum(ip) / div) === Math.floor(toNum(net) / div);
}

/** The full-sync script: base objects, then each chain with its rules, sets and elements. */
export function nftablesText(state: NftState): string {
  const p = `${state.family} ${TABLE}`;
  const out = [...state.base];
  for (const [name, body] of [...state.sets].sort(([a], [b]) => (a < b ? -1 : 1))) out.push(`add set ${p} ${name} ${body}`);
  for (const [name, chain] of state.chains) {
    out.push(`add chain ${p} ${name}`);
    for (const r of chain.rules) out.push(`add rule ${p} ${name} ${r}`);
  }
  for (const [set, elems] of state.elements) for (const text of elems.values()) out.push(`add element ${p} ${set} { ${text} }`);
  return out.join('\n') + '\n';
}
