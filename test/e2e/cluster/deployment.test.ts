// A Deployment on a 2-node `kubeplane up --pods=netns` cluster, driven with the real kubectl:
// pods are processes in network namespaces, answering HTTP from other pods across nodes, in
// the Service's EndpointSlice; scaling, termination grace and rolling updates as on a real
// cluster; and, through the data plane each node runs, DNS names and the ClusterIP.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { waitFor } from '../../helpers/cli.js';
import { NETNS_CLUSTER_NEEDS, startNetnsCluster, type NetnsCluster } from '../../helpers/netns-up.js';

const SERVER = fileURLToPath(new URL('./web-server.mjs', import.meta.url));

interface PodView {
  metadata: { name: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; hostIP?: string; conditions?: { type: string; status: string }[] };
}
interface SliceView {
  endpoints: { addresses: string[]; conditions: { ready?: boolean; serving?: boolean; terminating?: boolean }; targetRef?: { name: string } }[] | null;
}

describeE2E('netns cluster: a Deployment', { ...NETNS_CLUSTER_NEEDS, commands: [...NETNS_CLUSTER_NEEDS.commands!, 'dig', 'getent'] }, () => {
  let c: NetnsCluster;

  const pods = async (): Promise<PodView[]> => (JSON.parse(await c.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: PodView[] }).items;
  const endpoints = async () =>
    (JSON.parse(await c.kubectlOk(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json'])) as { items: SliceView[] }).items.flatMap((s) => s.endpoints ?? []);
  const isReady = (p: PodView) => p.status.phase === 'Running' && p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
  const live = (ps: PodView[]) => ps.filter((p) => !p.metadata.deletionTimestamp);

  beforeAll(async () => {
    c = await startNetnsCluster({ nodes: 2, tag: 'kpdep' });
  }, 90_000);

  afterAll(async () => {
    await c?.stop();
  }, 60_000);

  it('runs 3 pods across both nodes, Ready, in the EndpointSlice, answering HTTP from other pods', async () => {
    // `kubectl create deployment` cannot add probes or env: take its object and add them.
    const made = JSON.parse(await c.kubectlOk(['create', 'deployment', 'web', '--image=none', '--replicas=3', '--port=8080', '--dry-run=client', '-o', 'json', '--', process.execPath, SERVER])) as {
      spec: { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } };
    };
    const pod = made.spec.template.spec;
    pod.terminationGracePeriodSeconds = 5;
    Object.assign(pod.containers[0]!, {
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'TERM_DELAY_MS', value: '3000' },
      ],
      readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1 },
    });
    await c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(made) });
    await c.kubectlOk(['expose', 'deployment', 'web', '--port=80', '--target-port=8080']);
    const rollout = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s'], { timeoutMs: 70_000 });
    expect(rollout.code, rollout.stderr + c.output()).toBe(0);

    const running = await waitFor(async () => {
      const ps = await pods();
      return ps.length === 3 && ps.every(isReady) ? ps : undefined;
    }, { what: '3 Ready pods', timeoutMs: 30_000 });
    expect(new Set(running.map((p) => p.spec.nodeName)).size).toBe(2);
    for (const p of running) expect(p.status.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
    for (const p of running) expect(p.status.hostIP).toMatch(/^192\.168\.100\.1\d$/);

    const ips = running.map((p) => p.status.podIP!).sort();
    const sliceIPs = await waitFor(async () => {
      const eps = await endpoints();
      const got = eps.filter((e) => e.conditions.ready).map((e) => e.addresses[0]!).sort();
      return got.length === 3 ? got : undefined;
    }, { what: 'EndpointSlice with 3 ready endpoints', timeoutMs: 30_000 });
    expect(sliceIPs).toEqual(ips);

    // Every pod answers on its IP from another pod, including one on the other node.
    let crossNode = 0;
    for (const target of running) {
      for (const from of running) {
        if (from === target) continue;
        const r = await c.execInPod(from.metadata.name, ['curl', '-s', '-m', '5', `http://${target.status.podIP}:8080/`]);
        expect(r.stdout.trim(), `${from.metadata.name} -> ${target.metadata.name}: ${r.stderr}`).toBe(target.metadata.name);
        if (from.spec.nodeName !== target.spec.nodeName) crossNode++;
      }
    }
    expect(crossNode).toBeGreaterThan(0);
    // The container's output is kept.
    expect(c.podLog(running[0]!.metadata.name, 'none')).toContain(`${running[0]!.metadata.name} serving on 8080`);
  }, 120_000);

  it('resolves the Service by its full and its short name and reaches it on the ClusterIP (data plane in the node namespaces)', async () => {
    const [p] = live(await pods());
    const clusterIP = (await c.kubectlOk(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const resolv = await c.execInPod(p!.metadata.name, ['cat', '/etc/resolv.conf']);
    expect(resolv.stdout).toContain('search default.svc.cluster.local svc.cluster.local cluster.local');
    expect(resolv.stdout).toContain('options ndots:5');
    const full = await waitFor(async () => {
      const r = await c.execInPod(p!.metadata.name, ['dig', '+short', '+time=2', '+tries=1', 'web.default.svc.cluster.local', 'A']);
      return r.stdout.trim() === clusterIP ? r.stdout.trim() : undefined;
    }, { what: 'web.default.svc.cluster.local from a pod', timeoutMs: 30_000 });
    expect(full).toBe(clusterIP);
    // The short name through the pod's search path, with the libc resolver as programs use it.
    const short = await c.execInPod(p!.metadata.name, ['getent', 'hosts', 'web']);
    expect(short.stdout.trim().split(/\s+/)[0]).toBe(clusterIP);
    const dig = await c.execInPod(p!.metadata.name, ['dig', '+search', '+short', '+time=2', '+tries=1', 'web', 'A']);
    expect(dig.stdout.trim()).toBe(clusterIP);
    // Through the node's proxy rules to the pods on both nodes.
    const names = new Set<string>();
    const all = live(await pods()).map((x) => x.metadata.name);
    await waitFor(async () => {
      const r = await c.execInPod(p!.metadata.name, ['curl', '-s', '-m', '3', 'http://web/']);
      if (r.code === 0) names.add(r.stdout.trim());
      return names.size === all.length;
    }, { what: `answers from all of ${all.join(', ')} through the ClusterIP (got ${[...names].join(', ')})`, timeoutMs: 30_000, intervalMs: 50 });
    expect([...names].sort()).toEqual([...all].sort());
  }, 90_000);

  it('scales to 5 and back to 2: the slice follows, terminating endpoints flagged during the grace period', async () => {
    await c.kubectlOk(['scale', 'deployment/web', '--replicas=5']);
    await waitFor(async () => {
      const ps = live(await pods());
      const eps = await endpoints();
      return ps.length === 5 && ps.every(isReady) && eps.filter((e) => e.conditions.ready).length === 5;
    }, { what: '5 ready endpoints', timeoutMs: 60_000 });

    await c.kubectlOk(['scale', 'deployment/web', '--replicas=2']);
    // The servers keep serving 3 s after SIGTERM: their endpoints stay, flagged terminating.
    const terminating = await waitFor(async () => {
      const eps = (await endpoints()).filter((e) => e.conditions.terminating);
      return eps.length === 3 ? eps : undefined;
    }, { what: '3 terminating endpoints', timeoutMs: 30_000, intervalMs: 50 });
    for (const e of terminating) {
      expect(e.conditions.ready).toBe(false);
      expect(e.conditions.serving).toBe(true);
    }
    const dying = (await pods()).filter((p) => p.metadata.deletionTimestamp).map((p) => p.metadata.name);
    expect(dying.length).toBeGreaterThan(0);
    // Then the processes exit, the namespaces go, the pods are deleted and the slice holds 2.
    await waitFor(async () => {
      const ps = await pods();
      const eps = await endpoints();
      return ps.length === 2 && eps.length === 2 && eps.every((e) => e.conditions.ready && !e.conditions.terminating);
    }, { what: '2 pods and 2 endpoints', timeoutMs: 60_000 });
    const got = (await endpoints()).map((e) => e.addresses[0]).sort();
    expect(got).toEqual((await pods()).map((p) => p.status.podIP).sort());
    // Their output is kept after the pod is gone, SIGTERM included.
    for (const name of dying) expect(c.podLog(name, 'none')).toContain(`${name} got SIGTERM`);
  }, 150_000);

  it('completes a rolling update and `kubectl rollout status` reports success', async () => {
    const before = new Set((await pods()).map((p) => p.metadata.name));
    await c.kubectlOk(['set', 'env', 'deployment/web', 'VERSION=v2']);
    const rollout = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
    expect(rollout.code, rollout.stderr).toBe(0);
    expect(rollout.stdout).toContain('successfully rolled out');
    const after = await waitFor(async () => {
      const ps = await pods();
      return ps.length === 2 && ps.every((p) => !before.has(p.metadata.name) && isReady(p)) ? ps : undefined;
    }, { what: '2 new Ready pods', timeoutMs: 60_000 });
    for (const p of after) {
      const r = await c.execInPod(after.find((q) => q !== p)!.metadata.name, ['curl', '-s', '-m', '5', `http://${p.status.podIP}:8080/`]);
      expect(r.stdout.trim()).toBe(`${p.metadata.name} v2`);
    }
    await waitFor(async () => {
      const got = (await endpoints()).filter((e) => e.conditions.ready).map((e) => e.addresses[0]).sort();
      return JSON.stringify(got) === JSON.stringify(after.map((p) => p.status.podIP).sort());
    }, { what: 'slice with the new pods only', timeoutMs: 60_000 });
  }, 150_000);
});
