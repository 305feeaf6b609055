import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../../src/api/types.js';
import { NodeInfo, podLabelKey } from '../../../src/scheduler/node-info.js';
import { FitError, numFeasibleNodesToFind, Scheduler } from '../../../src/scheduler/schedule.js';
import { parseQuantity, milliCPU } from '../../../src/api/quantity.js';

function node(name: string, mut: (n: Node) => void = () => {}): NodeInfo {
  const n: Node = {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: { allocatable: { cpu: '2', memory: '4Gi', pods: '110' } },
  };
  mut(n);
  return new NodeInfo(n);
}

function pod(name: string, mut: (p: Pod) => void = () => {}): Pod {
  const p: Pod = { metadata: { name, namespace: 'default', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '500m', memory: '256Mi' } } }] } };
  mut(p);
  return p;
}

const fixed = () => 0.99;

describe('quantity', () => {
  it.each([
    ['100m', 0.1],
    ['2', 2],
    ['1.5', 1.5],
    ['128Mi', 128 * 2 ** 20],
    ['1G', 1e9],
    ['1e3', 1000],
    ['4Gi', 4 * 2 ** 30],
  ])('%s', (q, v) => expect(parseQuantity(q)).toBeCloseTo(v));
  it('rounds cpu up to millicores', () => expect(milliCPU('0.0001')).toBe(1));
  it('rejects garbage', () => expect(() => parseQuantity('lots')).toThrow());
});

describe('Scheduler filters', () => {
  it('summarises why no node fits in kube-scheduler wording', () => {
    const nodes = [
      node('tainted', (n) => (n.spec!.taints = [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }])),
      node('small1', (n) => (n.status!.allocatable = { cpu: '100m', memory: '4Gi', pods: '110' })),
      node('small2', (n) => (n.status!.allocatable = { cpu: '100m', memory: '4Gi', pods: '110' })),
    ];
    const r = new Scheduler(undefined, fixed).schedule(pod('p'), nodes);
    expect(r).toBeInstanceOf(FitError);
    expect((r as FitError).message).toBe('0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.');
  });

  it('honours tolerations, nodeSelector, required node affinity, unschedulable and nodeName', () => {
    const s = new Scheduler(undefined, fixed);
    const tainted = node('t', (n) => (n.spec!.taints = [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]));
    expect(s.schedule(pod('p', (p) => (p.spec.tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }])), [tainted])).toBe(tainted);
    const labelled = node('ssd', (n) => (n.metadata.labels!.disk = 'ssd'));
    const plain = node('hdd');
    expect(s.schedule(pod('p', (p) => (p.spec.nodeSelector = { disk: 'ssd' })), [plain, labelled])).toBe(labelled);
    const affinity = pod('p', (p) => {
      p.spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'NotIn', values: ['ssd'] }] }] } } };
    });
    expect(s.schedule(affinity, [labelled, plain])).toBe(plain);
    const cordoned = node('c', (n) => (n.spec!.unschedulable = true));
    expect((s.schedule(pod('p'), [cordoned]) as FitError).message).toBe('0/1 nodes are available: 1 node(s) were unschedulable.');
    expect((s.schedule(pod('p', (p) => (p.spec.nodeName = 'elsewhere')), [plain]) as FitError).message).toBe(
      "0/1 nodes are available: 1 node(s) didn't match the requested node name.",
    );
  });

  it('counts requests of bound pods and host ports', () => {
    const n = node('a');
    n.addPod('default/x', pod('x', (p) => (p.spec.containers[0]!.resources = { requests: { cpu: '1800m' } })));
    expect((new Scheduler().schedule(pod('p'), [n]) as FitError).message).toBe('0/1 nodes are available: 1 Insufficient cpu.');
    n.removePod('default/x');
    const hp = (p: Pod) => (p.spec.containers[0]!.ports = [{ containerPort: 80, hostPort: 8080 }]);
    n.addPod('default/y', pod('y', hp));
    expect((new Scheduler().schedule(pod('p', hp), [n]) as FitError).message).toBe("0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.");
  });
});

