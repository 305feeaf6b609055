// The wiring of a netns cluster, as a CNI bridge plugin plus a flat node network would do it:
//   <prefix>-fabric   bridge br0 joining every node (the node network, e.g. 192.168.100.0/24); br0
//                     holds the network's first address and routes, as the network's router:
//                     every node's default route, a route to each podCIDR via its node
//   <prefix>-node-K   eth0 on the fabric (node IP), bridge cbr0 holding the first address of the
//                     node's podCIDR (the pods' gateway), a route to every other node's podCIDR
//   <prefix>-pod-N    eth0 on its node's cbr0, its IP from the podCIDR, default route via cbr0
// Every namespace name starts with `<prefix>-`, so leftovers of a crashed run are found by name
// and several clusters (tests) coexist on one machine.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostInCIDR } from '../../controllers/nodeipam/cidr-set.js';
import { deleteNamespace, execIn, ip, ipIn, listNamespaces } from './ip.js';

export const NETNS_ETC = '/etc/netns';

export interface NodeNet {
  index: number;
  ns: string;
  ip: string;
  podCIDR?: string;
  /** first address of the podCIDR, on cbr0 */
  gateway?: string;
}

export interface PodNet {
  ns: string;
  ip: string;
  /** the veth end in the node namespace */
  hostVeth: string;
}

/** Deletes every namespace (and its /etc/netns files) a previous run with this prefix left. */
export async function removeLeftovers(prefix: string): Promise<string[]> {
  const gone: string[] = [];
  for (const ns of await listNamespaces()) {
    if (!ns.startsWith(`${prefix}-`)) continue;
    await deleteNamespace(ns);
    rmSync(join(NETNS_ETC, ns), { recursive: true, force: true });
    gone.push(ns);
  }
  // resolv.conf files whose namespace went without them (a crash between the two deletions).
  let etc: string[] = [];
  try {
    etc = readdirSync(NETNS_ETC);
  } catch {
    // no /etc/netns at all
  }
  for (const name of etc) if (name.startsWith(`${prefix}-`)) rmSync(join(NETNS_ETC, name), { recursive: true, force: true });
  return gone;
}

export function namespacesWithPrefix(prefix: string): Promise<string[]> {
  return listNamespaces().then((all) => all.filter((n) => n.startsWith(`${prefix}-`)));
}

async function sysctl(ns: string, kv: string, optional = false): Promise<void> {
  try {
    await execIn(ns, 'sysctl', '-qw', kv);
  } catch (err) {
    if (!optional) throw err;
  }
}

/**
 * Makes a bridge keep its MAC address. A bridge whose address was never set takes the lowest
 * of its ports' addresses, so it changes as pods come and go; neighbours that cached the old
 * one (pods for their gateway, nodes for the router) then send into the void until their
 * entries age out. Docker pins docker0's address for the same reason.
 */
async function pinMac(ns: string, dev: string): Promise<void> {
  const [link] = JSON.parse(await ipIn(ns, '-j', 'link', 'show', 'dev', dev)) as { address?: string }[];
  if (!link?.address) throw new Error(`${dev} in ${ns} has no MAC address`);
  await ipIn(ns, 'link', 'set', 'dev', dev, 'address', link.address);
}

export class Fabric {
  readonly fabricNs: string;
  /** the node network's router (br0 in the fabric namespace): the nodes' default gateway */
  readonly gateway: string;
  private readonly nodes = new Map<number, NodeNet>();
  private readonly made = new Set<string>();
  private podSeq = 0;

  constructor(
    readonly prefix: string,
    /** the node network; node K gets host address 10+K */
    readonly nodeCIDR: string,
  ) {
    this.fabricNs = `${prefix}-fabric`;
    const gateway = hostInCIDR(nodeCIDR, 1);
    if (!gateway) throw new Error(`node network ${nodeCIDR} has no address for its router`);
    this.gateway = gateway;
  }

  private async addNs(name: string): Promise<void> {
    await ip('netns', 'add', name);
    this.made.add(name);
    await ipIn(name, 'link', 'set', 'lo', 'up');
  }

  async create(): Promise<void> {
    await this.addNs(this.fabricNs);
    await ipIn(this.fabricNs, 'link', 'add', 'br0', 'type', 'bridge');
    await pinMac(this.fabricNs, 'br0');
    await ipIn(this.fabricNs, 'link', 'set', 'br0', 'up');
    // A node without a default route drops traffic to a Service without endpoints in routing,
    // before kube-proxy's reject rules in the forward hook see it (a real node always has a
    // route there), and its own processes cannot connect to a ClusterIP at all. The router
    // answers what it cannot route with ICMP unreachable, as a node without a route did.
    await ipIn(this.fabricNs, 'addr', 'add', `${this.gateway}/${this.nodeCIDR.split('/')[1]}`, 'dev', 'br0');
    await sysctl(this.fabricNs, 'net.ipv4.ip_forward=1');
  }

  nodeNsName(index: number): string {
    return `${this.prefix}-node-${index}`;
  }

  node(index: number): NodeNet | undefined {
    return this.nodes.get(index);
  }

