// The netns node agent (`kubeplane up --pods=netns`): registers N Nodes, builds their network
// namespaces (network.ts) and plays the kubelet for every pod bound to them: a pod namespace
// with an IP from the node's podCIDR, its containers as processes (sandbox.ts), status written
// through pods/status, and on deletion SIGTERM, the grace period, SIGKILL, the namespace
// removed and the pod object deleted for good. In each node namespace a helper process
// (helper.ts) dials probes and relays the API server, and optionally `kubeplane node` runs
// the Service proxy and cluster DNS there, so pods resolve and reach Services.
// Nodes come and go through the API too: a Node created with kubeplane.io/sandbox=netns is
// adopted (its namespace built, marked Ready), and deleting one of ours takes it down.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Condition, KubeObject, Node, Pod } from '../../api/types.js';
import { resourceFor } from '../../api/resources.js';
import { ApiInformerFactory } from '../../client/api-informers.js';
import type { ClientConfig } from '../../client/config.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/errors.js';
import { RestClient } from '../../client/rest.js';
import { hostInCIDR } from '../../controllers/nodeipam/cidr-set.js';
import { runWorkers, WorkQueue } from '../../controllers/queue.js';
import { logger } from '../../observability/log.js';
import { NodeHelper } from './helper-client.js';
import { Fabric, removeLeftovers, type NodeNet } from './network.js';
import { PodSandbox } from './sandbox.js';
import { MountPoints, podVolumes } from './volumes.js';

const log = logger('netns-node');
const nodesResource = resourceFor('', 'nodes')!;
const podsResource = resourceFor('', 'pods')!;
const NODE_NAME_INDEX = 'nodeName';
const DEFAULT_CAPACITY = { cpu: '32', memory: '256Gi', pods: '110' };
/** Nodes with this label (value netns) are run by the agent: a Node created with it is adopted. */
export const NETNS_NODE_LABEL = 'kubeplane.io/sandbox';
/** The network namespace of a netns Node. */
export const NETNS_ANNOTATION = 'kubeplane.io/netns';

export interface NetnsDataPlane {
  /** the kubeconfig `kubeplane node` reads (its server is reached through the relay) */
  kubeconfig: string;
  clusterCIDR: string;
  proxyMode: 'iptables' | 'nftables';
  /** resolvers for names outside the cluster zone, as seen from inside the node namespace */
  upstream: string[];
}

export interface NetnsNodesOptions {
  client: ClientConfig;
  nodes: number;
  /** every namespace name starts with `${prefix}-` */
  prefix: string;
  /** node network; node K has host address 10+K */
  nodeCIDR: string;
  /** logs, the API relay socket, the proxy's state */
  stateDir: string;
  clusterDomain: string;
  namePrefix?: string;
  capacity?: Record<string, string>;
  dataPlane?: NetnsDataPlane;
  /** image repository -> the local command standing in for its ENTRYPOINT (`up --image-command`) */
  imageCommands?: Record<string, string[]>;
}

export interface RunningNetnsNodes {
  nodeNames(): string[];
  /** the network namespace of a node */
  nodeNamespace(name: string): string | undefined;
  /** the network namespace a pod's containers run in */
  podNamespace(namespace: string, name: string): string | undefined;
  addNode(): Promise<string>;
  stop(): Promise<void>;
}

interface OurNode {
  name: string;
  net: NodeNet;
  helper: NodeHelper;
  dataPlane?: ChildProcess;
  network?: Promise<void>;
  usedHosts: Set<number>;
  /** the pod address handed out last (its host number), where the next search starts */
  lastHost?: number;
  /** the Node object's uid, once registered */
  uid?: string;
  /** its Node object was deleted: being taken down, nothing restarts */
  released?: boolean;
}

