import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import { compareForDeletion, isPodActive, isPodAvailable, podFromTemplate } from '../../../src/controllers/replicaset/pods.js';
import { shouldRunOn, targetNode } from '../../../src/controllers/daemonset/controller.js';
import type { DaemonSet } from '../../../src/controllers/apps-types.js';

function pod(name: string, o: { node?: string; phase?: Pod['status'] extends infer S ? (S extends { phase?: infer P } ? P : never) : never; ready?: boolean; created?: string; readySince?: string } = {}): Pod {
  return {
    metadata: { name, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z' },
    spec: { nodeName: o.node, containers: [] },
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: o.readySince ?? '2024-01-01T00:00:00Z' }] },
  };
}

describe('scale-down order', () => {
  it('removes unassigned, then pending, then not-ready, then the newest pods first', () => {
    const pods = [
      pod('ready-old', { node: 'n', ready: true, created: '2024-01-01T00:00:00Z' }),
      pod('ready-new', { node: 'n', ready: true, created: '2024-02-01T00:00:00Z' }),
      pod('notready', { node: 'n', ready: false }),
      pod('pending', { node: 'n', phase: 'Pending' }),
      pod('unassigned', { phase: 'Pending' }),
    ];
    expect([...pods].sort(compareForDeletion).map((p) => p.metadata.name)).toEqual(['unassigned', 'pending', 'notready', 'ready-new', 'ready-old']);
  });
});

describe('availability', () => {
  it('needs minReadySeconds of readiness', () => {
    const p = pod('p', { ready: true, readySince: '2024-01-01T00:00:00Z' });
    const t = Date.parse('2024-01-01T00:00:05Z');
    expect(isPodAvailable(p, 0, t)).toBe(true);
    expect(isPodAvailable(p, 5, t)).toBe(true);
    expect(isPodAvailable(p, 10, t)).toBe(false);
    expect(isPodAvailable(pod('q', { ready: false }), 0, t)).toBe(false);
  });

  it('does not count terminating or finished pods as active', () => {
    expect(isPodActive(pod('a'))).toBe(true);
    expect(isPodActive({ ...pod('b'), metadata: { name: 'b', deletionTimestamp: '2024-01-01T00:00:00Z' } })).toBe(false);
    expect(isPodActive(pod('c', { phase: 'Succeeded' }))).toBe(false);
  });
});

describe('pods from templates', () => {
  it('copies labels and spec, and sets generateName and the controller reference', () => {
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true, blockOwnerDeletion: true };
    const tpl = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
    const p = podFromTemplate(tpl, 'ns', 'rs-', owner);
    expect(p.metadata).toEqual({ generateName: 'rs-', namespace: 'ns', labels: { app: 'x' }, ownerReferences: [owner] });
    p.spec.containers[0]!.image = 'changed';
    expect(tpl.spec.containers[0]!.image).toBe('i');
  });
});

describe('DaemonSet placement', () => {
  const ds = (extra: Partial<DaemonSet['spec']['template']['spec']> = {}): DaemonSet => ({
    metadata: { name: 'd' },
    spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c' }], ...extra } } },
  });
  const node = (labels: Record<string, string> = {}, taints: { key: string; effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule' }[] = []) => ({ metadata: { name: 'n', labels }, spec: { taints } });

  it('runs on nodes its selector and tolerations allow', () => {
    expect(shouldRunOn(ds(), node())).toBe(true);
    expect(shouldRunOn(ds({ nodeSelector: { disk: 'ssd' } }), node())).toBe(false);
    expect(shouldRunOn(ds({ nodeSelector: { disk: 'ssd' } }), node({ disk: 'ssd' }))).toBe(true);
    expect(shouldRunOn(ds(), node({}, [{ key: 'dedicated', effect: 'NoSchedule' }]))).toBe(false);
    expect(shouldRunOn(ds({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }), node({}, [{ key: 'dedicated', effect: 'NoSchedule' }]))).toBe(true);
    expect(shouldRunOn(ds(), node({}, [{ key: 'soft', effect: 'PreferNoSchedule' }]))).toBe(true);
  });

  it('reads the target node from nodeName or the metadata.name affinity', () => {
    expect(targetNode({ metadata: {}, spec: { nodeName: 'a', containers: [] } })).toBe('a');
    expect(
      targetNode({ metadata: {}, spec: { containers: [], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }] } } } } }),
    ).toBe('b');
    expect(targetNode({ metadata: {}, spec: { containers: [] } })).toBeUndefined();
  });
});
