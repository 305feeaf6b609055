import { describe, expect, it } from 'vitest';
import type { Node, Pod, PodAffinityTerm } from '../../../src/api/types.js';
import { NodeInfo } from '../../../src/scheduler/node-info.js';
import { FitError, Scheduler } from '../../../src/scheduler/schedule.js';
import { SchedulerCache } from '../../../src/scheduler/cache.js';

// Pod affinity / anti-affinity and explicit topology spread constraints, as kube-scheduler's
// InterPodAffinity and PodTopologySpread plugins decide them.

function node(name: string, zone: string, mut: (n: Node) => void = () => {}): NodeInfo {
  const n: Node = {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': zone } },
    spec: {},
    status: { allocatable: { cpu: '8', memory: '16Gi', pods: '110' } },
  };
  mut(n);
  return new NodeInfo(n);
}

function pod(name: string, labels: Record<string, string>, mut: (p: Pod) => void = () => {}, namespace = 'default'): Pod {
  const p: Pod = { metadata: { name, namespace, labels }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] } };
  mut(p);
  return p;
}

const term = (labels: Record<string, string>, topologyKey: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({ labelSelector: { matchLabels: labels }, topologyKey, ...extra });
const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const place = (n: NodeInfo, p: Pod) => n.addPod(`${p.metadata.namespace}/${p.metadata.name}`, { ...p, spec: { ...p.spec, nodeName: n.name } });
const fixed = () => 0.99;

describe('InterPodAffinity filter', () => {
  it('required affinity puts the pod in the zone of a matching pod', () => {
    const a = node('a', 'z1');
    const b = node('b', 'z2');
    const c = node('c', 'z2');
    place(b, pod('db', { app: 'db' }));
    const web = pod('web', { app: 'web' }, (p) => (p.spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, ZONE)] } }));
    const s = new Scheduler(undefined, fixed);
    for (let i = 0; i < 5; i++) expect(['b', 'c']).toContain((s.schedule(web, [a, b, c]) as NodeInfo).name);
    const r = s.schedule(web, [a]);
    expect((r as FitError).message).toBe("0/1 nodes are available: 1 node(s) didn't match pod affinity rules.");
  });

  it('a self-affine first pod may go anywhere the topology key exists', () => {
    const a = node('a', 'z1');
    const unlabelled = node('u', 'z1', (n) => delete n.metadata.labels![ZONE]);
    const first = pod('w0', { app: 'web' }, (p) => (p.spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, ZONE)] } }));
    expect(new Scheduler(undefined, fixed).schedule(first, [unlabelled, a])).toBe(a);
    // but not when its terms do not select itself
    const other = pod('x', { app: 'x' }, (p) => (p.spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, ZONE)] } }));
    expect(new Scheduler(undefined, fixed).schedule(other, [a])).toBeInstanceOf(FitError);
  });

  it('required anti-affinity keeps replicas on different hosts, and names the reason', () => {
    const nodes = [node('a', 'z1'), node('b', 'z1'), node('c', 'z2')];
    const s = new Scheduler(undefined, fixed);
    const mk = (i: number) => pod(`r${i}`, { app: 'cache' }, (p) => (p.spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'cache' }, HOST)] } }));
    const used = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const n = s.schedule(mk(i), nodes) as NodeInfo;
      expect(n).toBeInstanceOf(NodeInfo);
      used.add(n.name);
      place(n, mk(i));
    }
    expect(used.size).toBe(3);
    expect((s.schedule(mk(3), nodes) as FitError).message).toBe("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
  });

  it("an existing pod's required anti-affinity repels the incoming pod from its zone", () => {
    const a = node('a', 'z1');
    const b = node('b', 'z1');
    const c = node('c', 'z2');
    place(a, pod('loner', { app: 'loner' }, (p) => (p.spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'noisy' }, ZONE)] } })));
    const s = new Scheduler(undefined, fixed);
    expect(s.schedule(pod('n', { app: 'noisy' }), [a, b, c])).toBe(c);
    expect((s.schedule(pod('n', { app: 'noisy' }), [a, b]) as FitError).message).toBe("0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules.");
    // other labels are not repelled
    expect(s.schedule(pod('q', { app: 'quiet' }), [a])).toBe(a);
  });

  it('terms look in the pod namespace unless namespaces or a namespaceSelector say otherwise', () => {
    const a = node('a', 'z1');
    const b = node('b', 'z2');
    place(a, pod('db', { app: 'db' }, undefined, 'data'));
    const s = new Scheduler(undefined, fixed);
    const withTerm = (t: PodAffinityTerm) => pod('web', { app: 'web' }, (p) => (p.spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [t] } }));
    expect(s.schedule(withTerm(term({ app: 'db' }, ZONE)), [a, b])).toBeInstanceOf(FitError);
    expect(s.schedule(withTerm(term({ app: 'db' }, ZONE, { namespaces: ['data'] })), [a, b])).toBe(a);
    const nsLabels = (ns: string): Record<string, string> => (ns === 'data' ? { tier: 'storage' } : {});
    expect(s.schedule(withTerm(term({ app: 'db' }, ZONE, { namespaceSelector: { matchLabels: { tier: 'storage' } } })), [a, b], [], nsLabels)).toBe(a);
    expect(s.schedule(withTerm(term({ app: 'db' }, ZONE, { namespaceSelector: { matchLabels: { tier: 'web' } } })), [a, b], [], nsLabels)).toBeInstanceOf(FitError);
    // an empty namespaceSelector selects every namespace
    expect(s.schedule(withTerm(term({ app: 'db' }, ZONE, { namespaceSelector: {} })), [a, b], [], nsLabels)).toBe(a);
  });

  it('matchExpressions in the label selector', () => {
    const a = node('a', 'z1');
    const b = node('b', 'z2');
    place(b, pod('db', { app: 'db', tier: 'primary' }));
    const web = pod('web', { app: 'web' }, (p) => {
      p.spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['primary', 'replica'] }] }, topologyKey: HOST }] } };
    });
    expect(new Scheduler(undefined, fixed).schedule(web, [a, b])).toBe(b);
  });
});

