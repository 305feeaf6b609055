// IPVS mode as text: ipvsadm-restore input, `ipset restore` input, the kube-ipvs0 addresses and
// the helper iptables rules kube-proxy's IPVS proxier installs. These kernels have no IPVS, so
// this is rendered (and golden-tested) but applied only where the kernel has it.
import { categorizeEndpoints } from '../model/topology.js';
import type { ProxyState } from '../model/snapshot.js';
import type { IptablesRenderConfig } from '../iptables/render.js';
import type { ServicePortInfo } from '../model/types.js';

const SCHEDULER = 'rr';

interface IpsetDef {
  name: string;
  type: string;
  comment: string;
  entries: Set<string>;
}

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function protoFlag(p: ServicePortInfo['protocol']): string {
  return p === 'UDP' ? '-u' : p === 'SCTP' ? '--sctp-service' : '-t';
}

export function renderIpvs(state: ProxyState, cfg: IptablesRenderConfig): string {
  const fam = cfg.family === 'IPv6' ? 'inet6' : 'inet';
  const sets = new Map<string, IpsetDef>();
  const set = (name: string, type: string, comment: string): IpsetDef => {
    let s = sets.get(name);
    if (!s) sets.set(name, (s = { name, type, comment, entries: new Set() }));
    return s;
  };
  // Declared up front, as kube-proxy creates them all whether used or not.
  const loopBack = set('KUBE-LOOP-BACK', 'hash:ip,port,ip', 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose');
  const clusterIP = set('KUBE-CLUSTER-IP', 'hash:ip,port', 'Kubernetes service cluster ip + port for masquerade purpose');
  const externalIP = set('KUBE-EXTERNAL-IP', 'hash:ip,port', 'Kubernetes service external ip + port for masquerade and filter purpose');
  const externalIPLocal = set('KUBE-EXTERNAL-IP-LOCAL', 'hash:ip,port', 'Kubernetes service external ip + port with externalTrafficPolicy=local');
  const lb = set('KUBE-LOAD-BALANCER', 'hash:ip,port', 'Kubernetes service lb portal');
  const lbLocal = set('KUBE-LOAD-BALANCER-LOCAL', 'hash:ip,port', 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local');
  const lbFw = set('KUBE-LOAD-BALANCER-FW', 'hash:ip,port', 'Kubernetes service load balancer ip + port for load balancer with sourceRange');
  const lbSrcCidr = set('KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net', 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose');
  const npTCP = set('KUBE-NODE-PORT-TCP', 'bitmap:port', 'Kubernetes nodeport TCP port for masquerade purpose');
  const npLocalTCP = set('KUBE-NODE-PORT-LOCAL-TCP', 'bitmap:port', 'Kubernetes nodeport TCP port with externalTrafficPolicy=local');
  const npUDP = set('KUBE-NODE-PORT-UDP', 'bitmap:port', 'Kubernetes nodeport UDP port for masquerade purpose');
  const npLocalUDP = set('KUBE-NODE-PORT-LOCAL-UDP', 'bitmap:port', 'Kubernetes nodeport UDP port with externalTrafficPolicy=local');
  const hcnp = set('KUBE-HEALTH-CHECK-NODE-PORT', 'bitmap:port', 'Kubernetes health check node port');
  const ipvsIPs = set('KUBE-IPVS-IPS', 'hash:ip', 'Kubernetes service IP list');

  const ipvs: string[] = [];
  const addresses = new Set<string>();
  const nodeIPs = cfg.nodePortAddresses === 'all' ? cfg.nodeIPs : cfg.nodePortAddresses;
  for (const key of [...state.services.keys()].sort()) {
    const svc = state.services.get(key)!;
    const proto = svc.protocol.toLowerCase();
    const { clusterEndpoints, localEndpoints } = categorizeEndpoints(state.endpoints.get(key) ?? [], svc, state.node);
    const persistence = svc.sessionAffinityTimeout !== undefined ? ` -p ${svc.sessionAffinityTimeout}` : '';
    const virtualServer = (ip: string, port: number, eps: typeof clusterEndpoints): void => {
      const vs = `${protoFlag(svc.protocol)} ${hostPort(ip, port)}`;
      ipvs.push(`-A ${vs} -s ${SCHEDULER}${persistence}`);
      for (const ep of eps) ipvs.push(`-a ${vs} -r ${hostPort(ep.ip, ep.port)} -m -w 1`);
    };
    const internal = svc.internalPolicyLocal ? localEndpoints : clusterEndpoints;
    const external = svc.externalPolicyLocal ? localEndpoints : clusterEndpoints;
    for (const ep of [...clusterEndpoints, ...localEndpoints]) loopBack.entries.add(`${ep.ip},${proto}:${ep.port},${ep.ip}`);
    clusterIP.entries.add(`${svc.clusterIP},${proto}:${svc.port}`);
    ipvsIPs.entries.add(svc.clusterIP);
    addresses.add(svc.clusterIP);
    virtualServer(svc.clusterIP, svc.port, internal);
    for (const ip of svc.externalIPs) {
      (svc.externalPolicyLocal ? externalIPLocal : externalIP).entries.add(`${ip},${proto}:${svc.port}`);
      if (svc.externalPolicyLocal) externalIP.entries.add(`${ip},${proto}:${svc.port}`);
      ipvsIPs.entries.add(ip);
      addresses.add(ip);
      virtualServer(ip, svc.port, external);
    }
    for (const ip of svc.loadBalancerVIPs) {
      lb.entries.add(`${ip},${proto}:${svc.port}`);
      if (svc.externalPolicyLocal) lbLocal.entries.add(`${ip},${proto}:${svc.port}`);
      if (svc.loadBalancerSourceRanges.length) {
        lbFw.entries.add(`${ip},${proto}:${svc.port}`);
        for (const cidr of svc.loadBalancerSourceRanges) lbSrcCidr.entries.add(`${ip},${proto}:${svc.port},${cidr}`);
      }
      ipvsIPs.entries.add(ip);
      addresses.add(ip);
      virtualServer(ip, svc.port, external);
    }
    if (svc.nodePort) {
      if (svc.protocol === 'TCP') (svc.externalPolicyLocal ? npLocalTCP : npTCP).entries.add(String(svc.nodePort));
      if (svc.protocol === 'UDP') (svc.externalPolicyLocal ? npLocalUDP : npUDP).entries.add(String(svc.nodePort));
      for (const ip of nodeIPs) virtualServer(ip, svc.nodePort, external);
    }
    if (svc.healthCheckNodePort) hcnp.entries.add(String(svc.healthCheckNodePort));
  }

  const out: string[] = [`# ipvsadm-restore (${cfg.family})`, ...ipvs, `# ipset restore (${cfg.family})`];
  for (const s of sets.values()) {
    const opts = s.type === 'bitmap:port' ? 'range 0-65535' : `family ${fam} hashsize 1024 maxelem 65536`;
    out.push(`create ${s.name} ${s.type} ${opts} comment`);
    for (const e of [...s.entries].sort()) out.push(`add ${s.name} ${e} comment "${s.comment}"`);
  }
  out.push(`# kube-ipvs0 addresses (${cfg.family})`);
  for (const a of [...addresses].sort()) out.push(`ip addr add ${a}/${cfg.family === 'IPv6' ? 128 : 32} dev kube-ipvs0`);
  out.push(`# iptables-restore --noflush (${cfg.family})`, ...helperIptables(cfg));
  return out.join('\n') + '\n';
}

function helperIptables(cfg: IptablesRenderConfig): string[] {
  const m = cfg.masqueradeMark;
  const notLocal = cfg.masqueradeAll ? [] : cfg.clusterCIDR ? ['!', '-s', cfg.clusterCIDR] : [];
  const j = (...w: string[]): string => w.filter(Boolean).join(' ');
  return [
    '*filter',
    ':KUBE-FORWARD - [0:0]',
    ':KUBE-NODE-PORT - [0:0]',
    ':KUBE-PROXY-FIREWALL - [0:0]',
    ':KUBE-SOURCE-RANGES-FIREWALL - [0:0]',
    ':KUBE-IPVS-FILTER - [0:0]',
    ':KUBE-IPVS-OUT-FILTER - [0:0]',
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${m}/${m} -j ACCEPT`,
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A KUBE-NODE-PORT -m comment --comment "Kubernetes health check node port" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT',
    '-A KUBE-SOURCE-RANGES-FIREWALL -j DROP',
    '-A KUBE-PROXY-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port for load balancer with sourceRange" -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGES-FIREWALL',
    '-A KUBE-SOURCE-RANGES-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port + source cidr for packet filter purpose" -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN',
    '-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN',
    '-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN',
    '-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN',
    '-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN',
    '-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT',
    'COMMIT',
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-NODE-PORT - [0:0]',
    ':KUBE-LOAD-BALANCER - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    `-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE`,
    `-A KUBE-POSTROUTING -m mark ! --mark ${m}/${m} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${m}`,
    `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${cfg.randomFully ? ' --random-fully' : ''}`,
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${m}`,
    j('-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst', ...notLocal, '-j KUBE-MARK-MASQ'),
    '-A KUBE-SERVICES -m comment --comment "Kubernetes service external ip + port for masquerade and filter purpose" -m set --match-set KUBE-EXTERNAL-IP dst,dst -j KUBE-MARK-MASQ',
    '-A KUBE-SERVICES -m comment --comment "Kubernetes service lb portal" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER',
    '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT',
    '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT',
    '-A KUBE-SERVICES -m set --match-set KUBE-LOAD-BALANCER dst,dst -j ACCEPT',
    '-A KUBE-LOAD-BALANCER -m comment --comment "Kubernetes service load balancer ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN',
    '-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ',
    '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port with externalTrafficPolicy=local" -m set --match-set KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN',
    '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ',
    '-A KUBE-NODE-PORT -p udp -m comment --comment "Kubernetes nodeport UDP port with externalTrafficPolicy=local" -m set --match-set KUBE-NODE-PORT-LOCAL-UDP dst -j RETURN',
    '-A KUBE-NODE-PORT -p udp -m comment --comment "Kubernetes nodeport UDP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-UDP dst -j KUBE-MARK-MASQ',
    'COMMIT',
  ];
}
