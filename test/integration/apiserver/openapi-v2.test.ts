// kubectl's client-side validation of `kind: List` files (create -f / apply -f of what
// `kubectl get -o yaml` prints) reads /openapi/v2 in gnostic protobuf; the real kubectl
// against a real `kubeplane apiserver` process.
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

describeE2E('openapi v2 and kubectl List files', { commands: ['kubectl'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), `kp-openapi-v2-${process.pid}-`));
  const dataDir = join(dir, 'data');
  const kubeconfig = join(dataDir, 'kubeconfig');
  let server: ReturnType<typeof startKubeplane> | undefined;
  let agent: Agent | undefined;
  let baseUrl = '';
  let token = '';

  function kubectl(args: string[], input?: string): Promise<RunResult> {
    return runCommand('/usr/bin/kubectl', ['--cache-dir', join(dir, 'kube-cache'), ...args], { env: { KUBECONFIG: kubeconfig, HOME: dir }, input, timeoutMs: 60_000 });
  }
  async function ok(args: string[], input?: string): Promise<string> {
    const r = await kubectl(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  beforeAll(async () => {
    server = startKubeplane(['apiserver', '--secure-port', '0', '--bind-address', '127.0.0.1', '--data-dir', dataDir]);
    const s = server;
    await waitFor(() => /serving on (https:\/\/\S+)/.exec(s.output()) ?? (s.exitCode !== null ? Promise.reject(new Error(s.output())) : undefined), { timeoutMs: 30_000, what: 'apiserver to serve' });
    const cfg = parseYaml(readFileSync(kubeconfig, 'utf8')) as Obj;
    baseUrl = cfg.clusters[0].cluster.server;
    token = cfg.users[0].user.token;
    agent = new Agent({ connect: { ca: Buffer.from(cfg.clusters[0].cluster['certificate-authority-data'], 'base64').toString() } });
  }, 60_000);

  afterAll(async () => {
    if (server) await stopProcess(server);
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl create -f a List that kubectl get -o yaml printed', async () => {
    await ok(['create', 'configmap', 'la', '--from-literal=a=1']);
    await ok(['create', 'configmap', 'lb', '--from-literal=b=2']);
    const listYaml = await ok(['get', 'configmap', 'la', 'lb', '-o', 'yaml']);
    expect(parseYaml(listYaml).kind).toBe('List');
    await ok(['delete', 'configmap', 'la', 'lb']);
    const file = join(dir, 'list.yaml');
    writeFileSync(file, listYaml);
    const out = await ok(['create', '-f', file]);
    expect(out).toContain('configmap/la created');
    expect(out).toContain('configmap/lb created');
    expect(JSON.parse(await ok(['get', 'configmap', 'lb', '-o', 'json'])).data).toEqual({ b: '2' });
  });

  it('kubectl apply -f a List creates, then configures, then leaves it unchanged', async () => {
    const list = (port: number): string =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { port: String(port) } },
          { apiVersion: 'v1', kind: 'Service', metadata: { name: 'applied' }, spec: { selector: { app: 'x' }, ports: [{ port }] } },
        ],
      });
    const file = join(dir, 'apply.json');
    writeFileSync(file, list(80));
    expect(await ok(['apply', '-f', file])).toMatch(/configmap\/applied created[\s\S]*service\/applied created/);
    writeFileSync(file, list(81));
    expect(await ok(['apply', '-f', file])).toMatch(/configmap\/applied configured[\s\S]*service\/applied configured/);
    expect(await ok(['apply', '-f', file])).toMatch(/configmap\/applied unchanged[\s\S]*service\/applied unchanged/);
    expect(JSON.parse(await ok(['get', 'service', 'applied', '-o', 'json'])).spec.ports[0].port).toBe(81);
  });

  it('validates List items against the schemas: an unknown field is refused before any request', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'never' }, bogus: 1 }] }));
    const r = await kubectl(['create', '-f', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown field "bogus" in io.k8s.api.core.v1.ConfigMap');
    expect((await kubectl(['get', 'configmap', 'never'])).code).not.toBe(0);
    // --validate=false leaves it to the server
    expect((await kubectl(['create', '-f', file, '--validate=false'])).code).toBe(0);
  });

  it('kubectl explain still works', async () => {
    const out = await ok(['explain', 'deployment.spec.strategy']);
    expect(out).toContain('KIND:       Deployment');
    expect(out).toContain('rollingUpdate');
  });

  it('serves /openapi/v2 as JSON and as gnostic protobuf, with ETags', async () => {
    const json = await request(`${baseUrl}/openapi/v2`, { dispatcher: agent, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    expect(json.statusCode).toBe(200);
    const doc = (await json.body.json()) as Obj;
    expect(doc.swagger).toBe('2.0');
    const cm = doc.definitions['io.k8s.api.core.v1.ConfigMap'];
    expect(cm['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'ConfigMap', version: 'v1' }]);
    expect(cm.properties.metadata.$ref).toBe('#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    expect(JSON.stringify(doc)).not.toContain('#/components/');
    const pb = await request(`${baseUrl}/openapi/v2`, { dispatcher: agent, headers: { authorization: `Bearer ${token}`, accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    expect(pb.statusCode).toBe(200);
    expect(pb.headers['content-type']).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    const etag = pb.headers.etag as string;
    const body = Buffer.from(await pb.body.arrayBuffer());
    expect(body.subarray(0, 5).toString('latin1')).toBe('\n\x032.0');
    const again = await request(`${baseUrl}/openapi/v2`, { dispatcher: agent, headers: { authorization: `Bearer ${token}`, accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'if-none-match': etag } });
    await again.body.dump();
    expect(again.statusCode).toBe(304);
  });

  it('lists the review resources of authentication.k8s.io and authorization.k8s.io in discovery', async () => {
    const out = await ok(['api-resources', '--no-headers', '-o', 'wide']);
    expect(out).toMatch(/^selfsubjectaccessreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectAccessReview\s+create/m);
    expect(out).toMatch(/^selfsubjectrulesreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectRulesReview\s+create/m);
    expect(out).toMatch(/^selfsubjectreviews\s+authentication\.k8s\.io\/v1\s+false\s+SelfSubjectReview\s+create/m);
    expect((await ok(['auth', 'can-i', 'create', 'configmaps'])).trim()).toBe('yes');
  });
});
