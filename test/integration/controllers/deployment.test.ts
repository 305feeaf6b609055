import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Endpoints, EndpointSlice, KubeList, Node, Pod } from '../../../src/api/types.js';
import { resourceFor } from '../../../src/api/resources.js';
import type { Deployment, KubeEvent, ReplicaSet } from '../../../src/controllers/apps-types.js';
import { startControllerManager, type RunningControllerManager } from '../../../src/controllers/manager.js';
import { startScheduler, type RunningScheduler } from '../../../src/scheduler/setup.js';
import { startSimulatedNodes, type RunningSimulatedNodes } from '../../../src/node/simulated.js';
import { waitFor } from '../../helpers/cli.js';
import { describeE2E } from '../../helpers/e2e.js';
import { startApiServer, type TestApiServer } from './cluster.js';

/*
 * A Deployment end to end against a real `kubeplane apiserver` process: the
 * controller-manager, the scheduler and two simulated nodes run in this process and
 * reach the server only through src/client; kubectl is the real one.
 */

const pods = resourceFor('', 'pods')!;
const slices = resourceFor('discovery.k8s.io', 'endpointslices')!;
const endpoints = resourceFor('', 'endpoints')!;
const deployments = resourceFor('apps', 'deployments')!;
const replicasets = resourceFor('apps', 'replicasets')!;
const events = resourceFor('', 'events')!;
const NS = 'default';

let api: TestApiServer;
let cm: RunningControllerManager;
let sched: RunningScheduler;
let sim: RunningSimulatedNodes;

const manifest = (image: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: NS },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        terminationGracePeriodSeconds: 5,
        containers: [{ name: 'web', image, command: ['serve-http'], ports: [{ name: 'http', containerPort: 8080 }], resources: { requests: { cpu: '100m' } } }],
      },
    },
  },
});

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: NS },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
};

async function webPods(): Promise<Pod[]> {
  return (await api.client.list<Pod>(pods, { namespace: NS, labelSelector: 'app=web' })).items;
}

async function webSlices(): Promise<EndpointSlice[]> {
  return (await api.client.list<EndpointSlice>(slices, { namespace: NS, labelSelector: 'kubernetes.io/service-name=web' })).items;
}

const readyIPs = (s: EndpointSlice) => (s.endpoints ?? []).filter((e) => e.conditions?.ready).map((e) => e.addresses[0]!).sort();