  async addNode(index: number): Promise<NodeNet> {
    const nodeIP = hostInCIDR(this.nodeCIDR, 10 + index);
    if (!nodeIP) throw new Error(`node network ${this.nodeCIDR} has no address for node ${index}`);
    const bits = this.nodeCIDR.split('/')[1];
    const ns = this.nodeNsName(index);
    await this.addNs(ns);
    await ipIn(this.fabricNs, 'link', 'add', `n${index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ipIn(this.fabricNs, 'link', 'set', `n${index}`, 'master', 'br0', 'up');
    await ipIn(ns, 'addr', 'add', `${nodeIP}/${bits}`, 'dev', 'eth0');
    await ipIn(ns, 'link', 'set', 'eth0', 'up');
    await ipIn(ns, 'route', 'add', 'default', 'via', this.gateway);
    await sysctl(ns, 'net.ipv4.ip_forward=1');
    await sysctl(ns, 'net.ipv4.conf.all.rp_filter=0');
    await sysctl(ns, 'net.ipv4.conf.default.rp_filter=0');
    // Pod-to-Service traffic answered by a pod on the same bridge must cross the node's
    // conntrack to be un-DNATed, as on a kubelet host with br_netfilter.
    await sysctl(ns, 'net.bridge.bridge-nf-call-iptables=1', true);
    const node: NodeNet = { index, ns, ip: nodeIP };
    this.nodes.set(index, node);
    return node;
  }

  /** Gives the node its pod bridge once IPAM assigned its podCIDR, and routes it cluster-wide. */
  async setPodCIDR(index: number, podCIDR: string): Promise<NodeNet> {
    const node = this.nodes.get(index);
    if (!node) throw new Error(`unknown node ${index}`);
    if (node.podCIDR === podCIDR) return node;
    if (node.podCIDR) throw new Error(`node ${index} already has podCIDR ${node.podCIDR}`);
    const gateway = hostInCIDR(podCIDR, 1);
    if (!gateway) throw new Error(`podCIDR ${podCIDR} has no gateway address`);
    await ipIn(node.ns, 'link', 'add', 'cbr0', 'type', 'bridge');
    await pinMac(node.ns, 'cbr0');
    await ipIn(node.ns, 'addr', 'add', `${gateway}/${podCIDR.split('/')[1]}`, 'dev', 'cbr0');
    await ipIn(node.ns, 'link', 'set', 'cbr0', 'up');
    node.podCIDR = podCIDR;
    node.gateway = gateway;
    // So the router can send its unreachables back to pods.
    await ipIn(this.fabricNs, 'route', 'replace', podCIDR, 'via', node.ip);
    for (const other of this.nodes.values()) {
      if (other === node || !other.podCIDR) continue;
      await ipIn(other.ns, 'route', 'replace', podCIDR, 'via', node.ip);
      await ipIn(node.ns, 'route', 'replace', other.podCIDR, 'via', other.ip);
    }
    return node;
  }

  /** Takes a node off the network: the other nodes' routes to its pods, then its namespace. */
  async removeNode(index: number): Promise<void> {
    const node = this.nodes.get(index);
    if (!node) return;
    this.nodes.delete(index);
    if (node.podCIDR) {
      for (const other of this.nodes.values()) await ipIn(other.ns, 'route', 'del', node.podCIDR).catch(() => undefined);
      await ipIn(this.fabricNs, 'route', 'del', node.podCIDR).catch(() => undefined);
    }
    // Its eth0 goes with the namespace, and with it the peer on the fabric bridge.
    await deleteNamespace(node.ns);
    rmSync(join(NETNS_ETC, node.ns), { recursive: true, force: true });
    this.made.delete(node.ns);
  }

  /** A pod namespace on the node's bridge with `podIP`. */
  async addPod(index: number, podIP: string): Promise<PodNet> {
    const node = this.nodes.get(index);
    if (!node?.podCIDR || !node.gateway) throw new Error(`node ${index} has no pod network yet`);
    const n = this.podSeq++;
    const ns = `${this.prefix}-pod-${n}`;
    const hostVeth = `veth${n}`;
    await this.addNs(ns);
    try {
      await ipIn(node.ns, 'link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      await ipIn(node.ns, 'link', 'set', hostVeth, 'master', 'cbr0', 'up');
      // A pod reaching itself through its Service's ClusterIP comes back on the same port.
      await ipIn(node.ns, 'link', 'set', hostVeth, 'type', 'bridge_slave', 'hairpin', 'on');
      await ipIn(ns, 'addr', 'add', `${podIP}/${node.podCIDR.split('/')[1]}`, 'dev', 'eth0');
      await ipIn(ns, 'link', 'set', 'eth0', 'up');
      await ipIn(ns, 'route', 'add', 'default', 'via', node.gateway);
      // The address may have been a gone pod's: the node must not keep sending to that pod's
      // MAC until its neighbour entry ages out (tens of seconds of failed probes and Service
      // traffic). A CNI bridge plugin sends a gratuitous ARP for the same reason.
      await ipIn(node.ns, 'neigh', 'flush', 'to', podIP, 'dev', 'cbr0');
    } catch (err) {
      await this.removePod(ns);
      throw err;
    }
    return { ns, ip: podIP, hostVeth };
  }

  /** `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf. */
  writeResolvConf(ns: string, text: string): void {
    mkdirSync(join(NETNS_ETC, ns), { recursive: true });
    writeFileSync(join(NETNS_ETC, ns, 'resolv.conf'), text);
  }

  async removePod(ns: string): Promise<void> {
    // Deleting the namespace destroys its veth end, and with it the peer on cbr0.
    await deleteNamespace(ns);
    rmSync(join(NETNS_ETC, ns), { recursive: true, force: true });
    this.made.delete(ns);
  }

  /** Deletes every namespace this fabric made: pods first, then nodes, then the fabric. */
  async destroy(): Promise<void> {
    const order = [...this.made].sort((a, b) => rank(a) - rank(b));
    for (const ns of order) {
      await deleteNamespace(ns).catch(() => undefined);
      rmSync(join(NETNS_ETC, ns), { recursive: true, force: true });
      this.made.delete(ns);
    }
    this.nodes.clear();
  }
}

function rank(ns: string): number {
  return ns.includes('-pod-') ? 0 : ns.endsWith('-fabric') ? 2 : 1;
}
