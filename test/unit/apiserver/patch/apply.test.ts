import { describe, expect, it } from 'vitest';
import { ApplyConflictError, PatchError, applyMergePatch, serverSideApply, updateManagedFields } from '../../../../src/apiserver/patch/index.js';
import { resourceFor } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';

const services = resourceFor('', 'services')!;
const deployments = resourceFor('apps', 'deployments')!;
const T1 = '2026-11-23T10:00:00Z';
const T2 = '2026-11-23T11:00:00Z';

const svcConfig = (extra: Record<string, unknown> = {}, ports: unknown[] = [{ port: 80, targetPort: 8080 }]): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', labels: { app: 'web' } }, spec: { selector: { app: 'web' }, ports, ...extra } }) as KubeObject;

// What the registry would add on create (defaults and allocation), owned by nobody.
function persisted(obj: KubeObject): KubeObject {
  const o = JSON.parse(JSON.stringify(obj));
  o.metadata.uid = 'u1';
  o.metadata.resourceVersion = '5';
  o.metadata.namespace = 'default';
  o.spec.clusterIP = '10.96.0.9';
  o.spec.sessionAffinity = 'None';
  for (const p of o.spec.ports) p.protocol ??= 'TCP';
  return o;
}

const entry = (obj: KubeObject, manager: string) => obj.metadata.managedFields!.find((e) => e.manager === manager)!;

