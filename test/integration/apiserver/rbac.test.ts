// RBAC and client-certificate authentication on a real `kubeplane apiserver`, driven with the
// real kubectl: each user is a kubeconfig holding a client certificate signed by the cluster
// CA (CN = user, O = groups), exactly as kube-apiserver's x509 authenticator reads it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, startKubeplane, stopProcess, waitFor, type RunResult } from '../../helpers/cli.js';
import { createCA, createServingCert } from '../../../src/pki/index.js';
import { NODE_RULES } from '../../../src/apiserver/authz/bootstrap.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

describeE2E('RBAC and x509 authentication in kubeplane apiserver', { commands: ['kubectl'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), `kp-rbac-${process.pid}-`));
  const dataDir = join(dir, 'data');
  const adminKubeconfig = join(dataDir, 'kubeconfig');
  let server: ReturnType<typeof startKubeplane> | undefined;
  let serverUrl = '';
  let caData = '';

  /** a kubeconfig for CN=user, O=groups, signed by `ca` (default: the cluster CA) */
  function userKubeconfig(user: string, groups: string[] = [], ca?: { certPem: string; keyPem: string }): string {
    const signer = ca ?? { certPem: readFileSync(join(dataDir, 'pki/ca.crt'), 'utf8'), keyPem: readFileSync(join(dataDir, 'pki/ca.key'), 'utf8') };
    const cert = createServingCert({ ca: signer, commonName: user, organizations: groups, clientAuth: true });
    // KUBECONFIG is a ':'-separated list, so the file name must not hold one
    const path = join(dir, `${[user, ...groups].join('-').replace(/[^a-z0-9-]/gi, '_')}${ca ? '-foreign' : ''}.kubeconfig`);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    writeFileSync(
      path,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${serverUrl}\n    certificate-authority-data: ${caData}\ncontexts:\n- name: c\n  context: {cluster: c, user: u, namespace: default}\ncurrent-context: c\nusers:\n- name: u\n  user:\n    client-certificate-data: ${b64(cert.certPem)}\n    client-key-data: ${b64(cert.keyPem)}\n`,
    );
    return path;
  }

  function kubectl(kubeconfig: string, args: string[], input?: string): Promise<RunResult> {
    return runCommand('/usr/bin/kubectl', ['--cache-dir', join(dir, 'cache'), ...args], { env: { KUBECONFIG: kubeconfig, HOME: dir }, input, timeoutMs: 60_000 });
  }
  async function ok(kubeconfig: string, args: string[], input?: string): Promise<string> {
    const r = await kubectl(kubeconfig, args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }
  const admin = (args: string[], input?: string) => ok(adminKubeconfig, args, input);
  /** `kubectl auth can-i` as the given kubeconfig: yes or no */
  async function canI(kubeconfig: string, args: string[]): Promise<string> {
    const r = await kubectl(kubeconfig, ['auth', 'can-i', ...args]);
    if (r.code !== 0 && r.stdout.trim() !== 'no') throw new Error(`auth can-i ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  }

  beforeAll(async () => {
    server = startKubeplane(['apiserver', '--secure-port', '0', '--bind-address', '127.0.0.1', '--data-dir', dataDir, '--node-credential-name', 'worker-1']);
    const s = server;
    await waitFor(() => /serving on (https:\/\/\S+)/.exec(s.output()) ?? (s.exitCode !== null ? Promise.reject(new Error(s.output())) : undefined), { timeoutMs: 30_000, what: 'apiserver to serve' });
    const cfg = parseYaml(readFileSync(adminKubeconfig, 'utf8')) as Obj;
    serverUrl = cfg.clusters[0].cluster.server;
    caData = cfg.clusters[0].cluster['certificate-authority-data'];
    await admin(['create', 'namespace', 'other']);
  }, 60_000);

  afterAll(async () => {
    if (server) await stopProcess(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a certificate user with no binding gets kube-apiserver\'s 403 with its exact message', async () => {
    const alice = userKubeconfig('alice');
    const r = await kubectl(alice, ['get', 'pods']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
    const named = await kubectl(alice, ['get', 'svc', 'kubernetes']);
    expect(named.stderr.trim()).toBe('Error from server (Forbidden): services "kubernetes" is forbidden: User "alice" cannot get resource "services" in API group "" in the namespace "default"');
    const cluster = await kubectl(alice, ['get', 'nodes']);
    expect(cluster.stderr.trim()).toBe('Error from server (Forbidden): nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope');
    const grouped = await kubectl(alice, ['get', 'deployments.apps']);
    expect(grouped.stderr.trim()).toBe('Error from server (Forbidden): deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" in the namespace "default"');
    // discovery and health are every authenticated user's (system:discovery, system:public-info-viewer)
    expect((await ok(alice, ['get', '--raw', '/healthz'])).trim()).toBe('ok');
    expect(await ok(alice, ['get', '--raw', '/api'])).toContain('v1');
    const path = await kubectl(alice, ['get', '--raw', '/metrics']);
    expect(path.stderr.trim()).toBe('Error from server (Forbidden): forbidden: User "alice" cannot get path "/metrics"');
    expect(await canI(alice, ['list', 'pods'])).toBe('no');
    expect(await canI(alice, ['get', '/healthz'])).toBe('yes');
    expect(await canI(alice, ['get', '/metrics'])).toBe('no');
  });

  it('a certificate from another CA is not a user: 401', async () => {
    const stranger = userKubeconfig('mallory', ['system:masters'], createCA('not-the-cluster-ca'));
    const r = await kubectl(stranger, ['get', 'pods']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: You must be logged in to the server (Unauthorized)');
  });

  it('a RoleBinding grants in its namespace only; resourceNames narrow it', async () => {
    const bob = userKubeconfig('bob');
    await admin(['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods', '-n', 'default']);
    await admin(['create', 'rolebinding', 'bob-reads-pods', '--role=pod-reader', '--user=bob', '-n', 'default']);
    await waitFor(async () => (await kubectl(bob, ['get', 'pods', '-n', 'default'])).code === 0, { what: 'the binding to take effect' });
    const other = await kubectl(bob, ['get', 'pods', '-n', 'other']);
    expect(other.stderr.trim()).toBe('Error from server (Forbidden): pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "other"');
    expect(await canI(bob, ['watch', 'pods', '-n', 'default'])).toBe('yes');
    expect(await canI(bob, ['delete', 'pods', '-n', 'default'])).toBe('no');
    expect(await canI(bob, ['list', 'pods', '--all-namespaces'])).toBe('no');
    // a ClusterRole bound by a RoleBinding also grants in that namespace only
    await admin(['create', 'clusterrole', 'cm-one', '--verb=get', '--resource=configmaps', '--resource-name=settings']);
    await admin(['create', 'rolebinding', 'bob-cm', '--clusterrole=cm-one', '--user=bob', '-n', 'other']);
    await admin(['create', 'configmap', 'settings', '-n', 'other', '--from-literal=a=b']);
    await admin(['create', 'configmap', 'secret-ish', '-n', 'other', '--from-literal=a=b']);
    await waitFor(async () => (await kubectl(bob, ['get', 'configmap', 'settings', '-n', 'other'])).code === 0, { what: 'the ClusterRole binding to take effect' });
    const denied = await kubectl(bob, ['get', 'configmap', 'secret-ish', '-n', 'other']);
    expect(denied.stderr.trim()).toBe('Error from server (Forbidden): configmaps "secret-ish" is forbidden: User "bob" cannot get resource "configmaps" in API group "" in the namespace "other"');
    expect(await canI(bob, ['get', 'configmaps', '-n', 'default'])).toBe('no');
    const wide = await admin(['get', 'rolebindings', '-n', 'default', '-o', 'wide']);
    expect(wide).toMatch(/^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS\s*$/m);
    expect(wide).toMatch(/^bob-reads-pods\s+Role\/pod-reader\s+\S+\s+bob\s*$/m);
    expect(await admin(['get', 'roles', '-n', 'default'])).toMatch(/^NAME\s+CREATED AT\s*\npod-reader\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s*$/m);
  });

  it('a ClusterRoleBinding grants cluster-wide, to users and to certificate groups', async () => {
    const carol = userKubeconfig('carol', ['auditors']);
    expect(await canI(carol, ['list', 'services', '--all-namespaces'])).toBe('no');
    await admin(['create', 'clusterrole', 'svc-reader', '--verb=get,list,watch', '--resource=services,endpointslices.discovery.k8s.io']);
    await admin(['create', 'clusterrolebinding', 'auditors-read-services', '--clusterrole=svc-reader', '--group=auditors']);
    await waitFor(async () => (await kubectl(carol, ['get', 'services', '-A'])).code === 0, { what: 'the ClusterRoleBinding to take effect' });
    expect(await ok(carol, ['get', 'endpointslices', '-n', 'other'])).toBeDefined();
    expect(await canI(carol, ['delete', 'services', '-n', 'default'])).toBe('no');
    expect(await canI(carol, ['get', 'pods', '-n', 'default'])).toBe('no');
    const wide = await admin(['get', 'clusterrolebinding', 'auditors-read-services', '-o', 'wide']);
    expect(wide).toMatch(/^auditors-read-services\s+ClusterRole\/svc-reader\s+\S+\s+auditors\s*$/m);
  });

  it('validates as kube-apiserver: roleRef is immutable, rules and subjects need their fields', async () => {
    await admin(['create', 'rolebinding', 'fixed', '--clusterrole=view', '--user=dave', '-n', 'default']);
    const change = await kubectl(adminKubeconfig, ['patch', 'rolebinding', 'fixed', '-n', 'default', '--type=merge', '-p', '{"roleRef":{"name":"edit"}}']);
    expect(change.code).toBe(1);
    expect(change.stderr).toContain('The RoleBinding "fixed" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef');
    const noVerbs = await kubectl(adminKubeconfig, ['apply', '-f', '-'], 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: bad, namespace: default}\nrules:\n- apiGroups: [""]\n  resources: [pods]\n');
    expect(noVerbs.stderr).toContain('The Role "bad" is invalid: rules[0].verbs: Required value: verbs must contain at least one value');
    const mixed = await kubectl(adminKubeconfig, ['apply', '-f', '-'], 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: bad, namespace: default}\nrules:\n- verbs: [get]\n  nonResourceURLs: [/healthz]\n');
    expect(mixed.stderr).toContain('rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs');
    const crb = await kubectl(adminKubeconfig, ['apply', '-f', '-'], 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: bad}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x}\nsubjects:\n- {kind: ServiceAccount, name: sa}\n');
    expect(crb.stderr).toContain('roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"');
    expect(crb.stderr).toContain('subjects[0].namespace: Required value');
    // apply of a valid binding twice is a no-op, and explain knows the kinds
    const binding = 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: applied}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n- {kind: User, apiGroup: rbac.authorization.k8s.io, name: erin}\n';
    expect(await admin(['apply', '-f', '-'], binding)).toContain('clusterrolebinding.rbac.authorization.k8s.io/applied created');
    expect(await admin(['apply', '-f', '-'], binding)).toContain('clusterrolebinding.rbac.authorization.k8s.io/applied unchanged');
    expect(await admin(['explain', 'clusterrole.rules'])).toContain('nonResourceURLs');
  });

  it('prevents escalation: only rules one holds can be put in a role or bound, unless escalate/bind allow it', async () => {
    const frank = userKubeconfig('frank');
    await admin(['create', 'role', 'rbac-manager', '--verb=get,list,create,update,patch', '--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,pods', '-n', 'default']);
    await admin(['create', 'rolebinding', 'frank-manages', '--role=rbac-manager', '--user=frank', '-n', 'default']);
    await waitFor(async () => (await kubectl(frank, ['get', 'roles', '-n', 'default'])).code === 0, { what: "frank's binding" });
    await ok(frank, ['create', 'role', 'pod-getter', '--verb=get', '--resource=pods', '-n', 'default']);
    const tooMuch = await kubectl(frank, ['create', 'role', 'too-much', '--verb=get,delete', '--resource=pods', '-n', 'default']);
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.stderr).toContain('roles.rbac.authorization.k8s.io "too-much" is forbidden: user "frank" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}');
    const otherNs = await kubectl(frank, ['create', 'role', 'x', '--verb=get', '--resource=pods', '-n', 'other']);
    expect(otherNs.stderr).toContain('roles.rbac.authorization.k8s.io is forbidden: User "frank" cannot create resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "other"');
    // binding: a role whose rules frank holds, yes; cluster-admin, no
    await ok(frank, ['create', 'rolebinding', 'grace-gets-pods', '--role=pod-getter', '--user=grace', '-n', 'default']);
    const admin2 = await kubectl(frank, ['create', 'rolebinding', 'frank-is-admin', '--clusterrole=cluster-admin', '--user=frank', '-n', 'default']);
    expect(admin2.code).toBe(1);
    expect(admin2.stderr).toContain('rolebindings.rbac.authorization.k8s.io "frank-is-admin" is forbidden: user "frank" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}');
    const missing = await kubectl(frank, ['create', 'rolebinding', 'later', '--clusterrole=not-yet', '--user=frank', '-n', 'default']);
    expect(missing.stderr).toContain('rolebindings.rbac.authorization.k8s.io "later" is forbidden: clusterrole.rbac.authorization.k8s.io "not-yet" not found');
    // `bind` on one ClusterRole lets frank bind it without holding its rules
    await admin(['create', 'clusterrole', 'bind-cm-one', '--verb=bind', '--resource=clusterroles.rbac.authorization.k8s.io', '--resource-name=cm-one']);
    await admin(['create', 'rolebinding', 'frank-binds-cm-one', '--clusterrole=bind-cm-one', '--user=frank', '-n', 'default']);
    await waitFor(async () => (await kubectl(frank, ['create', 'rolebinding', 'grace-cm', '--clusterrole=cm-one', '--user=grace', '-n', 'default'])).code === 0, { what: 'bind to take effect' });
  });

  it('impersonation (--as, --as-group) needs the impersonate verb and then acts as that user', async () => {
    await waitFor(async () => (await kubectl(adminKubeconfig, ['get', 'pods', '-n', 'default', '--as', 'bob'])).code === 0, { what: "bob's binding" });
    expect(await canI(adminKubeconfig, ['list', 'pods', '-n', 'default', '--as', 'bob'])).toBe('yes');
    expect(await canI(adminKubeconfig, ['list', 'pods', '-n', 'other', '--as', 'bob'])).toBe('no');
    expect(await canI(adminKubeconfig, ['list', 'services', '-A', '--as', 'nobody', '--as-group', 'auditors'])).toBe('yes');
    const denied = await kubectl(adminKubeconfig, ['get', 'pods', '--as', 'nobody']);
    expect(denied.stderr.trim()).toBe('Error from server (Forbidden): pods is forbidden: User "nobody" cannot list resource "pods" in API group "" in the namespace "default"');
    const alice = userKubeconfig('alice');
    const r = await kubectl(alice, ['get', 'pods', '--as', 'bob']);
    expect(r.stderr.trim()).toBe('Error from server (Forbidden): users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope');
  });

  it('bootstraps the default roles, and node.kubeconfig holds exactly system:kubeplane-node', async () => {
    const roles = await admin(['get', 'clusterroles', '-o', 'name']);
    for (const r of ['cluster-admin', 'system:discovery', 'system:basic-user', 'system:public-info-viewer', 'system:kubeplane-node']) expect(roles).toContain(`clusterrole.rbac.authorization.k8s.io/${r}\n`);
    const role = JSON.parse(await admin(['get', 'clusterrole', 'system:kubeplane-node', '-o', 'json'])) as Obj;
    expect(role.rules).toEqual(NODE_RULES);
    const node = join(dataDir, 'node.kubeconfig');
    const user = (parseYaml(readFileSync(node, 'utf8')) as Obj).users[0].name;
    expect(user).toBe('system:kubeplane-node:worker-1');
    const allowed = [
      ['list', 'services', '-A'],
      ['watch', 'endpointslices.discovery.k8s.io', '-A'],
      ['get', 'nodes'],
      ['list', 'namespaces'],
      ['watch', 'pods', '-A'],
      ['list', 'ingresses.networking.k8s.io', '-A'],
      ['list', 'ingressclasses.networking.k8s.io'],
      ['get', 'secrets', '-n', 'default'],
      ['update', 'ingresses.networking.k8s.io', '--subresource=status', '-n', 'default'],
      ['patch', 'ingresses.networking.k8s.io', '--subresource=status', '-n', 'default'],
      ['create', 'leases.coordination.k8s.io', '-n', 'kube-system'],
      ['update', 'leases.coordination.k8s.io', '-n', 'kube-system'],
      ['create', 'events', '-n', 'default'],
    ];
    const denied = [
      ['create', 'pods', '-n', 'default'],
      ['update', 'ingresses.networking.k8s.io', '-n', 'default'],
      ['delete', 'services', '-n', 'default'],
      ['list', 'configmaps', '-A'],
      ['create', 'secrets', '-n', 'default'],
      ['delete', 'leases.coordination.k8s.io', '-n', 'kube-system'],
      ['create', 'pods', '--subresource=binding', '-n', 'default'],
      ['update', 'nodes', '--subresource=status'],
      ['list', 'clusterroles.rbac.authorization.k8s.io'],
    ];
    for (const a of allowed) expect(`${a.join(' ')}: ${await canI(node, a)}`).toBe(`${a.join(' ')}: yes`);
    for (const a of denied) expect(`${a.join(' ')}: ${await canI(node, a)}`).toBe(`${a.join(' ')}: no`);
    const whoami = await ok(node, ['auth', 'whoami']);
    expect(whoami).toMatch(/^Username\s+system:kubeplane-node:worker-1$/m);
    expect(whoami).toMatch(/^Groups\s+\[system:kubeplane-nodes system:authenticated\]$/m);
    // `auth can-i --list` shows the same rules (SelfSubjectRulesReview)
    const list = await ok(node, ['auth', 'can-i', '--list', '-n', 'default']);
    expect(list).toMatch(/^ingresses\.networking\.k8s\.io\/status\s+\[\]\s+\[\]\s+\[patch update\]\s*$/m);
    expect(list).toMatch(/^leases\.coordination\.k8s\.io\s+\[\]\s+\[\]\s+\[create get update\]\s*$/m);
    expect(list).not.toMatch(/^configmaps/m);
    const create = await kubectl(node, ['create', 'configmap', 'x', '-n', 'default']);
    expect(create.stderr.trim()).toBe('error: failed to create configmap: configmaps is forbidden: User "system:kubeplane-node:worker-1" cannot create resource "configmaps" in API group "" in the namespace "default"');
  });
});
