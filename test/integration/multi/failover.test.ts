// Control-plane faults on two `kubeplane apiserver` processes sharing one real etcd:
//  - two schedulers, each talking to a different API server, elect one leader through a Lease;
//    when the leader is SIGKILLed (no release), the other takes over once the lease expires;
//  - etcd killed under the API servers: requests get 503 ServiceUnavailable meanwhile, every
//    acknowledged write survives, and the servers recover by themselves when etcd is back.

import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { resourceFor } from '../../../src/api/resources.js';
import type { ConfigMap, KubeObject, Lease, Pod } from '../../../src/api/types.js';
import { ApiError } from '../../../src/client/errors.js';
import { startEtcd, type EtcdServer } from '../storage/etcd-server.js';
import { startApiServers, type ApiServerProcess, type ApiServerSet } from './cluster.js';

const configmaps = resourceFor('', 'configmaps')!;
const pods = resourceFor('', 'pods')!;
const leases = resourceFor('coordination.k8s.io', 'leases')!;
const namespaces = resourceFor('', 'namespaces')!;

const LEASE_SECONDS = 4;

describeE2E('control-plane failover on etcd', { commands: ['etcd', 'kubectl'] }, () => {
  let etcd: EtcdServer;
  let set: ApiServerSet;
  let etcdAgain: ChildProcess | undefined;
  const procs: ReturnType<typeof startKubeplane>[] = [];
  let a: ApiServerProcess;
  let b: ApiServerProcess;

  beforeAll(async () => {
    etcd = await startEtcd();
    try {
      set = await startApiServers('failover', 2, etcd.endpoint);
    } catch (err) {
      await etcd.stop();
      throw err;
    }
    [a, b] = set.servers as [ApiServerProcess, ApiServerProcess];
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) await stopProcess(p);
    await set?.stop();
    if (etcdAgain && etcdAgain.exitCode === null && etcdAgain.signalCode === null) {
      const gone = new Promise<void>((r) => etcdAgain!.once('exit', () => r()));
      etcdAgain.kill('SIGKILL');
      await gone;
    }
    await etcd?.stop();
  }, 60_000);

  it('two schedulers on different API servers: one leads; after a SIGKILL the other takes over when the lease expires, and binds', async () => {
    const scheduler = (server: ApiServerProcess, prefix: string) => {
      const p = startKubeplane([
        'scheduler',
        `--kubeconfig=${server.kubeconfig}`,
        `--leader-elect-lease-duration=${LEASE_SECONDS}s`,
        '--leader-elect-renew-deadline=3s',
        '--leader-elect-retry-period=500ms',
        '--scheduler-name=ha',
        '--simulated-nodes=1',
        `--simulated-node-prefix=${prefix}`,
      ]);
      procs.push(p);
      return p;
    };
    const sa = scheduler(a, 'ha-a-');
    const sb = scheduler(b, 'ha-b-');
    const leading = (p: typeof sa) => p.output().includes('"Started leading"');
    const leader = await waitFor(() => (leading(sa) ? sa : leading(sb) ? sb : undefined), { timeoutMs: 30_000, what: 'a leader' });
    const follower = leader === sa ? sb : sa;
    const mkPod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { schedulerName: 'ha', containers: [{ name: 'c', image: 'none' }] } }) as unknown as Pod;
    await waitFor(async () => (await a.client.list(resourceFor('', 'nodes')!)).items.length >= 2, { timeoutMs: 30_000, what: 'both simulated nodes' });
    await b.client.create(pods, mkPod('before'));
    await waitFor(async () => (await a.client.get<Pod>(pods, 'before', { namespace: 'default' })).spec.nodeName, { timeoutMs: 30_000, what: 'pod bound by the first leader' });
    expect(leading(follower)).toBe(false);

    leader.kill('SIGKILL');
    await new Promise<void>((r) => (leader.exitCode !== null || leader.signalCode !== null ? r() : leader.once('exit', () => r())));
    // the dead leader's last renewal, as every API server reports it
    const held = await a.client.get<Lease>(leases, 'kube-scheduler', { namespace: 'kube-system' });
    expect((await b.client.get<Lease>(leases, 'kube-scheduler', { namespace: 'kube-system' })).spec).toEqual(held.spec);
    await b.client.create(pods, mkPod('after'));
    await waitFor(() => leading(follower), { timeoutMs: 30_000, what: `the follower to take over: ${follower.output().slice(-1000)}` });
    const taken = await a.client.get<Lease>(leases, 'kube-scheduler', { namespace: 'kube-system' });
    expect(taken.spec.holderIdentity).not.toBe(held.spec.holderIdentity);
    expect(taken.spec.leaseTransitions).toBe((held.spec.leaseTransitions ?? 0) + 1);
    // never before the old lease expired: a killed leader may still be acting until then
    const gapMs = Date.parse(taken.spec.acquireTime!) - Date.parse(held.spec.renewTime!);
    expect(gapMs).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000);
    console.log(`scheduler failover: old leader's last renewal -> new leader's acquireTime ${gapMs} ms (lease duration ${LEASE_SECONDS} s)`);
    const bound = await waitFor(async () => (await b.client.get<Pod>(pods, 'after', { namespace: 'default' })).spec.nodeName, { timeoutMs: 30_000, what: 'pod bound by the new leader' });
    expect(bound).toMatch(/^ha-[ab]-0$/);
  }, 120_000);

  it('two controller-managers on different API servers: after a SIGKILL of the leader the other takes over and reconciles', async () => {
    const manager = (server: ApiServerProcess) => {
      const p = startKubeplane([
        'controller-manager',
        `--kubeconfig=${server.kubeconfig}`,
        `--leader-elect-lease-duration=${LEASE_SECONDS}s`,
        '--leader-elect-renew-deadline=3s',
        '--leader-elect-retry-period=500ms',
        '--controllers=replicaset',
      ]);
      procs.push(p);
      return p;
    };
    const ma = manager(a);
    const mb = manager(b);
    const leading = (p: typeof ma) => p.output().includes('"Started leading"');
    const leader = await waitFor(() => (leading(ma) ? ma : leading(mb) ? mb : undefined), { timeoutMs: 30_000, what: 'a leader' });
    const follower = leader === ma ? mb : ma;
    const rs = (replicas: number) => ({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'ha', namespace: 'default' },
      spec: { replicas, selector: { matchLabels: { app: 'ha-rs' } }, template: { metadata: { labels: { app: 'ha-rs' } }, spec: { containers: [{ name: 'c', image: 'none' }] } } },
    });
    const rsPods = async () => (await b.client.list<Pod>(pods, { namespace: 'default', labelSelector: 'app=ha-rs' })).items.filter((p) => !p.metadata.deletionTimestamp);
    expect((await a.kubectl(['apply', '-f', '-'], { input: JSON.stringify(rs(2)) })).code).toBe(0);
    await waitFor(async () => (await rsPods()).length === 2, { timeoutMs: 30_000, what: '2 pods from the first leader' });

    leader.kill('SIGKILL');
    await new Promise<void>((r) => (leader.exitCode !== null || leader.signalCode !== null ? r() : leader.once('exit', () => r())));
    const held = await b.client.get<Lease>(leases, 'kube-controller-manager', { namespace: 'kube-system' });
    // work queued while nobody leads is done by the new leader
    expect((await b.kubectl(['scale', 'rs/ha', '--replicas=4'])).code).toBe(0);
    await waitFor(() => leading(follower), { timeoutMs: 30_000, what: `the follower to take over: ${follower.output().slice(-1000)}` });
    const taken = await a.client.get<Lease>(leases, 'kube-controller-manager', { namespace: 'kube-system' });
    expect(taken.spec.holderIdentity).not.toBe(held.spec.holderIdentity);
    expect(Date.parse(taken.spec.acquireTime!) - Date.parse(held.spec.renewTime!)).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000);
    await waitFor(async () => (await rsPods()).length === 4, { timeoutMs: 30_000, what: '4 pods from the new leader' });
  }, 120_000);

  it('etcd killed and restarted: 503 ServiceUnavailable meanwhile, no acknowledged write lost, recovery without a restart', async () => {
    await a.client.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'durable' } } as KubeObject);
    const acked = new Map<string, string>();
    const failures: { code: number; reason: string; message: string }[] = [];
    const total = 300;
    let next = 0;
    let phase: 'before' | 'down' | 'back' = 'before';
    const statusDuringOutage: string[] = [];
    const writer = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        const name = `cm-${i}`;
        try {
          const cm = await a.client.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'durable' }, data: { i: String(i) } }, { timeoutMs: 20_000 });
          acked.set(name, cm.metadata.resourceVersion!);
        } catch (err) {
          const e = err as ApiError;
          failures.push({ code: e.code, reason: e.reason, message: e.message });
          if (phase === 'down') statusDuringOutage.push(`${e.code} ${e.reason}`);
          // a client backs off on 503 as client-go does
          await new Promise((r) => setTimeout(r, 100));
        }
        if (phase === 'down') await new Promise((r) => setTimeout(r, 50));
      }
    };
    // a client watching through B across the outage, resuming from the last resourceVersion
    // it saw whenever its stream ends, as an informer's reflector does
    const watched: { name: string; rv: number }[] = [];
    let watching = true;
    let resumes = 0;
    const rvOf = (o: KubeObject) => Number(o.metadata.resourceVersion);
    let lastRV = (await b.client.list(configmaps, { namespace: 'durable' })).metadata.resourceVersion!;
    const resumer = (async () => {
      while (watching) {
        try {
          const w = await b.client.watch<ConfigMap>(configmaps, { namespace: 'durable', resourceVersion: lastRV });
          const stop = setInterval(() => !watching && w.close(), 100);
          try {
            for await (const ev of w.events) {
              if (ev.type === 'ERROR') break;
              watched.push({ name: ev.object.metadata.name!, rv: rvOf(ev.object) });
              lastRV = ev.object.metadata.resourceVersion!;
            }
          } finally {
            clearInterval(stop);
            w.close();
          }
        } catch {
          // refused while etcd is down: try again
        }
        if (watching) {
          resumes++;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();
    const writers = Array.from({ length: 4 }, writer);
    await waitFor(() => acked.size >= 60, { timeoutMs: 30_000, what: '60 acknowledged writes' });

    const args = etcd.process.spawnargs.slice(1);
    etcd.process.kill('SIGKILL');
    await new Promise<void>((r) => (etcd.process.exitCode !== null || etcd.process.signalCode !== null ? r() : etcd.process.once('exit', () => r())));
    phase = 'down';
    // reads fail the same way on the other server, with a Status
    const read = await b.client.get(configmaps, 'cm-0', { namespace: 'durable', timeoutMs: 20_000 }).then(
      () => 'ok',
      (err: ApiError) => `${err.code} ${err.reason}`,
    );
    expect(read).toBe('503 ServiceUnavailable');
    await waitFor(() => statusDuringOutage.length >= 4, { timeoutMs: 30_000, what: 'writes refused while etcd is down' });

    // the same member comes back on the same data dir and ports
    let out = '';
    etcdAgain = spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    etcdAgain.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    etcdAgain.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('ready to serve client requests'), { timeoutMs: 30_000, what: 'etcd back' });
    phase = 'back';
    const ackedBefore = acked.size;
    await Promise.all(writers);
    expect(acked.size).toBeGreaterThan(ackedBefore);

    // every failure was the storage outage, reported as such
    expect(new Set(statusDuringOutage), JSON.stringify(failures.filter((f) => f.code !== 503))).toEqual(new Set(["503 ServiceUnavailable"]));
    expect(failures.every((f) => f.code === 503 && f.reason === 'ServiceUnavailable')).toBe(true);
    expect(a.output()).toMatch(/storage unavailable/);
    console.log(`etcd outage: ${acked.size} writes acknowledged, ${failures.length} refused with 503`);

    // nothing acknowledged is lost, on either server, with the resourceVersion its writer saw
    for (const s of [a, b]) {
      const items = await waitFor(async () => (await s.client.list<ConfigMap>(configmaps, { namespace: 'durable' })).items, { timeoutMs: 30_000, what: `${s.name} to list again` });
      const stored = new Map(items.map((cm) => [cm.metadata.name!, cm.metadata.resourceVersion!]));
      for (const [name, rv] of acked) expect(stored.get(name), `${s.name}: ${name}`).toBe(rv);
    }
    // and both servers write again, with no restart
    for (const s of [a, b]) await s.client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `after-${s.name}`, namespace: 'durable' } } as ConfigMap);
    // the resuming watcher saw every acknowledged write and the two after it, in order, none twice
    await waitFor(() => watched.some((w) => w.name === 'after-apiserver-1'), { timeoutMs: 30_000, what: `the resuming watch to catch up (${watched.length} events, ${resumes} resumes)` });
    watching = false;
    await resumer;
    const rvs = watched.map((w) => w.rv);
    expect(rvs).toEqual([...rvs].sort((x, y) => x - y));
    expect(new Set(rvs).size).toBe(rvs.length);
    const seen = new Map(watched.map((w) => [w.name, String(w.rv)]));
    for (const [name, rv] of acked) expect(seen.get(name), `watch: ${name}`).toBe(rv);
    expect(resumes).toBeGreaterThan(0);
    console.log(`watch through the other server across the outage: ${watched.length} events, resumed ${resumes} times`);
    expect(a.process.exitCode).toBeNull();
    expect(b.process.exitCode).toBeNull();
  }, 120_000);
});
