// Faults the data plane survives, on a netns cluster with real packets:
//   1. the API server SIGKILLed and kept down 30 s under steady traffic to a ClusterIP, a DNS
//      name and an ingress route: no request fails; a Service changed while it was down is
//      picked up once it is back;
//   2. `kubeplane node` SIGKILLed and restarted under the same traffic: ClusterIP traffic never
//      fails (the kernel rules stay); DNS and ingress fail only between the kill and the
//      restarted process answering again, and those failures are counted and printed.
//
// Address plan (see ../proxy/netns-cluster.ts): the API server runs in the `api` namespace on
// the fabric; `kubeplane node` (proxy nftables + DNS + ingress) in node1's namespace; backends
// a1..a3 and the traffic client c1 are pods on node1. The client reaches DNS and ingress on its
// gateway address (node1's cbr0). No traffic leaves the namespaces this test creates.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { kubeplaneBin, waitFor } from '../../helpers/cli.js';
import { NetnsCluster } from '../proxy/netns-cluster.js';
import { resourceFor } from '../../../src/api/resources.js';
import { objectKey, encodeObject } from '../../../src/apiserver/registry/codec.js';
import { openSqliteStore } from '../../../src/apiserver/storage/sqlite.js';
import type { KubeObject } from '../../../src/api/types.js';

const here = new URL('.', import.meta.url).pathname;
const backendServer = join(here, '../proxy/backend-server.mjs');
const NET = 150 + (process.pid % 50);
const API_PORT = 6443;
const OUTAGE_MS = 30_000;

interface Failure {
  target: string;
  start: number;
  end: number;
  reason: string;
}

