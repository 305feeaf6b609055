// Two `kubeplane apiserver` processes on one real etcd serve one consistent cluster, through
// HTTPS and the real kubectl: a watch on one server sees every write made through the other,
// in order, with nothing missing; Service IP and NodePort allocation stays conflict-free when
// both servers allocate at once; a compacted revision is 410 Gone on either server.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { waitFor } from '../../helpers/cli.js';
import { resourceFor } from '../../../src/api/resources.js';
import type { ConfigMap, KubeObject, Service } from '../../../src/api/types.js';
import { ApiError } from '../../../src/client/errors.js';
import { openEtcdStore } from '../../../src/apiserver/storage/etcd.js';
import { startEtcd, type EtcdServer } from '../storage/etcd-server.js';
import { startApiServers, type ApiServerSet } from './cluster.js';

const configmaps = resourceFor('', 'configmaps')!;
const services = resourceFor('', 'services')!;
const namespaces = resourceFor('', 'namespaces')!;

describeE2E('several kubeplane apiservers on one etcd', { commands: ['etcd', 'kubectl'] }, () => {
  let etcd: EtcdServer;
  let set: ApiServerSet;
  const ns = (n: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } }) as KubeObject;

  beforeAll(async () => {
    etcd = await startEtcd();
    try {
      // small ranges, so concurrent allocations from two servers really collide
      set = await startApiServers('apis', 2, etcd.endpoint, ['--service-cluster-ip-range=10.97.0.0/24', '--service-node-port-range=30000-30099']);
    } catch (err) {
      await etcd.stop();
      throw err;
    }
  }, 120_000);

  afterAll(async () => {
    await set?.stop();
    await etcd?.stop();
  }, 30_000);

  it('a watch through one server sees every write through the other, in order, without gaps (project client and kubectl get -w)', async () => {
    const [a, b] = set.servers as [ApiServerSet['servers'][0], ApiServerSet['servers'][0]];
    await a.client.create(namespaces, ns('order'));
    // the namespace is visible through B at once: both read the same etcd
    await b.client.get(namespaces, 'order');

    const watch = await b.client.watch<ConfigMap>(configmaps, { namespace: 'order', resourceVersion: '0' });
    const seen: { type: string; name: string; rv: string }[] = [];
    const reading = (async () => {
      for await (const ev of watch.events) seen.push({ type: ev.type, name: ev.object.metadata.name!, rv: ev.object.metadata.resourceVersion! });
    })().catch(() => undefined);
    // kubectl on A, from its own list: the same events in the same order
    const kubectlWatch = spawn(
      '/usr/bin/kubectl',
      [`--kubeconfig=${a.kubeconfig}`, `--cache-dir=${join(set.dir, 'watch-cache')}`, '-n', 'order', 'get', 'configmaps', '-w', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.name} {.object.metadata.resourceVersion}{"\\n"}'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: set.dir } },
    );
    let kubectlOut = '';
    kubectlWatch.stdout.on('data', (d: Buffer) => (kubectlOut += d.toString()));
    kubectlWatch.stderr.on('data', (d: Buffer) => (kubectlOut += d.toString()));
    try {
      // writes through both servers at once: kubectl creates a multi-document file through A, the project client through B
      const n = 40;
      const docs = Array.from({ length: n }, (_, i) => toYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `via-a-${i}`, namespace: 'order' }, data: { i: String(i) } }));
      const file = join(set.dir, 'configmaps.yaml');
      writeFileSync(file, docs.join('---\n'));
      const [created, viaB] = await Promise.all([
        a.kubectl(['create', '-f', file, '-o', 'jsonpath={.metadata.name} {.metadata.resourceVersion}{"\\n"}']),
        Promise.all(Array.from({ length: n }, (_, i) => b.client.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `via-b-${i}`, namespace: 'order' }, data: { i: String(i) } }))),
      ]);
      expect(created.code, created.stderr).toBe(0);
      const acked = new Map<string, string>();
      for (const line of created.stdout.trim().split('\n')) {
        const [name, rv] = line.split(' ');
        acked.set(name!, rv!);
      }
      for (const cm of viaB) acked.set(cm.metadata.name!, cm.metadata.resourceVersion!);
      expect(acked.size).toBe(2 * n);

      await waitFor(() => seen.length >= 2 * n, { timeoutMs: 30_000, what: `all ${2 * n} events on B's watch (have ${seen.length})` });
      // exactly the acknowledged writes, each with the resourceVersion its writer was told
      expect(seen.every((e) => e.type === 'ADDED')).toBe(true);
      expect(new Map(seen.map((e) => [e.name, e.rv]))).toEqual(acked);
      // in revision order
      const rvs = seen.map((e) => Number(e.rv));
      expect(rvs).toEqual([...rvs].sort((x, y) => x - y));
      expect(new Set(rvs).size).toBe(rvs.length);

      const kubectlEvents = () => kubectlOut.split('\n').filter((l) => /^ADDED /.test(l));
      await waitFor(() => kubectlEvents().length >= 2 * n, { timeoutMs: 30_000, what: `kubectl get -w through A to print ${2 * n} events: ${kubectlOut.slice(-500)}` });
      expect(kubectlEvents().map((l) => l.split(' ').slice(1).join(' '))).toEqual(seen.map((e) => `${e.name} ${e.rv}`));
    } finally {
      watch.close();
      await reading;
      kubectlWatch.kill('SIGKILL');
    }
  }, 90_000);

  it('40 Services created at once, half through each server: every ClusterIP and NodePort is distinct', async () => {
    const [a, b] = set.servers as [ApiServerSet['servers'][0], ApiServerSet['servers'][0]];
    await a.client.create(namespaces, ns('alloc'));
    const svc = (i: number): Service =>
      ({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `s${i}`, namespace: 'alloc' },
        spec: { type: 'NodePort', selector: { app: `s${i}` }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
      }) as Service;
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).client.create<Service>(services, svc(i))));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
    expect(failures).toEqual([]);
    const created = results.map((r) => (r as PromiseFulfilledResult<Service>).value);
    const ips = created.map((s) => s.spec.clusterIP!);
    const ports = created.map((s) => s.spec.ports![0]!.nodePort!);
    expect(ips.every((ip) => /^10\.97\.0\.\d+$/.test(ip))).toBe(true);
    expect(ports.every((p) => p >= 30000 && p <= 30099)).toBe(true);
    expect(new Set(ips).size).toBe(40);
    expect(new Set(ports).size).toBe(40);
    // what kubectl reads back through the other server is what each writer was told
    const r = await b.kubectl(['-n', 'alloc', 'get', 'services', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.clusterIP} {.spec.ports[0].nodePort}{"\\n"}{end}']);
    expect(r.code, r.stderr).toBe(0);
    const readBack = new Map(r.stdout.trim().split('\n').map((l) => [l.split(' ')[0]!, l.split(' ').slice(1).join(' ')]));
    expect(readBack).toEqual(new Map(created.map((s) => [s.metadata.name!, `${s.spec.clusterIP} ${s.spec.ports![0]!.nodePort}`])));
    // a Service asking for an IP another server handed out is refused
    const taken = ips[0]!;
    const dup = { ...svc(99), spec: { ...svc(99).spec, clusterIP: taken } } as Service;
    await expect(a.client.create(services, dup)).rejects.toMatchObject({ code: 422 });
  }, 60_000);

  it('a compacted revision is 410 Gone through either server (list, watch, kubectl --raw)', async () => {
    const [a, b] = set.servers as [ApiServerSet['servers'][0], ApiServerSet['servers'][0]];
    await a.client.create(namespaces, ns('compact'));
    const first = await a.client.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c0', namespace: 'compact' } });
    const old = first.metadata.resourceVersion!;
    for (let i = 1; i <= 5; i++) await b.client.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'compact' } });
    // compaction as kube-apiserver's compactor does it, from a third etcd client
    const store = await openEtcdStore({ endpoints: [etcd.endpoint], requestTimeout: 5000 });
    try {
      await store.compact((await store.currentRevision()) - 1);
    } finally {
      await store.close();
    }
    for (const s of [a, b]) {
      const list = s.client.list(configmaps, { namespace: 'compact', resourceVersion: old, resourceVersionMatch: 'Exact' });
      await expect(list).rejects.toBeInstanceOf(ApiError);
      await expect(list).rejects.toMatchObject({ code: 410, reason: 'Expired' });
      // a watch from a compacted revision: 410 up front or as the stream's first ERROR event
      const status = await (async () => {
        try {
          const w = await s.client.watch(configmaps, { namespace: 'compact', resourceVersion: old });
          try {
            for await (const ev of w.events) return ev.type === 'ERROR' ? (ev.object as unknown as { code: number }).code : `unexpected ${ev.type}`;
            return 'stream ended without an event';
          } finally {
            w.close();
          }
        } catch (err) {
          return (err as ApiError).code;
        }
      })();
      expect(status, s.name).toBe(410);
      const raw = await s.kubectl(['get', '--raw', `/api/v1/namespaces/compact/configmaps?resourceVersion=${old}&resourceVersionMatch=Exact`]);
      expect(raw.code).not.toBe(0);
      expect(raw.stderr).toMatch(/Expired|too old resource version|Gone/i);
      // the current state still lists
      expect((await s.client.list(configmaps, { namespace: 'compact' })).items).toHaveLength(6);
    }
  }, 60_000);
});
