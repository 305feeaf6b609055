import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Lease, Node, Pod } from '../../../src/api/types.js';
import { resourceFor } from '../../../src/api/resources.js';
import type { KubeEvent } from '../../../src/controllers/apps-types.js';
import { startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { describeE2E } from '../../helpers/e2e.js';
import { startApiServer, type TestApiServer } from '../controllers/cluster.js';

/*
 * `kubeplane scheduler` (with simulated nodes) and `kubeplane controller-manager` as
 * processes against a real `kubeplane apiserver`: taint and resource reasons in
 * FailedScheduling, a DaemonSet following node eligibility, and scheduler leader election.
 */

const pods = resourceFor('', 'pods')!;
const nodes = resourceFor('', 'nodes')!;
const events = resourceFor('', 'events')!;
const leases = resourceFor('coordination.k8s.io', 'leases')!;
const NS = 'default';

type Proc = ReturnType<typeof startKubeplane>;
let api: TestApiServer;
const procs: Proc[] = [];

function start(args: string[]): Proc {
  const p = startKubeplane([...args, `--kubeconfig=${api.kubeconfig}`]);
  procs.push(p);
  return p;
}

async function getPod(name: string): Promise<Pod> {
  return api.client.get<Pod>(pods, name, { namespace: NS });
}

describeE2E('kubeplane scheduler', { commands: ['kubectl'] }, () => {
  beforeAll(async () => {
    api = await startApiServer('sched-cli');
    start(['controller-manager', '--leader-elect=false', '--controllers=nodeipam,daemonset,garbagecollector']);
    start(['scheduler', '--leader-elect=false', '--simulated-nodes=2', '--simulated-node-prefix=simc-', '--simulated-node-capacity=cpu=2,memory=4Gi,pods=20']);
    await waitFor(async () => (await api.client.list<Node>(nodes)).items.filter((n) => n.spec?.podCIDR).length === 2, { timeoutMs: 30_000, what: '2 simulated nodes with podCIDRs' });
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) await stopProcess(p);
    await api?.stop();
  }, 30_000);

  it('names every reason a pod fits no node, and schedules it when the cause goes', async () => {
    expect((await api.kubectl(['taint', 'nodes', 'simc-0', 'dedicated=infra:NoSchedule'])).code).toBe(0);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wide', namespace: NS }, spec: { containers: [{ name: 'c', image: 'none', resources: { requests: { cpu: '1500m' } } }] } };
    const filler = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'filler', namespace: NS }, spec: { nodeSelector: { 'kubernetes.io/hostname': 'simc-1' }, containers: [{ name: 'c', image: 'none', resources: { requests: { cpu: '1' } } }] } };
    expect((await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(filler) })).code).toBe(0);
    await waitFor(async () => (await getPod('filler')).status?.phase === 'Running', { what: 'filler running' });
    expect((await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) })).code).toBe(0);
    const ev = await waitFor(async () => (await api.client.list<KubeEvent>(events, { namespace: NS })).items.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'wide'), { what: 'FailedScheduling' });
    expect(ev.message).toBe('0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: infra}.');
    expect((await getPod('wide')).spec.nodeName).toBeUndefined();

    // Removing the filler frees simc-1: the parked pod is retried on that change alone.
    expect((await api.kubectl(['delete', 'pod', 'filler', '--grace-period=1'])).code).toBe(0);
    const bound = await waitFor(async () => {
      const p = await getPod('wide');
      return p.status?.phase === 'Running' ? p : undefined;
    }, { timeoutMs: 30_000, what: 'wide pod running' });
    expect(bound.spec.nodeName).toBe('simc-1');
    expect(bound.status?.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
  }, 60_000);

  it('runs a DaemonSet pod on every eligible node', async () => {
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: NS },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'none' }] } } },
    };
    expect((await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(ds) })).code).toBe(0);
    const agentPods = async () => (await api.client.list<Pod>(pods, { namespace: NS, labelSelector: 'app=agent' })).items.filter((p) => !p.metadata.deletionTimestamp);
    // simc-0 is tainted: only simc-1
    await waitFor(async () => {
      const ps = await agentPods();
      return ps.length === 1 && ps[0]!.spec.nodeName === 'simc-1' && ps[0]!.status?.phase === 'Running';
    }, { timeoutMs: 30_000, what: 'one agent on simc-1' });
    expect((await api.kubectl(['taint', 'nodes', 'simc-0', 'dedicated=infra:NoSchedule-'])).code).toBe(0);
    await waitFor(async () => {
      const ps = await agentPods();
      return ps.length === 2 && new Set(ps.map((p) => p.spec.nodeName)).size === 2 && ps.every((p) => p.status?.phase === 'Running');
    }, { timeoutMs: 30_000, what: 'an agent on each node' });
    const status = await waitFor(async () => {
      const r = await api.kubectl(['get', 'ds', 'agent', '-o', 'jsonpath={.status.desiredNumberScheduled}/{.status.numberReady}']);
      return r.stdout === '2/2' ? r.stdout : undefined;
    }, { what: 'DaemonSet status' });
    expect(status).toBe('2/2');
  }, 60_000);

  it('with two schedulers, only the Lease holder binds; the other takes over when it stops', async () => {
    const args = ['scheduler', '--leader-elect-lease-duration=4s', '--leader-elect-renew-deadline=3s', '--leader-elect-retry-period=500ms', '--scheduler-name=elected'];
    const a = start(args);
    const b = start(args);
    const leading = (p: Proc) => p.output().includes('"Started leading"');
    const leader = await waitFor(() => (leading(a) ? a : leading(b) ? b : undefined), { timeoutMs: 20_000, what: 'a leader' });
    const follower = leader === a ? b : a;
    const lease = await api.client.get<Lease>(leases, 'kube-scheduler', { namespace: 'kube-system' });
    expect(lease.spec.holderIdentity).toBeTruthy();
    const mk = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { schedulerName: 'elected', containers: [{ name: 'c', image: 'none' }] } });
    expect((await api.kubectl(['apply', '-f', '-'], { input: mk('elected-1') })).code).toBe(0);
    await waitFor(async () => (await getPod('elected-1')).spec.nodeName, { what: 'elected-1 bound' });
    expect(leading(follower)).toBe(false);
    await stopProcess(leader);
    await waitFor(() => leading(follower), { timeoutMs: 20_000, what: 'takeover' });
    expect((await api.kubectl(['apply', '-f', '-'], { input: mk('elected-2') })).code).toBe(0);
    await waitFor(async () => (await getPod('elected-2')).spec.nodeName, { timeoutMs: 20_000, what: 'elected-2 bound' });
  }, 90_000);
});
