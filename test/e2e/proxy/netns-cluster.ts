// A small cluster made of network namespaces, for real-packet tests:
//   fabric ns: bridge `br0` joining every node and every external client (node network 192.168.<net>.0/24)
//   node ns:   eth0 on the fabric, bridge `cbr0` (10.244.<i>.1/24) joining its pods, routes to other nodes' pod CIDRs
//   pod ns:    eth0 on the node's cbr0, default route via the node
//   client ns: eth0 on the fabric, no route to pods (plays a host outside the cluster)
// Every name carries the creating process's pid; destroy() removes everything, also after failures.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface PodSpec {
  name: string;
  /** last octet inside the node's pod CIDR */
  host: number;
}

export interface NodeSpec {
  name: string;
  pods: PodSpec[];
}

export interface ClusterSpec {
  /** short area prefix, e.g. 'pxy' */
  prefix: string;
  nodes: NodeSpec[];
  clients: string[];
  /** third octet of the node network */
  net?: number;
}

export interface ClusterNode {
  name: string;
  ns: string;
  ip: string;
  podCIDR: string;
}

export interface ClusterPod {
  name: string;
  ns: string;
  ip: string;
  node: string;
}

export interface ClusterClient {
  name: string;
  ns: string;
  ip: string;
}

function sh(args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class NetnsCluster {
  readonly nodes: ClusterNode[] = [];
  readonly pods: ClusterPod[] = [];
  readonly clients: ClusterClient[] = [];
  readonly fabric: string;
  private readonly namespaces: string[] = [];
  private readonly processes: ChildProcess[] = [];
  private readonly tag: string;

  constructor(private readonly spec: ClusterSpec) {
    this.tag = `${spec.prefix}${process.pid % 100000}`;
    this.fabric = `${this.tag}-fabric`;
  }

  private addNs(name: string): string {
    sh(['ip', 'netns', 'add', name]);
    this.namespaces.push(name);
    sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** veth pair `a` (in nsA) <-> `b` (in nsB); names <= 15 chars. */
  private veth(nsA: string, a: string, nsB: string, b: string): void {
    const tmpA = `${this.tag}t${this.namespaces.length}a`.slice(0, 15);
    const tmpB = `${this.tag}t${this.namespaces.length}b`.slice(0, 15);
    sh(['ip', 'link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
    sh(['ip', 'link', 'set', tmpA, 'netns', nsA]);
    sh(['ip', 'link', 'set', tmpB, 'netns', nsB]);
    sh(['ip', '-n', nsA, 'link', 'set', tmpA, 'name', a]);
    sh(['ip', '-n', nsB, 'link', 'set', tmpB, 'name', b]);
    sh(['ip', '-n', nsA, 'link', 'set', a, 'up']);
    sh(['ip', '-n', nsB, 'link', 'set', b, 'up']);
  }

  create(): this {
    const net = this.spec.net ?? 77;
    this.addNs(this.fabric);
    sh(['ip', '-n', this.fabric, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', this.fabric, 'link', 'set', 'br0', 'up']);
    let port = 0;
    const attach = (ns: string, ip: string): void => {
      const p = `p${port++}`;
      this.veth(ns, 'eth0', this.fabric, p);
      sh(['ip', '-n', this.fabric, 'link', 'set', p, 'master', 'br0']);
      sh(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    };
    this.spec.nodes.forEach((n, i) => {
      const ns = this.addNs(`${this.tag}-${n.name}`);
      const ip = `192.168.${net}.${11 + i}`;
      attach(ns, ip);
      const podCIDR = `10.244.${i + 1}.0/24`;
      sh(['ip', '-n', ns, 'link', 'add', 'cbr0', 'type', 'bridge']);
      sh(['ip', '-n', ns, 'addr', 'add', `10.244.${i + 1}.1/24`, 'dev', 'cbr0']);
      sh(['ip', '-n', ns, 'link', 'set', 'cbr0', 'up']);
      for (const k of ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']) sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', k]);
      this.nodes.push({ name: n.name, ns, ip, podCIDR });
      n.pods.forEach((p, j) => {
        const pns = this.addNs(`${this.tag}-${p.name}`);
        const pip = `10.244.${i + 1}.${p.host}`;
        this.veth(pns, 'eth0', ns, `v${j}`);
        sh(['ip', '-n', ns, 'link', 'set', `v${j}`, 'master', 'cbr0']);
        sh(['ip', '-n', pns, 'addr', 'add', `${pip}/24`, 'dev', 'eth0']);
        sh(['ip', '-n', pns, 'route', 'add', 'default', 'via', `10.244.${i + 1}.1`]);
        this.pods.push({ name: p.name, ns: pns, ip: pip, node: n.name });
      });
    });
    for (const a of this.nodes) for (const b of this.nodes) if (a !== b) sh(['ip', '-n', a.ns, 'route', 'add', b.podCIDR, 'via', b.ip]);
    this.spec.clients.forEach((c, i) => {
      const ns = this.addNs(`${this.tag}-${c}`);
      const ip = `192.168.${net}.${100 + i}`;
      attach(ns, ip);
      this.clients.push({ name: c, ns, ip });
    });
    return this;
  }

  node(name: string): ClusterNode {
    return this.nodes.find((n) => n.name === name)!;
  }
  pod(name: string): ClusterPod {
    return this.pods.find((p) => p.name === name)!;
  }
  client(name: string): ClusterClient {
    return this.clients.find((c) => c.name === name)!;
  }

  /** Starts a long-running program inside a namespace; destroy() stops it by pid. */
  spawnIn(ns: string, cmd: string, args: string[]): ChildProcess & { output: () => string } {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    this.processes.push(child);
    return Object.assign(child, { output: () => out });
  }

  /** Runs a command in a namespace to completion. */
  exec(ns: string, cmd: string, args: string[], timeoutMs = 10_000): { code: number; stdout: string; stderr: string } {
    try {
      const stdout = execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
      return { code: 0, stdout, stderr: '' };
    } catch (err) {
      const e = err as { status?: number; stdout?: string; stderr?: string };
      return { code: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  async stopProcess(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  async destroy(): Promise<void> {
    for (const p of this.processes) await this.stopProcess(p).catch(() => undefined);
    for (const ns of this.namespaces.reverse()) {
      try {
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  }
}
