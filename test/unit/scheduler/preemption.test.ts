import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../../src/api/types.js';
import { NodeInfo } from '../../../src/scheduler/node-info.js';
import { ERR_NO_VICTIMS, ERR_NOT_HELPFUL } from '../../../src/scheduler/preemption.js';
import { FitError, fitErrorMessage, Scheduler } from '../../../src/scheduler/schedule.js';

// DefaultPreemption's choices: lower-priority victims only, as few and as unimportant as
// possible, on the node where that costs least; never on nodes eviction cannot help.

function node(name: string, cpu = '2', mut: (n: Node) => void = () => {}): NodeInfo {
  const n: Node = { metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {}, status: { allocatable: { cpu, memory: '8Gi', pods: '110' } } };
  mut(n);
  return new NodeInfo(n);
}

function pod(name: string, cpu: string, priority: number, mut: (p: Pod) => void = () => {}): Pod {
  const p: Pod = { metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { priority, containers: [{ name: 'c', resources: { requests: { cpu } } }] } };
  mut(p);
  return p;
}

const place = (n: NodeInfo, p: Pod) => n.addPod(`default/${p.metadata.name}`, { ...p, spec: { ...p.spec, nodeName: n.name } });
const names = (vs: { pod: Pod }[] | undefined) => (vs ?? []).map((v) => v.pod.metadata.name).sort();

describe('preemption', () => {
  it('evicts only what is needed, lowest priority first, reprieving the rest', () => {
    const a = node('a', '2');
    place(a, pod('low', '1', 10));
    place(a, pod('mid', '500m', 50));
    place(a, pod('other', '500m', 20));
    const s = new Scheduler();
    const high = pod('high', '1', 1000);
    expect(s.schedule(high, [a])).toBeInstanceOf(FitError);
    const out = s.preempt(high, [a]);
    expect(out.candidate?.node).toBe(a);
    // removing "low" (1 cpu) is enough; mid and other are reprieved
    expect(names(out.candidate?.victims)).toEqual(['low']);
  });

  it('never touches pods of equal or higher priority', () => {
    const a = node('a', '1');
    place(a, pod('peer', '1', 100));
    const out = new Scheduler().preempt(pod('p', '1', 100), [a]);
    expect(out.candidate).toBeUndefined();
    expect(fitErrorMessage(1, out.diagnosis)).toBe(`0/1 nodes are available: 1 ${ERR_NO_VICTIMS}.`);
  });

  it('picks the node whose victims matter least', () => {
    const a = node('a', '1');
    const b = node('b', '1');
    const c = node('c', '1');
    place(a, pod('a1', '1', 500));
    place(b, pod('b1', '500m', 5));
    place(b, pod('b2', '500m', 5));
    place(c, pod('c1', '1', 5));
    const out = new Scheduler().preempt(pod('p', '1', 1000), [a, b, c]);
    // a's victim has the highest priority; b and c tie on it, c has the smaller sum
    expect(out.candidate?.node).toBe(c);
    expect(names(out.candidate?.victims)).toEqual(['c1']);
  });

  it('does not count nodes that eviction cannot help', () => {
    const tainted = node('t', '1', (n) => (n.spec!.taints = [{ key: 'k', effect: 'NoSchedule' }]));
    place(tainted, pod('x', '1', 1));
    const full = node('f', '1');
    place(full, pod('y', '1', 1));
    const out = new Scheduler().preempt(pod('p', '1', 1000, (p) => (p.spec.nodeSelector = { 'kubernetes.io/hostname': 't' })), [tainted, full]);
    expect(out.candidate).toBeUndefined();
    expect(fitErrorMessage(2, out.diagnosis)).toBe(`0/2 nodes are available: 2 ${ERR_NOT_HELPFUL}.`);
  });

  it('evicts a lower-priority pod whose anti-affinity keeps the preemptor out', () => {
    const a = node('a', '4');
    place(a, pod('loner', '100m', 1, (p) => {
      p.metadata.labels = { app: 'loner' };
      p.spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    }));
    place(a, pod('bystander', '100m', 1));
    const web = pod('web', '100m', 1000, (p) => (p.metadata.labels = { app: 'web' }));
    const s = new Scheduler();
    expect((s.schedule(web, [a]) as FitError).message).toBe("0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules.");
    expect(names(s.preempt(web, [a]).candidate?.victims)).toEqual(['loner']);
  });
});
