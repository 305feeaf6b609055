// ClusterRole aggregationRule through `kubeplane up` and the real kubectl: the aggregated
// role's rules follow the selected roles (added, changed, unlabelled), and RBAC grants them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

describeE2E('clusterrole-aggregation controller', { commands: ['kubectl'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), `kp-cragg-${process.pid}-`));
  const kubeconfig = join(dir, 'data', 'kubeconfig');
  let up: ReturnType<typeof startKubeplane> | undefined;

  async function kubectl(args: string[], input?: string): Promise<string> {
    const r = await runCommand('/usr/bin/kubectl', ['--cache-dir', join(dir, 'kube-cache'), ...args], { env: { KUBECONFIG: kubeconfig, HOME: dir }, input, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }
  const apply = (obj: Obj): Promise<string> => kubectl(['apply', '-f', '-'], JSON.stringify(obj));
  const rulesOf = async (name: string): Promise<Obj[]> => (JSON.parse(await kubectl(['get', 'clusterrole', name, '-o', 'json'])) as Obj).rules ?? [];
  const role = (name: string, labels: Record<string, string>, rules: Obj[]): Obj => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules });

  beforeAll(async () => {
    up = startKubeplane(['up', '--secure-port', '0', '--data-dir', join(dir, 'data'), '--dns-bind', 'off', '--http-bind', 'off', '--https-bind', 'off', '--status-bind', 'off', '--upstream', '127.0.0.1:1']);
    const u = up;
    await waitFor(() => /kubeplane is up/.test(u.output()) || (u.exitCode !== null ? Promise.reject(new Error(u.output())) : undefined), { timeoutMs: 60_000, what: 'kubeplane up' });
  }, 90_000);

  afterAll(async () => {
    if (up) await stopProcess(up);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the aggregated rules the union of the selected roles', async () => {
    await apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'monitoring' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'example.test/aggregate-to-monitoring': 'true' } }] }, rules: [] });
    await apply(role('monitoring-pods', { 'example.test/aggregate-to-monitoring': 'true' }, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]));
    await apply(role('monitoring-svc', { 'example.test/aggregate-to-monitoring': 'true' }, [{ apiGroups: [''], resources: ['services'], verbs: ['get'] }, { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]));
    await apply(role('unrelated', {}, [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]));
    await waitFor(async () => ((await rulesOf('monitoring')).length === 2 ? true : undefined), { timeoutMs: 20_000, what: 'two aggregated rules' });
    expect(await rulesOf('monitoring')).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['services'], verbs: ['get'] },
    ]);

    // RBAC grants what the aggregate holds
    await kubectl(['create', 'clusterrolebinding', 'monitoring-alice', '--clusterrole=monitoring', '--user=alice']);
    await waitFor(async () => ((await kubectl(['auth', 'can-i', 'get', 'services', '--as=alice'])).trim() === 'yes' ? true : undefined), { timeoutMs: 20_000, what: 'alice to get services' });
    const denied = await runCommand('/usr/bin/kubectl', ['auth', 'can-i', 'get', 'secrets', '--as=alice'], { env: { KUBECONFIG: kubeconfig, HOME: dir } });
    expect(denied.stdout.trim()).toBe('no');

    // a changed source role changes the aggregate; an unlabelled one leaves it
    await apply(role('monitoring-svc', { 'example.test/aggregate-to-monitoring': 'true' }, [{ apiGroups: [''], resources: ['services', 'endpoints'], verbs: ['get'] }]));
    await waitFor(async () => (JSON.stringify(await rulesOf('monitoring')).includes('endpoints') ? true : undefined), { timeoutMs: 20_000, what: 'the changed rule' });
    await kubectl(['label', 'clusterrole', 'monitoring-pods', 'example.test/aggregate-to-monitoring-']);
    await waitFor(async () => ((await rulesOf('monitoring')).length === 1 ? true : undefined), { timeoutMs: 20_000, what: 'the unlabelled role to leave' });
    expect(await rulesOf('monitoring')).toEqual([{ apiGroups: [''], resources: ['services', 'endpoints'], verbs: ['get'] }]);

    // someone editing the aggregate's rules by hand gets them put back
    await kubectl(['patch', 'clusterrole', 'monitoring', '--type=merge', '-p', JSON.stringify({ rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['*'] }] })]);
    await waitFor(async () => (JSON.stringify(await rulesOf('monitoring')).includes('endpoints') ? true : undefined), { timeoutMs: 20_000, what: 'the rules restored' });
  }, 60_000);
});