interface PodRecord {
  uid: string;
  node: OurNode;
  sandbox: PodSandbox;
  podNs: string;
  host?: number;
  /** the pod namespace is ours to delete (not hostNetwork) */
  ownNs: boolean;
  terminating?: Promise<void>;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A sibling entry point, as dist/ (.js) or under tsx (.ts). */
function entryPoint(rel: string): string[] {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const path = resolve(dirname(here), `${rel}${ext}`);
  return ext === '.ts' ? ['--import', 'tsx', path] : [path];
}

/** Serves a Unix socket that pipes every connection to the API server's TCP address. */
function startApiRelay(socket: string, server: string): Promise<Server> {
  const url = new URL(server);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  rmSync(socket, { force: true });
  const srv = createServer((client) => {
    const upstream = createConnection({ host, port });
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  return new Promise((res, rej) => {
    srv.once('error', rej);
    srv.listen(socket, () => res(srv));
  });
}

export async function startNetnsNodes(opts: NetnsNodesOptions): Promise<RunningNetnsNodes> {
  opts = { ...opts, stateDir: resolve(opts.stateDir) };
  const client = new RestClient(opts.client, { userAgent: 'kubeplane-netns-node' });
  const namePrefix = opts.namePrefix ?? 'kubeplane-node-';
  mkdirSync(opts.stateDir, { recursive: true });
  const leftovers = await removeLeftovers(opts.prefix);
  if (leftovers.length) log.info('Removed namespaces a previous run left', { namespaces: leftovers });
  const fabric = new Fabric(opts.prefix, opts.nodeCIDR);
  const apiURL = new URL(opts.client.server);
  const relaySocket = join(opts.stateDir, 'api.sock');
  const relay = await startApiRelay(relaySocket, opts.client.server);
  const ours = new Map<string, OurNode>();
  const records = new Map<string, PodRecord>();
  const mountPoints = new MountPoints();
  let stopping = false;

  const factory = new ApiInformerFactory(client);
  const pods = factory.informerFor<Pod>('', 'pods');
  const nodes = factory.informerFor<Node>('', 'nodes');
  pods.addIndexer(NODE_NAME_INDEX, (p) => (p.spec.nodeName ? [p.spec.nodeName] : []));
  const queue = new WorkQueue({ baseDelayMs: 50, maxDelayMs: 5000 });
  const podKey = (p: KubeObject) => `${p.metadata.namespace}/${p.metadata.name}`;
  const onPod = (p: Pod) => {
    if ((p.spec.nodeName && ours.has(p.spec.nodeName)) || records.has(podKey(p))) queue.add(podKey(p));
  };
  pods.addEventHandler({ onAdd: onPod, onUpdate: (_o, p) => onPod(p), onDelete: (p) => records.has(podKey(p)) && queue.add(podKey(p)) });
  let adopting = false;
  /** adoptions and releases under way: stop waits for them, so none builds a namespace after the sweep */
  const registering = new Set<Promise<void>>();
  const releasing = new Set<Promise<void>>();
  // Like kwok's --manage-nodes-with-label-selector: `kubectl create` a Node labelled
  // kubeplane.io/sandbox=netns and it becomes a real node of this cluster.
  const adopt = (n: Node) => {
    const name = n.metadata.name!;
    if (!adopting || stopping || claimed.has(name) || n.metadata.labels?.[NETNS_NODE_LABEL] !== 'netns' || n.metadata.deletionTimestamp) return;
    log.info('Adopting Node', { node: name });
    const done = register(name)
      .then(() => undefined)
      .catch((err: unknown) => {
        claimed.delete(name);
        log.error('Adopting a Node failed', err, { node: name });
      })
      .finally(() => registering.delete(done));
    registering.add(done);
  };
  const onNode = (n: Node) => {
    adopt(n);
    const node = ours.get(n.metadata.name!);
    if (node && n.spec?.podCIDR && !node.network) node.network = setupPodNetwork(node, n.spec.podCIDR);
  };
  nodes.addEventHandler({
    onAdd: onNode,
    onUpdate: (_o, n) => onNode(n),
    onDelete: (n) => {
      const node = ours.get(n.metadata.name!);
      if (!node || stopping || (node.uid && node.uid !== n.metadata.uid)) return;
      const done: Promise<void> = release(node)
        .catch((err: unknown) => log.error('Taking a deleted Node down failed', err, { node: node.name }))
        .finally(() => releasing.delete(done));
      releasing.add(done);
    },
  });

  /**
   * `kubectl delete node`: the machine is gone. Its pods' processes are killed at once, its
   * namespaces removed, and its pods deleted as kube-controller-manager's pod GC deletes pods
   * bound to a node that no longer exists, so their controllers replace them elsewhere.
   */
  async function release(node: OurNode): Promise<void> {
    log.info('Node deleted, taking it down', { node: node.name, netns: node.net.ns });
    node.released = true;
    ours.delete(node.name);
    const gone = [...records].filter(([, r]) => r.node === node);
    await Promise.all(gone.map(([key, rec]) => rec.sandbox.terminate(0).then(() => removeSandbox(key, rec, 0)).catch((err: unknown) => log.warn('Removing a pod of a deleted node failed', { pod: key, err: String(err) }))));
    await Promise.all([node.helper.stop(), stopDataPlane(node)]);
    await fabric.removeNode(node.net.index);
    for (const p of pods.byIndex(NODE_NAME_INDEX, node.name)) {
      try {
        await client.delete(podsResource, p.metadata.name!, { namespace: p.metadata.namespace, gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) log.warn('Deleting a pod of a deleted node failed', { pod: podKey(p), err: String(err) });
      }
    }
    // A Node of that name created again is adopted afresh (maybe created while this ran).
    claimed.delete(node.name);
    const again = nodes.get(node.name);
    if (again && again.metadata.uid !== node.uid) adopt(again);
  }

  async function setupPodNetwork(node: OurNode, podCIDR: string): Promise<void> {
    try {
      await fabric.setPodCIDR(node.net.index, podCIDR);
      log.info('Node pod network ready', { node: node.name, podCIDR, gateway: node.net.gateway });
      for (const p of pods.byIndex(NODE_NAME_INDEX, node.name)) queue.add(podKey(p));
    } catch (err) {
      log.error('Setting up the pod network failed', err, { node: node.name, podCIDR });
      node.network = undefined;
    }
  }

  function allocateHost(node: OurNode): number | undefined {
    // .1 is the node's gateway on cbr0; pods start at .2. As CNI's host-local IPAM does, the
    // search starts after the address handed out last, so a deleted pod's address is not at
    // once the next pod's (while other pods' neighbour caches and conntrack still hold it).
    const cidr = node.net.podCIDR!;
    const last = node.lastHost ?? 1;
    const take = (h: number): boolean => {
      if (node.usedHosts.has(h)) return false;
      node.usedHosts.add(h);
      node.lastHost = h;
      return true;
    };
    for (let h = last + 1; hostInCIDR(cidr, h); h++) if (take(h)) return h;
    for (let h = 2; h <= last && hostInCIDR(cidr, h); h++) if (take(h)) return h;
    return undefined;
  }

  function resolvConf(pod: Pod, node: OurNode): string | undefined {
    const policy = (pod.spec as { dnsPolicy?: string }).dnsPolicy ?? 'ClusterFirst';
    if (policy !== 'ClusterFirst' && policy !== 'ClusterFirstWithHostNet') return undefined;
    if (pod.spec.hostNetwork && policy === 'ClusterFirst') return undefined;
    const zone = opts.clusterDomain;
    // The node's DNS listens on all its addresses; a hostNetwork pod may run before cbr0 exists.
    const nameserver = pod.spec.hostNetwork ? node.net.ip : node.net.gateway;
    return `nameserver ${nameserver}\nsearch ${pod.metadata.namespace}.svc.${zone} svc.${zone} ${zone}\noptions ndots:5\n`;
  }

  async function createSandbox(key: string, pod: Pod, node: OurNode): Promise<PodRecord | undefined> {
    const logDir = join(opts.stateDir, 'pods', `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
    // Volumes and the service account first: a missing ConfigMap holds the pod (retried) as
    // the kubelet holds it in ContainerCreating, before anything is allocated.
    const vols = await podVolumes(client, pod, logDir, opts.client.ca);
    let podNs = node.net.ns;
    let podIP = node.net.ip;
    let host: number | undefined;
    const ownNs = !pod.spec.hostNetwork;
    if (ownNs) {
      host = allocateHost(node);
      if (host === undefined) throw new Error(`node ${node.name} has no free address in ${node.net.podCIDR}`);
      podIP = hostInCIDR(node.net.podCIDR!, host)!;
      try {
        podNs = (await fabric.addPod(node.net.index, podIP)).ns;
      } catch (err) {
        node.usedHosts.delete(host);
        throw err;
      }
      const conf = resolvConf(pod, node);
      if (conf) fabric.writeResolvConf(podNs, conf);
    }
    let resolvConfFile: string | undefined;
    const hostNetConf = ownNs ? undefined : resolvConf(pod, node);
    if (hostNetConf) {
      // ClusterFirstWithHostNet: the node's namespace keeps the host's resolv.conf; only this
      // pod's containers see the cluster's (bind-mounted in their own mount namespace).
      mkdirSync(logDir, { recursive: true });
      resolvConfFile = join(logDir, 'resolv.conf');
      writeFileSync(resolvConfFile, hostNetConf);
    }
    // In-cluster config: a hostNetwork pod reaches the API server through the node's relay (the
    // `kubernetes` Service needs a proxy, which such a pod may be); others get no address here.
    const apiServer = pod.spec.hostNetwork ? { host: apiURL.hostname.replace(/^\[|\]$/g, ''), port: apiURL.port || '443' } : undefined;
    const sandbox = new PodSandbox({
      pod, podNs, podIP, hostIP: node.net.ip, helper: node.helper, logDir, resolvConf: resolvConfFile, onChange: () => queue.add(key),
      imageCommands: opts.imageCommands, volumes: vols.volumes, serviceAccountDir: vols.serviceAccountDir, apiServer, mountPoints,
    });
    const rec: PodRecord = { uid: pod.metadata.uid!, node, sandbox, podNs, host, ownNs };
    records.set(key, rec);
    sandbox.start();
    log.v(2, 'Pod sandbox started', { pod: key, node: node.name, podIP, netns: podNs });
    return rec;
  }

  async function removeSandbox(key: string, rec: PodRecord, graceSeconds: number): Promise<void> {
    rec.terminating ??= rec.sandbox.terminate(graceSeconds);
    await rec.terminating;
    if (rec.ownNs) await fabric.removePod(rec.podNs);
    if (rec.host !== undefined) rec.node.usedHosts.delete(rec.host);
    if (records.get(key) === rec) records.delete(key);
  }

  function condition(pod: Pod, type: string, status: 'True' | 'False', reason?: string): Condition {
    const prev = pod.status?.conditions?.find((c) => c.type === type);
    return { type, status, ...(reason ? { reason } : {}), lastProbeTime: null, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now() } as Condition;
  }

  async function writeStatus(pod: Pod, rec: PodRecord): Promise<void> {
    const s = rec.sandbox.status();
    const ready = s.ready ? 'True' : 'False';
    const podIP = rec.sandbox.opts.podIP;
    const hostIP = rec.node.net.ip;
    const status: Pod['status'] = {
      ...(pod.status ?? {}),
      phase: s.phase,
      conditions: [
        condition(pod, 'PodReadyToStartContainers', 'True'),
        condition(pod, 'Initialized', 'True'),
        condition(pod, 'Ready', ready, ready === 'True' ? undefined : 'ContainersNotReady'),
        condition(pod, 'ContainersReady', ready, ready === 'True' ? undefined : 'ContainersNotReady'),
        condition(pod, 'PodScheduled', 'True'),
      ],
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: pod.status?.startTime ?? rec.sandbox.startTime,
      containerStatuses: s.containerStatuses,
    };
    const same = (a: Pod['status'], b: Pod['status']) =>
      JSON.stringify([a?.phase, a?.podIP, a?.hostIP, a?.conditions?.map((c) => [c.type, c.status]), a?.containerStatuses]) ===
      JSON.stringify([b?.phase, b?.podIP, b?.hostIP, b?.conditions?.map((c) => [c.type, c.status]), b?.containerStatuses]);
    if (same(pod.status, status)) return;
    try {
      await client.update<Pod>(podsResource, { ...pod, status }, { subresource: 'status' });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err; // a conflict retries against the fresher object
    }
  }

  async function sync(key: string): Promise<void> {
    if (stopping) return;
    const pod = pods.get(key);
    let rec = records.get(key);
    if (rec && (!pod || pod.metadata.uid !== rec.uid)) {
      // Gone from the API (force-deleted, or replaced by a new pod of the same name).
      await removeSandbox(key, rec, 0);
      rec = undefined;
      if (pod) queue.add(key);
      return;
    }
    if (!pod) return;
    const node = pod.spec.nodeName ? ours.get(pod.spec.nodeName) : undefined;
    if (!node) return;
    if (pod.metadata.deletionTimestamp) {
      if (rec) {
        rec.sandbox.updatePod(pod);
        const grace = pod.metadata.deletionGracePeriodSeconds ?? rec.sandbox.gracePeriodSeconds();
        if (!rec.terminating) {
          rec.terminating = rec.sandbox.terminate(grace);
          void rec.terminating.then(() => queue.add(key));
        }
        if (!rec.sandbox.allExited()) return writeStatus(pod, rec);
        await removeSandbox(key, rec, 0);
      }
      try {
        await client.delete(podsResource, pod.metadata.name!, { namespace: pod.metadata.namespace, gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
      return;
    }
    if (!rec) {
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') return;
      if (!node.net.podCIDR && !pod.spec.hostNetwork) return; // the node's podCIDR brings the pod back
      rec = await createSandbox(key, pod, node);
      if (!rec) return;
    } else rec.sandbox.updatePod(pod);
    await writeStatus(pod, rec);
  }

  let nextIndex = 0;
  /** Node names being registered or adopted, so an informer event never starts a second one. */
  const claimed = new Set<string>();

  async function register(name: string, index = nextIndex++): Promise<OurNode> {
    claimed.add(name);
    const net = await fabric.addNode(index);
    const helper = new NodeHelper({ ns: net.ns, relay: { listen: `${apiURL.hostname.replace(/^\[|\]$/g, '')}:${apiURL.port || 443}`, socket: relaySocket } });
    await helper.start();
    const node: OurNode = { name, net, helper, usedHosts: new Set() };
    ours.set(name, node);
    const labels: Record<string, string> = { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', [NETNS_NODE_LABEL]: 'netns' };
    const annotations = { [NETNS_ANNOTATION]: net.ns };
    let obj: Node;
    try {
      obj = await client.create<Node>(nodesResource, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels, annotations }, spec: {} });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      obj = await client.get<Node>(nodesResource, name);
      // A Node made by someone else (or a previous run): ours now, and it says where it lives.
      if (obj.metadata.annotations?.[NETNS_ANNOTATION] !== net.ns || obj.metadata.labels?.[NETNS_NODE_LABEL] !== 'netns') {
        obj = await client.update<Node>(nodesResource, { ...obj, metadata: { ...obj.metadata, labels: { ...labels, ...(obj.metadata.labels ?? {}), [NETNS_NODE_LABEL]: 'netns' }, annotations: { ...(obj.metadata.annotations ?? {}), ...annotations } } });
      }
    }
    node.uid = obj.metadata.uid;
    // Capacity given on the Node object (a test's small node) wins over the defaults.
    const capacity = { ...DEFAULT_CAPACITY, ...(opts.capacity ?? {}), ...(obj.status?.capacity ?? {}) };
    const ts = now();
    for (let attempt = 0; ; attempt++) {
      try {
        obj = await client.update<Node>(
          nodesResource,
          {
            ...obj,
            status: {
              capacity,
              allocatable: capacity,
              addresses: [
                { type: 'InternalIP', address: net.ip },
                { type: 'Hostname', address: name },
              ],
              conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastTransitionTime: ts, lastHeartbeatTime: ts } as Condition],
              nodeInfo: { kubeletVersion: 'v1.32.0-kubeplane-netns', operatingSystem: 'linux', architecture: 'amd64', containerRuntimeVersion: 'netns://1', kernelVersion: '', osImage: 'netns', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '' },
            },
          },
          { subresource: 'status' },
        );
        break;
      } catch (err) {
        if (attempt >= 5) throw err;
        obj = await client.get<Node>(nodesResource, name);
      }
    }
    if (opts.dataPlane) node.dataPlane = startDataPlane(node, opts.dataPlane);
    // The informer may have seen the podCIDR before the node was ours.
    const seen = nodes.get(name) ?? obj;
    if (seen.spec?.podCIDR) onNode(seen);
    return node;
  }

  function startDataPlane(node: OurNode, dp: NetnsDataPlane): ChildProcess {
    const dir = join(opts.stateDir, 'nodes', node.name);
    mkdirSync(dir, { recursive: true });
    const fd = openSync(join(dir, 'kubeplane-node.log'), 'a');
    const args = ['netns', 'exec', node.net.ns, process.execPath, ...entryPoint('../../cli/main'), 'node',
      '--kubeconfig', dp.kubeconfig, '--node-name', node.name, '--node-ip', node.net.ip, '--proxy-mode', dp.proxyMode, '--cluster-cidr', dp.clusterCIDR,
      '--state-dir', join(dir, 'proxy'), '--iptables-min-sync-period', '100ms',
      '--dns-bind', '0.0.0.0:53', '--cluster-domain', opts.clusterDomain, ...(dp.upstream.length ? ['--upstream', dp.upstream.join(',')] : []),
      '--ingress=false'];
    try {
      const child = spawn('ip', args, { stdio: ['ignore', fd, fd] });
      child.on('error', (err) => log.error('kubeplane node failed to start', err, { node: node.name }));
      child.on('exit', (code, signal) => {
        if (stopping || node.released) return;
        log.warn('kubeplane node exited, restarting it', { node: node.name, code, signal, log: join(dir, 'kubeplane-node.log') });
        // As a DaemonSet pod would be: restarted, after a pause so a crash loop stays cheap.
        setTimeout(() => {
          if (!stopping && !node.released) node.dataPlane = startDataPlane(node, dp);
        }, 2000).unref();
      });
      return child;
    } finally {
      closeSync(fd);
    }
  }

  /** SIGTERM to the node's `kubeplane node`, SIGKILL if it is still there 3 s later. */
  function stopDataPlane(n: OurNode): Promise<void> {
    const dp = n.dataPlane;
    if (!dp || dp.exitCode !== null || dp.signalCode !== null) return Promise.resolve();
    return new Promise<void>((res) => {
      const t = setTimeout(() => dp.kill('SIGKILL'), 3000);
      dp.once('exit', () => {
        clearTimeout(t);
        res();
      });
      dp.kill('SIGTERM');
    });
  }

  const stopAll = async () => {
    stopping = true;
    await Promise.all([...registering, ...releasing]);
    queue.shutDown();
    // Pods first (their processes, short grace: a sync waiting out a long grace period ends
    // with them), then the node processes, then the namespaces.
    const killed = Promise.all([...records.values()].map((r) => r.sandbox.terminate(1).catch(() => undefined)));
    await workers;
    await killed;
    await factory.stop();
    records.clear();
    // The node processes stop together; the namespaces go right after, so nothing they
    // leave behind (rules, sockets) outlives them.
    await Promise.all(
      [...ours.values()].map(async (n) => {
        await n.helper.stop();
        await stopDataPlane(n);
      }),
    );
    await fabric.destroy();
    mountPoints.removeAll();
    await new Promise<void>((res) => relay.close(() => res()));
    rmSync(relaySocket, { force: true });
    await client.close();
  };

  let workers: Promise<void> = Promise.resolve();
  try {
    await fabric.create();
    await factory.start();
    for (let i = 0; i < opts.nodes; i++) await register(`${namePrefix}${i}`);
    adopting = true;
    for (const n of nodes.list()) adopt(n);
    await Promise.all([pods.synced(), nodes.synced()]);
    workers = runWorkers(queue, 8, sync, (key, err) =>
      // A conflict only means a fresher pod is on its way: the retry uses it.
      isConflict(err) ? log.v(2, 'Pod status conflict, will retry', { pod: key }) : log.warn('Pod sync failed, will retry', { pod: key, err: String(err) }),
    );
    for (const n of ours.values()) {
      const seen = nodes.get(n.name);
      if (seen) onNode(seen);
      for (const p of pods.byIndex(NODE_NAME_INDEX, n.name)) queue.add(podKey(p));
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  log.info('netns nodes running', { nodes: [...ours.keys()], prefix: opts.prefix, stateDir: opts.stateDir });

  return {
    nodeNames: () => [...ours.keys()],
    nodeNamespace: (name) => ours.get(name)?.net.ns,
    podNamespace: (namespace, name) => records.get(`${namespace}/${name}`)?.podNs,
    async addNode() {
      return (await register(`${namePrefix}${nextIndex}`)).name;
    },
    stop: stopAll,
  };
}