describe('InterPodAffinity through the scheduler cache', () => {
  it('the cache lists the nodes with affinity pods, and the filter needs no other', () => {
    const cache = new SchedulerCache();
    for (const n of [node('a', 'z1'), node('b', 'z2')]) cache.upsertNode(n.node);
    const loner = pod('loner', { app: 'loner' }, (p) => {
      p.spec.nodeName = 'a';
      p.spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'noisy' }, HOST)] } };
    });
    expect(cache.nodesWithAffinity()).toEqual([]);
    cache.addPod('default/loner', loner);
    expect(cache.nodesWithAffinity().map((n) => n.name)).toEqual(['a']);
    const s = new Scheduler(undefined, fixed);
    for (let i = 0; i < 4; i++) expect((s.schedule(pod('n', { app: 'noisy' }), cache.nodeInfos(), [], undefined, cache.nodesWithAffinity()) as NodeInfo).name).toBe('b');
    cache.removePod('default/loner');
    expect(cache.nodesWithAffinity()).toEqual([]);
  });
});

describe('InterPodAffinity score', () => {
  it('preferred affinity pulls toward, preferred anti-affinity pushes away', () => {
    const a = node('a', 'z1');
    const b = node('b', 'z2');
    place(a, pod('cache', { app: 'cache' }));
    const near = pod('web', { app: 'web' }, (p) => (p.spec.affinity = { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term({ app: 'cache' }, ZONE) }] } }));
    const far = pod('web', { app: 'web' }, (p) => (p.spec.affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term({ app: 'cache' }, ZONE) }] } }));
    for (const r of [0.01, 0.99]) {
      expect(new Scheduler(undefined, () => r).schedule(near, [a, b])).toBe(a);
      expect(new Scheduler(undefined, () => r).schedule(far, [a, b])).toBe(b);
    }
  });

  it("an existing pod's preferred anti-affinity against the incoming pod counts too", () => {
    const a = node('a', 'z1');
    const b = node('b', 'z2');
    place(a, pod('shy', { app: 'shy' }, (p) => (p.spec.affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term({ app: 'web' }, ZONE) }] } })));
    place(b, pod('other', { app: 'other' }));
    for (const r of [0.01, 0.99]) expect(new Scheduler(undefined, () => r).schedule(pod('web', { app: 'web' }), [a, b])).toBe(b);
  });
});