describe('serverSideApply', () => {
  it('creates: one Apply entry in fieldsV1 form, list items by their keys with defaults', () => {
    const out = serverSideApply(services, undefined, svcConfig(), { fieldManager: 'kubectl', force: false, time: T1 });
    expect(out.metadata.managedFields).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } },
            'f:selector': {},
          },
        },
      },
    ]);
    expect((out as any).spec.ports).toEqual([{ port: 80, targetPort: 8080 }]);
  });

  it('re-applying the same configuration changes nothing, not even the time', () => {
    const live = persisted(serverSideApply(services, undefined, svcConfig(), { fieldManager: 'kubectl', force: false, time: T1 }));
    const again = serverSideApply(services, live, svcConfig(), { fieldManager: 'kubectl', force: false, time: T2 });
    expect(again).toEqual(live);
  });

  it('removes fields the manager stops applying, keeps server-set and others\' fields', () => {
    let live = persisted(serverSideApply(services, undefined, svcConfig({}, [{ port: 80 }, { port: 443 }]), { fieldManager: 'kubectl', force: false, time: T1 }));
    live = updateManagedFields(services, live, applyMergePatch(live, { metadata: { labels: { team: 'a' } } }), { manager: 'kubectl-label', operation: 'Update', time: T1 });
    const next = { ...svcConfig({}, [{ port: 80 }]) };
    delete (next.metadata as any).labels;
    const out = serverSideApply(services, live, next, { fieldManager: 'kubectl', force: false, time: T2 }) as any;
    expect(out.spec.ports).toEqual([{ port: 80, protocol: 'TCP' }]);
    expect(out.metadata.labels).toEqual({ team: 'a' });
    expect(out.spec.clusterIP).toBe('10.96.0.9');
    expect(entry(out, 'kubectl').fieldsV1).toEqual({ 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } }, 'f:selector': {} } });
    expect(entry(out, 'kubectl-label').fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { 'f:team': {} } } });
  });

  it('conflicts with a client-side-apply owner when changing its value; force takes ownership', () => {
    const created = updateManagedFields(services, undefined, persisted(svcConfig()), { manager: 'kubectl-client-side-apply', operation: 'Update', time: T1 });
    expect(entry(created, 'kubectl-client-side-apply').fieldsV1).toMatchObject({
      'f:spec': { 'f:ports': { '.': {}, 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } } },
    });
    // Same values: shared ownership, no conflict.
    const shared = serverSideApply(services, created, svcConfig(), { fieldManager: 'kubectl', force: false, time: T2 });
    expect(shared.metadata.managedFields!.map((e) => e.manager)).toEqual(['kubectl-client-side-apply', 'kubectl']);

    const changed = svcConfig({}, [{ port: 80, targetPort: 9090 }]);
    let err: unknown;
    try {
      serverSideApply(services, created, changed, { fieldManager: 'kubectl', force: false, time: T2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApplyConflictError);
    const conflict = err as ApplyConflictError;
    expect(conflict.code).toBe(409);
    expect(conflict.reason).toBe('Conflict');
    expect(conflict.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .spec.ports[port=80,protocol="TCP"].targetPort');
    expect(conflict.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using v1', field: '.spec.ports[port=80,protocol="TCP"].targetPort' }]);

    const forced = serverSideApply(services, created, changed, { fieldManager: 'kubectl', force: true, time: T2 }) as any;
    expect(forced.spec.ports[0].targetPort).toBe(9090);
    const csa = entry(forced, 'kubectl-client-side-apply').fieldsV1 as any;
    expect(csa['f:spec']['f:ports']['k:{"port":80,"protocol":"TCP"}']).toEqual({ '.': {}, 'f:port': {}, 'f:protocol': {} });
  });

  it('conflicts after kubectl scale touched replicas, and lists every conflict', () => {
    const config = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1' }] } } },
    } as KubeObject;
    const created = serverSideApply(deployments, undefined, config, { fieldManager: 'kubectl', force: false, time: T1 });
    const scaled = updateManagedFields(deployments, created, applyMergePatch(created, { spec: { replicas: 3 } }), { manager: 'kubectl', operation: 'Update', subresource: 'scale', time: T2 });
    expect(entry(scaled, 'kubectl').operation).toBe('Apply');
    const scaleEntry = scaled.metadata.managedFields!.find((e) => e.subresource === 'scale')!;
    expect(scaleEntry.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(() => serverSideApply(deployments, scaled, config, { fieldManager: 'kubectl', force: false, time: T2 })).toThrow(
      'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas',
    );
    const patched = updateManagedFields(deployments, scaled, applyMergePatch(scaled, { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } } } }), {
      manager: 'kubectl-patch',
      operation: 'Update',
      time: T2,
    });
    try {
      serverSideApply(deployments, patched, config, { fieldManager: 'kubectl', force: false, time: T2 });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe(
        'Apply failed with 2 conflicts: conflicts with "kubectl" with subresource "scale" using apps/v1:\n- .spec.replicas\nconflicts with "kubectl-patch" using apps/v1:\n- .spec.template.spec.containers[name="app"].image',
      );
    }
  });

  it('applies through the status subresource: only status changes, owned with the subresource', () => {
    const live = persisted(serverSideApply(services, undefined, svcConfig(), { fieldManager: 'kubectl', force: false, time: T1 }));
    const cfg = { ...svcConfig({ type: 'NodePort' }), status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } } as KubeObject;
    const out = serverSideApply(services, live, cfg, { fieldManager: 'lb', force: false, time: T2, subresource: 'status' }) as any;
    expect(out.status).toEqual({ loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } });
    expect(out.spec.type).toBeUndefined();
    expect(out.metadata.managedFields.find((e: any) => e.manager === 'lb')).toMatchObject({ operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:loadBalancer': { 'f:ingress': {} } } } });
    expect(() => serverSideApply(services, undefined, cfg, { fieldManager: 'lb', force: false, time: T2, subresource: 'status' })).toThrow(PatchError);
  });

  it('ignores status in an apply to the main resource', () => {
    const cfg = { ...svcConfig(), status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } } as KubeObject;
    const out = serverSideApply(services, undefined, cfg, { fieldManager: 'kubectl', force: false, time: T1 }) as any;
    expect(out.status).toBeUndefined();
  });

  it.each([
    ['a list item without its key', [{ targetPort: 80 }], '.spec.ports: element 0: associative list with keys has an element that omits key field "port"'],
    ['two items with one key', [{ port: 80 }, { port: 80, protocol: 'TCP', name: 'x' }], '.spec.ports: duplicate entries for key [port=80,protocol="TCP"]'],
  ])('rejects %s with 400', (_n, ports, message) => {
    try {
      serverSideApply(services, undefined, svcConfig({}, ports), { fieldManager: 'kubectl', force: false, time: T1 });
      expect.unreachable();
    } catch (e) {
      expect((e as PatchError).code).toBe(400);
      expect((e as PatchError).message).toContain(message);
    }
  });

  it('rejects managedFields in the applied configuration and a missing field manager', () => {
    const bad = svcConfig();
    bad.metadata.managedFields = [];
    expect(() => serverSideApply(services, undefined, bad, { fieldManager: 'kubectl', force: false, time: T1 })).toThrow(/metadata.managedFields must be nil/);
    try {
      serverSideApply(services, undefined, svcConfig(), { fieldManager: '', force: false, time: T1 });
    } catch (e) {
      expect((e as PatchError).code).toBe(400);
    }
  });
});

