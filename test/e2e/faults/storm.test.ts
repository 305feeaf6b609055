// An EndpointSlice storm against a running `kubeplane node` (nftables proxy with a 1 s min
// sync period, and DNS): 5,000 changes through the API as fast as the API server takes them.
// The proxy coalesces them into far fewer syncs (kube-proxy's own sync metric), the process
// stays alive with bounded memory, and right after the storm DNS and the kernel rules show the
// final state.
//
// Layout: the API server and the storm driver run in the `api` namespace on the fabric;
// `kubeplane node` in node1's namespace. No traffic leaves the namespaces this test creates.
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { kubeplaneBin, waitFor } from '../../helpers/cli.js';
import { NetnsCluster } from '../proxy/netns-cluster.js';

const here = new URL('.', import.meta.url).pathname;
const NET = 100 + (process.pid % 50);
const SLICES = 10; // per Service
const CHANGES_PER_SLICE = 250; // x 2 Services x 10 slices = 5,000 changes
const ENDPOINTS_PER_SLICE = 4;
const RSS_BOUND_MB = 600;

const addresses = (s: number, g: number): string[] => Array.from({ length: ENDPOINTS_PER_SLICE }, (_, j) => `10.${200 + s}.${g}.${j + 1}`);

describeE2E('EndpointSlice storm against kubeplane node', { netns: true, commands: ['nft', 'kubectl', 'curl', 'dig'] }, () => {
  const cluster = new NetnsCluster({ prefix: 'kps', net: NET, nodes: [{ name: 'node1', pods: [] }], clients: ['api'] });
  let dir = '';
  let kubeconfig = '';
  let node: ReturnType<NetnsCluster['spawnIn']> | undefined;
  // slice names in driver order: the ClusterIP Service's first, then the headless one's
  const sliceNames = [...Array.from({ length: SLICES }, (_, i) => `storm-svc-${i}`), ...Array.from({ length: SLICES }, (_, i) => `storm-dns-${i}`)];
  const slice = (s: number, g: number) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: sliceNames[s], labels: { 'kubernetes.io/service-name': s < SLICES ? 'storm-svc' : 'storm-dns' } },
    addressType: 'IPv4',
    endpoints: addresses(s, g).map((a) => ({ addresses: [a], conditions: { ready: true }, nodeName: 'node1' })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });
  const inNode = (cmd: string, args: string[]) => cluster.exec(cluster.node('node1').ns, cmd, args, 20_000);
  const dnsAnswer = (): string[] =>
    inNode('dig', ['@127.0.0.1', '+tcp', '+short', '+time=2', '+tries=1', 'storm-dns.default.svc.cluster.local', 'A'])
      .stdout.trim()
      .split('\n')
      .filter(Boolean)
      .sort();
  const nftRules = (): string => inNode('nft', ['list', 'table', 'ip', 'kube-proxy']).stdout;
  const metric = (text: string, name: string): number => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const metrics = (): string => inNode('curl', ['-s', '--max-time', '5', 'http://127.0.0.1:10249/metrics']).stdout;
  const rssMB = (pid: number): number => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `kp-faults-storm-${process.pid}-`));
    cluster.create();
    const api = cluster.client('api');
    const s = cluster.spawnIn(api.ns, process.execPath, [kubeplaneBin, 'apiserver', '--secure-port=6443', `--bind-address=${api.ip}`, `--data-dir=${join(dir, 'apiserver')}`]);
    kubeconfig = (await waitFor(() => /kubeconfig: (\S+)/.exec(s.output()) ?? (s.exitCode !== null ? Promise.reject(new Error(s.output())) : undefined), { timeoutMs: 60_000, what: 'apiserver' }))[1]!;
    const objects = [
      { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name: 'storm-svc' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name: 'storm-dns' }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
      ...sliceNames.map((_, i) => slice(i, 0)),
    ];
    writeFileSync(join(dir, 'objects.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    const r = cluster.exec(api.ns, 'env', [`HOME=${dir}`, '/usr/bin/kubectl', `--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, 'cache')}`, 'apply', '--validate=false', '-f', join(dir, 'objects.json')], 60_000);
    expect(r.code, r.stderr).toBe(0);
    const n = cluster.node('node1');
    node = cluster.spawnIn(n.ns, process.execPath, [
      kubeplaneBin,
      'node',
      `--kubeconfig=${kubeconfig}`,
      '--node-name=node1',
      `--node-ip=${n.ip}`,
      '--proxy-mode=nftables',
      '--cluster-cidr=10.244.0.0/16',
      '--iptables-min-sync-period=1s',
      '--healthz-bind-address=127.0.0.1:10256',
      '--metrics-bind-address=127.0.0.1:10249',
      `--state-dir=${join(dir, 'node-state')}`,
      '--dns-bind=127.0.0.1:53',
      '--upstream=127.0.0.1:9',
      '--ingress=false',
    ]);
    const initial = sliceNames.slice(SLICES).flatMap((_, i) => addresses(SLICES + i, 0)).sort();
    await waitFor(() => dnsAnswer().join() === initial.join(), { timeoutMs: 60_000, what: `DNS with the initial endpoints; node: ${node?.output().slice(-2000)}` });
    await waitFor(() => nftRules().includes(`${addresses(0, 0)[0]}:8080`), { timeoutMs: 30_000, what: 'the initial proxy rules' });
  }, 180_000);

  afterAll(async () => {
    await cluster.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('5,000 EndpointSlice changes: syncs coalesced, memory bounded, DNS and rules current right after', async () => {
    const n = node!;
    const pid = n.pid!;
    // `ip netns exec` execs the program in place: this pid is the node process itself
    expect(realpathSync(`/proc/${pid}/exe`)).toBe(realpathSync(process.execPath));
    const before = metrics();
    const syncsBefore = metric(before, 'kubeproxy_sync_proxy_rules_duration_seconds_count');
    const changesBefore = metric(before, 'kubeproxy_sync_proxy_rules_endpoint_changes_total');
    expect(syncsBefore).toBeGreaterThan(0);
    const rssBefore = rssMB(pid);
    let rssMax = rssBefore;
    const sampler = setInterval(() => {
      try {
        rssMax = Math.max(rssMax, rssMB(pid));
      } catch {
        // the process is gone: the liveness assertion below reports it
      }
    }, 200);
    let done: { ok: number; errorCount: number; errors: string[]; ms: number };
    try {
      const driver = cluster.spawnIn(cluster.client('api').ns, process.execPath, [join(here, 'storm.mjs'), kubeconfig, String(CHANGES_PER_SLICE), String(ENDPOINTS_PER_SLICE), ...sliceNames]);
      const line = await waitFor(() => /DONE (.*)/.exec(driver.output()) ?? (driver.exitCode !== null && driver.exitCode !== 0 ? Promise.reject(new Error(driver.output())) : undefined), { timeoutMs: 180_000, intervalMs: 200, what: 'the storm' });
      done = JSON.parse(line[1]!) as typeof done;
    } finally {
      clearInterval(sampler);
    }
    const stormEnd = Date.now();
    expect(done.errors).toEqual([]);
    expect(done.ok).toBe(2 * SLICES * CHANGES_PER_SLICE);

    // right after the storm: DNS answers the final endpoints, the rules hold the final ones
    const finalDns = sliceNames.slice(SLICES).flatMap((_, i) => addresses(SLICES + i, CHANGES_PER_SLICE)).sort();
    await waitFor(() => dnsAnswer().join() === finalDns.join(), { timeoutMs: 30_000, intervalMs: 200, what: `DNS with the final endpoints (have ${dnsAnswer().slice(0, 4).join(',')}...)` });
    const dnsCurrentMs = Date.now() - stormEnd;
    const finalSvc = sliceNames.slice(0, SLICES).flatMap((_, i) => addresses(i, CHANGES_PER_SLICE));
    await waitFor(() => {
      const rules = nftRules();
      return finalSvc.every((a) => rules.includes(`${a}:8080`));
    }, { timeoutMs: 30_000, intervalMs: 200, what: 'the final endpoints in the rules' });
    const rules = nftRules();
    expect(rules).not.toContain(`${addresses(0, CHANGES_PER_SLICE - 1)[0]}:8080`);
    expect(rules).not.toContain(`${addresses(0, 0)[0]}:8080`);

    const after = metrics();
    const syncs = metric(after, 'kubeproxy_sync_proxy_rules_duration_seconds_count') - syncsBefore;
    const seenChanges = metric(after, 'kubeproxy_sync_proxy_rules_endpoint_changes_total') - changesBefore;
    console.log(
      `storm: ${done.ok} EndpointSlice changes through the API in ${done.ms} ms (${Math.round((done.ok * 1000) / done.ms)}/s); ` +
        `proxy saw ${seenChanges} endpoint changes and synced ${syncs} times; RSS ${rssBefore.toFixed(0)} MB before, ${rssMax.toFixed(0)} MB max; ` +
        `DNS current ${dnsCurrentMs} ms after the last write`,
    );
    // coalesced: a 1 s min sync period over the storm allows about one sync per second, far
    // fewer than one per change
    expect(syncs).toBeGreaterThan(0);
    expect(syncs).toBeLessThan(done.ok / 10);
    expect(syncs).toBeLessThanOrEqual(Math.ceil((Date.now() - stormEnd + done.ms) / 1000) + 5);
    expect(rssMax).toBeLessThan(RSS_BOUND_MB);
    // alive and healthy
    expect(n.exitCode).toBeNull();
    expect(inNode('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:10256/healthz']).stdout).toBe('200');
  }, 240_000);
});
