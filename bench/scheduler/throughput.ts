// Scheduler throughput: pods/s to bind PODS pods on NODES nodes (default 10,000 on 5,000,
// scheduler_perf's SchedulingBasic shape: every pod requests cpu and memory, default
// plugins, InterPodAffinity and PodTopologySpread included), against a real `kubeplane apiserver` process, binding through pods/binding
// and recording the Scheduled Events as kube-scheduler does. Reference: kube-scheduler's
// scheduler_perf CI threshold for SchedulingBasic at 5,000 nodes, 680 pods/s.
//
//   npx tsc -p tsconfig.build.json && npx tsx bench/scheduler/throughput.ts
//   NODES=500 PODS=1000 npx tsx bench/scheduler/throughput.ts   (a quick run)
import type { Node, Pod } from '../../src/api/types.js';
import { resourceFor } from '../../src/api/resources.js';
import { startScheduler } from '../../src/scheduler/setup.js';
import { DEFAULT_PROFILE, Scheduler } from '../../src/scheduler/schedule.js';
import { NodeInfo } from '../../src/scheduler/node-info.js';
import { SchedulerCache } from '../../src/scheduler/cache.js';
import { startApiServer } from '../../test/integration/controllers/cluster.js';

const NODES = Number(process.env.NODES ?? 5000);
const PODS = Number(process.env.PODS ?? 10_000);
const REFERENCE_PODS_PER_S = 680;
const nodesResource = resourceFor('', 'nodes')!;
const podsResource = resourceFor('', 'pods')!;

async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const capacity = { cpu: '32', memory: '256Gi', pods: '110' };
function node(i: number): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': `zone-${i % 3}` } }, spec: {} };
}
function pod(i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: 'default', labels: { app: `app-${i % 100}` } },
    spec: { containers: [{ name: 'c', image: 'none', resources: { requests: { cpu: '100m', memory: '500Mi' } } }] },
  };
}

// The algorithm alone, in memory: the ceiling the API round trips sit under.
// Through the scheduler's cache, as the runtime calls it.
function algorithmOnly(): number {
  const cache = new SchedulerCache();
  for (let i = 0; i < NODES; i++) cache.upsertNode({ ...node(i), status: { allocatable: capacity } });
  const s = new Scheduler(DEFAULT_PROFILE);
  const t0 = performance.now();
  for (let i = 0; i < PODS; i++) {
    const p = pod(i);
    const chosen = s.schedule(p, cache.nodeInfos(), [{ app: p.metadata.labels!.app! }], undefined, cache.nodesWithAffinity());
    if (chosen instanceof NodeInfo) cache.addPod(`default/pod-${i}`, { ...p, spec: { ...p.spec, nodeName: chosen.name } });
  }
  return PODS / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const algo = algorithmOnly();
  const api = await startApiServer('bench-sched');
  try {
    let t = performance.now();
    await pool(NODES, 32, async (i) => {
      const created = await api.client.create<Node>(nodesResource, node(i));
      await api.client.update<Node>(nodesResource, { ...created, status: { capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
    });
    console.log(`setup: ${NODES} nodes in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    await pool(PODS, 32, (i) => api.client.create<Pod>(podsResource, pod(i)));
    console.log(`setup: ${PODS} pending pods in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const start = performance.now();
    const sched = await startScheduler({ client: api.config, leaderElect: false });
    let firstBindAt = 0;
    for (;;) {
      const s = sched.stats();
      if (s.scheduled > 0 && firstBindAt === 0) firstBindAt = performance.now();
      if (s.scheduled >= PODS) break;
      if (performance.now() - start > 600_000) throw new Error(`gave up after 10 minutes with ${s.scheduled} pods bound`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const end = performance.now();
    const stats = sched.stats();
    await sched.stop();
    const total = (end - start) / 1000;
    const steady = (end - firstBindAt) / 1000;
    const rate = PODS / total;
    const steadyRate = PODS / steady;
    console.log(`\nscheduler throughput, ${PODS} pods on ${NODES} nodes (real apiserver, pods/binding, Scheduled events)`);
    console.log(`  kubeplane, start to last bind (incl. informer sync): ${rate.toFixed(0)} pods/s  (${total.toFixed(1)} s)`);
    console.log(`  kubeplane, first to last bind:                       ${steadyRate.toFixed(0)} pods/s`);
    console.log(`  kubeplane, algorithm only (no API, in memory):       ${algo.toFixed(0)} pods/s`);
    console.log(`  reference: kube-scheduler scheduler_perf SchedulingBasic 5000 nodes threshold: ${REFERENCE_PODS_PER_S} pods/s`);
    console.log(`  ratio (start to last bind / reference): ${(rate / REFERENCE_PODS_PER_S).toFixed(2)}x`);
    console.log(`  bind errors: ${stats.bindErrors}, unschedulable attempts: ${stats.unschedulable}`);
  } finally {
    await api.stop();
  }
}

await main();
