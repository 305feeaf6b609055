// `kubeplane up` with two simulated nodes, driven by the real kubectl: pod affinity and
// anti-affinity with kube-scheduler's FailedScheduling wording, one FailedScheduling Event
// whose count grows while a pod stays unschedulable, PriorityClass admission, and a
// higher-priority pod preempting a lower-priority one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';

interface PodJson {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string; priority?: number; preemptionPolicy?: string };
  status: { phase?: string; nominatedNodeName?: string; conditions?: { type: string; status: string; reason?: string }[] };
}
interface EventJson {
  involvedObject: { name: string; kind: string };
  reason: string;
  message: string;
  count?: number;
  type: string;
}

describeE2E('scheduler: affinity, event aggregation and preemption through kubeplane up', { commands: ['kubectl'] }, () => {
  let dir = '';
  let up: ReturnType<typeof startKubeplane> | undefined;
  let kubeconfig = '';
  const kubectl = (args: string[], input?: string) => runCommand('/usr/bin/kubectl', ['--cache-dir', join(dir, 'cache'), ...args], { env: { KUBECONFIG: kubeconfig, HOME: dir }, input });
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = async (objs: object[]) => {
    for (const o of objs) await ok(['apply', '-f', '-'], JSON.stringify(o));
  };
  const getPod = async (name: string) => JSON.parse(await ok(['get', 'pod', name, '-o', 'json'])) as PodJson;
  const events = async (name: string, reason: string) =>
    (JSON.parse(await ok(['get', 'events', '-o', 'json'])) as { items: EventJson[] }).items.filter((e) => e.involvedObject.name === name && e.reason === reason);
  const pod = (name: string, labels: Record<string, string>, spec: object = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'none' }], ...spec },
  });
  const running = (name: string) => waitFor(async () => {
    const p = await getPod(name);
    return p.status.phase === 'Running' ? p : undefined;
  }, { what: `${name} running`, timeoutMs: 30_000 });
  let nodeNames: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `kp-schedaff-${process.pid}-`));
    up = startKubeplane(['up', '--secure-port', '0', '--data-dir', join(dir, 'state'), '--nodes', '2', '--dns-bind', 'off', '--upstream', '127.0.0.1:9', '--http-bind', 'off', '--https-bind', 'off']);
    const p = up;
    kubeconfig = await waitFor(() => /export KUBECONFIG=(\S+)/.exec(p.output())?.[1] ?? (p.exitCode !== null ? Promise.reject(new Error(p.output())) : undefined), { timeoutMs: 60_000, what: 'kubeplane up' });
    nodeNames = await waitFor(async () => {
      const names = (await ok(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(/\s+/).filter(Boolean);
      return names.length === 2 ? names.sort() : undefined;
    }, { what: '2 nodes', timeoutMs: 30_000 });
  }, 90_000);

  afterAll(async () => {
    if (up) await stopProcess(up);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('required pod affinity follows the selected pod; anti-affinity spreads and then says why not', async () => {
    await apply([pod('db', { app: 'db' }, { nodeSelector: { 'kubernetes.io/hostname': nodeNames[1] } })]);
    const db = await running('db');
    const affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    await apply([pod('web-0', { app: 'web' }, { affinity }), pod('web-1', { app: 'web' }, { affinity })]);
    expect((await running('web-0')).spec.nodeName).toBe(db.spec.nodeName);
    expect((await running('web-1')).spec.nodeName).toBe(db.spec.nodeName);

    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    await apply([pod('cache-0', { app: 'cache' }, { affinity: anti }), pod('cache-1', { app: 'cache' }, { affinity: anti })]);
    const c0 = await running('cache-0');
    const c1 = await running('cache-1');
    expect(new Set([c0.spec.nodeName, c1.spec.nodeName]).size).toBe(2);
    await apply([pod('cache-2', { app: 'cache' }, { affinity: anti })]);
    const [ev] = await waitFor(async () => {
      const evs = await events('cache-2', 'FailedScheduling');
      return evs.length > 0 ? evs : undefined;
    }, { what: 'FailedScheduling for cache-2' });
    expect(ev!.message).toBe("0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.");
    const described = await ok(['describe', 'pod', 'cache-2']);
    expect(described).toContain("didn't match pod anti-affinity rules");

    // Unrelated pods landing on nodes are retries for the parked pod: the same Event counts them.
    for (let i = 0; i < 3; i++) {
      await apply([pod(`filler-${i}`, { app: 'filler' })]);
      await running(`filler-${i}`);
    }
    const counted = await waitFor(async () => {
      const evs = await events('cache-2', 'FailedScheduling');
      return evs.length === 1 && (evs[0]!.count ?? 0) >= 3 ? evs : undefined;
    }, { what: 'one FailedScheduling event with a count of at least 3', timeoutMs: 30_000 });
    expect(counted).toHaveLength(1);
    expect((await getPod('cache-2')).spec.nodeName).toBeUndefined();
    await ok(['delete', 'pod', 'cache-2', '--wait=false']);
  }, 120_000);

  it('PriorityClass admission sets spec.priority; a higher-priority pod preempts a lower-priority one', async () => {
    expect((await ok(['get', 'priorityclass', '-o', 'name'])).split('\n')).toEqual(expect.arrayContaining(['priorityclass.scheduling.k8s.io/system-cluster-critical', 'priorityclass.scheduling.k8s.io/system-node-critical']));
    await ok(['create', 'priorityclass', 'low', '--value=10']);
    await ok(['create', 'priorityclass', 'high', '--value=1000']);
    expect((await ok(['get', 'priorityclass', 'high'])).split('\n')[1]).toMatch(/^high\s+1000\s+false\s+\S+\s+PreemptLowerPriority$/);
    const refused = await kubectl(['apply', '-f', '-'], JSON.stringify(pod('typo', {}, { priorityClassName: 'hihg' })));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('no PriorityClass with name hihg was found');

    // Each simulated node has 32 cpus: one 20-cpu pod fills a node for this purpose.
    const big = (name: string, cls: string, node?: string) =>
      pod(name, { app: name }, { priorityClassName: cls, ...(node ? { nodeSelector: { 'kubernetes.io/hostname': node } } : {}), containers: [{ name: 'c', image: 'none', resources: { requests: { cpu: '20' } } }] });
    await apply([big('low-0', 'low', nodeNames[0]), big('low-1', 'low', nodeNames[1])]);
    const low0 = await running('low-0');
    await running('low-1');
    expect(low0.spec.priority).toBe(10);

    // A second low pod fits nowhere, and cannot preempt its peers.
    await apply([big('low-2', 'low')]);
    const [lowEv] = await waitFor(async () => {
      const evs = await events('low-2', 'FailedScheduling');
      return evs.length > 0 ? evs : undefined;
    }, { what: 'FailedScheduling for low-2' });
    expect(lowEv!.message).toBe('0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
    await ok(['delete', 'pod', 'low-2', '--wait=false']);

    await apply([big('urgent', 'high')]);
    const urgent = await running('urgent');
    expect(urgent.spec.priority).toBe(1000);
    expect(urgent.status.nominatedNodeName).toBe(urgent.spec.nodeName);
    const victim = urgent.spec.nodeName === low0.spec.nodeName ? 'low-0' : 'low-1';
    const survivor = victim === 'low-0' ? 'low-1' : 'low-0';
    const [preempted] = await waitFor(async () => {
      const evs = await events(victim, 'Preempted');
      return evs.length > 0 ? evs : undefined;
    }, { what: `Preempted event on ${victim}` });
    expect(preempted!.message).toBe(`Preempted by pod ${urgent.metadata.uid} on node ${urgent.spec.nodeName}`);
    await waitFor(async () => (await kubectl(['get', 'pod', victim])).code !== 0, { what: `${victim} gone`, timeoutMs: 30_000 });
    expect((await getPod(survivor)).status.phase).toBe('Running');
    const scheduled = await events('urgent', 'Scheduled');
    expect(scheduled.map((e) => e.message)).toEqual([`Successfully assigned default/urgent to ${urgent.spec.nodeName}`]);
  }, 120_000);
});
