// Simulated nodes (`--pods=simulated`, like kwok): registers Nodes with the capacity asked
// for, and plays the kubelet for every pod bound to them: the pod becomes Running and
// Ready with an IP from its node's podCIDR; a deleted pod is removed for good (the final
// DELETE with gracePeriodSeconds=0) once its grace period is over. Readiness can be
// flipped per pod, which is how tests play a failing readiness probe.

import type { Condition, KubeObject, Node, Pod, Taint } from '../api/types.js';
import { resourceFor } from '../api/resources.js';
import { ApiInformerFactory } from '../client/api-informers.js';
import type { ClientConfig } from '../client/config.js';
import { isAlreadyExists, isNotFound } from '../client/errors.js';
import { RestClient } from '../client/rest.js';
import { hostInCIDR } from '../controllers/nodeipam/cidr-set.js';
import { runWorkers, WorkQueue } from '../controllers/queue.js';
import { logger } from '../observability/log.js';

const log = logger('simulated-node');
const nodesResource = resourceFor('', 'nodes')!;
const podsResource = resourceFor('', 'pods')!;
const NODE_NAME_INDEX = 'nodeName';

export interface SimulatedNodeSpec {
  name: string;
  labels?: Record<string, string>;
  capacity?: Record<string, string>;
  taints?: Taint[];
}

export interface SimulatedNodesOptions {
  client: RestClient | ClientConfig;
  /** how many nodes (named `${namePrefix}${i}`) or their specs */
  nodes: number | SimulatedNodeSpec[];
  namePrefix?: string;
  /** default cpu 32, memory 256Gi, pods 110 */
  capacity?: Record<string, string>;
  /** spread nodes over these topology.kubernetes.io/zone values, round robin */
  zones?: string[];
  /** status writers running at once (default 8) */
  workers?: number;
  /** node registrations in flight at once (default 32) */
  registerConcurrency?: number;
}

export interface RunningSimulatedNodes {
  nodeNames(): string[];
  /** registers one more node (e.g. one a Pending pod fits on) */
  addNode(spec: SimulatedNodeSpec): Promise<void>;
  /** what the pod's readiness probe says from now on (default ready) */
  setPodReady(namespace: string, name: string, ready: boolean): void;
  stop(): Promise<void>;
}

const DEFAULT_CAPACITY = { cpu: '32', memory: '256Gi', pods: '110' };

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An InternalIP for the i-th node from 172.16.0.0/12, never routed anywhere. */
function nodeAddress(i: number): string {
  const n = i + 2;
  return `172.${16 + ((n >> 16) & 15)}.${(n >> 8) & 255}.${n & 255}`;
}

