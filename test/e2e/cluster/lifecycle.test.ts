// The netns cluster's own lifecycle: a crashed `kubeplane up` leaves namespaces and pod
// processes behind; the next run with the same prefix kills and removes them before it
// builds its own, and a clean stop leaves nothing (the harness's stop() checks that).
import { execFileSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { waitFor } from '../../helpers/cli.js';
import { NETNS_CLUSTER_NEEDS, startNetnsCluster, type NetnsCluster } from '../../helpers/netns-up.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describeE2E('netns cluster: crash leftovers and clean shutdown', NETNS_CLUSTER_NEEDS, () => {
  const clusters: NetnsCluster[] = [];

  afterAll(async () => {
    // The crashed one first: its stop() only removes what is left of it.
    for (const c of clusters) await c.stop();
  }, 60_000);

  it('removes what a crashed run left, processes included, and serves the same pod again', async () => {
    const first = await startNetnsCluster({ nodes: 1, tag: 'kplc', dataPlane: false });
    clusters.push(first);
    await first.kubectlOk(['run', 'sleeper', '--image=none', '--restart=Never', '--command', '--', 'sleep', '1000']);
    await waitFor(async () => (await first.kubectlOk(['get', 'pod', 'sleeper', '-o', 'jsonpath={.status.phase}'])) === 'Running', { what: 'sleeper running', timeoutMs: 30_000 });
    const podNs = await first.podNs('sleeper');
    const pids = execFileSync('ip', ['netns', 'pids', podNs], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
    expect(pids.length).toBeGreaterThan(0);

    await first.crash();
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(left).toContain(podNs);
    expect(left).toContain(`${first.prefix}-fabric`);
    expect(pids.every(alive)).toBe(true);

    // Same tag, same prefix: the new run sweeps the old one's namespaces before building.
    const second = await startNetnsCluster({ nodes: 1, tag: 'kplc', dataPlane: false });
    clusters.unshift(second);
    expect(second.prefix).toBe(first.prefix);
    expect(second.output()).toMatch(/Removed namespaces a previous run left.*-fabric/);
    await waitFor(() => pids.every((p) => !alive(p)), { what: 'the crashed run\'s pod processes killed', timeoutMs: 10_000 });
    // The fresh cluster works: a pod runs in a namespace of its own.
    await second.kubectlOk(['run', 'again', '--image=none', '--restart=Never', '--command', '--', 'sleep', '1000']);
    await waitFor(async () => (await second.kubectlOk(['get', 'pod', 'again', '-o', 'jsonpath={.status.phase}'])) === 'Running', { what: 'pod running on the new run', timeoutMs: 30_000 });
    expect(await second.podNs('again')).toMatch(new RegExp(`^${second.prefix}-pod-\\d+$`));
    // A clean stop (SIGTERM) stops its processes and deletes every namespace it made.
    const again = execFileSync('ip', ['netns', 'pids', await second.podNs('again')], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
    await second.stop();
    expect(again.some(alive)).toBe(false);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`${second.prefix}-`);
  }, 120_000);

  it('with --nodes 0 runs only adopted nodes, and a stop while one is being adopted leaves nothing', async () => {
    const c = await startNetnsCluster({ nodes: 0, tag: 'kplc0' });
    clusters.unshift(c);
    await c.addNode('late');
    await c.kubectlOk(['run', 'onlate', '--image=none', '--restart=Never', '--command', '--', 'sleep', '1000']);
    await waitFor(async () => (await c.kubectlOk(['get', 'pod', 'onlate', '-o', 'jsonpath={.spec.nodeName} {.status.phase}'])) === 'late Running', { what: 'pod running on the adopted node', timeoutMs: 30_000 });
    // The adopted node runs its data plane (kubeplane node) and helper in its namespace.
    const nodePids = execFileSync('ip', ['netns', 'pids', c.nodeNs('late')], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
    expect(nodePids.length).toBeGreaterThanOrEqual(2);
    const podPids = execFileSync('ip', ['netns', 'pids', await c.podNs('onlate')], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
    // Another node arrives and `up` is stopped at once, possibly mid-adoption.
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'later', labels: { 'kubeplane.io/sandbox': 'netns' } } }) });
    // throws if a namespace is left; up's own account of its shutdown says why
    await c.stop().catch((err: Error) => Promise.reject(new Error(`${err.message}\n${c.output().slice(-4000)}`)));
    expect([...nodePids, ...podPids].filter(alive)).toEqual([]);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`${c.prefix}-`);
    // Each step above is bounded (cluster start, adoption, pod start, SIGKILL 30 s into the
    // stop); the test's own limit only covers their sum on a loaded machine.
  }, 150_000);
});
