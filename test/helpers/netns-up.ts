// A real N-node cluster for a test: `kubeplane up --pods=netns` as a child process (root).
//
//   import { startNetnsCluster } from '../../helpers/netns-up.js';
//   describeE2E('my area', NETNS_CLUSTER_NEEDS, () => {
//     let c: NetnsCluster;
//     beforeAll(async () => { c = await startNetnsCluster({ nodes: 2, tag: 'myarea' }); }, 60_000);
//     afterAll(async () => { await c?.stop(); });   // throws if a namespace with its prefix is left
//     it('...', async () => {
//       await c.kubectlOk(['create', 'deployment', ...]);
//       await c.execInPod('web-abc', ['curl', '-s', 'http://10.244.0.2:8080/']);   // runs inside the pod's netns
//       await c.execInNode('kubeplane-node-0', ['iptables-save']);                    // inside a node's netns
//       await c.addNode('big', { capacity: { cpu: '64' } });                            // one more node, later
//       const ext = await c.addExternalClient('ext');   // a host on the node network, not a node
//       await runCommand('ip', ['netns', 'exec', ext.ns, 'curl', `http://192.168.100.10:${nodePort}/`]);
//     });
//   });
//
// Nodes are named kubeplane-node-<K>; their namespaces `<prefix>-node-<K>`, pods' `<prefix>-pod-<N>`
// (a pod's containerID is netns://<its namespace>/<container>/<pid>). Each node namespace runs
// `kubeplane node` (Service proxy + DNS on :53, pods' nameserver) unless dataPlane: false.
// A chart's image runs the local build with args: ['--image-command', `IMAGE=${process.execPath} ${kubeplaneBin}`].
// Container output lands in <dir>/state/netns/pods/<ns>_<pod>_<uid>/<container>.log (podLog()).
// The API server, DNS/ingress of `up` itself are off or on loopback; DNS forwarding goes to
// 127.0.0.1:9 (nothing), so no test traffic leaves the machine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, startKubeplane, stopProcess, waitFor, type RunResult } from './cli.js';
import type { E2ENeeds } from './e2e.js';

export const NETNS_CLUSTER_NEEDS: E2ENeeds = { root: true, netns: true, commands: ['kubectl', 'curl', 'iptables-restore'] };

export interface NetnsClusterOptions {
  nodes?: number;
  /** short (<= 6 chars, lowercase letters/digits) name of the test; the pid is appended */
  tag: string;
  /** run `kubeplane node` in every node namespace (default true) */
  dataPlane?: boolean;
  proxyMode?: 'iptables' | 'nftables';
  /** third octet of the node network 192.168.<net>.0/24 (default 100) */
  net?: number;
  /** more `kubeplane up` flags */
  args?: string[];
}

