// The real kubectl (/usr/bin/kubectl, the 1.32 dispatcher) against a real `kubeplane apiserver`
// process over HTTPS with the kubeconfig it writes: the "must show" list.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, startKubeplane, stopProcess, waitFor, type RunResult } from '../../helpers/cli.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

describeE2E('kubectl against kubeplane apiserver', { commands: ['kubectl'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), `kp-apiserver-${process.pid}-`));
  const dataDir = join(dir, 'data');
  const cacheDir = join(dir, 'kube-cache');
  const kubeconfig = join(dataDir, 'kubeconfig');
  let server: ReturnType<typeof startKubeplane> | undefined;
  let agent: Agent;
  let baseUrl = '';
  let token = '';

  async function startServer(): Promise<void> {
    const before = server ? server.output().length : 0;
    void before;
    server = startKubeplane(['apiserver', '--secure-port', '0', '--bind-address', '127.0.0.1', '--data-dir', dataDir]);
    const s = server;
    await waitFor(() => /serving on (https:\/\/\S+)/.exec(s.output()) ?? (s.exitCode !== null ? Promise.reject(new Error(s.output())) : undefined), { timeoutMs: 30_000, what: 'apiserver to serve' });
    const cfg = parseYaml(readFileSync(kubeconfig, 'utf8')) as Obj;
    baseUrl = cfg.clusters[0].cluster.server;
    token = cfg.users[0].user.token;
    agent = new Agent({ connect: { ca: Buffer.from(cfg.clusters[0].cluster['certificate-authority-data'], 'base64').toString() } });
  }

  function kubectl(args: string[], input?: string): Promise<RunResult> {
    return runCommand('/usr/bin/kubectl', ['--cache-dir', cacheDir, ...args], { env: { KUBECONFIG: kubeconfig, HOME: dir }, input, timeoutMs: 60_000 });
  }
  async function ok(args: string[], input?: string): Promise<string> {
    const r = await kubectl(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }
  async function api(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, auth: string | null = `Bearer ${token}`): Promise<{ status: number; json: Obj }> {
    const res = await request(baseUrl + path, {
      method: method as 'GET',
      dispatcher: agent,
      body,
      headers: { ...(auth ? { authorization: auth } : {}), ...(body !== undefined && !headers['content-type'] ? { 'content-type': 'application/json' } : {}), ...headers },
    });
    const text = await res.body.text();
    let json: Obj = {};
    try {
      json = JSON.parse(text) as Obj;
    } catch {
      json = { text };
    }
    return { status: res.statusCode, json };
  }

  beforeAll(async () => {
    await startServer();
  }, 60_000);

  afterAll(async () => {
    if (server) await stopProcess(server);
    await agent?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves kubectl get ns with the generated kubeconfig and nothing else', async () => {
    const out = await ok(['get', 'ns']);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) expect(out).toMatch(new RegExp(`^${ns}\\s+Active`, 'm'));
    const svc = await ok(['get', 'svc', 'kubernetes', '-o', 'json']);
    expect(JSON.parse(svc).spec.clusterIP).toBe('10.96.0.1');
    expect((await ok(['version', '-o', 'json'])).includes('"minor": "32"')).toBe(true);
  });

  it('typed create commands (protobuf bodies) work', async () => {
    expect(await ok(['create', 'namespace', 'team'])).toContain('namespace/team created');
    expect(await ok(['create', 'configmap', 'cfg', '-n', 'team', '--from-literal=a=1'])).toContain('configmap/cfg created');
    expect(await ok(['create', 'service', 'clusterip', 'web', '-n', 'team', '--tcp=80:8080'])).toContain('service/web created');
    expect(await ok(['create', 'deployment', 'web', '-n', 'team', '--image=nginx', '--replicas=2'])).toContain('deployment.apps/web created');
    const cm = JSON.parse(await ok(['get', 'cm', 'cfg', '-n', 'team', '-o', 'json']));
    expect(cm.data).toEqual({ a: '1' });
    const svc = JSON.parse(await ok(['get', 'svc', 'web', '-n', 'team', '-o', 'json']));
    expect(svc.spec.clusterIP).toMatch(/^10\.(9[6-9]|10\d|11[01])\./);
    expect(svc.spec.ports[0]).toMatchObject({ port: 80, targetPort: 8080, protocol: 'TCP' });
    const deploy = JSON.parse(await ok(['get', 'deploy', 'web', '-n', 'team', '-o', 'json']));
    expect(deploy.spec.replicas).toBe(2);
    expect(deploy.metadata.generation).toBe(1);
  });

  it('create -f and get -o yaml/json/wide/-A/--show-labels', async () => {
    const manifest = `apiVersion: v1
kind: Service
metadata:
  name: shop
  labels: {tier: front, app: shop}
spec:
  selector: {app: shop}
  ports:
  - {name: http, port: 80, targetPort: 8080}
`;
    writeFileSync(join(dir, 'shop.yaml'), manifest);
    expect(await ok(['create', '-f', join(dir, 'shop.yaml')])).toContain('service/shop created');
    const y = parseYaml(await ok(['get', 'svc', 'shop', '-o', 'yaml'])) as Obj;
    expect(y.kind).toBe('Service');
    expect(y.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(y.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(y.metadata.generation).toBeUndefined();
    expect(y.spec).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
    expect(y.spec.clusterIPs).toEqual([y.spec.clusterIP]);
    const j = JSON.parse(await ok(['get', 'svc', 'shop', '-o', 'json']));
    expect(j.spec.clusterIP).toBe(y.spec.clusterIP);
    const wide = await ok(['get', 'svc', 'shop', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR/);
    expect(wide).toMatch(new RegExp(`shop\\s+ClusterIP\\s+${y.spec.clusterIP.replace(/\./g, '\\.')}\\s+<none>\\s+80/TCP\\s+\\S+\\s+app=shop`));
    const all = await ok(['get', 'svc', '-A']);
    expect(all).toMatch(/^default\s+kubernetes\s+ClusterIP\s+10\.96\.0\.1/m);
    expect(all).toMatch(/^team\s+web\s+ClusterIP/m);
    expect(all).toMatch(/^default\s+shop\s+ClusterIP/m);
    expect(await ok(['get', 'svc', 'shop', '--show-labels'])).toMatch(/app=shop,tier=front/);
    // replace without the allocated clusterIP keeps it
    writeFileSync(join(dir, 'shop-replace.yaml'), manifest.replace('tier: front', 'tier: back'));
    expect(await ok(['replace', '-f', join(dir, 'shop-replace.yaml')])).toContain('service/shop replaced');
    const replaced = JSON.parse(await ok(['get', 'svc', 'shop', '-o', 'json']));
    expect(replaced.spec.clusterIP).toBe(y.spec.clusterIP);
    expect(replaced.metadata.labels.tier).toBe('back');
    writeFileSync(join(dir, 'shop-replace.yaml'), manifest);
    await ok(['replace', '-f', join(dir, 'shop-replace.yaml')]);
    // an existing name is 409 AlreadyExists
    const again = await kubectl(['create', '-f', join(dir, 'shop.yaml')]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('Error from server (AlreadyExists): error when creating');
    expect(again.stderr).toContain('services "shop" already exists');
  });

  it('apply twice prints unchanged, then configured, then --server-side applies', async () => {
    const file = join(dir, 'api.yaml');
    const manifest = (target: number) => `apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: api}
  ports:
  - {port: 80, targetPort: ${target}}
`;
    writeFileSync(file, manifest(8080));
    expect(await ok(['apply', '-f', file])).toContain('service/api created');
    const rv1 = JSON.parse(await ok(['get', 'svc', 'api', '-o', 'json'])).metadata.resourceVersion;
    expect(await ok(['apply', '-f', file])).toContain('service/api unchanged');
    expect(JSON.parse(await ok(['get', 'svc', 'api', '-o', 'json'])).metadata.resourceVersion).toBe(rv1);
    writeFileSync(file, manifest(9090));
    expect(await ok(['apply', '-f', file])).toContain('service/api configured');
    expect(JSON.parse(await ok(['get', 'svc', 'api', '-o', 'json'])).spec.ports[0].targetPort).toBe(9090);
    writeFileSync(file, manifest(7070));
    // the field belongs to kubectl-client-side-apply: a plain server-side apply conflicts
    const conflicted = await kubectl(['apply', '--server-side', '-f', file]);
    expect(conflicted.code).not.toBe(0);
    expect(conflicted.stderr).toMatch(/conflict/i);
    expect(await ok(['apply', '--server-side', '--force-conflicts', '-f', file])).toContain('service/api serverside-applied');
    const svc = JSON.parse(await ok(['get', 'svc', 'api', '-o', 'json', '--show-managed-fields']));
    expect(svc.spec.ports[0].targetPort).toBe(7070);
    expect(svc.metadata.managedFields.map((m: Obj) => `${m.manager}/${m.operation}`)).toContain('kubectl/Apply');
    expect(await ok(['apply', '--server-side', '-f', file])).toContain('serverside-applied');
  });

  it('patch (merge, json, strategic), label, annotate and scale', async () => {
    expect(await ok(['patch', 'svc', 'api', '--type=merge', '-p', '{"metadata":{"labels":{"m":"1"}}}'])).toContain('service/api patched');
    expect(await ok(['patch', 'svc', 'api', '--type=merge', '-p', '{"metadata":{"labels":{"m":"1"}}}'])).toContain('patched (no change)');
    expect(await ok(['patch', 'svc', 'api', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/j","value":"2"}]'])).toContain('patched');
    expect(await ok(['patch', 'svc', 'api', '-p', '{"spec":{"ports":[{"port":80,"targetPort":8181}]}}'])).toContain('patched');
    expect(await ok(['label', 'svc', 'api', 'x=y'])).toContain('service/api labeled');
    expect(await ok(['annotate', 'svc', 'api', 'note=hi'])).toContain('service/api annotated');
    const svc = JSON.parse(await ok(['get', 'svc', 'api', '-o', 'json']));
    expect(svc.metadata.labels).toMatchObject({ m: '1', j: '2', x: 'y' });
    expect(svc.metadata.annotations.note).toBe('hi');
    // strategic merge keyed by port: the existing port entry was updated in place
    expect(svc.spec.ports).toEqual([{ port: 80, protocol: 'TCP', targetPort: 8181 }]);
    const bad = await kubectl(['patch', 'svc', 'api', '--type=json', '-p', '[{"op":"replace","path":"/nope/x","value":1}]']);
    expect(bad.code).not.toBe(0);

    expect(await ok(['scale', 'deploy', 'web', '-n', 'team', '--replicas=3'])).toContain('deployment.apps/web scaled');
    const d = JSON.parse(await ok(['get', 'deploy', 'web', '-n', 'team', '-o', 'json']));
    expect(d.spec.replicas).toBe(3);
    expect(d.metadata.generation).toBe(2);
    const scale = await api('GET', '/apis/apps/v1/namespaces/team/deployments/web/scale');
    expect(scale.json).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 3 } });
    expect(await ok(['scale', 'deploy', 'web', '-n', 'team', '--current-replicas=3', '--replicas=1'])).toContain('scaled');
    const stale = await api('PUT', '/apis/apps/v1/namespaces/team/deployments/web/scale', JSON.stringify({ ...scale.json, metadata: { ...scale.json.metadata, resourceVersion: '1' }, spec: { replicas: 5 } }));
    expect(stale.status).toBe(409);
    expect(stale.json.message).toContain('the object has been modified');
    const neg = await api('PATCH', '/apis/apps/v1/namespaces/team/deployments/web/scale', '{"spec":{"replicas":-1}}', { 'content-type': 'application/merge-patch+json' });
    expect(neg.status).toBe(422);
    expect(neg.json.message).toContain('spec.replicas: Invalid value: -1: must be greater than or equal to 0');
  });

  it('get -w shows the events as they happen', async () => {
    const { spawn } = await import('node:child_process');
    const w = spawn('/usr/bin/kubectl', ['--cache-dir', cacheDir, 'get', 'cm', '-n', 'team', '-w', '--output-watch-events'], { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir } });
    let out = '';
    w.stdout.on('data', (d: Buffer) => (out += d.toString()));
    w.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => /cfg/.test(out), { what: 'initial list' });
      await ok(['create', 'cm', 'watched', '-n', 'team', '--from-literal=k=v']);
      await ok(['label', 'cm', 'watched', '-n', 'team', 'seen=yes']);
      await ok(['delete', 'cm', 'watched', '-n', 'team']);
      await waitFor(() => /DELETED\s+watched/.test(out), { what: `watch events, got:\n${out}` });
      expect(out).toMatch(/ADDED\s+watched/);
      expect(out).toMatch(/MODIFIED\s+watched/);
      expect(w.exitCode).toBeNull(); // the stream stays open
    } finally {
      w.kill('SIGTERM');
    }
  });

  it('lists with -l and --field-selector', async () => {
    await ok(['create', 'cm', 'l1', '-n', 'team']);
    await ok(['create', 'cm', 'l2', '-n', 'team']);
    await ok(['label', 'cm', 'l1', '-n', 'team', 'tier=a']);
    await ok(['label', 'cm', 'l2', '-n', 'team', 'tier=b']);
    const names = (s: string) => s.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]).sort();
    expect(names(await ok(['get', 'cm', '-n', 'team', '-l', 'tier=a']))).toEqual(['l1']);
    expect(names(await ok(['get', 'cm', '-n', 'team', '-l', 'tier in (a,b)']))).toEqual(['l1', 'l2']);
    expect(names(await ok(['get', 'cm', '-n', 'team', '-l', '!tier']))).toEqual(['cfg', 'kube-root-ca.crt'].filter((n) => n !== 'kube-root-ca.crt'));
    expect(names(await ok(['get', 'cm', '-n', 'team', '--field-selector', 'metadata.name=l2']))).toEqual(['l2']);
    expect(await ok(['get', 'cm', '-A', '--field-selector', 'metadata.namespace=team,metadata.name!=l1', '-l', 'tier', '-o', 'name'])).toBe('configmap/l2\n');
    const bad = await kubectl(['get', 'cm', '--field-selector', 'data.a=1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('BadRequest');
    // paging: kubectl follows continue tokens
    const paged = await ok(['get', 'cm', '-n', 'team', '--chunk-size=1', '-o', 'name']);
    expect(paged.trim().split('\n').sort()).toEqual(['configmap/cfg', 'configmap/l1', 'configmap/l2']);
  });

  it('api-resources with short names, and explain', async () => {
    const out = await ok(['api-resources']);
    expect(out).toMatch(/^services\s+svc\s+v1\s+true\s+Service/m);
    expect(out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/m);
    expect(out).toMatch(/^endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice/m);
    expect(await ok(['get', 'svc', 'api', '-o', 'name'])).toBe('service/api\n');
    expect(await ok(['auth', 'can-i', 'create', 'services'])).toBe('yes\n');
    const explain = await ok(['explain', 'service.spec']);
    expect(explain).toContain('KIND:       Service');
    expect(explain).toContain('FIELD: spec <ServiceSpec>');
    expect(explain).toMatch(/clusterIP\s+<string>/);
  });

  it('delete returns once the object is gone; deleting a namespace deletes its content', async () => {
    expect(await ok(['delete', 'svc', 'api'])).toContain('service "api" deleted');
    const gone = await kubectl(['get', 'svc', 'api']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('Error from server (NotFound): services "api" not found');
    // finalizers hold the object until removed
    await ok(['create', 'cm', 'held', '-n', 'team']);
    await ok(['patch', 'cm', 'held', '-n', 'team', '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/hold"]}}']);
    expect(await ok(['delete', 'cm', 'held', '-n', 'team', '--wait=false'])).toContain('deleted');
    const held = JSON.parse(await ok(['get', 'cm', 'held', '-n', 'team', '-o', 'json']));
    expect(held.metadata.deletionTimestamp).toBeTruthy();
    await ok(['patch', 'cm', 'held', '-n', 'team', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    expect((await kubectl(['get', 'cm', 'held', '-n', 'team'])).code).not.toBe(0);

    expect(await ok(['delete', 'ns', 'team'], undefined)).toContain('namespace "team" deleted');
    expect((await kubectl(['get', 'ns', 'team'])).stderr).toContain('not found');
    expect((await api('GET', '/api/v1/namespaces/team/configmaps')).json.items).toEqual([]);
    expect((await api('GET', '/apis/apps/v1/namespaces/team/deployments')).json.items).toEqual([]);
    const missing = await kubectl(['create', 'cm', 'x', '-n', 'team']);
    expect(missing.stderr).toContain('namespaces "team" not found');
  });

  it('two writers with the same resourceVersion: exactly one wins, the other gets 409', async () => {
    await ok(['create', 'cm', 'race']);
    const cur = (await api('GET', '/api/v1/namespaces/default/configmaps/race')).json;
    const write = (v: string) => api('PUT', '/api/v1/namespaces/default/configmaps/race', JSON.stringify({ ...cur, data: { v } }));
    const results = await Promise.all([write('a'), write('b'), write('c')]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    const loser = results.find((r) => r.status === 409)!;
    expect(loser.json.reason).toBe('Conflict');
    expect(loser.json.message).toBe('Operation cannot be fulfilled on configmaps "race": the object has been modified; please apply your changes to the latest version and try again');
  });

  it('rejects bad input with the right Status and keeps serving', async () => {
    const post = (body: string | Buffer, type = 'application/json') => api('POST', '/api/v1/namespaces/default/configmaps', body, { 'content-type': type });
    let r = await post('{"apiVersion":"v1",');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    expect(r.json.message).toContain('json parse error');
    r = await post('apiVersion: v1\nkind: [ConfigMap\n', 'application/yaml');
    expect(r.status).toBe(400);
    expect(r.json.message).toContain('error converting YAML to JSON');
    r = await post('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-yaml}\ndata: {a: b}\n', 'application/yaml');
    expect(r.status).toBe(201);
    r = await post('{"apiVersion":"v9","kind":"ConfigMap","metadata":{"name":"x"}}');
    expect(r.status).toBe(400);
    expect(r.json.message).toContain('does not match the expected API version');
    r = await post('{"apiVersion":"v1","kind":"Gadget","metadata":{"name":"x"}}');
    expect(r.status).toBe(400);
    r = await post('hello', 'text/plain');
    expect(r.status).toBe(415);
    expect(r.json.reason).toBe('UnsupportedMediaType');
    r = await api('GET', '/api/v1/namespaces/default/gadgets');
    expect(r.status).toBe(404);
    expect(r.json.message).toBe('the server could not find the requested resource');
    r = await api('GET', '/apis/example.com/v1/gadgets');
    expect(r.status).toBe(404);
    r = await post(Buffer.alloc(4 * 1024 * 1024, 'a'));
    expect(r.status).toBe(413);
    expect(r.json.reason).toBe('RequestEntityTooLarge');

    const gadget = join(dir, 'gadget.yaml');
    writeFileSync(gadget, 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n');
    const unknownKind = await kubectl(['create', '-f', gadget, '--validate=false']);
    expect(unknownKind.code).not.toBe(0);
    expect(unknownKind.stderr).toMatch(/no matches for kind "Gadget" in version "example.com\/v1"/);
    const unknownResource = await kubectl(['get', 'gadgets']);
    expect(unknownResource.stderr).toContain(`the server doesn't have a resource type "gadgets"`);

    const badSvc = join(dir, 'badsvc.yaml');
    writeFileSync(badSvc, 'apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec:\n  ports: [{port: 70000}]\n');
    const invalid = await kubectl(['create', '-f', badSvc]);
    expect(invalid.stderr).toContain('The Service "bad" is invalid');
    expect(invalid.stderr).toContain('spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive');
    const s = await api('POST', '/api/v1/namespaces/default/services', JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'Bad_Name' }, spec: { ports: [{ port: 80 }] } }));
    expect(s.status).toBe(422);
    expect(s.json.reason).toBe('Invalid');
    expect(s.json.details.causes[0].field).toBe('metadata.name');
    const strict = join(dir, 'strict.yaml');
    writeFileSync(strict, 'apiVersion: v1\nkind: Service\nmetadata: {name: strict}\nspec:\n  bogus: 1\n  ports: [{port: 80}]\n');
    const st = await kubectl(['create', '-f', strict]);
    expect(st.stderr).toContain('strict decoding error: unknown field "spec.bogus"');

    expect(await ok(['get', 'ns', 'default'])).toContain('Active');
  });

  it('allocates cluster IPs and node ports, honours or rejects requested ones and releases them', async () => {
    const svc = (name: string, spec: Obj) => JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
    let r = await api('POST', '/api/v1/namespaces/default/services', svc('fixed', { clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }] }));
    expect(r.status).toBe(201);
    expect(r.json.spec.clusterIP).toBe('10.96.0.10');
    r = await api('POST', '/api/v1/namespaces/default/services', svc('clash', { clusterIP: '10.96.0.10', ports: [{ port: 53 }] }));
    expect(r.status).toBe(422);
    expect(r.json.message).toContain('provided IP is already allocated');
    r = await api('POST', '/api/v1/namespaces/default/services', svc('outside', { clusterIP: '192.168.0.1', ports: [{ port: 53 }] }));
    expect(r.status).toBe(422);
    expect(r.json.message).toContain('The range of valid IPs is 10.96.0.0/12');
    r = await api('POST', '/api/v1/namespaces/default/services', svc('np', { type: 'NodePort', ports: [{ port: 80, name: 'a', nodePort: 30080 }, { port: 81, name: 'b' }] }));
    expect(r.status).toBe(201);
    expect(r.json.spec.ports[0].nodePort).toBe(30080);
    expect(r.json.spec.ports[1].nodePort).toBeGreaterThanOrEqual(30000);
    r = await api('POST', '/api/v1/namespaces/default/services', svc('np2', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
    expect(r.status).toBe(422);
    expect(r.json.message).toContain('provided port is already allocated');
    r = await api('POST', '/api/v1/namespaces/default/services', svc('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 443 }] }));
    expect(r.status).toBe(201);
    expect(r.json.spec.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    r = await api('POST', '/api/v1/namespaces/default/services', svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }));
    expect(r.json.spec.clusterIPs).toEqual(['None']);
    r = await api('POST', '/api/v1/namespaces/default/services', svc('ext', { type: 'ExternalName', externalName: 'example.com' }));
    expect(r.status).toBe(201);
    expect(r.json.spec.clusterIP).toBeUndefined();
    // released on delete: the same IP and port can be taken again
    await ok(['delete', 'svc', 'fixed', 'np']);
    r = await api('POST', '/api/v1/namespaces/default/services', svc('fixed2', { clusterIP: '10.96.0.10', type: 'NodePort', ports: [{ port: 53, nodePort: 30080 }] }));
    expect(r.status).toBe(201);
    // PUT creates a missing Service
    r = await api('PUT', '/api/v1/namespaces/default/services/put-made', svc('put-made', { ports: [{ port: 80 }] }));
    expect(r.status).toBe(201);
  });

  it('authenticates: no token and a wrong token get 401, the kubeconfig token works', async () => {
    let r = await api('GET', '/api/v1/namespaces', undefined, {}, null);
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    r = await api('GET', '/api/v1/namespaces', undefined, {}, 'Bearer not-the-token');
    expect(r.status).toBe(401);
    r = await api('GET', '/api/v1/namespaces');
    expect(r.status).toBe(200);
    const wrong = await kubectl(['get', 'ns', '--token=not-the-token']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('error: You must be logged in to the server (Unauthorized)');
  });

  it('durability: kill -9 and restart on the same data dir keeps every write, and a watch resumes without gaps', async () => {
    const N = 40;
    let last = '';
    for (let i = 0; i < N; i++) {
      const r = await api('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `dur-${i}` }, data: { i: String(i) } }));
      expect(r.status).toBe(201);
      last = r.json.metadata.resourceVersion;
    }
    server!.kill('SIGKILL');
    await waitFor(() => server!.exitCode !== null || server!.signalCode !== null, { what: 'server to die' });
    await agent.close().catch(() => undefined);
    await startServer();
    const list = await api('GET', '/api/v1/namespaces/default/configmaps?labelSelector=');
    const names = new Set(list.json.items.map((o: Obj) => o.metadata.name));
    for (let i = 0; i < N; i++) expect(names.has(`dur-${i}`)).toBe(true);
    // writes after the restart, then a watch from the last revision before the kill
    for (let i = 0; i < 3; i++) await api('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `after-${i}` } }));
    const res = await request(`${baseUrl}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${last}&timeoutSeconds=2`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
    const events = (await res.body.text()).trim().split('\n').map((l) => JSON.parse(l) as Obj);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED after-0', 'ADDED after-1', 'ADDED after-2']);
    const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs[0]).toBeGreaterThan(Number(last));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
    expect(await ok(['get', 'cm', 'dur-0', '-o', 'jsonpath={.data.i}'])).toBe('0');
  }, 90_000);
});

describeE2E('kubeplane up', { commands: ['kubectl'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), `kp-apiserver-up-${process.pid}-`));
  let up: ReturnType<typeof startKubeplane> | undefined;
  afterAll(async () => {
    if (up) await stopProcess(up);
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a kubeconfig kubectl uses with no other flag, reuses its certificates, and stops on SIGTERM', async () => {
    const dataDir = join(dir, 'state');
    const start = async () => {
      up = startKubeplane(['up', '--secure-port', '0', '--data-dir', dataDir, '--dns-bind', 'off', '--http-bind', 'off', '--https-bind', 'off']);
      const p = up;
      return waitFor(() => /export KUBECONFIG=(\S+)/.exec(p.output())?.[1] ?? (p.exitCode !== null ? Promise.reject(new Error(p.output())) : undefined), { timeoutMs: 30_000, what: 'kubeplane up' });
    };
    const kubeconfigPath = await start();
    expect(kubeconfigPath).toBe(join(dataDir, 'kubeconfig'));
    expect(up!.output()).toContain('kubectl get ns');
    const cfg = parseYaml(readFileSync(kubeconfigPath, 'utf8')) as Obj;
    expect(cfg.clusters[0].cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const run = (args: string[]) => runCommand('/usr/bin/kubectl', ['--cache-dir', join(dir, 'cache'), ...args], { env: { KUBECONFIG: kubeconfigPath, HOME: dir } });
    const ns = await run(['get', 'ns']);
    expect(ns.code).toBe(0);
    expect(ns.stdout).toMatch(/^default\s+Active/m);
    const ca = readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8');
    await stopProcess(up!);
    expect(up!.exitCode).toBe(0);
    await start();
    expect(readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8')).toBe(ca);
    expect((await run(['get', 'ns', 'kube-system'])).code).toBe(0);
  }, 90_000);
});
