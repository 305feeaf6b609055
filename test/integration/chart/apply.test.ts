// charts/kubeplane applied to a real `kubeplane up` (simulated nodes) with the real kubectl:
// the rendered manifests for the default values and for each mode switch pass
// `kubectl apply --dry-run=server`, then apply for real; the DaemonSet gets one pod per node
// and the ClusterRole/Binding are there, the ClusterRole being exactly system:kubeplane-node.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { buildHelmRender, renderChart } from '../../helpers/chart.js';
import { runCommand, startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { NODE_RULES } from '../../../src/apiserver/authz/bootstrap.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const NODES = 2;

const VARIANTS: [string, Record<string, unknown>][] = [
  ['default values', {}],
  ['proxy.mode=nftables', { proxy: { mode: 'nftables' } }],
  ['proxy.mode=ipvs', { proxy: { mode: 'ipvs' } }],
  ['dns.enabled=false', { dns: { enabled: false } }],
  ['ingress.enabled=false', { ingress: { enabled: false } }],
  ['proxy.enabled=false', { proxy: { enabled: false } }],
  ['ingress.service.type=NodePort', { ingress: { service: { type: 'NodePort' } } }],
  ['ingress.service.type=LoadBalancer', { ingress: { service: { type: 'LoadBalancer' } } }],
];

describeE2E('charts/kubeplane applied to kubeplane up', { commands: ['go', 'kubectl'] }, () => {
  let dir = '';
  let bin = '';
  let cleanupBin = () => {};
  let up: ReturnType<typeof startKubeplane> | undefined;
  let kubeconfig = '';
  const kubectl = (args: string[], input?: string) => runCommand('/usr/bin/kubectl', ['--cache-dir', join(dir, 'cache'), ...args], { env: { KUBECONFIG: kubeconfig, HOME: dir }, input, timeoutMs: 60_000 });
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  beforeAll(async () => {
    ({ bin, cleanup: cleanupBin } = buildHelmRender());
    dir = mkdtempSync(join(tmpdir(), `kp-chart-apply-${process.pid}-`));
    up = startKubeplane(['up', '--secure-port', '0', '--data-dir', join(dir, 'state'), '--nodes', String(NODES), '--dns-bind', 'off', '--http-bind', 'off', '--https-bind', 'off']);
    const p = up;
    kubeconfig = await waitFor(() => /export KUBECONFIG=(\S+)/.exec(p.output())?.[1] ?? (p.exitCode !== null ? Promise.reject(new Error(p.output())) : undefined), { timeoutMs: 60_000, what: 'kubeplane up' });
    await waitFor(async () => (await ok(['get', 'nodes', '-o', 'name'])).trim().split('\n').length === NODES, { what: `${NODES} nodes`, timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    if (up) await stopProcess(up);
    cleanupBin();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the default ClusterRole is exactly the API server\'s system:kubeplane-node', () => {
    const role = renderChart(bin).objects.find((o) => o.kind === 'ClusterRole')!;
    expect(role.rules).toEqual(NODE_RULES);
  });

  it.each(VARIANTS)('%s: server-side dry run, then apply; the DaemonSet runs on every node', async (_name, values) => {
    // A replacement pod needs its host ports back, so each node of the rolling update waits out
    // the old pod's grace period: keep it short here.
    const { text, objects } = renderChart(bin, { ...values, terminationGracePeriodSeconds: 1 });
    const dry = await ok(['apply', '--dry-run=server', '-f', '-'], text);
    for (const o of objects) expect(dry).toMatch(new RegExp(`${o.kind.toLowerCase()}\\S*/${o.metadata.name.replace(/\./g, '\\.')} (created|configured|unchanged) \\(server dry run\\)`));
    await ok(['apply', '-f', '-'], text);
    const ds = objects.find((o) => o.kind === 'DaemonSet')!;
    const name = ds.metadata.name as string;
    // one Running pod per node, of the DaemonSet's current template
    const pods = await waitFor(async () => {
      const status = JSON.parse(await ok(['get', 'daemonset', name, '-n', 'kube-system', '-o', 'json'])) as Obj;
      if (status.status?.observedGeneration !== status.metadata.generation) return undefined;
      if (status.status?.desiredNumberScheduled !== NODES || status.status?.updatedNumberScheduled !== NODES || status.status?.numberReady !== NODES) return undefined;
      const list = JSON.parse(await ok(['get', 'pods', '-n', 'kube-system', '-l', 'app.kubernetes.io/name=kubeplane', '-o', 'json'])) as Obj;
      const live = (list.items as Obj[]).filter((p) => !p.metadata.deletionTimestamp);
      // the rolling update is over when every pod left runs the new template
      const current = live.every((p) => JSON.stringify(p.spec.containers[0].args) === JSON.stringify(ds.spec.template.spec.containers[0].args));
      return current && live.length === NODES && live.every((p) => p.status?.phase === 'Running') ? live : undefined;
    }, { timeoutMs: 60_000, what: `${name} pods on ${NODES} nodes` });
    expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBe(NODES);
    expect(pods.every((p) => p.spec.serviceAccountName === name && p.spec.hostNetwork === true)).toBe(true);
    // RBAC objects as rendered, read back from the server
    const role = JSON.parse(await ok(['get', 'clusterrole', name, '-o', 'json'])) as Obj;
    expect(role.rules).toEqual(objects.find((o) => o.kind === 'ClusterRole')!.rules);
    const binding = JSON.parse(await ok(['get', 'clusterrolebinding', name, '-o', 'json'])) as Obj;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name, namespace: 'kube-system' }]);
    // the pods' ServiceAccount (a TokenRequest token, as the kubelet mounts one) holds the role's rules and no more
    const token = (await ok(['create', 'token', name, '-n', 'kube-system'])).trim();
    const asPod = async (args: string[]) => (await kubectl(['--token', token, 'auth', 'can-i', ...args])).stdout.trim();
    expect(await asPod(['list', 'services', '-A'])).toBe('yes');
    expect(await asPod(['watch', 'endpointslices.discovery.k8s.io', '-A'])).toBe('yes');
    expect(await asPod(['create', 'pods', '-n', 'kube-system'])).toBe('no');
    expect(await asPod(['list', 'configmaps', '-n', 'kube-system'])).toBe('no');
    const ingress = (values.ingress as { enabled?: boolean } | undefined)?.enabled !== false;
    expect(await asPod(['patch', 'ingresses.networking.k8s.io', '--subresource=status', '-n', 'default'])).toBe(ingress ? 'yes' : 'no');
    expect(await asPod(['get', 'secrets', '-n', 'default'])).toBe(ingress ? 'yes' : 'no');
    if (objects.some((o) => o.kind === 'Service' && o.metadata.name === 'kube-dns')) {
      expect((await ok(['get', 'svc', 'kube-dns', '-n', 'kube-system', '-o', 'jsonpath={.spec.clusterIP}'])).trim()).toBe('10.96.0.10');
    }
  }, 120_000);
});
