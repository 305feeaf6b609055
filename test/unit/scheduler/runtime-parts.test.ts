import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../../src/api/types.js';
import { SchedulerCache } from '../../../src/scheduler/cache.js';
import { SchedulingQueue } from '../../../src/scheduler/queue.js';

const node = (name: string): Node => ({ metadata: { name }, status: { allocatable: { cpu: '1', memory: '1Gi', pods: '10' } } });
const pod = (name: string, nodeName?: string): Pod => ({ metadata: { name, namespace: 'ns' }, spec: { nodeName, containers: [{ name: 'c', resources: { requests: { cpu: '300m' } } }] } });

describe('SchedulerCache', () => {
  it('counts assumed pods at once and replaces the assumption with the bound pod', () => {
    const c = new SchedulerCache();
    c.upsertNode(node('a'));
    c.assume('ns/p', pod('p'), 'a');
    expect(c.nodeInfos()[0]!.requested.milliCPU).toBe(300);
    c.addPod('ns/p', pod('p', 'a'));
    expect(c.nodeInfos()[0]!.requested.milliCPU).toBe(300);
    c.forget('ns/p'); // no longer an assumption: stays
    expect(c.nodeInfos()[0]!.requested.pods).toBe(1);
    c.removePod('ns/p');
    expect(c.nodeInfos()[0]!.requested.pods).toBe(0);
  });

  it('forgets a failed assumption and keeps pods that arrived before their node', () => {
    const c = new SchedulerCache();
    c.upsertNode(node('a'));
    c.assume('ns/p', pod('p'), 'a');
    c.forget('ns/p');
    expect(c.nodeInfos()[0]!.requested.milliCPU).toBe(0);
    c.addPod('ns/q', pod('q', 'b'));
    c.upsertNode(node('b'));
    expect(c.nodeInfos().find((n) => n.name === 'b')!.requested.milliCPU).toBe(300);
    // a node update keeps its pods
    c.upsertNode(node('b'));
    expect(c.nodeInfos().find((n) => n.name === 'b')!.requested.milliCPU).toBe(300);
  });
});

describe('SchedulingQueue', () => {
  it('pops in FIFO order without duplicates and parks unschedulable pods until moved', async () => {
    const q = new SchedulingQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(await q.pop()).toBe('a');
    expect(await q.pop()).toBe('b');
    q.addUnschedulable('a');
    expect(q.activeLength).toBe(0);
    expect(q.unschedulableLength).toBe(1);
    const next = q.pop();
    q.moveAllToActive();
    expect(await next).toBe('a');
    expect(q.unschedulableLength).toBe(0);
    q.close();
    expect(await q.pop()).toBeUndefined();
  });

  it('skips deleted pods', async () => {
    const q = new SchedulingQueue();
    q.add('a');
    q.add('b');
    q.delete('a');
    expect(await q.pop()).toBe('b');
    q.close();
  });
});
