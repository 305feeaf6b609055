import { describe, expect, it } from 'vitest';
import { applyStrategicMergePatch, PatchError } from '../../../../src/apiserver/patch/index.js';
import { resourceFor } from '../../../../src/api/resources.js';

const services = resourceFor('', 'services')!;
const deployments = resourceFor('apps', 'deployments')!;
const pods = resourceFor('', 'pods')!;
const nodes = resourceFor('', 'nodes')!;

const service = () => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default', finalizers: ['a', 'b'], annotations: { keep: 'me' } },
  spec: {
    type: 'ClusterIP',
    clusterIP: '10.96.0.20',
    selector: { app: 'web' },
    ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }],
    externalIPs: ['1.1.1.1'],
  },
});

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 1,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      spec: {
        containers: [
          { name: 'app', image: 'nginx:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80 }] },
          { name: 'sidecar', image: 'busybox' },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    },
  },
});

describe('applyStrategicMergePatch', () => {
  it("kubectl's second client-side apply body (research a.2) replaces port 80 by 81", () => {
    const lastApplied = '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[{"port":81,"targetPort":8080}]}}';
    const patch = {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } },
      spec: { '$setElementOrder/ports': [{ port: 81 }], ports: [{ port: 81, targetPort: 8080 }, { $patch: 'delete', port: 80 }] },
    };
    const out = applyStrategicMergePatch(services, service(), patch) as any;
    expect(out.spec.ports).toEqual([{ port: 81, targetPort: 8080 }]);
    expect(out.metadata.annotations).toEqual({ keep: 'me', 'kubectl.kubernetes.io/last-applied-configuration': lastApplied });
    expect(out.spec.clusterIP).toBe('10.96.0.20');
    expect(out.spec.selector).toEqual({ app: 'web' });
  });

  const cases: [string, any, () => any, any, (o: any) => void][] = [
    ['merges service ports by port', services, service, { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } }, (o) =>
      expect(o.spec.ports).toEqual([{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }, { port: 443 }])],
    ['replaces a list without a merge strategy', services, service, { spec: { externalIPs: ['2.2.2.2'] } }, (o) => expect(o.spec.externalIPs).toEqual(['2.2.2.2'])],
    ['null deletes a field', services, service, { spec: { selector: null } }, (o) => expect(o.spec.selector).toBeUndefined()],
    ['unions a primitive merge list', services, service, { metadata: { finalizers: ['b', 'c'] } }, (o) => expect(o.metadata.finalizers).toEqual(['a', 'b', 'c'])],
    ['$deleteFromPrimitiveList', services, service, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, (o) => expect(o.metadata.finalizers).toEqual(['b'])],
    ['$patch: replace on a map', services, service, { spec: { selector: { $patch: 'replace', tier: 'x' } } }, (o) => expect(o.spec.selector).toEqual({ tier: 'x' })],
    ['$patch: delete on a map', services, service, { spec: { selector: { $patch: 'delete' } } }, (o) => expect(o.spec.selector).toBeUndefined()],
    ['$patch: replace inside a list', services, service, { spec: { ports: [{ port: 9 }, { $patch: 'replace' }] } }, (o) => expect(o.spec.ports).toEqual([{ port: 9 }])],
    ['merges containers by name, env by name', deployments, deployment, {
      spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }] } } },
    }, (o) => {
      const app = o.spec.template.spec.containers[0];
      expect(app.image).toBe('nginx:2');
      expect(app.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]);
      expect(app.ports).toEqual([{ containerPort: 80 }]);
      expect(o.spec.template.spec.containers[1].name).toBe('sidecar');
    }],
    ['deletes a container by name', deployments, deployment, { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } }, (o) =>
      expect(o.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['app'])],
    ['$setElementOrder reorders containers', deployments, deployment, { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }] } } } }, (o) =>
      expect(o.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['sidecar', 'app'])],
    ['$setElementOrder with an added container', deployments, deployment, {
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'init' }, { name: 'app' }, { name: 'sidecar' }], containers: [{ name: 'init', image: 'x' }] } } },
    }, (o) => expect(o.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['init', 'app', 'sidecar'])],
    ['$retainKeys clears the other strategy fields', deployments, deployment, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, (o) =>
      expect(o.spec.strategy).toEqual({ type: 'Recreate' })],
    ['container ports merge by containerPort', deployments, deployment, { spec: { template: { spec: { containers: [{ name: 'app', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 9090 }] }] } } } }, (o) =>
      expect(o.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 80, name: 'http' }, { containerPort: 9090 }])],
    ['volumes merge by name', deployments, deployment, { spec: { template: { spec: { volumes: [{ name: 'cfg', configMap: { name: 'c' } }] } } } }, (o) =>
      expect(o.spec.template.spec.volumes.map((v: any) => v.name)).toEqual(['data', 'cfg'])],
    ['pod status conditions merge by type', pods, () => ({ metadata: { name: 'p' }, status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] } }),
      { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, (o) =>
        expect(o.status.conditions).toEqual([{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }])],
    ['node taints are atomic (no merge key upstream)', nodes, () => ({ metadata: { name: 'n' }, spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] } }),
      { spec: { taints: [{ key: 'b', effect: 'NoExecute' }] } }, (o) => expect(o.spec.taints).toEqual([{ key: 'b', effect: 'NoExecute' }])],
    ['new nested values lose their directives', services, () => ({ metadata: { name: 'x' } }), { spec: { ports: [{ port: 1, $patch: 'merge' }], selector: { $patch: 'merge', a: 'b' } } }, (o) =>
      expect(o.spec).toEqual({ ports: [{ port: 1 }], selector: { a: 'b' } })],
  ];
  it.each(cases)('%s', (_n, info, make, patch, check) => {
    const doc = make();
    const before = JSON.stringify(doc);
    check(applyStrategicMergePatch(info, doc, patch));
    expect(JSON.stringify(doc)).toBe(before);
  });

  it.each([
    ['a non-object patch', [], 400],
    ['a list item without its merge key', { spec: { ports: [{ targetPort: 1 }] } }, 422],
    ['an unknown $patch', { spec: { $patch: 'frob' } }, 400],
    ['$retainKeys that does not cover the patch', { spec: { $retainKeys: ['type'], clusterIP: 'x' } }, 422],
  ])('rejects %s', (_n, patch, code) => {
    let err: unknown;
    try {
      applyStrategicMergePatch(services, service(), patch);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatchError);
    expect((err as PatchError).code).toBe(code);
  });
});
