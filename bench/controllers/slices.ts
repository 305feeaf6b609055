// EndpointSlice controller latency: time from PODS pods (default 1,000) becoming Ready to
// their EndpointSlices being written, against a real `kubeplane apiserver` process; the
// controller runs in this process and sees the pods only through its informers.
// Reference, side by side: how long the API server takes to accept the pods' own Ready
// status writes (the input the controller cannot beat), and how many slice writes an
// ideal controller needs (ceil(PODS/100)).
//
//   npx tsc -p tsconfig.build.json && npx tsx bench/controllers/slices.ts
import type { EndpointSlice, Node, Pod } from '../../src/api/types.js';
import { resourceFor } from '../../src/api/resources.js';
import { EndpointSliceController } from '../../src/controllers/endpointslice/controller.js';
import { startControllerManager } from '../../src/controllers/manager.js';
import { startApiServer } from '../../test/integration/controllers/cluster.js';

const PODS = Number(process.env.PODS ?? 1000);
const podsResource = resourceFor('', 'pods')!;
const slicesResource = resourceFor('discovery.k8s.io', 'endpointslices')!;

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await fn(next++);
  }));
}

const podIP = (i: number) => `10.244.${Math.floor(i / 250)}.${(i % 250) + 1}`;

async function readyEndpoints(api: Awaited<ReturnType<typeof startApiServer>>): Promise<{ ready: number; slices: number }> {
  const list = await api.client.list<EndpointSlice>(slicesResource, { namespace: 'default', labelSelector: 'kubernetes.io/service-name=bench' });
  let ready = 0;
  for (const s of list.items) for (const e of s.endpoints ?? []) if (e.conditions?.ready) ready++;
  return { ready, slices: list.items.length };
}

async function main(): Promise<void> {
  const api = await startApiServer('bench-slices');
  try {
    await api.client.create<Node>(resourceFor('', 'nodes')!, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-0' }, spec: {} });
    await api.client.create(resourceFor('', 'services')!, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bench', namespace: 'default' }, spec: { selector: { app: 'bench' }, ports: [{ port: 80, targetPort: 8080 }] } } as never);
    const created: Pod[] = [];
    await pool(PODS, 32, async (i) => {
      created[i] = await api.client.create<Pod>(podsResource, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `bench-${i}`, namespace: 'default', labels: { app: 'bench' } }, spec: { nodeName: 'node-0', containers: [{ name: 'c', image: 'none', ports: [{ containerPort: 8080 }] }] } });
    });
    const cm = await startControllerManager({ client: api.config, leaderElect: false, controllers: ['endpointslice'] });
    // synced: the placeholder slice exists
    while ((await readyEndpoints(api)).slices === 0) await new Promise((r) => setTimeout(r, 20));
    const controller = cm.controllers()[0] as EndpointSliceController;
    const writesBefore = controller.writes;

    const t0 = performance.now();
    const now = new Date().toISOString();
    let done = 0;
    let lastAck = 0;
    const statusWrites = pool(PODS, 32, async (i) => {
      const p = created[i]!;
      await api.client.update<Pod>(podsResource, { ...p, status: { phase: 'Running', podIP: podIP(i), podIPs: [{ ip: podIP(i) }], conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }, { subresource: 'status' });
      done++;
    }).then(() => (lastAck = performance.now()));
    let tDone = 0;
    let final = { ready: 0, slices: 0 };
    for (;;) {
      final = await readyEndpoints(api);
      if (final.ready >= PODS) {
        tDone = performance.now();
        break;
      }
      if (performance.now() - t0 > Number(process.env.GIVE_UP_MS ?? 300_000)) {
        const list = await api.client.list<EndpointSlice>(slicesResource, { namespace: 'default' });
        console.error(`status writes acknowledged: ${done}; slices: ${list.items.map((s) => `${s.metadata.name}:${s.endpoints?.length ?? 0}`).join(' ')}; controller queue ${controller.queue.length}`);
        throw new Error(`gave up with ${final.ready} ready endpoints`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await statusWrites;
    const writes = controller.writes - writesBefore;
    await cm.stop();
    const inputMs = lastAck - t0;
    const totalMs = tDone - t0;
    console.log(`\nEndpointSlice controller, ${PODS} pods becoming Ready (real apiserver; ${done} status writes, 32 at a time)`);
    console.log(`  first Ready write → all ${PODS} endpoints ready in slices: ${totalMs.toFixed(0)} ms`);
    console.log(`  last Ready write acknowledged → slices complete:        ${Math.max(0, tDone - lastAck).toFixed(0)} ms`);
    console.log(`  reference: the API server accepting the ${PODS} Ready writes: ${inputMs.toFixed(0)} ms`);
    console.log(`  ratio (slices complete / Ready writes accepted): ${(totalMs / inputMs).toFixed(2)}x`);
    console.log(`  slice writes: ${writes} for ${final.slices} slices (ideal: ${Math.ceil(PODS / 100)} creates; each write batches every change seen so far)`);
  } finally {
    await api.stop();
  }
}

await main();