describeE2E('data plane faults: API server and kubeplane node killed under traffic', { netns: true, commands: ['nft', 'kubectl', 'curl', 'dig'] }, () => {
  const cluster = new NetnsCluster({
    prefix: 'kpf',
    net: NET,
    nodes: [{ name: 'node1', pods: [{ name: 'a1', host: 10 }, { name: 'a2', host: 11 }, { name: 'a3', host: 12 }, { name: 'c1', host: 20 }] }],
    clients: ['api'],
  });
  let dir = '';
  let kubeconfig = '';
  let server: ReturnType<NetnsCluster['spawnIn']> | undefined;
  let node: ReturnType<NetnsCluster['spawnIn']> | undefined;
  let traffic: ReturnType<NetnsCluster['spawnIn']> | undefined;
  let webIP = '';
  let movedIP = '';
  const gateway = '10.244.1.1';

  const startAPIServer = async (): Promise<string> => {
    const api = cluster.client('api');
    const s = cluster.spawnIn(api.ns, process.execPath, [kubeplaneBin, 'apiserver', `--secure-port=${API_PORT}`, `--bind-address=${api.ip}`, `--data-dir=${join(dir, 'apiserver')}`]);
    server = s;
    const m = await waitFor(() => /kubeconfig: (\S+)/.exec(s.output()) ?? (s.exitCode !== null ? Promise.reject(new Error(s.output())) : undefined), { timeoutMs: 60_000, what: 'apiserver to serve' });
    return m[1]!;
  };
  const startNode = (): ReturnType<NetnsCluster['spawnIn']> => {
    const n = cluster.node('node1');
    node = cluster.spawnIn(n.ns, process.execPath, [
      kubeplaneBin,
      'node',
      `--kubeconfig=${kubeconfig}`,
      '--node-name=node1',
      `--node-ip=${n.ip}`,
      '--proxy-mode=nftables',
      '--cluster-cidr=10.244.0.0/16',
      '--service-cidr=10.96.0.0/12',
      '--iptables-min-sync-period=100ms',
      '--healthz-bind-address=127.0.0.1:10256',
      '--metrics-bind-address=127.0.0.1:10249',
      `--state-dir=${join(dir, 'node-state')}`,
      '--dns-bind=0.0.0.0:53',
      '--upstream=127.0.0.1:9',
      '--http-bind=0.0.0.0:80',
      '--https-bind=off',
      '--ingress-metrics-bind=127.0.0.1:10254',
    ]);
    return node;
  };
  const kubectl = (...args: string[]) => cluster.exec(cluster.client('api').ns, 'env', [`HOME=${dir}`, '/usr/bin/kubectl', `--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, 'cache')}`, ...args], 30_000);
  const kubectlOK = (...args: string[]): string => {
    const r = kubectl(...args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const apply = (name: string, objs: unknown[]): void => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }));
    kubectlOK('apply', '--validate=false', '-f', file);
  };
  const service = (name: string, port: number) => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name }, spec: { ports: [{ name: 'http', port, targetPort: 8080, protocol: 'TCP' }] } });
  const slice = (svc: string, pods: string[]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: `${svc}-1`, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({ addresses: [cluster.pod(p).ip], nodeName: 'node1', conditions: { ready: true } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });
  const inClient = (cmd: string, args: string[]) => cluster.exec(cluster.pod('c1').ns, cmd, args, 15_000);
  const curlBody = (url: string, host?: string) => {
    const r = inClient('curl', ['-s', '--max-time', '2', ...(host ? ['-H', `Host: ${host}`] : []), url]);
    return r.code === 0 ? r.stdout.trim() : `error:${r.code}`;
  };
  const dig = (name: string, type = 'A') => inClient('dig', [`@${gateway}`, '+short', '+time=1', '+tries=1', name, type]).stdout.trim();
  const failures = (): Failure[] =>
    (traffic?.output() ?? '')
      .split('\n')
      .filter((l) => l.startsWith('FAIL '))
      .map((l) => {
        const [, target, start, end, reason] = l.split(' ');
        return { target: target!, start: Number(start), end: Number(end), reason: reason! };
      });
  const recoveries = (): { target: string; start: number }[] =>
    (traffic?.output() ?? '')
      .split('\n')
      .filter((l) => l.startsWith('RECOVER '))
      .map((l) => ({ target: l.split(' ')[1]!, start: Number(l.split(' ')[2]) }));
  /** the generator's running totals as of its latest PROGRESS line at or before `at` */
  const progressAt = (at: number): Record<string, { ok: number; fail: number }> => {
    let last: Record<string, { ok: number; fail: number }> = {};
    for (const l of (traffic?.output() ?? '').split('\n')) {
      const m = /^PROGRESS (\d+) (.*)$/.exec(l);
      if (m && Number(m[1]) <= at) last = JSON.parse(m[2]!) as typeof last;
    }
    return last;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `kp-faults-dp-${process.pid}-`));
    cluster.create();
    kubeconfig = await startAPIServer();
    for (const p of ['a1', 'a2', 'a3']) cluster.spawnIn(cluster.pod(p).ns, process.execPath, [backendServer, p, '8080', '5353']);
    apply('objects', [
      service('web', 80),
      slice('web', ['a1', 'a2']),
      service('moved', 80),
      slice('moved', ['a3']),
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'kubeplane' }, spec: { controller: 'kubeplane.io/ingress' } },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { namespace: 'default', name: 'site' },
        spec: { ingressClassName: 'kubeplane', rules: [{ host: 'site.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
      },
    ]);
    webIP = kubectlOK('get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}').trim();
    movedIP = kubectlOK('get', 'service', 'moved', '-o', 'jsonpath={.spec.clusterIP}').trim();
    startNode();
    await waitFor(() => /^a[12] /.test(curlBody(`http://${webIP}/`)), { timeoutMs: 60_000, what: `ClusterIP ${webIP} to answer; node: ${node?.output().slice(-2000)}` });
    await waitFor(() => dig('web.default.svc.cluster.local') === webIP, { timeoutMs: 30_000, what: 'DNS to answer' });
    await waitFor(() => /^a[12] /.test(curlBody(`http://${gateway}/`, 'site.example')), { timeoutMs: 30_000, what: 'the ingress route' });
    expect(curlBody(`http://${movedIP}/`)).toMatch(/^a3 /);
    traffic = cluster.spawnIn(cluster.pod('c1').ns, process.execPath, [join(here, 'traffic.mjs'), `${webIP}:80`, gateway, 'web.default.svc.cluster.local', webIP, `${gateway}:80`, 'site.example']);
    await waitFor(() => traffic!.output().includes('STARTED'), { what: 'traffic generator' });
  }, 180_000);

  afterAll(async () => {
    await cluster.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('API server SIGKILLed and down 30 s: no request fails; a Service changed meanwhile is picked up after it returns', async () => {
    // a stretch of healthy traffic first
    await new Promise((r) => setTimeout(r, 2000));
    expect(failures()).toEqual([]);
    const killedAt = Date.now();
    server!.kill('SIGKILL');
    await new Promise<void>((r) => (server!.exitCode !== null || server!.signalCode !== null ? r() : server!.once('exit', () => r())));
    expect(kubectl('get', 'service', 'web').code).not.toBe(0);

    // Meanwhile the cluster's state changes behind the node's back, as another API server
    // would change it: `moved` goes from port 80 to 81 (written straight into the stopped
    // server's store, which is what that server serves when it returns).
    const store = await openSqliteStore(join(dir, 'apiserver'), { compactInterval: 0 });
    try {
      const key = objectKey(resourceFor('', 'services')!, 'default', 'moved');
      const { kv } = await store.get(key);
      const svc = JSON.parse(kv!.value) as KubeObject & { spec: { ports: { port: number }[] } };
      svc.spec.ports[0]!.port = 81;
      await store.update(key, encodeObject(svc), kv!.modRevision);
    } finally {
      await store.close();
    }
    const left = OUTAGE_MS - (Date.now() - killedAt);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    // the node kept serving from its caches the whole time
    expect(node!.exitCode).toBeNull();
    expect(curlBody(`http://${movedIP}/`)).toMatch(/^a3 /);
    expect(dig('web.default.svc.cluster.local')).toBe(webIP);

    kubeconfig = await startAPIServer();
    await waitFor(() => /^a3 /.test(curlBody(`http://${movedIP}:81/`)), { timeoutMs: 90_000, what: `moved:81 after the API server returned; node: ${node?.output().slice(-2000)}` });
    await waitFor(() => dig('_http._tcp.moved.default.svc.cluster.local', 'SRV').includes(' 81 '), { timeoutMs: 30_000, what: 'the SRV record with port 81' });
    expect(curlBody(`http://${movedIP}:80/`)).toMatch(/^error:/);
    expect(kubectlOK('get', 'service', 'moved', '-o', 'jsonpath={.spec.ports[0].port}').trim()).toBe('81');
    const f = failures();
    console.log(`API server outage ${Date.now() - killedAt} ms under traffic: ${f.length} failed requests`);
    expect(f).toEqual([]);
    // and traffic really flowed while the API server was down
    const atKill = progressAt(killedAt);
    const atReturn = progressAt(killedAt + OUTAGE_MS);
    console.log(`requests answered during the outage: ${JSON.stringify(Object.fromEntries(Object.keys(atReturn).map((k) => [k, atReturn[k]!.ok - (atKill[k]?.ok ?? 0)])))}`);
    for (const t of ['clusterip', 'dns', 'ingress']) expect(atReturn[t]!.ok - (atKill[t]?.ok ?? 0), t).toBeGreaterThan(100);
  }, 180_000);

  it('kubeplane node SIGKILLed and restarted: ClusterIP never fails; DNS and ingress fail only until the new process answers', async () => {
    const before = failures().length;
    const killedAt = Date.now();
    node!.kill('SIGKILL');
    await new Promise<void>((r) => (node!.exitCode !== null || node!.signalCode !== null ? r() : node!.once('exit', () => r())));
    // the kernel rules outlive the process
    expect(curlBody(`http://${webIP}/`)).toMatch(/^a[12] /);
    const restartedAt = Date.now();
    startNode();
    const n = node!;
    // back when both DNS and ingress answer again for the traffic client
    await waitFor(() => /^a[12] /.test(curlBody(`http://${gateway}/`, 'site.example')) && dig('web.default.svc.cluster.local') === webIP, {
      timeoutMs: 60_000,
      what: `DNS and ingress back; node: ${n.output().slice(-2000)}`,
    });
    // a further stretch of traffic on the new process
    await new Promise((r) => setTimeout(r, 3000));
    traffic!.kill('SIGTERM');
    await waitFor(() => traffic!.output().includes('TOTALS '), { what: 'traffic totals' });
    const totals = JSON.parse(/TOTALS (.*)/.exec(traffic!.output())![1]!) as Record<string, { ok: number; fail: number }>;
    const f = failures().slice(before);
    const rec = recoveries();
    const window = (target: string) => {
      const mine = f.filter((x) => x.target === target);
      const back = rec.filter((r) => r.target === target && r.start >= killedAt).map((r) => r.start);
      return { failed: mine.length, backAfterMs: back.length ? Math.min(...back) - killedAt : 0, mine, back: back.length ? Math.min(...back) : Infinity };
    };
    const dns = window('dns');
    const ingress = window('ingress');
    console.log(
      `kubeplane node restart under traffic (restart issued ${restartedAt - killedAt} ms after the kill): ` +
        `totals ${JSON.stringify(totals)}; failed after the kill: clusterip ${f.filter((x) => x.target === 'clusterip').length}, ` +
        `dns ${dns.failed} (answering again ${dns.backAfterMs} ms after the kill), ingress ${ingress.failed} (answering again ${ingress.backAfterMs} ms after the kill); ` +
        `reasons: ${[...new Set(f.map((x) => `${x.target}:${x.reason}`))].join(', ')}`,
    );
    // the kernel rules never went missing
    expect(f.filter((x) => x.target === 'clusterip')).toEqual([]);
    expect(failures().slice(0, before)).toEqual([]);
    // DNS and ingress failures: only requests in flight at the kill or sent before the new
    // process answered; none once it is back
    for (const w of [dns, ingress]) {
      for (const x of w.mine) {
        expect(x.end).toBeGreaterThanOrEqual(killedAt);
        expect(x.start).toBeLessThan(w.back);
      }
    }
    expect(totals.clusterip!.ok).toBeGreaterThan(0);
    expect(totals.dns!.ok).toBeGreaterThan(0);
    expect(totals.ingress!.ok).toBeGreaterThan(0);
    expect(n.exitCode).toBeNull();
  }, 120_000);
});