describe('Scheduler scores', () => {
  it('prefers the least allocated node', () => {
    const busy = node('busy');
    busy.addPod('default/x', pod('x', (p) => (p.spec.containers[0]!.resources = { requests: { cpu: '1', memory: '2Gi' } })));
    const idle = node('idle');
    expect(new Scheduler(undefined, fixed).schedule(pod('p'), [busy, idle])).toBe(idle);
  });

  it('spreads siblings across nodes and zones', () => {
    const a = node('a', (n) => (n.metadata.labels!['topology.kubernetes.io/zone'] = 'z1'));
    const b = node('b', (n) => (n.metadata.labels!['topology.kubernetes.io/zone'] = 'z2'));
    // Same load on both, but node a already holds a sibling.
    a.addPod('default/s1', pod('s1'));
    b.addPod('default/other', pod('other', (p) => (p.metadata.labels = { app: 'db' })));
    expect(new Scheduler(undefined, fixed).schedule(pod('p'), [a, b], [{ app: 'web' }])).toBe(b);
  });

  it('counts siblings from the per-node label counts, also for multi-label and several selectors, and forgets removed pods', () => {
    const labelled = (name: string, labels: Record<string, string>, ns = 'default') => pod(name, (p) => ((p.metadata.labels = labels), (p.metadata.namespace = ns)));
    // Same load everywhere (one pod each), so only spreading tells the nodes apart.
    const a = node('a');
    const b = node('b');
    a.addPod('default/s1', labelled('s1', { app: 'web', tier: 'fe' }));
    // b holds a pod with app=web, but in another namespace, and with another tier: not a sibling for any selector below.
    b.addPod('other/s2', labelled('s2', { app: 'web', tier: 'be' }, 'other'));
    expect(a.podLabelCounts.get(podLabelKey('default', 'app', 'web'))).toBe(1);
    const s = new Scheduler(undefined, fixed);
    expect(s.schedule(pod('p1'), [a, b], [{ app: 'web' }])).toBe(b);
    expect(s.schedule(pod('p2'), [a, b], [{ app: 'web', tier: 'fe' }])).toBe(b);
    expect(s.schedule(pod('p3'), [a, b], [{ app: 'db' }, { tier: 'fe' }])).toBe(b);
    // Both labels present on b, but on different pods: still no pod matching both.
    b.removePod('other/s2');
    b.addPod('default/s3', labelled('s3', { app: 'web', tier: 'be' }));
    a.removePod('default/s1');
    a.addPod('default/s4', labelled('s4', { tier: 'fe' }));
    b.addPod('default/s5', labelled('s5', { tier: 'fe' }));
    a.addPod('default/s6', labelled('s6', { app: 'db' }));
    // a: {tier=fe}, {app=db}; b: {app=web,tier=be}, {tier=fe} — two pods each.
    expect(s.schedule(pod('p4'), [a, b], [{ app: 'web', tier: 'fe' }, { app: 'db' }])).toBe(b);
    expect(s.schedule(pod('p5'), [a, b], [{ app: 'web' }])).toBe(a);
    b.removePod('default/s3');
    expect(b.podLabelCounts.has(podLabelKey('default', 'app', 'web'))).toBe(false);
    expect(b.podLabelCounts.get(podLabelKey('default', 'tier', 'fe'))).toBe(1);
  });

  it('avoids PreferNoSchedule taints when it can', () => {
    const soft = node('soft', (n) => (n.spec!.taints = [{ key: 'k', effect: 'PreferNoSchedule' }]));
    const clean = node('clean');
    expect(new Scheduler(undefined, fixed).schedule(pod('p'), [soft, clean])).toBe(clean);
  });
});

describe('numFeasibleNodesToFind', () => {
  it('follows the adaptive percentage', () => {
    expect(numFeasibleNodesToFind(50, 0)).toBe(50);
    expect(numFeasibleNodesToFind(5000, 0)).toBe(500);
    expect(numFeasibleNodesToFind(150, 0)).toBe(100);
  });
});