describe('updateManagedFields', () => {
  it('moves ownership on update, drops removed fields and empty entries', () => {
    const created = updateManagedFields(services, undefined, persisted(svcConfig()), { manager: 'kubectl-create', operation: 'Update', time: T1 });
    expect(created.metadata.managedFields).toHaveLength(1);
    expect(entry(created, 'kubectl-create').fieldsV1).toMatchObject({ 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:clusterIP': {}, 'f:selector': {} } });
    const relabeled = updateManagedFields(services, created, applyMergePatch(created, { metadata: { labels: { app: 'api' } } }), { manager: 'kubectl-label', operation: 'Update', time: T2 });
    expect(entry(relabeled, 'kubectl-label')).toMatchObject({ operation: 'Update', apiVersion: 'v1', time: T2, fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } } } });
    expect((entry(relabeled, 'kubectl-create').fieldsV1 as any)['f:metadata']).toEqual({ 'f:labels': {} });
    const unlabeled = updateManagedFields(services, relabeled, applyMergePatch(relabeled, { metadata: { labels: null } }), { manager: 'kubectl-label', operation: 'Update', time: T2 });
    expect(unlabeled.metadata.managedFields!.map((e) => e.manager)).toEqual(['kubectl-create']);
  });

  it('entries it does not change are kept verbatim, whatever equivalent form they use', () => {
    const obj = persisted(svcConfig()) as KubeObject;
    obj.metadata.managedFields = [{ manager: 'other', operation: 'Update', apiVersion: 'v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {} } } } }];
    const out = updateManagedFields(services, obj, applyMergePatch(obj, { spec: { type: 'NodePort' } }), { manager: 'kubectl-edit', operation: 'Update', time: T2 });
    expect(out.metadata.managedFields![0]).toEqual(obj.metadata.managedFields[0]);
    expect(updateManagedFields(services, obj, JSON.parse(JSON.stringify(obj)), { manager: 'x', operation: 'Update', time: T2 })).toEqual(obj);
  });

  it('a no-op write leaves managedFields untouched', () => {
    const created = updateManagedFields(services, undefined, persisted(svcConfig()), { manager: 'kubectl-create', operation: 'Update', time: T1 });
    const again = updateManagedFields(services, created, JSON.parse(JSON.stringify(created)), { manager: 'kubectl-edit', operation: 'Update', time: T2 });
    expect(again).toEqual(created);
  });

  it('a status write is recorded with its subresource and only status fields', () => {
    const created = updateManagedFields(services, undefined, persisted(svcConfig()), { manager: 'kubectl-create', operation: 'Update', time: T1 });
    const withStatus = applyMergePatch(created, { status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } });
    const out = updateManagedFields(services, created, withStatus, { manager: 'lb-controller', operation: 'Update', subresource: 'status', time: T2 });
    expect(out.metadata.managedFields!.find((e) => e.manager === 'lb-controller')).toMatchObject({ subresource: 'status', fieldsV1: { 'f:status': { 'f:loadBalancer': { 'f:ingress': {} } } } });
  });

  it('keeps managedFields a client rewrote itself (kubectl csa-upgrade)', () => {
    const created = updateManagedFields(services, undefined, persisted(svcConfig()), { manager: 'kubectl-client-side-apply', operation: 'Update', time: T1 });
    const rewritten = { ...created, metadata: { ...created.metadata, managedFields: [{ ...created.metadata.managedFields![0]!, manager: 'kubectl', operation: 'Apply' as const }] } };
    expect(updateManagedFields(services, created, rewritten, { manager: 'kubectl', operation: 'Update', time: T2 })).toEqual(rewritten);
  });
});
