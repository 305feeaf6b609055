// The API server's overhead on etcd, with 1 and with 3 `kubeplane apiserver` processes on one
// real etcd (Debian etcd-server, single member on loopback), beside the same work done straight
// on etcd with the etcd3 client as the reference:
//   creates/s  16 concurrent clients creating ConfigMaps (through the servers round-robin over
//              HTTPS; on etcd a create-if-absent transaction, as the API server writes);
//   watch      one writer, one watcher: write start -> event received, p50/p99 (with 3 servers
//              the watch is on a different server than the writes).
// Run: npx tsx bench/apiserver/multi.ts [creates] [watch-samples]
// The API servers run from dist/ (npx tsc -p tsconfig.build.json first).

import os from 'node:os';
import etcd3 from 'etcd3';
import { resourceFor } from '../../src/api/resources.js';
import type { ConfigMap, KubeObject } from '../../src/api/types.js';
import type { RestClient } from '../../src/client/rest.js';
import { startEtcd } from '../../test/integration/storage/etcd-server.js';
import { startApiServers } from '../../test/integration/multi/cluster.js';

const creates = Number(process.argv[2] ?? 2000);
const samples = Number(process.argv[3] ?? 300);
const CLIENTS = 16;
const maxSeconds = 30;
const configmaps = resourceFor('', 'configmaps')!;
const namespaces = resourceFor('', 'namespaces')!;
const data = { payload: 'x'.repeat(512) };

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

interface Row {
  creates: number;
  p50: number;
  p99: number;
}

async function closedLoop(n: number, op: (i: number, client: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const deadline = Date.now() + maxSeconds * 1000;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      while (next < n && Date.now() < deadline) await op(next++, c);
    }),
  );
  return next / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function etcdReference(endpoint: string): Promise<Row> {
  const client = new etcd3.Etcd3({ hosts: endpoint });
  try {
    const value = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench', namespace: 'ref' }, data });
    const rate = await closedLoop(creates, async (i) => {
      const key = `/registry/configmaps/ref/cm-${i}`;
      await client.if(key, 'Create', '==', 0).then(client.put(key).value(value)).commit();
    });
    const sent = new Map<string, bigint>();
    const lat: number[] = [];
    const watcher = await client.watch().prefix('/registry/configmaps/refwatch/').create();
    watcher.on('put', (kv) => {
      const t = sent.get(kv.key.toString());
      if (t !== undefined) lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    });
    for (let i = 0; i < samples; i++) {
      const key = `/registry/configmaps/refwatch/cm-${i}`;
      sent.set(key, process.hrtime.bigint());
      await client.if(key, 'Create', '==', 0).then(client.put(key).value(JSON.stringify({ data }))).commit();
    }
    const deadline = Date.now() + 10_000;
    while (lat.length < samples && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await watcher.cancel();
    return { creates: rate, p50: pct(lat, 50), p99: pct(lat, 99) };
  } finally {
    client.close();
  }
}

async function throughServers(clients: RestClient[], label: string): Promise<Row> {
  const writer = clients[0]!;
  const watcherClient = clients[clients.length - 1]!;
  await writer.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: label } } as KubeObject);
  await writer.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${label}-watch` } } as KubeObject);
  const rate = await closedLoop(creates, (i, c) =>
    clients[c % clients.length]!.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: label }, data }),
  );
  const sent = new Map<string, bigint>();
  const lat: number[] = [];
  const watch = await watcherClient.watch<ConfigMap>(configmaps, { namespace: `${label}-watch` });
  const reading = (async () => {
    for await (const ev of watch.events) {
      const t = sent.get(ev.object.metadata.name!);
      if (t !== undefined) lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  })().catch(() => undefined);
  for (let i = 0; i < samples; i++) {
    const name = `cm-${i}`;
    sent.set(name, process.hrtime.bigint());
    await writer.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: `${label}-watch` }, data });
  }
  const deadline = Date.now() + 10_000;
  while (lat.length < samples && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  watch.close();
  await reading;
  return { creates: rate, p50: pct(lat, 50), p99: pct(lat, 99) };
}

const etcd = await startEtcd();
const rows: Record<string, Row> = {};
try {
  rows['etcd (etcd3 client)'] = await etcdReference(etcd.endpoint);
  const set = await startApiServers('bench', 3, etcd.endpoint);
  try {
    const clients = set.servers.map((s) => s.client);
    rows['1 apiserver'] = await throughServers(clients.slice(0, 1), 'one');
    rows['3 apiservers'] = await throughServers(clients, 'three');
  } finally {
    await set.stop();
  }
} finally {
  await etcd.stop();
}

const ref = rows['etcd (etcd3 client)']!;
console.log(`load: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs; ${creates} creates with ${CLIENTS} clients, ${samples} watch samples`);
console.log('run                    creates/s   watch p50 ms   watch p99 ms');
for (const [name, r] of Object.entries(rows)) {
  console.log(`${name.padEnd(22)} ${r.creates.toFixed(0).padStart(9)}   ${r.p50.toFixed(2).padStart(12)}   ${r.p99.toFixed(2).padStart(12)}`);
}
for (const name of ['1 apiserver', '3 apiservers']) {
  const r = rows[name]!;
  console.log(`ratio ${name} / etcd: creates ${(r.creates / ref.creates).toFixed(2)}x, watch p50 ${(r.p50 / ref.p50).toFixed(2)}x, p99 ${(r.p99 / ref.p99).toFixed(2)}x`);
}