describe('PodTopologySpread constraints', () => {
  const spread = (maxSkew: number, key: string, when: 'DoNotSchedule' | 'ScheduleAnyway' = 'DoNotSchedule', extra: object = {}) => (p: Pod) => {
    p.spec.topologySpreadConstraints = [{ maxSkew, topologyKey: key, whenUnsatisfiable: when, labelSelector: { matchLabels: { app: 'web' } }, ...extra }];
  };

  it('DoNotSchedule refuses the domain that would exceed maxSkew', () => {
    const a = node('a', 'z1');
    const b = node('b', 'z2');
    place(a, pod('w1', { app: 'web' }));
    place(a, pod('w2', { app: 'web' }));
    place(b, pod('w3', { app: 'web' }));
    const s = new Scheduler(undefined, fixed);
    // z1 has 2, z2 has 1: one more in z1 makes skew 2
    expect(s.schedule(pod('w4', { app: 'web' }, spread(1, ZONE)), [a, b])).toBe(b);
    // a cordoned node still counts as a domain
    b.node.spec!.unschedulable = true;
    expect((s.schedule(pod('w4', { app: 'web' }, spread(1, ZONE)), [a, b]) as FitError).message).toBe(
      "0/2 nodes are available: 1 node(s) didn't match pod topology spread constraints, 1 node(s) were unschedulable.",
    );
    // maxSkew 2 allows it
    expect(s.schedule(pod('w4', { app: 'web' }, spread(2, ZONE)), [a])).toBe(a);
  });

  it('a node without the topology key fails with the missing-label reason', () => {
    const bare = node('bare', 'z1', (n) => delete n.metadata.labels![ZONE]);
    expect((new Scheduler(undefined, fixed).schedule(pod('w', { app: 'web' }, spread(1, ZONE)), [bare]) as FitError).message).toBe(
      "0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label).",
    );
  });

  it('minDomains: fewer domains than asked count the global minimum as 0', () => {
    const a = node('a', 'z1');
    const b = node('b', 'z2');
    place(a, pod('w1', { app: 'web' }));
    place(b, pod('w2', { app: 'web' }));
    const s = new Scheduler(undefined, fixed);
    expect(s.schedule(pod('w3', { app: 'web' }, spread(1, ZONE)), [a, b])).toBeInstanceOf(NodeInfo);
    expect(s.schedule(pod('w3', { app: 'web' }, spread(1, ZONE, 'DoNotSchedule', { minDomains: 3 })), [a, b])).toBeInstanceOf(FitError);
  });

  it('nodes the pod cannot go to by nodeSelector are not domains (nodeAffinityPolicy Honor)', () => {
    const a = node('a', 'z1', (n) => (n.metadata.labels!.disk = 'ssd'));
    const b = node('b', 'z2');
    place(a, pod('w1', { app: 'web' }));
    const p = pod('w2', { app: 'web' }, (q) => {
      spread(1, ZONE)(q);
      q.spec.nodeSelector = { disk: 'ssd' };
    });
    // z2 is not a domain for this pod, so z1 is the emptiest and skew stays 1
    expect(new Scheduler(undefined, fixed).schedule(p, [a, b])).toBe(a);
  });

  it('ScheduleAnyway prefers the emptier domain but never refuses', () => {
    const a = node('a', 'z1');
    const b = node('b', 'z2');
    for (let i = 0; i < 3; i++) place(a, pod(`w${i}`, { app: 'web' }));
    for (const r of [0.01, 0.99]) expect(new Scheduler(undefined, () => r).schedule(pod('x', { app: 'web' }, spread(1, ZONE, 'ScheduleAnyway')), [a, b])).toBe(b);
    expect(new Scheduler(undefined, fixed).schedule(pod('x', { app: 'web' }, spread(1, ZONE, 'ScheduleAnyway')), [a])).toBe(a);
  });
});
