// iptables-restore input for one IP family, rule for rule as kube-proxy's iptables proxier
// writes it (pkg/proxy/iptables/proxier.go syncProxyRules), cut into per-chain-kind functions.
// Pure: same model in, same bytes out.

import { categorizeEndpoints } from '../model/topology.js';
import { externallyAccessible, type EndpointInfo, type EndpointsMap, type Family, type NodeTopology, type ServiceKey, type ServicePortInfo, type ServicePortMap } from '../model/types.js';
import { LineBuffer } from '../util/line-buffer.js';
import { endpointChainName, externalChainName, firewallChainName, isServiceChainName, localChainName, probability, serviceChainName } from './names.js';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_FIREWALL = 'KUBE-FIREWALL';
export const KUBE_PROXY_CANARY = 'KUBE-PROXY-CANARY';

/** Above this many endpoints kube-proxy drops per-endpoint comments to keep restores small. */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

export interface IptablesRenderConfig {
  family: Family;
  /** this node's IPs of the family (LB source ranges containing one allow hairpin via the LB IP) */
  nodeIPs: string[];
  /** the local-traffic detector: `-s CIDR` / `! -s CIDR` for the cluster CIDR of the family; undefined = none */
  clusterCIDR: string | undefined;
  masqueradeAll: boolean;
  /** as formatted by masqueradeMark() */
  masqueradeMark: string;
  localhostNodePorts: boolean;
  /** 'all' = `-m addrtype --dst-type LOCAL`; else one KUBE-NODEPORTS jump per address */
  nodePortAddresses: 'all' | string[];
  randomFully: boolean;
  /** nfacct counters available (kube-proxy adds them to two rules when the kernel has nfacct) */
  nfacct: boolean;
  conntrackTCPLiberal: boolean;
}

export interface IptablesRenderInput {
  services: ServicePortMap;
  endpoints: EndpointsMap;
  node: NodeTopology;
  /** undefined: full sync; otherwise only these Services' chains are rewritten */
  changedServices?: ReadonlySet<ServiceKey>;
  /** nat chains present in the kernel, from iptables-save: stale service chains among them are deleted */
  existingNatChains?: Iterable<string>;
  /**
   * Partial syncs: what the last syncs programmed for each Service. Given, the partial sync
   * edits the chains every Service shares (nat KUBE-SERVICES and KUBE-NODEPORTS; filter
   * KUBE-SERVICES, KUBE-EXTERNAL-SERVICES, KUBE-NODEPORTS, KUBE-PROXY-FIREWALL) in place instead
   * of redeclaring (flushing) and rewriting them whole: the rules that went away are deleted by
   * their exact spec (`-D`), new ones are inserted at the top of nat KUBE-SERVICES (the
   * nodeports jump stays last) or appended elsewhere. Each of those rules matches its own
   * destination and port, so where it sits changes nothing, and the next full sync writes
   * kube-proxy's order again. Only the changed Services are looked at: cost follows the change.
   */
  programmed?: ProgrammedRules;
}

export interface ProgrammedRules {
  /** Service -> service port key -> what the kernel holds for that port */
  byService: ReadonlyMap<ServiceKey, ReadonlyMap<string, PortRules>>;
  /** each Service's current port keys (the change tracker's index) */
  portKeysByService: ReadonlyMap<ServiceKey, readonly string[]>;
  /** the last sync's rule counts, carried forward by the changed ports' differences */
  totals: RuleTotals;
}

/** What one service port contributes: its shared-chain rules (`-A CHAIN ...` lines), its own chains, counts. */
export interface PortRules {
  nat: readonly string[];
  filter: readonly string[];
  chains: readonly string[];
  /** nat rules in total: shared-chain ones and its own chains' */
  natRules: number;
  noLocalInternal: number;
  noLocalExternal: number;
}

export interface RuleTotals {
  filterRules: number;
  natRulesTotal: number;
  noLocalEndpointsInternal: number;
  noLocalEndpointsExternal: number;
}

