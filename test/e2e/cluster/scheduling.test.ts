// Scheduling on a netns cluster: pods that fit no node wait Pending with kube-scheduler's
// FailedScheduling reasons, and run (Ready, answering HTTP) as soon as a fitting node joins:
// a Node created with kubectl and labelled kubeplane.io/sandbox=netns is adopted by `up`,
// which builds its namespace and keeps the capacity the Node was created with.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { waitFor } from '../../helpers/cli.js';
import { NETNS_CLUSTER_NEEDS, startNetnsCluster, type NetnsCluster } from '../../helpers/netns-up.js';

const SERVER = fileURLToPath(new URL('./web-server.mjs', import.meta.url));

interface PodView {
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; hostIP?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}
interface EventView {
  reason: string;
  message: string;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const netns = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!);

describeE2E('netns cluster: a pod waits for a node it fits', NETNS_CLUSTER_NEEDS, () => {
  let c: NetnsCluster;

  const pod = async (name: string): Promise<PodView> => JSON.parse(await c.kubectlOk(['get', 'pod', name, '-o', 'json'])) as PodView;
  const events = async (name: string): Promise<EventView[]> =>
    (JSON.parse(await c.kubectlOk(['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'json'])) as { items: EventView[] }).items;
  const manifest = (name: string, extra: Record<string, unknown>, resources?: Record<string, unknown>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      ...extra,
      containers: [
        {
          name: 'web',
          image: 'none',
          command: [process.execPath, SERVER],
          env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1 },
          ...(resources ? { resources } : {}),
        },
      ],
    },
  });

  beforeAll(async () => {
    c = await startNetnsCluster({ nodes: 1, tag: 'kpsch', dataPlane: false, net: 101 });
  }, 90_000);

  afterAll(async () => {
    await c?.stop();
  }, 60_000);

  it('stays Pending with FailedScheduling reasons, then runs on a node added with kubectl', async () => {
    // Every netns node has 32 cpus unless told otherwise: 48 fit none; nor does disk=ssd.
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(manifest('big', {}, { requests: { cpu: '48', memory: '1Gi' } })) });
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(manifest('picky', { nodeSelector: { disk: 'ssd' } })) });

    const failed = async (name: string, reason: string) =>
      waitFor(async () => (await events(name)).find((e) => e.reason === 'FailedScheduling' && e.message.includes(reason)), { what: `FailedScheduling for ${name}`, timeoutMs: 30_000 });
    expect((await failed('big', 'Insufficient cpu')).message).toMatch(/^0\/1 nodes are available: 1 Insufficient cpu\./);
    expect((await failed('picky', 'affinity')).message).toMatch(/^0\/1 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector\./);
    for (const name of ['big', 'picky']) {
      const p = await pod(name);
      expect(p.spec.nodeName).toBeUndefined();
      expect(p.status.phase).toBe('Pending');
      const scheduled = p.status.conditions?.find((x) => x.type === 'PodScheduled');
      expect(scheduled).toMatchObject({ status: 'False', reason: 'Unschedulable' });
      expect(scheduled?.message).toMatch(/^0\/1 nodes are available/);
    }

    // A fitting node joins: created through the API, as a kubelet (or kwok) would register it.
    await c.addNode('roomy', { capacity: { cpu: '64', memory: '128Gi', pods: '110' }, labels: { disk: 'ssd' } });
    const node = JSON.parse(await c.kubectlOk(['get', 'node', 'roomy', '-o', 'json'])) as {
      spec: { podCIDR: string };
      status: { capacity: Record<string, string>; allocatable: Record<string, string>; addresses: { type: string; address: string }[] };
    };
    expect(node.status.capacity.cpu).toBe('64');
    expect(node.status.allocatable.cpu).toBe('64');
    const nodeIP = node.status.addresses.find((a) => a.type === 'InternalIP')?.address;
    expect(nodeIP).toMatch(/^192\.168\.101\.\d+$/);

    const ready = (p: PodView) => p.status.phase === 'Running' && p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
    const prefix = node.spec.podCIDR.split('.').slice(0, 3).join('.');
    for (const name of ['big', 'picky']) {
      const p = await waitFor(async () => {
        const got = await pod(name);
        return ready(got) ? got : undefined;
      }, { what: `${name} Running and Ready on roomy`, timeoutMs: 30_000 });
      expect(p.spec.nodeName).toBe('roomy');
      expect(p.status.hostIP).toBe(nodeIP);
      expect(p.status.podIP?.startsWith(`${prefix}.`), `${p.status.podIP} in ${node.spec.podCIDR}`).toBe(true);
      expect((await events(name)).find((e) => e.reason === 'Scheduled')?.message).toBe(`Successfully assigned default/${name} to roomy`);
    }

    // It answers HTTP: from the first node's namespace (across the node network) and from
    // the other pod on the same node.
    const big = await pod('big');
    const fromNode = await c.execInNode('kubeplane-node-0', ['curl', '-s', '-m', '5', `http://${big.status.podIP}:8080/`]);
    expect(fromNode.stdout.trim(), fromNode.stderr).toBe('big');
    const fromPod = await c.execInPod('picky', ['curl', '-s', '-m', '5', `http://${big.status.podIP}:8080/`]);
    expect(fromPod.stdout.trim(), fromPod.stderr).toBe('big');
    expect(await c.podNs('big')).toMatch(new RegExp(`^${c.prefix}-pod-\\d+$`));
  }, 90_000);

  it('kubectl delete node takes the node down: its pods stop and are deleted, its namespace goes; the name can join again', async () => {
    const nodeNs = c.nodeNs('roomy');
    const podCIDR = (await c.kubectlOk(['get', 'node', 'roomy', '-o', 'jsonpath={.spec.podCIDR}'])).trim();
    const podNamespaces = [await c.podNs('big'), await c.podNs('picky')];
    const pids = [...podNamespaces, nodeNs].flatMap((ns) => execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number));
    expect(pids.length).toBeGreaterThanOrEqual(3); // two servers and the node's helper
    expect((await c.execInNode('kubeplane-node-0', ['ip', 'route'])).stdout).toContain(podCIDR);

    await c.kubectlOk(['delete', 'node', 'roomy']);
    // As pod GC does for pods bound to a node that no longer exists.
    await waitFor(async () => (await c.kubectlOk(['get', 'pods', '-o', 'name'])).trim() === '', { what: "the deleted node's pods deleted", timeoutMs: 30_000 });
    await waitFor(() => !netns().some((n) => n === nodeNs || podNamespaces.includes(n)), { what: "the deleted node's namespaces removed", timeoutMs: 30_000 });
    expect(pids.filter(alive)).toEqual([]);
    expect((await c.execInNode('kubeplane-node-0', ['ip', 'route'])).stdout).not.toContain(podCIDR);

    // The same name joins again as a new node and runs pods.
    await c.addNode('roomy', { labels: { disk: 'ssd' } });
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(manifest('again', { nodeSelector: { disk: 'ssd' } })) });
    await waitFor(async () => {
      const p = await pod('again');
      return p.spec.nodeName === 'roomy' && p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
    }, { what: 'a pod Ready on the node that joined again', timeoutMs: 30_000 });
    const again = await pod('again');
    const r = await c.execInNode('kubeplane-node-0', ['curl', '-s', '-m', '5', `http://${again.status.podIP}:8080/`]);
    expect(r.stdout.trim(), r.stderr).toBe('again');
  }, 90_000);
});