export async function startSimulatedNodes(opts: SimulatedNodesOptions): Promise<RunningSimulatedNodes> {
  const ownClient = !(opts.client instanceof RestClient);
  const client = opts.client instanceof RestClient ? opts.client : new RestClient(opts.client, { userAgent: 'kubeplane-simulated-node' });
  const prefix = opts.namePrefix ?? 'kubeplane-sim-';
  const specs: SimulatedNodeSpec[] = typeof opts.nodes === 'number' ? Array.from({ length: opts.nodes }, (_, i) => ({ name: `${prefix}${i}` })) : opts.nodes;
  const ours = new Map<string, number>();
  const readiness = new Map<string, boolean>();
  /** pod key → IP, and per node the host numbers in use */
  const podIPs = new Map<string, { node: string; host: number }>();
  const usedHosts = new Map<string, Set<number>>();

  const factory = new ApiInformerFactory(client);
  const pods = factory.informerFor<Pod>('', 'pods');
  const nodes = factory.informerFor<Node>('', 'nodes');
  pods.addIndexer(NODE_NAME_INDEX, (p) => (p.spec.nodeName ? [p.spec.nodeName] : []));
  const queue = new WorkQueue({ baseDelayMs: 20, maxDelayMs: 5000 });
  const podKey = (p: KubeObject) => `${p.metadata.namespace}/${p.metadata.name}`;
  const onPod = (p: Pod) => {
    if (p.spec.nodeName && ours.has(p.spec.nodeName)) queue.add(podKey(p));
  };
  pods.addEventHandler({
    onAdd: (p) => {
      // Pods already running on our nodes keep their IPs across restarts.
      if (p.spec.nodeName && ours.has(p.spec.nodeName) && p.status?.podIP) claimIP(podKey(p), p.spec.nodeName, p.status.podIP, nodes.get(p.spec.nodeName));
      onPod(p);
    },
    onUpdate: (_o, p) => onPod(p),
    onDelete: (p) => releaseIP(podKey(p)),
  });
  nodes.addEventHandler({
    onUpdate: (o, n) => {
      // Pods waiting for their node's podCIDR go once it is there.
      if (!o.spec?.podCIDR && n.spec?.podCIDR) for (const p of pods.byIndex(NODE_NAME_INDEX, n.metadata.name!)) queue.add(podKey(p));
    },
  });

  function claimIP(key: string, node: string, ip: string, n: Node | undefined): void {
    const cidr = n?.spec?.podCIDR;
    if (!cidr) return;
    for (let h = 1; h < 256 * 256; h++) {
      const candidate = hostInCIDR(cidr, h);
      if (!candidate) return;
      if (candidate === ip) {
        podIPs.set(key, { node, host: h });
        (usedHosts.get(node) ?? usedHosts.set(node, new Set()).get(node)!).add(h);
        return;
      }
    }
  }

  function allocateIP(key: string, node: Node): string | undefined {
    const name = node.metadata.name!;
    const cidr = node.spec?.podCIDR;
    if (!cidr) return undefined;
    const have = podIPs.get(key);
    if (have && have.node === name) return hostInCIDR(cidr, have.host);
    const used = usedHosts.get(name) ?? usedHosts.set(name, new Set()).get(name)!;
    // .1 is the node's own bridge address on a real node; pods start at .2.
    for (let h = 2; ; h++) {
      const ip = hostInCIDR(cidr, h);
      if (!ip) return undefined;
      if (used.has(h)) continue;
      used.add(h);
      podIPs.set(key, { node: name, host: h });
      return ip;
    }
  }

  function releaseIP(key: string): void {
    const have = podIPs.get(key);
    if (!have) return;
    podIPs.delete(key);
    usedHosts.get(have.node)?.delete(have.host);
  }

  function condition(pod: Pod, type: string, status: 'True' | 'False'): Condition {
    const prev = pod.status?.conditions?.find((c) => c.type === type);
    return { type, status, lastProbeTime: null, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now() } as Condition;
  }

  async function sync(key: string): Promise<void> {
    const pod = pods.get(key);
    if (!pod) return releaseIP(key);
    const nodeName = pod.spec.nodeName;
    if (!nodeName || !ours.has(nodeName)) return;
    if (pod.metadata.deletionTimestamp) {
      const due = Date.parse(pod.metadata.deletionTimestamp) - Date.now();
      if (due > 0) {
        queue.addAfter(key, due + 5);
        return;
      }
      try {
        await client.delete(podsResource, pod.metadata.name!, { namespace: pod.metadata.namespace, gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      releaseIP(key);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const node = nodes.get(nodeName);
    if (!node) return;
    const ip = allocateIP(key, node);
    if (!ip) return; // no podCIDR yet: the node update brings the pod back
    const ready = readiness.get(key) ?? true;
    const readyStr = ready ? 'True' : 'False';
    const cur = pod.status;
    const readyNow = cur?.conditions?.find((c) => c.type === 'Ready')?.status;
    if (phase === 'Running' && cur?.podIP === ip && readyNow === readyStr) return;
    const hostIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '';
    const started = cur?.startTime ?? now();
    const status: Pod['status'] = {
      ...(cur ?? {}),
      phase: 'Running',
      conditions: [
        condition(pod, 'PodReadyToStartContainers', 'True'),
        condition(pod, 'Initialized', 'True'),
        condition(pod, 'Ready', readyStr),
        condition(pod, 'ContainersReady', readyStr),
        condition(pod, 'PodScheduled', 'True'),
      ],
      hostIP,
      hostIPs: hostIP ? [{ ip: hostIP }] : [],
      podIP: ip,
      podIPs: [{ ip }],
      startTime: started,
      containerStatuses: (pod.spec.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        containerID: `simulated://${pod.metadata.uid}/${c.name}`,
        ready,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: started } },
      })),
    };
    if (!ready) status.conditions!.find((c) => c.type === 'Ready')!.reason = 'ContainersNotReady';
    try {
      await client.update<Pod>(podsResource, { ...pod, status }, { subresource: 'status' });
    } catch (err) {
      if (isNotFound(err)) return releaseIP(key);
      throw err; // a conflict retries against the fresher object
    }
  }

  async function register(spec: SimulatedNodeSpec, index: number): Promise<void> {
    const zone = opts.zones?.length ? opts.zones[index % opts.zones.length] : undefined;
    const labels: Record<string, string> = {
      'kubernetes.io/hostname': spec.name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      type: 'kwok',
      ...(zone ? { 'topology.kubernetes.io/zone': zone } : {}),
      ...(spec.labels ?? {}),
    };
    const capacity = { ...DEFAULT_CAPACITY, ...(opts.capacity ?? {}), ...(spec.capacity ?? {}) };
    const address = nodeAddress(index);
    ours.set(spec.name, index);
    let node: Node;
    try {
      node = await client.create<Node>(nodesResource, { apiVersion: 'v1', kind: 'Node', metadata: { name: spec.name, labels }, spec: spec.taints ? { taints: spec.taints } : {} });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      node = await client.get<Node>(nodesResource, spec.name);
    }
    const ts = now();
    for (let attempt = 0; ; attempt++) {
      try {
        await client.update<Node>(
          nodesResource,
          {
            ...node,
            status: {
              capacity,
              allocatable: capacity,
              addresses: [
                { type: 'InternalIP', address },
                { type: 'Hostname', address: spec.name },
              ],
              conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastTransitionTime: ts, lastHeartbeatTime: ts } as Condition],
              nodeInfo: { kubeletVersion: 'v1.32.0-kubeplane-simulated', operatingSystem: 'linux', architecture: 'amd64', containerRuntimeVersion: 'simulated://1', kernelVersion: '', osImage: 'simulated', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '' },
            },
          },
          { subresource: 'status' },
        );
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
        node = await client.get<Node>(nodesResource, spec.name);
      }
    }
  }

  async function registerAll(list: SimulatedNodeSpec[], first: number): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const i = next++;
        await register(list[i]!, first + i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.registerConcurrency ?? 32, list.length) }, worker));
  }

  await registerAll(specs, 0);
  await factory.start();
  const stopping = new AbortController();
  const workers = (async () => {
    await Promise.race([Promise.all([pods.synced(), nodes.synced()]), new Promise((r) => stopping.signal.addEventListener('abort', r, { once: true }))]);
    if (stopping.signal.aborted) return;
    await runWorkers(queue, opts.workers ?? 8, sync, (key, err) => log.v(2, 'Pod status sync failed, will retry', { pod: key, err: String(err) }));
  })();
  log.info('Simulated nodes registered', { nodes: specs.length });

  return {
    nodeNames: () => [...ours.keys()],
    async addNode(spec) {
      await registerAll([spec], ours.size);
    },
    setPodReady(namespace, name, ready) {
      readiness.set(`${namespace}/${name}`, ready);
      queue.add(`${namespace}/${name}`);
    },
    async stop() {
      stopping.abort();
      queue.shutDown();
      await workers;
      await factory.stop();
      if (ownClient) await client.close();
    },
  };
}
