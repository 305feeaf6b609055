import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Lease, Pod } from '../../../src/api/types.js';
import { resourceFor } from '../../../src/api/resources.js';
import { startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { describeE2E } from '../../helpers/e2e.js';
import { startApiServer, type TestApiServer } from './cluster.js';

/*
 * Two `kubeplane controller-manager` processes against one real API server: only the
 * holder of the kube-controller-manager Lease acts; when it stops, the other takes over.
 */

const pods = resourceFor('', 'pods')!;
const leases = resourceFor('coordination.k8s.io', 'leases')!;
const NS = 'default';

type Proc = ReturnType<typeof startKubeplane>;
let api: TestApiServer;
const procs: Proc[] = [];

function startCM(): Proc {
  const p = startKubeplane([
    'controller-manager',
    `--kubeconfig=${api.kubeconfig}`,
    '--leader-elect-lease-duration=4s',
    '--leader-elect-renew-deadline=3s',
    '--leader-elect-retry-period=500ms',
    '--controllers=replicaset,garbagecollector',
  ]);
  procs.push(p);
  return p;
}

const leading = (p: Proc) => p.output().includes('"Started leading"');

async function rsPods(name: string): Promise<Pod[]> {
  return (await api.client.list<Pod>(pods, { namespace: NS, labelSelector: `app=${name}` })).items;
}

function replicaSet(name: string, replicas: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: NS },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'none' }] } } },
  };
}

describeE2E('two controller-managers', { commands: ['kubectl'] }, () => {
  beforeAll(async () => {
    api = await startApiServer('leader');
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) await stopProcess(p);
    await api?.stop();
  }, 30_000);

  it('elect one leader, which alone creates pods; the other takes over when it stops', async () => {
    const a = startCM();
    const b = startCM();
    const leader = await waitFor(() => (leading(a) ? a : leading(b) ? b : undefined), { timeoutMs: 20_000, what: 'a leader' });
    const follower = leader === a ? b : a;
    const lease = await api.client.get<Lease>(leases, 'kube-controller-manager', { namespace: 'kube-system' });
    expect(lease.spec.holderIdentity).toBeTruthy();
    expect(leading(follower)).toBe(false);

    expect((await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(replicaSet('first', 3)) })).code).toBe(0);
    await waitFor(async () => (await rsPods('first')).length === 3, { what: '3 pods' });
    // Give a second, wrongly active manager the time to double them.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await rsPods('first')).toHaveLength(3);
    expect(leading(follower)).toBe(false);

    await stopProcess(leader);
    await waitFor(() => leading(follower), { timeoutMs: 20_000, what: 'the follower to take over' });
    const after = await api.client.get<Lease>(leases, 'kube-controller-manager', { namespace: 'kube-system' });
    expect(after.spec.holderIdentity).not.toBe(lease.spec.holderIdentity);
    expect(after.spec.leaseTransitions).toBeGreaterThan(lease.spec.leaseTransitions ?? 0);

    expect((await api.kubectl(['scale', 'rs/first', '--replicas=1'])).code).toBe(0);
    await waitFor(async () => (await rsPods('first')).filter((p) => !p.metadata.deletionTimestamp).length === 1, { timeoutMs: 20_000, what: 'scale down by the new leader' });
  }, 90_000);

  it('refuses a bad flag with a clear message', async () => {
    const p = startKubeplane(['controller-manager', `--kubeconfig=${api.kubeconfig}`, '--controllers=nope']);
    procs.push(p);
    await waitFor(() => p.exitCode !== null, { what: 'exit' });
    expect(p.exitCode).toBe(2);
    expect(p.output()).toContain('invalid --controllers "nope"');
  });
});
