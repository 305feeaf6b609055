// The real kubectl's patch, label, scale-like merge patches and server-side apply against a
// loopback stub whose PATCH handling is exactly this package's functions.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PatchError, applyJsonPatch, applyMergePatch, applyStrategicMergePatch, serverSideApply, updateManagedFields } from '../../../../src/apiserver/patch/index.js';
import { resourceFor } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { describeE2E } from '../../../helpers/e2e.js';
import { startKubectlStub, type KubectlStub } from '../kubectl-stub.js';

const services = resourceFor('', 'services')!;
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function status(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

describeE2E('kubectl patch and apply --server-side through the patch functions', { commands: ['kubectl'] }, () => {
  let stub: KubectlStub;
  let dir: string;
  const stored = new Map<string, KubeObject>();
  let rv = 1;

  // What the registry would do: persist, bump resourceVersion only on change.
  function persist(name: string, before: KubeObject | undefined, after: KubeObject): KubeObject {
    const comparable = (o: KubeObject | undefined) => JSON.stringify(o && { ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
    if (comparable(before) === comparable(after)) return before!;
    after.metadata.resourceVersion = String(++rv);
    after.metadata.namespace = 'default';
    (after as any).spec.clusterIP ??= '10.96.0.50';
    stored.set(name, after);
    return after;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-patch-'));
    stub = await startKubectlStub({
      handler: (req, res) => {
        const [path, qs = ''] = req.url.split('?');
        const m = /^\/api\/v1\/namespaces\/default\/services(?:\/([^/]+))?$/.exec(path!);
        if (!m) return false;
        const query = new URLSearchParams(qs);
        const reply = (code: number, body: unknown) => {
          res.writeHead(code, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        const name = m[1] ?? '';
        const current = stored.get(name);
        try {
          if (req.method === 'GET') {
            if (current) reply(200, current);
            else reply(404, status(404, 'NotFound', `services "${name}" not found`));
          } else if (req.method === 'POST') {
            const obj = JSON.parse(req.body.toString()) as KubeObject;
            reply(201, persist(obj.metadata.name!, undefined, updateManagedFields(services, undefined, obj, { manager: query.get('fieldManager') ?? 'unknown', operation: 'Update', time: now() })));
          } else if (req.method === 'PATCH') {
            const type = req.headers['content-type'];
            const body = req.body.toString();
            const manager = query.get('fieldManager') ?? 'unknown';
            if (type === 'application/apply-patch+yaml') {
              const applied = serverSideApply(services, current, parseYaml(body) as KubeObject, { fieldManager: manager, force: query.get('force') === 'true', time: now() });
              reply(current ? 200 : 201, persist(name, current, applied));
              return true;
            }
            if (!current) return reply(404, status(404, 'NotFound', `services "${name}" not found`)), true;
            const patch = JSON.parse(body) as unknown;
            const patched =
              type === 'application/json-patch+json'
                ? applyJsonPatch(current, patch)
                : type === 'application/merge-patch+json'
                  ? applyMergePatch(current, patch)
                  : applyStrategicMergePatch(services, current, patch);
            reply(200, persist(name, current, updateManagedFields(services, current, patched, { manager, operation: 'Update', time: now() })));
          } else return false;
        } catch (e) {
          if (e instanceof PatchError) reply(e.code, e.toStatus());
          else throw e;
        }
        return true;
      },
    });
  });
  afterAll(async () => {
    await stub?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const manifest = (targetPort: number, extra = '') =>
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n    targetPort: ${targetPort}\n${extra}`;

  it('apply --server-side creates, then re-applies unchanged', async () => {
    writeFileSync(join(dir, 'svc.yaml'), manifest(8080));
    const first = await stub.kubectl(['apply', '--server-side', '-f', join(dir, 'svc.yaml')]);
    expect(first.stderr).toBe('');
    expect(first.stdout.trim()).toBe('service/web serverside-applied');
    const created = stored.get('web')!;
    expect(created.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1' })]);
    const rvBefore = created.metadata.resourceVersion;
    const again = await stub.kubectl(['apply', '--server-side', '-f', join(dir, 'svc.yaml')]);
    expect(again.code).toBe(0);
    expect(stored.get('web')!.metadata.resourceVersion).toBe(rvBefore);
  });

  it('kubectl patch of all three types, and a no-op patch', async () => {
    const strategic = await stub.kubectl(['patch', 'svc', 'web', '-p', '{"spec":{"ports":[{"port":443,"targetPort":8443}]}}']);
    expect(strategic.stdout.trim()).toBe('service/web patched');
    expect((stored.get('web') as any).spec.ports.map((p: any) => p.port)).toEqual([80, 443]);
    const merge = await stub.kubectl(['patch', 'svc', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"tier":"fe"}}}']);
    expect(merge.stdout.trim()).toBe('service/web patched');
    const json = await stub.kubectl(['patch', 'svc', 'web', '--type=json', '-p', '[{"op":"remove","path":"/spec/ports/1"}]']);
    expect(json.stdout.trim()).toBe('service/web patched');
    expect((stored.get('web') as any).spec.ports.map((p: any) => p.port)).toEqual([80]);
    const noop = await stub.kubectl(['patch', 'svc', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"tier":"fe"}}}']);
    expect(noop.stdout.trim()).toBe('service/web patched (no change)');
    const failed = await stub.kubectl(['patch', 'svc', 'web', '--type=json', '-p', '[{"op":"test","path":"/spec/clusterIP","value":"10.0.0.1"}]']);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('testing value /spec/clusterIP failed: test failed');
  });

  it('apply --server-side conflicts after kubectl patch changed an applied field; --force-conflicts wins', async () => {
    await stub.kubectl(['patch', 'svc', 'web', '-p', '{"spec":{"ports":[{"port":80,"targetPort":9090}]}}']);
    const conflict = await stub.kubectl(['apply', '--server-side', '-f', join(dir, 'svc.yaml')]);
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .spec.ports[port=80,protocol="TCP"].targetPort');
    expect(conflict.stderr).toContain('--force-conflicts');
    const forced = await stub.kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(dir, 'svc.yaml')]);
    expect(forced.stdout.trim()).toBe('service/web serverside-applied');
    expect((stored.get('web') as any).spec.ports[0].targetPort).toBe(8080);
  });

  it('apply --server-side drops fields the manager stopped applying', async () => {
    writeFileSync(join(dir, 'svc.yaml'), manifest(8080).replace('  labels:\n    app: web\n', ''));
    const out = await stub.kubectl(['apply', '--server-side', '-f', join(dir, 'svc.yaml')]);
    expect(out.code).toBe(0);
    // app was only applied by "kubectl"; tier belongs to kubectl-patch and stays.
    expect(stored.get('web')!.metadata.labels).toEqual({ tier: 'fe' });
  });

  it('apply --server-side takes over from client-side apply (kubectl migrates the ownership)', async () => {
    stored.clear();
    writeFileSync(join(dir, 'csa.yaml'), manifest(8080));
    expect((await stub.kubectl(['apply', '-f', join(dir, 'csa.yaml')])).stdout.trim()).toBe('service/web created');
    expect(stored.get('web')!.metadata.managedFields!.map((e) => e.manager)).toEqual(['kubectl-client-side-apply']);
    stub.requests.length = 0;
    const out = await stub.kubectl(['apply', '--server-side', '-f', join(dir, 'csa.yaml')]);
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('service/web serverside-applied');
    // kubectl rewrites managedFields itself with a JSON patch guarded by resourceVersion.
    expect(stub.requests.filter((r) => r.method === 'PATCH').map((r) => r.headers['content-type'])).toContain('application/json-patch+json');
    expect(stored.get('web')!.metadata.managedFields!.map((e) => `${e.manager}/${e.operation}`).sort()).toEqual(['kubectl-last-applied/Apply', 'kubectl/Apply']);
    // Now kubectl owns the fields, so changing one applies without a conflict.
    writeFileSync(join(dir, 'csa.yaml'), manifest(9999));
    const changed = await stub.kubectl(['apply', '--server-side', '-f', join(dir, 'csa.yaml')]);
    expect(changed.stderr).toBe('');
    expect((stored.get('web') as any).spec.ports[0].targetPort).toBe(9999);
  });
});