export interface IptablesRenderResult {
  text: string;
  /** nat chains in use (a partial sync in place: the changed Services' only) */
  activeNatChains: Set<string>;
  filterRules: number;
  /** nat rules in the full ruleset, including ones a partial sync skipped */
  natRulesTotal: number;
  natRulesWritten: number;
  deletedChains: number;
  noLocalEndpointsInternal: number;
  noLocalEndpointsExternal: number;
  largeClusterMode: boolean;
  /** per Service, per port: after a full sync every Service's, after a partial sync the changed ones' (empty: gone) */
  ports: Map<ServiceKey, Map<string, PortRules>>;
}

function q(comment: string): string {
  return `"${comment}"`;
}

interface Buffers {
  filterChains: LineBuffer;
  filterRules: LineBuffer;
  natChains: LineBuffer;
  natRules: LineBuffer;
}

function writeTopLevel(b: Buffers, cfg: IptablesRenderConfig): void {
  for (const c of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL]) b.filterChains.write(`:${c} - [0:0]`);
  for (const c of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) b.natChains.write(`:${c} - [0:0]`);
  const mark = cfg.masqueradeMark;
  b.natRules.write('-A', KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  // Clearing the mark keeps a packet that re-traverses the stack from being masqueraded twice.
  b.natRules.write('-A', KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', mark);
  b.natRules.write('-A', KUBE_POSTROUTING, '-m', 'comment', '--comment', q('kubernetes service traffic requiring SNAT'), '-j', 'MASQUERADE', cfg.randomFully ? ['--random-fully'] : []);
  b.natRules.write('-A', KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', mark);
  if (cfg.family === 'IPv4' && cfg.localhostNodePorts) {
    // route_localnet opens 127/8 to remote hosts (CVE-2020-8558); this drop closes it.
    b.filterChains.write(`:${KUBE_FIREWALL} - [0:0]`);
    b.filterRules.write('-A', KUBE_FIREWALL, '-m', 'comment', '--comment', q('block incoming localnet connections'), '-d', '127.0.0.0/8', '!', '-s', '127.0.0.0/8', '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'DROP');
  }
}

function cidrContains(cidr: string, ip: string): boolean {
  try {
    // ipaddr.js is loaded lazily by the caller's module graph anyway; keep this local and cheap.
    const [net, bitsText] = cidr.split('/');
    return ipInCidr(ip, net!, Number(bitsText ?? (ip.includes(':') ? 128 : 32)));
  } catch {
    return false;
  }
}

function ipToBigInt(ip: string): bigint | undefined {
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const fill = ip.includes('::') ? 8 - h.length - t.length : 0;
    const groups = [...h, ...Array(fill).fill('0'), ...t];
    if (groups.length !== 8) return undefined;
    return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  }
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function ipInCidr(ip: string, net: string, bits: number): boolean {
  if (ip.includes(':') !== net.includes(':')) return false;
  const width = ip.includes(':') ? 128 : 32;
  const a = ipToBigInt(ip);
  const b = ipToBigInt(net);
  if (a === undefined || b === undefined) return false;
  const shift = BigInt(width - bits);
  return a >> shift === b >> shift;
}

/** Renders the whole restore payload (`*filter` then `*nat`) for one sync. */
export function renderIptables(input: IptablesRenderInput, cfg: IptablesRenderConfig): IptablesRenderResult {
  if (input.changedServices !== undefined && input.programmed !== undefined) return renderInPlace(input, input.changedServices, input.programmed, cfg);
  const { lines, ...rest } = renderIptablesLines(input, cfg);
  let text = '';
  for (const l of lines()) text += l + '\n';
  return { text, ...rest };
}

/** The payload of a sync that writes the shared chains whole (full syncs), one line at a time. */
export interface IptablesRenderStream extends Omit<IptablesRenderResult, 'text'> {
  /** the payload's lines, without newlines; each call renders them again */
  lines: () => Generator<string>;
}

/**
 * renderIptables() for full syncs (and partial syncs without `programmed`), as lines rendered
 * on demand: the services' own chains, most of a ruleset, are rendered while they are written
 * and dropped, never held whole (at 10,000 services the payload is ~18 MB of text). Counts,
 * chain names and shared-chain rules come from a first pass over the cached service outputs.
 */
export function renderIptablesLines(input: IptablesRenderInput, cfg: IptablesRenderConfig): IptablesRenderStream {
  const head: Buffers = { filterChains: new LineBuffer(), filterRules: new LineBuffer(), natChains: new LineBuffer(), natRules: new LineBuffer() };
  writeTopLevel(head, cfg);
  const activeNatChains = new Set<string>();
  const largeClusterMode = isLargeCluster(input);
  let noLocalInternal = 0;
  let noLocalExternal = 0;
  const keys = [...input.services.keys()].sort();
  let skippedRules = 0;
  let filterRules = head.filterRules.lineCount;
  let natLines = head.natRules.lineCount;
  const ports = new Map<ServiceKey, Map<string, PortRules>>();
  /** services whose own chains are written (all, or a partial sync's changed ones) */
  const written: string[] = [];
  for (const key of keys) {
    const svc = input.services.get(key)!;
    // Unchanged services' chains are left out of a partial restore; their rules still count.
    const serviceKey = `${svc.namespace}/${svc.name}`;
    const skip = input.changedServices !== undefined && !input.changedServices.has(serviceKey);
    const out = serviceOutput(svc, input.endpoints.get(key) ?? EMPTY, input, cfg, largeClusterMode, false);
    noLocalInternal += out.noLocalInternal;
    noLocalExternal += out.noLocalExternal;
    for (const c of out.active) activeNatChains.add(c);
    filterRules += out.filterRules.length;
    natLines += out.natTop.length;
    if (skip) {
      skippedRules += out.chainRules;
      continue;
    }
    setPort(ports, serviceKey, key, out);
    written.push(key);
    natLines += out.chainRules;
  }
  const stale = input.existingNatChains ? [...input.existingNatChains].filter((c) => isServiceChainName(c) && !activeNatChains.has(c)).sort() : [];
  const deletedChains = stale.length;
  natLines += deletedChains;
  const tail: Buffers = { filterChains: new LineBuffer(), filterRules: new LineBuffer(), natChains: new LineBuffer(), natRules: new LineBuffer() };
  writeNodePortsJump(tail, cfg);
  writeForward(tail, cfg);
  filterRules += tail.filterRules.lineCount;
  natLines += tail.natRules.lineCount;
  const writtenSet = new Set(written);
  const lines = function* (): Generator<string> {
    yield '*filter';
    yield* head.filterChains.lines();
    yield* head.filterRules.lines();
    for (const key of keys) yield* serviceOutput(input.services.get(key)!, input.endpoints.get(key) ?? EMPTY, input, cfg, largeClusterMode, false).filterRules;
    yield* tail.filterRules.lines();
    yield 'COMMIT';
    yield '*nat';
    yield* head.natChains.lines();
    // Each declaration pairs with a chain name in `active`, in the order they were written.
    for (const key of written) for (const c of serviceOutput(input.services.get(key)!, input.endpoints.get(key) ?? EMPTY, input, cfg, largeClusterMode, false).active) yield `:${c} - [0:0]`;
    // Declaring a stale chain flushes it, which -X needs.
    for (const c of stale) yield `:${c} - [0:0]`;
    yield* head.natRules.lines();
    for (const key of keys) {
      const svc = input.services.get(key)!;
      const eps = input.endpoints.get(key) ?? EMPTY;
      if (!writtenSet.has(key)) {
        yield* serviceOutput(svc, eps, input, cfg, largeClusterMode, false).natTop;
        continue;
      }
      const out = serviceOutput(svc, eps, input, cfg, largeClusterMode, true);
      yield* out.natTop;
      yield* out.natRules;
    }
    for (const c of stale) yield `-X ${c}`;
    yield* tail.natRules.lines();
    yield 'COMMIT';
  };
  return {
    lines,
    activeNatChains,
    filterRules,
    natRulesTotal: natLines + skippedRules - deletedChains,
    natRulesWritten: natLines - deletedChains,
    deletedChains,
    noLocalEndpointsInternal: noLocalInternal,
    noLocalEndpointsExternal: noLocalExternal,
    largeClusterMode,
    ports,
  };
}

function isLargeCluster(input: IptablesRenderInput): boolean {
  let totalEndpoints = 0;
  for (const key of input.services.keys()) totalEndpoints += input.endpoints.get(key)?.length ?? 0;
  return totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
}

function portRules(out: ServiceOutput): PortRules {
  return { nat: out.natTop, filter: out.filterRules, chains: out.active, natRules: out.natTop.length + out.chainRules, noLocalInternal: out.noLocalInternal, noLocalExternal: out.noLocalExternal };
}

function setPort(ports: Map<ServiceKey, Map<string, PortRules>>, serviceKey: ServiceKey, key: string, out: ServiceOutput): void {
  let m = ports.get(serviceKey);
  if (!m) ports.set(serviceKey, (m = new Map()));
  m.set(key, portRules(out));
}

/**
 * A partial sync that edits the shared chains in place (see `programmed`): only the changed
 * Services are rendered and compared with what was programmed for them. Payload: their own
 * chains redeclared (flushed) and refilled, `-D` of their shared-chain rules that went away
 * (before any `-X`: a chain can only go once nothing jumps to it), `-I KUBE-SERVICES 1` / `-A`
 * of the new ones, `-X` of their chains no longer used.
 */
function renderInPlace(input: IptablesRenderInput, changed: ReadonlySet<ServiceKey>, programmed: ProgrammedRules, cfg: IptablesRenderConfig): IptablesRenderResult {
  const largeClusterMode = isLargeCluster(input);
  const natChains = new LineBuffer();
  const natRules = new LineBuffer();
  const natDeletes: string[] = [];
  const natAdds: string[] = [];
  const filterDeletes: string[] = [];
  const filterAdds: string[] = [];
  const totals = { ...programmed.totals };
  const ports = new Map<ServiceKey, Map<string, PortRules>>();
  const active = new Set<string>();
  const wereActive = new Set<string>();
  const diff = (oldLines: readonly string[], newLines: readonly string[], deletes: string[], adds: string[], nat: boolean): void => {
    const keep = new Set(newLines);
    const had = new Set(oldLines);
    for (const l of oldLines) if (!keep.has(l)) deletes.push('-D' + l.slice(2));
    for (const l of newLines) {
      if (had.has(l)) continue;
      adds.push(nat && l.startsWith(`-A ${KUBE_SERVICES} `) ? `-I ${KUBE_SERVICES} 1 ${l.slice(KUBE_SERVICES.length + 4)}` : l);
    }
  };
  for (const serviceKey of [...changed].sort()) {
    const old = programmed.byService.get(serviceKey);
    const cur = new Map<string, PortRules>();
    for (const key of [...(programmed.portKeysByService.get(serviceKey) ?? EMPTY_LINES)].sort()) {
      const svc = input.services.get(key);
      if (!svc) continue;
      const out = serviceOutput(svc, input.endpoints.get(key) ?? EMPTY, input, cfg, largeClusterMode, true);
      cur.set(key, portRules(out));
      for (const l of out.natChains) natChains.writeLine(l);
      for (const l of out.natRules) natRules.writeLine(l);
      for (const c of out.active) active.add(c);
    }
    for (const key of new Set([...(old?.keys() ?? []), ...cur.keys()])) {
      const was = old?.get(key);
      const now = cur.get(key);
      diff(was?.nat ?? EMPTY_LINES, now?.nat ?? EMPTY_LINES, natDeletes, natAdds, true);
      diff(was?.filter ?? EMPTY_LINES, now?.filter ?? EMPTY_LINES, filterDeletes, filterAdds, false);
      for (const c of was?.chains ?? EMPTY_LINES) wereActive.add(c);
      totals.filterRules += (now?.filter.length ?? 0) - (was?.filter.length ?? 0);
      totals.natRulesTotal += (now?.natRules ?? 0) - (was?.natRules ?? 0);
      totals.noLocalEndpointsInternal += (now?.noLocalInternal ?? 0) - (was?.noLocalInternal ?? 0);
      totals.noLocalEndpointsExternal += (now?.noLocalExternal ?? 0) - (was?.noLocalExternal ?? 0);
    }
    ports.set(serviceKey, cur);
  }
  const stale = [...wereActive].filter((c) => !active.has(c)).sort();
  for (const c of stale) {
    natChains.write(`:${c} - [0:0]`);
    natRules.write('-X', c);
  }
  const natEdits = [...natDeletes, ...natAdds];
  const filterEdits = [...filterDeletes, ...filterAdds];
  const filter = filterEdits.length ? `*filter\n${filterEdits.join('\n')}\nCOMMIT\n` : '';
  const nat = natChains.lineCount || natEdits.length || natRules.lineCount ? `*nat\n${natChains.text()}${natEdits.length ? natEdits.join('\n') + '\n' : ''}${natRules.text()}COMMIT\n` : '';
  return {
    text: filter + nat,
    activeNatChains: active,
    ...totals,
    natRulesWritten: natRules.lineCount - stale.length + natAdds.length,
    deletedChains: stale.length,
    largeClusterMode,
    ports,
  };
}
const EMPTY_LINES: readonly string[] = [];

function writeNodePortsJump(b: Buffers, cfg: IptablesRenderConfig): void {
  const comment = q('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  if (cfg.nodePortAddresses === 'all') {
    const dest = ['-m', 'addrtype', '--dst-type', 'LOCAL'];
    if (cfg.family === 'IPv6') dest.push('!', '-d', '::1/128');
    else if (!cfg.localhostNodePorts) dest.push('!', '-d', '127.0.0.0/8');
    b.natRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', comment, dest, '-j', KUBE_NODEPORTS);
    return;
  }
  for (const ip of cfg.nodePortAddresses) {
    const loopback = ip === '::1' || ip.startsWith('127.');
    if (loopback && (cfg.family === 'IPv6' || !cfg.localhostNodePorts)) continue;
    b.natRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', comment, '-d', ip, '-j', KUBE_NODEPORTS);
  }
}

function writeForward(b: Buffers, cfg: IptablesRenderConfig): void {
  const mark = cfg.masqueradeMark;
  if (!cfg.conntrackTCPLiberal) {
    // Out-of-window packets skip reverse NAT and reach the host, which answers RST (kubernetes#74839).
    b.filterRules.write('-A', KUBE_FORWARD, '-m', 'conntrack', '--ctstate', 'INVALID', cfg.nfacct ? ['-m', 'nfacct', '--nfacct-name', 'ct_state_invalid_dropped_pkts'] : [], '-j', 'DROP');
  }
  b.filterRules.write('-A', KUBE_FORWARD, '-m', 'comment', '--comment', q('kubernetes forwarding rules'), '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT');
  b.filterRules.write('-A', KUBE_FORWARD, '-m', 'comment', '--comment', q('kubernetes forwarding conntrack rule'), '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT');
}

const EMPTY: EndpointInfo[] = [];

interface ServiceOutput {
  /** inputs the output was rendered from (identity): a partial sync reuses it while they are unchanged */
  eps: readonly EndpointInfo[];
  zone: string | undefined;
  largeClusterMode: boolean;
  filterRules: string[];
  /** this service's lines in the top-level nat chains (KUBE-SERVICES, KUBE-NODEPORTS) */
  natTop: string[];
  /** its own chains' declarations and rules: empty in the cached copy, see serviceOutput() */
  natChains: string[];
  natRules: string[];
  /** how many rules its own chains hold */
  chainRules: number;
  active: string[];
  noLocalInternal: number;
  noLocalExternal: number;
}

// Keyed by the ServicePortInfo object, which the change tracker replaces whenever the Service
// changes; endpoint arrays are likewise replaced on change. Rendering is pure, so an entry is
// valid while those inputs, the node zone and the comment mode are the same. Only what a sync
// that skips the service needs is kept (shared-chain lines, chain names, counts): its own
// chains are most of the ruleset (~100 MB of lines at 10,000 services) and are needed again
// only by full syncs, which re-render them; that costs far less than the restore they feed.
const outputCache = new WeakMap<ServicePortInfo, ServiceOutput>();

/** `withChains`: the caller writes the service's own chains (re-rendered unless just rendered). */
function serviceOutput(svc: ServicePortInfo, eps: readonly EndpointInfo[], input: IptablesRenderInput, cfg: IptablesRenderConfig, largeClusterMode: boolean, withChains: boolean): ServiceOutput {
  const cached = outputCache.get(svc);
  if (!withChains && cached && cached.eps === eps && cached.zone === input.node.zone && cached.largeClusterMode === largeClusterMode && cachedCfg.get(cached) === cfg) return cached;
  const filterRules = new LineBuffer();
  const natTop = new LineBuffer();
  const natChains = new LineBuffer();
  const natRules = new LineBuffer();
  const active = new Set<string>();
  const r = writeServicePort(svc, eps, input, cfg, { filterRules, natTop, natChains, natRules }, active, largeClusterMode);
  const out: ServiceOutput = {
    eps,
    zone: input.node.zone,
    largeClusterMode,
    filterRules: filterRules.lines(),
    natTop: natTop.lines(),
    natChains: [],
    natRules: [],
    chainRules: natRules.lineCount,
    active: [...active],
    ...r,
  };
  outputCache.set(svc, out);
  cachedCfg.set(out, cfg);
  return withChains ? { ...out, natChains: natChains.lines(), natRules: natRules.lines() } : out;
}
const cachedCfg = new WeakMap<ServiceOutput, IptablesRenderConfig>();

function writeServicePort(
  svc: ServicePortInfo,
  allEndpoints: readonly EndpointInfo[],
  input: IptablesRenderInput,
  cfg: IptablesRenderConfig,
  b: { filterRules: LineBuffer; natTop: LineBuffer; natChains: LineBuffer; natRules: LineBuffer },
  active: Set<string>,
  largeClusterMode: boolean,
): { noLocalInternal: number; noLocalExternal: number } {
  const proto = svc.protocol.toLowerCase();
  const name = svc.nameString;
  const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints: hasEndpoints } = categorizeEndpoints(allEndpoints, svc, input.node);
  const svcChain = serviceChainName(name, svc.protocol);
  const svlChain = localChainName(name, svc.protocol);
  const extChain = externalChainName(name, svc.protocol);
  const fwChain = firewallChainName(name, svc.protocol);
  const usesClusterChain = clusterEndpoints.length > 0 && (!svc.internalPolicyLocal || (externallyAccessible(svc) && !svc.externalPolicyLocal));
  const usesLocalChain = localEndpoints.length > 0 && (svc.internalPolicyLocal || (externallyAccessible(svc) && svc.externalPolicyLocal));
  let internalChain = svcChain;
  let hasInternal = hasEndpoints;
  if (svc.internalPolicyLocal) {
    internalChain = svlChain;
    if (localEndpoints.length === 0) hasInternal = false;
  }
  let externalPolicyChain = svcChain;
  let hasExternal = hasEndpoints;
  if (svc.externalPolicyLocal) {
    externalPolicyChain = svlChain;
    if (localEndpoints.length === 0) hasExternal = false;
  }
  // The EXT chain exists whenever there are endpoints anywhere: its short-circuit rules for
  // pod and host traffic matter even with no local endpoints.
  const usesExtChain = hasEndpoints && externallyAccessible(svc);
  const usesFwChain = hasEndpoints && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  const lbChain = usesFwChain ? fwChain : extChain;
  let internalTarget = '';
  let internalComment = '';
  let externalTarget = '';
  let externalComment = '';
  let noLocalInternal = 0;
  let noLocalExternal = 0;
  if (!hasEndpoints) {
    internalTarget = externalTarget = 'REJECT';
    internalComment = externalComment = q(`${name} has no endpoints`);
  } else {
    if (!hasInternal) {
      internalTarget = 'DROP';
      internalComment = q(`${name} has no local endpoints`);
      noLocalInternal = 1;
    }
    if (!hasExternal) {
      externalTarget = 'DROP';
      externalComment = q(`${name} has no local endpoints`);
      noLocalExternal = 1;
    }
  }
  const port = String(svc.port);
  const protoMatch = ['-m', proto, '-p', proto];
  if (hasInternal) b.natTop.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', q(`${name} cluster IP`), protoMatch, '-d', svc.clusterIP, '--dport', port, '-j', internalChain);
  else b.filterRules.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', internalComment, protoMatch, '-d', svc.clusterIP, '--dport', port, '-j', internalTarget);

  for (const ip of svc.externalIPs) {
    if (hasEndpoints) b.natTop.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', q(`${name} external IP`), protoMatch, '-d', ip, '--dport', port, '-j', extChain);
    if (!hasExternal) b.filterRules.write('-A', KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalComment, protoMatch, '-d', ip, '--dport', port, '-j', externalTarget);
  }
  for (const ip of svc.loadBalancerVIPs) {
    if (hasEndpoints) b.natTop.write('-A', KUBE_SERVICES, '-m', 'comment', '--comment', q(`${name} loadbalancer IP`), protoMatch, '-d', ip, '--dport', port, '-j', lbChain);
    if (usesFwChain) b.filterRules.write('-A', KUBE_PROXY_FIREWALL, '-m', 'comment', '--comment', q(`${name} traffic not accepted by ${fwChain}`), protoMatch, '-d', ip, '--dport', port, '-j', 'DROP');
  }
  if (!hasExternal) {
    for (const ip of svc.loadBalancerVIPs) b.filterRules.write('-A', KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalComment, protoMatch, '-d', ip, '--dport', port, '-j', externalTarget);
  }
  if (svc.nodePort !== 0) {
    const np = String(svc.nodePort);
    if (hasEndpoints) {
      if (cfg.localhostNodePorts && cfg.family === 'IPv4' && cfg.nfacct) {
        b.natTop.write('-A', KUBE_NODEPORTS, '-m', 'comment', '--comment', name, protoMatch, '-d', '127.0.0.0/8', '--dport', np, '-m', 'nfacct', '--nfacct-name', 'localhost_nps_accepted_pkts', '-j', extChain);
      }
      b.natTop.write('-A', KUBE_NODEPORTS, '-m', 'comment', '--comment', name, protoMatch, '--dport', np, '-j', extChain);
    }
    if (!hasExternal) b.filterRules.write('-A', KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalComment, '-m', 'addrtype', '--dst-type', 'LOCAL', protoMatch, '--dport', np, '-j', externalTarget);
  }
  if (svc.healthCheckNodePort !== 0) {
    b.filterRules.write('-A', KUBE_NODEPORTS, '-m', 'comment', '--comment', q(`${name} health check node port`), '-m', 'tcp', '-p', 'tcp', '--dport', String(svc.healthCheckNodePort), '-j', 'ACCEPT');
  }

  const natChains = b.natChains;
  const natRules = b.natRules;

  if (hasInternal) {
    const args = ['-m', 'comment', '--comment', q(`${name} cluster IP`), ...protoMatch, '-d', svc.clusterIP, '--dport', port];
    if (cfg.masqueradeAll) natRules.write('-A', internalChain, args, '-j', 'KUBE-MARK-MASQ');
    else if (cfg.clusterCIDR) natRules.write('-A', internalChain, args, '!', '-s', cfg.clusterCIDR, '-j', 'KUBE-MARK-MASQ');
  }
  if (usesExtChain) {
    natChains.write(`:${extChain} - [0:0]`);
    active.add(extChain);
    if (!svc.externalPolicyLocal) {
      natRules.write('-A', extChain, '-m', 'comment', '--comment', q(`masquerade traffic for ${name} external destinations`), '-j', 'KUBE-MARK-MASQ');
    } else {
      if (cfg.clusterCIDR) natRules.write('-A', extChain, '-m', 'comment', '--comment', q(`pod traffic for ${name} external destinations`), '-s', cfg.clusterCIDR, '-j', svcChain);
      natRules.write('-A', extChain, '-m', 'comment', '--comment', q(`masquerade LOCAL traffic for ${name} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', 'KUBE-MARK-MASQ');
      natRules.write('-A', extChain, '-m', 'comment', '--comment', q(`route LOCAL traffic for ${name} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', svcChain);
    }
    if (hasExternal) natRules.write('-A', extChain, '-j', externalPolicyChain);
  }
  if (usesFwChain) {
    natChains.write(`:${fwChain} - [0:0]`);
    active.add(fwChain);
    const args = ['-A', fwChain, '-m', 'comment', '--comment', q(`${name} loadbalancer IP`)];
    let allowFromNode = false;
    for (const cidr of svc.loadBalancerSourceRanges) {
      natRules.write(args, '-s', cidr, '-j', extChain);
      if (cfg.nodeIPs.some((ip) => cidrContains(cidr, ip))) allowFromNode = true;
    }
    if (allowFromNode) for (const ip of svc.loadBalancerVIPs) natRules.write(args, '-s', ip, '-j', extChain);
    natRules.write('-A', fwChain, '-m', 'comment', '--comment', q(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`));
  }
  if (usesClusterChain) {
    natChains.write(`:${svcChain} - [0:0]`);
    active.add(svcChain);
    writeServiceToEndpointRules(natRules, svc, svcChain, clusterEndpoints, largeClusterMode);
  }
  if (usesLocalChain) {
    natChains.write(`:${svlChain} - [0:0]`);
    active.add(svlChain);
    writeServiceToEndpointRules(natRules, svc, svlChain, localEndpoints, largeClusterMode);
  }
  for (const ep of allReachableEndpoints) {
    const sep = endpointChainName(name, svc.protocol, ep.endpoint);
    natChains.write(`:${sep} - [0:0]`);
    active.add(sep);
    const head = ['-A', sep, ...(largeClusterMode ? [] : ['-m', 'comment', '--comment', name])];
    // Hairpin: a pod reaching itself through the service must be masqueraded or its reply bypasses NAT.
    natRules.write(head, '-s', ep.ip, '-j', 'KUBE-MARK-MASQ');
    const affinity = svc.sessionAffinityTimeout !== undefined ? ['-m', 'recent', '--name', sep, '--set'] : [];
    natRules.write(head, affinity, '-m', proto, '-p', proto, '-j', 'DNAT', '--to-destination', ep.endpoint);
  }
  return { noLocalInternal, noLocalExternal };
}

function writeServiceToEndpointRules(natRules: LineBuffer, svc: ServicePortInfo, chain: string, endpoints: readonly EndpointInfo[], largeClusterMode: boolean): void {
  const name = svc.nameString;
  const comment = (ep: EndpointInfo): string[] => (largeClusterMode ? [] : ['-m', 'comment', '--comment', q(`${name} -> ${ep.endpoint}`)]);
  if (svc.sessionAffinityTimeout !== undefined) {
    for (const ep of endpoints) {
      const sep = endpointChainName(name, svc.protocol, ep.endpoint);
      natRules.write('-A', chain, comment(ep), '-m', 'recent', '--name', sep, '--rcheck', '--seconds', String(svc.sessionAffinityTimeout), '--reap', '-j', sep);
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const sep = endpointChainName(name, svc.protocol, ep.endpoint);
    if (i < n - 1) natRules.write('-A', chain, comment(ep), '-m', 'statistic', '--mode', 'random', '--probability', probability(n - i), '-j', sep);
    else natRules.write('-A', chain, comment(ep), '-j', sep);
  });
}