describeE2E('Deployment on simulated nodes', { commands: ['kubectl'] }, () => {
  beforeAll(async () => {
    api = await startApiServer('deploy');
    cm = await startControllerManager({ client: api.config, leaderElect: false });
    sched = await startScheduler({ client: api.config, leaderElect: false });
    sim = await startSimulatedNodes({ client: api.config, nodes: 2, namePrefix: 'sim-', capacity: { cpu: '4', memory: '8Gi', pods: '110' } });
  }, 60_000);

  afterAll(async () => {
    await sim?.stop();
    await sched?.stop();
    await cm?.stop();
    await api?.stop();
  }, 30_000);

  it('gives each node a podCIDR', async () => {
    const nodes = await waitFor(async () => {
      const list = (await api.client.list<Node>(resourceFor('', 'nodes')!)).items;
      return list.length === 2 && list.every((n) => n.spec?.podCIDR) ? list : undefined;
    }, { what: 'podCIDRs' });
    const cidrs = nodes.map((n) => n.spec!.podCIDR!).sort();
    expect(cidrs).toEqual(['10.244.0.0/24', '10.244.1.0/24']);
  });

  it('runs 3 pods across both nodes, Ready, and one EndpointSlice with their 3 IPs', async () => {
    const apply = await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest('none:v1')) + '\n' + JSON.stringify(service) });
    expect(apply.code, apply.stderr).toBe(0);
    const running = await waitFor(async () => {
      const ps = await webPods();
      return ps.length === 3 && ps.every((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ? ps : undefined;
    }, { timeoutMs: 30_000, what: '3 running pods' });
    expect(new Set(running.map((p) => p.spec.nodeName))).toEqual(new Set(['sim-0', 'sim-1']));
    for (const p of running) {
      const cidr = p.spec.nodeName === 'sim-0' ? '10.244.0.' : '10.244.1.';
      expect(p.status!.podIP!.startsWith(cidr)).toBe(true);
    }
    const ips = running.map((p) => p.status!.podIP!).sort();
    const slice = await waitFor(async () => {
      const s = await webSlices();
      return s.length === 1 && readyIPs(s[0]!).length === 3 ? s[0] : undefined;
    }, { what: 'a slice with 3 ready endpoints' });
    expect(readyIPs(slice)).toEqual(ips);
    expect(slice.metadata.labels?.['endpointslice.kubernetes.io/managed-by']).toBe('endpointslice-controller.k8s.io');
    expect(slice.metadata.ownerReferences?.[0]?.kind).toBe('Service');
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']).toMatch(/^\d{4}-\d\d-\d\dT/);
    for (const e of slice.endpoints!) expect(['sim-0', 'sim-1']).toContain(e.nodeName);

    const ep = await waitFor(async () => {
      const e = await api.client.get<Endpoints>(endpoints, 'web', { namespace: NS }).catch(() => undefined);
      return e?.subsets?.[0]?.addresses?.length === 3 ? e : undefined;
    }, { what: 'legacy Endpoints' });
    expect(ep.subsets![0]!.addresses!.map((a) => a.ip).sort()).toEqual(ips);

    const d = await waitFor(async () => {
      const x = await api.client.get<Deployment>(deployments, 'web', { namespace: NS });
      return x.status?.availableReplicas === 3 ? x : undefined;
    }, { what: 'deployment available' });
    expect(d.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
    const scheduled = (await api.client.list<KubeEvent>(events, { namespace: NS })).items.filter((e) => e.reason === 'Scheduled');
    expect(scheduled.length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('writes no slice when nothing changed', async () => {
    const before = (await webSlices())[0]!;
    await new Promise((r) => setTimeout(r, 1500));
    const after = (await webSlices())[0]!;
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('follows scaling to 5 and back to 2, flagging terminating endpoints during the grace period', async () => {
    expect((await api.kubectl(['scale', 'deployment/web', '--replicas=5'])).code).toBe(0);
    await waitFor(async () => {
      const s = await webSlices();
      return s.length === 1 && readyIPs(s[0]!).length === 5;
    }, { timeoutMs: 30_000, what: '5 ready endpoints' });

    expect((await api.kubectl(['scale', 'deployment/web', '--replicas=2'])).code).toBe(0);
    const terminating = await waitFor(async () => {
      const s = await webSlices();
      const eps = s[0]?.endpoints ?? [];
      const t = eps.filter((e) => e.conditions?.terminating);
      return t.length === 3 ? t : undefined;
    }, { timeoutMs: 15_000, intervalMs: 50, what: '3 terminating endpoints' });
    for (const e of terminating) {
      expect(e.conditions?.ready).toBe(false);
      expect(e.conditions?.serving).toBe(true);
    }
    const final = await waitFor(async () => {
      const s = await webSlices();
      return s.length === 1 && (s[0]!.endpoints ?? []).length === 2 ? s[0] : undefined;
    }, { timeoutMs: 30_000, what: 'slice with 2 endpoints' });
    expect(readyIPs(final)).toEqual((await webPods()).map((p) => p.status!.podIP!).sort());
  }, 90_000);

  it('completes a rolling update that `kubectl rollout status` reports as done', async () => {
    const before = (await api.client.list<ReplicaSet>(replicasets, { namespace: NS })).items;
    expect(before).toHaveLength(1);
    const set = await api.kubectl(['set', 'image', 'deployment/web', 'web=none:v2']);
    expect(set.code, set.stderr).toBe(0);
    const status = await api.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 });
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toContain('successfully rolled out');
    const rss = (await api.client.list<ReplicaSet>(replicasets, { namespace: NS })).items;
    expect(rss).toHaveLength(2);
    const fresh = rss.find((r) => r.spec.template.spec.containers[0]!.image === 'none:v2')!;
    const old = rss.find((r) => r.spec.template.spec.containers[0]!.image === 'none:v1')!;
    expect(fresh.spec.replicas).toBe(2);
    expect(old.spec.replicas).toBe(0);
    expect(fresh.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    const live = await waitFor(async () => {
      const ps = (await webPods()).filter((p) => !p.metadata.deletionTimestamp);
      return ps.length === 2 && ps.every((p) => p.spec.containers[0]!.image === 'none:v2') ? ps : undefined;
    }, { timeoutMs: 30_000, what: 'only new pods' });
    expect(live).toHaveLength(2);
  }, 120_000);

  it('keeps only revisionHistoryLimit old ReplicaSets', async () => {
    const hist = manifest('none:h1') as ReturnType<typeof manifest> & { spec: { revisionHistoryLimit?: number } };
    hist.metadata.name = 'hist';
    hist.spec.replicas = 1;
    hist.spec.revisionHistoryLimit = 0;
    hist.spec.selector.matchLabels.app = 'hist';
    hist.spec.template.metadata.labels.app = 'hist';
    expect((await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(hist) })).code).toBe(0);
    expect((await api.kubectl(['rollout', 'status', 'deployment/hist', '--timeout=60s'], { timeoutMs: 70_000 })).code).toBe(0);
    expect((await api.kubectl(['set', 'image', 'deployment/hist', 'web=none:h2'])).code).toBe(0);
    expect((await api.kubectl(['rollout', 'status', 'deployment/hist', '--timeout=60s'], { timeoutMs: 70_000 })).code).toBe(0);
    const left = await waitFor(async () => {
      const rss = (await api.client.list<ReplicaSet>(replicasets, { namespace: NS, labelSelector: 'app=hist' })).items;
      return rss.length === 1 ? rss : undefined;
    }, { timeoutMs: 30_000, what: 'only the current ReplicaSet' });
    expect(left[0]!.spec.template.spec.containers[0]!.image).toBe('none:h2');
    expect((await api.kubectl(['delete', 'deployment', 'hist', '--wait=false'])).code).toBe(0);
  }, 120_000);

  it('takes a pod out of the slice when its readiness fails', async () => {
    const [p] = (await webPods()).filter((x) => !x.metadata.deletionTimestamp);
    sim.setPodReady(NS, p!.metadata.name!, false);
    await waitFor(async () => {
      const eps = (await webSlices())[0]?.endpoints ?? [];
      const e = eps.find((x) => x.addresses[0] === p!.status!.podIP);
      return e && e.conditions?.ready === false && e.conditions.serving === false;
    }, { what: 'endpoint not ready' });
    sim.setPodReady(NS, p!.metadata.name!, true);
    await waitFor(async () => {
      const eps = (await webSlices())[0]?.endpoints ?? [];
      return eps.find((x) => x.addresses[0] === p!.status!.podIP)?.conditions?.ready === true;
    }, { what: 'endpoint ready again' });
  }, 30_000);

  it('removes the slices and Endpoints of a deleted Service', async () => {
    expect((await api.kubectl(['delete', 'service', 'web'])).code).toBe(0);
    await waitFor(async () => (await webSlices()).length === 0, { what: 'slices gone' });
    await waitFor(async () => (await api.client.get<Endpoints>(endpoints, 'web', { namespace: NS }).then(() => false, () => true)), { what: 'Endpoints gone' });
  }, 30_000);

  it('adopts a matching pod no controller owns instead of creating one more', async () => {
    const bare = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare', namespace: NS, labels: { app: 'adopt' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'none' }] } };
    expect((await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(bare) })).code).toBe(0);
    const rs = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'adopter', namespace: NS },
      spec: { replicas: 2, selector: { matchLabels: { app: 'adopt' } }, template: { metadata: { labels: { app: 'adopt' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'none' }] } } },
    };
    expect((await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(rs) })).code).toBe(0);
    const adoptPods = async () => (await api.client.list<Pod>(pods, { namespace: NS, labelSelector: 'app=adopt' })).items;
    await waitFor(async () => (await api.client.get<ReplicaSet>(replicasets, 'adopter', { namespace: NS })).status?.readyReplicas === 2, { what: 'adopter ready' });
    const ps = await adoptPods();
    expect(ps).toHaveLength(2);
    expect(ps.find((p) => p.metadata.name === 'bare')?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: 'adopter', controller: true });
    expect((await api.kubectl(['delete', 'rs', 'adopter', '--wait=false'])).code).toBe(0);
    await waitFor(async () => (await adoptPods()).length === 0, { timeoutMs: 30_000, what: 'adopted pods collected' });
  }, 60_000);

  it('garbage-collects the pods of a deleted ReplicaSet', async () => {
    const rs = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'orphans', namespace: NS },
      spec: { replicas: 2, selector: { matchLabels: { app: 'orphans' } }, template: { metadata: { labels: { app: 'orphans' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'none' }] } } },
    };
    expect((await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(rs) })).code).toBe(0);
    await waitFor(async () => (await api.client.list<Pod>(pods, { namespace: NS, labelSelector: 'app=orphans' })).items.filter((p) => p.status?.phase === 'Running').length === 2, { what: '2 orphans pods' });
    const got = await api.client.get<ReplicaSet>(replicasets, 'orphans', { namespace: NS });
    expect(got.status?.replicas).toBe(2);
    const del = await api.kubectl(['delete', 'rs', 'orphans', '--wait=false']);
    expect(del.code, del.stderr).toBe(0);
    await waitFor(async () => (await api.client.list<KubeList<Pod>['items'][number]>(pods, { namespace: NS, labelSelector: 'app=orphans' })).items.length === 0, { timeoutMs: 30_000, what: 'orphans pods gone' });
  }, 60_000);

  it('cascades a Deployment deletion to its ReplicaSets and their pods', async () => {
    expect((await api.kubectl(['delete', 'deployment', 'web', '--wait=false'])).code).toBe(0);
    await waitFor(async () => (await api.client.list<ReplicaSet>(replicasets, { namespace: NS, labelSelector: 'app=web' })).items.length === 0, { timeoutMs: 30_000, what: 'ReplicaSets gone' });
    await waitFor(async () => (await webPods()).length === 0, { timeoutMs: 30_000, what: 'pods gone' });
  }, 60_000);

  it('keeps a pod that fits no node Pending with FailedScheduling, and schedules it once a node fits', async () => {
    const big = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big', namespace: NS }, spec: { containers: [{ name: 'c', image: 'none', resources: { requests: { cpu: '16' } } }] } };
    expect((await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(big) })).code).toBe(0);
    const ev = await waitFor(async () => (await api.client.list<KubeEvent>(events, { namespace: NS })).items.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'big'), { what: 'FailedScheduling event' });
    expect(ev.type).toBe('Warning');
    expect(ev.message).toBe('0/2 nodes are available: 2 Insufficient cpu.');
    const pending = await waitFor(async () => {
      const p = await api.client.get<Pod>(pods, 'big', { namespace: NS });
      return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False') ? p : undefined;
    }, { what: 'PodScheduled=False' });
    expect(pending.spec.nodeName).toBeUndefined();
    expect(pending.status?.conditions?.find((c) => c.type === 'PodScheduled')?.reason).toBe('Unschedulable');
    const describe = await api.kubectl(['describe', 'pod', 'big']);
    expect(describe.stdout).toContain('Insufficient cpu');

    await sim.addNode({ name: 'sim-big', capacity: { cpu: '32' } });
    const bound = await waitFor(async () => {
      const p = await api.client.get<Pod>(pods, 'big', { namespace: NS });
      return p.status?.phase === 'Running' ? p : undefined;
    }, { timeoutMs: 30_000, what: 'big pod running' });
    expect(bound.spec.nodeName).toBe('sim-big');
  }, 60_000);
});
