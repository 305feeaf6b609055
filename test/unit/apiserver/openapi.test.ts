import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { duplicateFields, validateFields, openapiGroupVersions, openapiV3Document, openapiV3Root, unknownFields } from '../../../src/apiserver/openapi/index.js';
import { applyStrategicMergePatch } from '../../../src/apiserver/patch/index.js';
import { RESOURCES, resourceFor } from '../../../src/api/resources.js';
import { describeE2E } from '../../helpers/e2e.js';
import { startKubectlStub, type KubectlStub } from './kubectl-stub.js';

type Json = Record<string, any>;

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

describe('openapi v3 documents', () => {
  it('the root lists every served group-version with a content-hashed URL', () => {
    const root = openapiV3Root() as Json;
    expect(Object.keys(root.paths).sort()).toEqual(['api/v1', 'apis/apps/v1', 'apis/coordination.k8s.io/v1', 'apis/discovery.k8s.io/v1', 'apis/networking.k8s.io/v1', 'apis/rbac.authorization.k8s.io/v1', 'apis/scheduling.k8s.io/v1']);
    for (const [gv, entry] of Object.entries<Json>(root.paths)) expect(entry.serverRelativeURL).toMatch(new RegExp(`^/openapi/v3/${gv.replace(/\./g, '\\.')}\\?hash=[0-9A-F]{128}$`));
    expect(openapiV3Document('apis/nope/v1')).toBeUndefined();
    expect(openapiV3Document('/api/v1')).toBe(openapiV3Document('api/v1'));
  });

  it.each(openapiGroupVersions())('%s: every resource has a PATCH that passes kubectl\'s field validation probe', (gv) => {
    const doc = openapiV3Document(gv) as Json;
    expect(doc.openapi).toBe('3.0.0');
    for (const info of RESOURCES.filter((i) => (i.group === '' ? 'api/v1' : `apis/${i.group}/${i.version}`) === gv)) {
      const item = `/${gv}${info.namespaced ? '/namespaces/{namespace}' : ''}/${info.resource}/{name}`;
      const patch = doc.paths[item]?.patch;
      expect(patch, item).toBeDefined();
      expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: info.group, version: info.version, kind: info.kind });
      expect(patch.parameters.map((p: Json) => p.name)).toContain('fieldValidation');
      expect(Object.keys(patch.requestBody.content).sort()).toEqual(['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
      const component = Object.values<Json>(doc.components.schemas).find((s) => s['x-kubernetes-group-version-kind']?.some((g: Json) => g.kind === info.kind && g.group === info.group));
      expect(component, info.kind).toBeDefined();
    }
    // Every reference resolves inside the same document.
    for (const ref of refsIn(doc)) expect(doc.components.schemas[ref.replace('#/components/schemas/', '')], ref).toBeDefined();
  });

  it('Service schemas carry descriptions, allOf refs and merge keys', () => {
    const schemas = (openapiV3Document('api/v1') as Json).components.schemas;
    const svc = schemas['io.k8s.api.core.v1.Service'];
    expect(svc['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Service', version: 'v1' }]);
    expect(svc.properties.spec).toMatchObject({ description: expect.any(String), allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.ServiceSpec' }] });
    const ports = schemas['io.k8s.api.core.v1.ServiceSpec'].properties.ports;
    expect(ports).toMatchObject({
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['port', 'protocol'],
      'x-kubernetes-patch-merge-key': 'port',
      'x-kubernetes-patch-strategy': 'merge',
    });
    expect(schemas['io.k8s.api.core.v1.ServicePort'].required).toEqual(['port']);
    expect(schemas['io.k8s.api.core.v1.ServicePort'].properties.targetPort.allOf[0].$ref).toBe('#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    // Probe's embedded handler appears flattened, as in JSON.
    expect(Object.keys(schemas['io.k8s.api.core.v1.Probe'].properties)).toEqual(expect.arrayContaining(['httpGet', 'tcpSocket', 'exec', 'periodSeconds']));
    const apps = (openapiV3Document('apis/apps/v1') as Json).components.schemas;
    expect(apps['io.k8s.api.core.v1.PodSpec'].properties.containers['x-kubernetes-patch-merge-key']).toBe('name');
    expect(apps['io.k8s.api.autoscaling.v1.Scale']).toBeDefined();
  });
});

describe('unknownFields', () => {
  const services = resourceFor('', 'services')!;
  const deployments = resourceFor('apps', 'deployments')!;
  it.each([
    ['a known Service', services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', labels: { any: 'x' } }, spec: { ports: [{ port: 80, targetPort: 'http' }], selector: { app: 'a' } } }, []],
    ['spec.bogus', services, { metadata: {}, spec: { bogus: 1, type: 'ClusterIP' } }, ['spec.bogus']],
    ['top-level and nested', services, { metadata: { nam: 'x' }, extra: true, spec: { ports: [{ port: 1 }, { port: 2, prot: 'TCP' }] } }, ['metadata.nam', 'extra', 'spec.ports[1].prot']],
    ['deep in a pod template', deployments, { spec: { template: { spec: { containers: [{ name: 'c', image: 'x', imagePullPolicy: 'Always', bogus: {} }] } } } }, ['spec.template.spec.containers[0].bogus']],
    ['affinity and security contexts are checked', deployments, { spec: { template: { spec: { affinity: { nodeAffinity: {}, anything: 1 }, securityContext: { runAsUser: 1 } } } } }, ['spec.template.spec.affinity.anything']],
    ['free-form parts are not checked', deployments, { spec: { template: { spec: { os: { anything: 1 }, volumes: [{ name: 'v', csi: { driver: 'x', whatever: 2 } }] } } } }, []],
    ['maps of structs', resourceFor('', 'nodes')!, { status: { allocatable: { cpu: '1' }, conditions: [{ type: 'Ready', status: 'True', whatever: 1 }] } }, ['status.conditions[0].whatever']],
  ])('%s', (_n, info, obj, want) => {
    expect(unknownFields(info, obj)).toEqual(want);
  });
});

describe('validateFields', () => {
  it('builds the Strict error and Warn messages as kube-apiserver words them', () => {
    const services = resourceFor('', 'services')!;
    const raw = '{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"type":"A","type":"B","bogus":1}}';
    expect(validateFields(services, JSON.parse(raw), raw)).toEqual({
      problems: ['duplicate field "spec.type"', 'unknown field "spec.bogus"'],
      unknown: ['spec.bogus'],
      duplicates: ['spec.type'],
      strictError: 'Service in version "v1" cannot be handled as a Service: strict decoding error: duplicate field "spec.type", unknown field "spec.bogus"',
    });
    expect(validateFields(services, { metadata: {}, spec: {} })).toEqual({ problems: [], unknown: [], duplicates: [] });
  });
});

describe('duplicateFields', () => {
  it.each([
    ['{"a":1,"b":2}', []],
    ['{"spec":{"type":"A","type":"B"}}', ['spec.type']],
    ['{"a":{"x":1},"a":{"y":"}\\"{"}}', ['a']],
    ['{"items":[{"k":1,"k":2},{"k":3}]}', ['items[0].k']],
    ['  {"s": "a,b", "n": -1.5e3, "t": true, "z": null, "s": 1 } ', ['s']],
  ])('%s', (json, want) => {
    expect(duplicateFields(json)).toEqual(want);
  });
});

describeE2E('kubectl against the served OpenAPI', { commands: ['kubectl'] }, () => {
  let stub: KubectlStub;
  let dir: string;
  const stored = new Map<string, Json>();
  const patches: { resource: string; type: string; body: Json }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-openapi-'));
    stub = await startKubectlStub({
      handler: (req, res) => {
        const path = req.url.split('?')[0]!;
        const m = /^\/(?:api\/v1|apis\/([^/]+)\/v1)\/namespaces\/default\/([a-z]+)(?:\/([^/]+))?$/.exec(path);
        const info = m && resourceFor(m[1] ?? '', m[2]!);
        if (!m || !info) return false;
        const key = `${info.resource}/${m[3]}`;
        const reply = (code: number, body: unknown) => {
          res.writeHead(code, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (req.method === 'POST') {
          const obj = JSON.parse(req.body.toString());
          obj.metadata.resourceVersion = '1';
          stored.set(`${info.resource}/${obj.metadata.name}`, obj);
          reply(201, obj);
        } else if (req.method === 'GET' && m[3]) {
          const obj = stored.get(key);
          if (obj) reply(200, obj);
          else reply(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', message: `${info.resource} "${m[3]}" not found`, code: 404, details: { name: m[3], kind: info.resource } });
        } else if (req.method === 'PATCH' && m[3]) {
          patches.push({ resource: info.resource, type: String(req.headers['content-type']), body: JSON.parse(req.body.toString()) });
          const next = applyStrategicMergePatch(info, stored.get(key), JSON.parse(req.body.toString())) as Json;
          next.metadata.resourceVersion = String(Number(next.metadata.resourceVersion) + 1);
          stored.set(key, next);
          reply(200, next);
        } else return false;
        return true;
      },
    });
  });
  afterAll(async () => {
    await stub?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('explain service.spec', async () => {
    const out = await stub.kubectl(['explain', 'service.spec']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/KIND:\s+Service/);
    expect(out.stdout).toMatch(/FIELD:\s+spec <ServiceSpec>/);
    expect(out.stdout).toMatch(/ports\s+<\[\]ServicePort>/);
    expect(out.stdout).toMatch(/clusterIP\s+<string>/);
    expect(out.stdout).toContain('Attributes a user creates on a service.');
    expect(out.stdout).toMatch(/type\t<string>\n\s+enum: ClusterIP, ExternalName, LoadBalancer, NodePort\n/);
    const field = await stub.kubectl(['explain', 'service.spec.ports.protocol']);
    expect(field.stdout).toMatch(/FIELD: protocol <string>\nENUM:\n\s+SCTP\n\s+TCP\n\s+UDP\n/);
  });

  it('explain deployment.spec --recursive', async () => {
    const out = await stub.kubectl(['explain', 'deployment.spec', '--recursive']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/GROUP:\s+apps/);
    for (const field of ['replicas', 'template', 'containers', 'maxSurge', 'matchLabels', 'volumeMounts', 'httpGet']) expect(out.stdout).toContain(field);
  });

  it.each(RESOURCES.map((r) => [r.resource, r] as const))('explain %s', async (_n, info) => {
    const out = await stub.kubectl(['explain', info.group ? `${info.resource}.${info.group}` : info.resource]);
    expect(out.stderr).toBe('');
    expect(out.stdout).toMatch(new RegExp(`KIND:\\s+${info.kind}\\n`));
    expect(out.stdout).toContain('metadata\t<ObjectMeta>');
  });

  it('create -f under --validate=strict leaves validation to the server', async () => {
    writeFileSync(join(dir, 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n');
    stub.requests.length = 0;
    const out = await stub.kubectl(['create', '-f', join(dir, 'svc.yaml')]);
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('service/web created');
    const post = stub.requests.find((r) => r.method === 'POST')!;
    expect(post.url).toContain('fieldValidation=Strict');
    expect(post.headers['content-type']).toBe('application/json');
    expect(stub.requests.some((r) => r.url.startsWith('/openapi/v3/api/v1?hash='))).toBe(true);
    expect(stub.requests.some((r) => r.url.startsWith('/openapi/v2'))).toBe(false);
  });

  it('client-side apply computes its strategic patch from the served schemas', async () => {
    stored.clear();
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n');
    expect((await stub.kubectl(['apply', '-f', join(dir, 'a.yaml')])).stdout.trim()).toBe('service/web created');
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 81\n    targetPort: 8080\n');
    stub.requests.length = 0;
    const out = await stub.kubectl(['apply', '-f', join(dir, 'a.yaml')]);
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('service/web configured');
    const patch = stub.requests.find((r) => r.method === 'PATCH')!;
    expect(patch.headers['content-type']).toBe('application/strategic-merge-patch+json');
    expect(patch.url).toContain('fieldManager=kubectl-client-side-apply');
    expect(stub.requests.some((r) => r.url.startsWith('/openapi/v2'))).toBe(false);
    const body = JSON.parse(patch.body.toString());
    expect(body.spec).toEqual({ '$setElementOrder/ports': [{ port: 81 }], ports: [{ port: 81, targetPort: 8080 }, { $patch: 'delete', port: 80 }] });
    expect(stored.get('services/web')!.spec.ports).toEqual([{ port: 81, targetPort: 8080 }]);
  });

  it('client-side apply of a Deployment merges containers and env by name through the pod template refs', async () => {
    const deploy = (image: string, env: string) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: app\n        image: ${image}\n        env:\n${env}      - name: sidecar\n        image: busybox\n`;
    writeFileSync(join(dir, 'd.yaml'), deploy('nginx:1', '        - {name: A, value: "1"}\n        - {name: B, value: "2"}\n'));
    expect((await stub.kubectl(['apply', '-f', join(dir, 'd.yaml')])).stdout.trim()).toBe('deployment.apps/web created');
    // Someone else adds a container; client-side apply must leave it alone.
    const live = stored.get('deployments/web')!;
    live.spec.template.spec.containers.push({ name: 'injected', image: 'proxy' });
    writeFileSync(join(dir, 'd.yaml'), deploy('nginx:2', '        - {name: A, value: "1"}\n'));
    patches.length = 0;
    const out = await stub.kubectl(['apply', '-f', join(dir, 'd.yaml')]);
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('deployment.apps/web configured');
    expect(patches).toHaveLength(1);
    expect(patches[0]!.type).toBe('application/strategic-merge-patch+json');
    const containers = stored.get('deployments/web')!.spec.template.spec.containers;
    expect(containers.map((c: Json) => c.name)).toEqual(['app', 'sidecar', 'injected']);
    expect(containers[0]).toEqual({ name: 'app', image: 'nginx:2', env: [{ name: 'A', value: '1' }] });
    expect(patches[0]!.body.spec.template.spec['$setElementOrder/containers']).toEqual([{ name: 'app' }, { name: 'sidecar' }]);
  });
});