export interface NetnsCluster {
  prefix: string;
  dir: string;
  kubeconfig: string;
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  /** kubectl that throws with its stderr when it fails */
  kubectlOk(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  /** the network namespace of a node, by Node name (kubeplane-node-K, or one addNode made) */
  nodeNs(nodeName: string): string;
  /**
   * Adds a node to the running cluster: creates a Node labelled kubeplane.io/sandbox=netns
   * (with this capacity and these labels), which `up` adopts; resolves once it is Ready with a podCIDR.
   */
  addNode(name: string, opts?: { capacity?: Record<string, string>; labels?: Record<string, string> }): Promise<void>;
  /**
   * A namespace that plays a machine outside the cluster on the node network (eth0 on the
   * fabric bridge, 192.168.<net>.200+, no route to pods): a NodePort or load balancer client.
   * Removed by stop().
   */
  addExternalClient(name: string): Promise<ExternalClient>;
  /** the network namespace of a running pod (from its containerID) */
  podNs(pod: string, namespace?: string): Promise<string>;
  execInPod(pod: string, cmd: string[], opts?: { namespace?: string; timeoutMs?: number }): Promise<RunResult>;
  execInNode(nodeName: string, cmd: string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  /** what a pod's container wrote so far */
  podLog(pod: string, container: string, namespace?: string): string;
  /** `kubeplane up`'s own output */
  output(): string;
  /** SIGKILLs `kubeplane up` and leaves its namespaces (for crash tests); stop() still cleans up */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

export interface ExternalClient {
  ns: string;
  ip: string;
}

function netnsWithPrefix(prefix: string): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(`${prefix}-`));
}

/** Kills every process in, and deletes, each namespace named `<prefix>-*`; returns their names. */
export function removeNetnsWithPrefix(prefix: string): string[] {
  const left = netnsWithPrefix(prefix);
  for (const ns of left) {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
  if (existsSync('/etc/netns')) for (const ns of readdirSync('/etc/netns').filter((n) => n.startsWith(`${prefix}-`))) rmSync(join('/etc/netns', ns), { recursive: true, force: true });
  return left;
}

export async function startNetnsCluster(opts: NetnsClusterOptions): Promise<NetnsCluster> {
  if (!/^[a-z][a-z0-9]{0,5}$/.test(opts.tag)) throw new Error(`tag "${opts.tag}": want 1-6 lowercase letters/digits`);
  const prefix = `${opts.tag}${process.pid % 100000}`;
  const nodes = opts.nodes ?? 2;
  const dir = mkdtempSync(join(tmpdir(), `kp-${opts.tag}-`));
  const args = ['up', '--pods', 'netns', '--nodes', String(nodes), '--netns-prefix', prefix, '--netns-node-cidr', `192.168.${opts.net ?? 100}.0/24`,
    '--secure-port', '0', '--data-dir', join(dir, 'state'), '--dns-bind', 'off', '--http-bind', 'off', '--https-bind', 'off', '--upstream', '127.0.0.1:9',
    `--netns-data-plane=${opts.dataPlane ?? true}`, '--netns-proxy-mode', opts.proxyMode ?? 'iptables', ...(opts.args ?? [])];
  const up = startKubeplane(args);
  let kubeconfig = '';
  const kubectl = (a: string[], o: { input?: string; timeoutMs?: number } = {}) =>
    runCommand('/usr/bin/kubectl', ['--cache-dir', join(dir, 'kubectl-cache'), ...a], { env: { KUBECONFIG: kubeconfig, HOME: dir }, input: o.input, timeoutMs: o.timeoutMs ?? 60_000 });
  const kubectlOk = async (a: string[], o: { input?: string; timeoutMs?: number } = {}) => {
    const r = await kubectl(a, o);
    if (r.code !== 0) throw new Error(`kubectl ${a.join(' ')}: ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  const podNs = async (pod: string, namespace = 'default') => {
    const id = (await kubectlOk(['get', 'pod', pod, '-n', namespace, '-o', 'jsonpath={.status.containerStatuses[0].containerID}'])).trim();
    const m = /^netns:\/\/([^/]+)\//.exec(id);
    if (!m) throw new Error(`pod ${namespace}/${pod} has no netns container yet (containerID "${id}")`);
    return m[1]!;
  };
  const added = new Map<string, string>();
  const nodeNs = (nodeName: string) => {
    const known = added.get(nodeName);
    if (known) return known;
    const m = /-(\d+)$/.exec(nodeName);
    if (!m) throw new Error(`not a netns node name: ${nodeName}`);
    return `${prefix}-node-${m[1]}`;
  };
  let stopped = false;
  let crashed = false;
  const clients: string[] = [];
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Ours, not `up`'s: gone before `up` is checked for leftovers.
    for (const ns of clients.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    await stopProcess(up, 30_000);
    if (crashed) {
      // A crash leaves everything behind by design; a run that follows may have removed it already.
      removeNetnsWithPrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    const left = removeNetnsWithPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
    // Cleaned up anyway, but a leftover is a bug in `up`'s shutdown.
    if (left.length) throw new Error(`kubeplane up left namespaces behind: ${left.join(', ')}`);
  };
  try {
    kubeconfig = await waitFor(() => /export KUBECONFIG=(\S+)/.exec(up.output())?.[1] ?? (up.exitCode !== null ? Promise.reject(new Error(up.output())) : undefined), { timeoutMs: 60_000, what: 'kubeplane up' });
    await waitFor(
      async () => {
        const r = await kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.spec.podCIDR}{"\\n"}{end}']);
        return r.code === 0 && r.stdout.split('\n').filter(Boolean).length === nodes;
      },
      { timeoutMs: 30_000, what: `${nodes} nodes with a podCIDR` },
    );
  } catch (err) {
    const out = up.output();
    await stop().catch(() => undefined);
    throw new Error(`${(err as Error).message}\n${out}`);
  }
  return {
    prefix,
    dir,
    kubeconfig,
    kubectl,
    kubectlOk,
    nodeNs,
    podNs,
    async execInPod(pod, cmd, o = {}) {
      return runCommand('ip', ['netns', 'exec', await podNs(pod, o.namespace), ...cmd], { timeoutMs: o.timeoutMs ?? 20_000 });
    },
    execInNode(nodeName, cmd, o = {}) {
      return runCommand('ip', ['netns', 'exec', nodeNs(nodeName), ...cmd], { timeoutMs: o.timeoutMs ?? 20_000 });
    },
    podLog(pod, container, namespace = 'default') {
      const base = join(dir, 'state', 'netns', 'pods');
      const d = readdirSync(base).find((n) => n.startsWith(`${namespace}_${pod}_`));
      return d ? readFileSync(join(base, d, `${container}.log`), 'utf8') : '';
    },
    async addNode(name, o = {}) {
      const node = { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { ...(o.labels ?? {}), 'kubeplane.io/sandbox': 'netns' } }, ...(o.capacity ? { status: { capacity: o.capacity } } : {}) };
      await kubectlOk(['create', '-f', '-'], { input: JSON.stringify(node) });
      const ns = await waitFor(
        async () => {
          const r = await kubectl(['get', 'node', name, '-o', 'jsonpath={.metadata.annotations.kubeplane\\.io/netns} {.spec.podCIDR} {.status.conditions[?(@.type=="Ready")].status}']);
          const [annotation, podCIDR, ready] = r.stdout.trim().split(' ');
          return r.code === 0 && annotation && podCIDR && ready === 'True' ? annotation : undefined;
        },
        { timeoutMs: 30_000, what: `node ${name} adopted, Ready, with a podCIDR` },
      );
      added.set(name, ns);
    },
    async addExternalClient(name) {
      if (!/^[a-z][a-z0-9]{0,5}$/.test(name)) throw new Error(`external client "${name}": want 1-6 lowercase letters/digits`);
      const ns = `${prefix}-x-${name}`;
      const ip = `192.168.${opts.net ?? 100}.${200 + clients.length}`;
      const veth = `x${clients.length}`;
      const run = async (args: string[]) => {
        const r = await runCommand('ip', args);
        if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
      };
      await run(['netns', 'add', ns]);
      clients.push(ns);
      await run(['-n', ns, 'link', 'set', 'lo', 'up']);
      await run(['-n', `${prefix}-fabric`, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await run(['-n', `${prefix}-fabric`, 'link', 'set', veth, 'master', 'br0', 'up']);
      await run(['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      await run(['-n', ns, 'link', 'set', 'eth0', 'up']);
      return { ns, ip };
    },
    output: () => up.output(),
    async crash() {
      crashed = true;
      await new Promise<void>((res) => {
        if (up.exitCode !== null || up.signalCode !== null) return res();
        up.once('exit', () => res());
        up.kill('SIGKILL');
      });
    },
    stop,
  };
}
