// `kubeplane proxy --kubeconfig` on a real `kubeplane apiserver`, driven by the real kubectl,
// proven with real packets: list-watch through src/client is what programs the node's nftables.
//
// Address plan: the API server runs in its own namespace on the harness's fabric (an
// "external host" of netns-cluster.ts) and binds to that namespace's fabric address, so the
// proxy in the node namespace reaches it over the fabric bridge; kubectl runs in the API
// server's namespace. No traffic leaves the namespaces this test creates.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { kubeplaneBin, waitFor } from '../../helpers/cli.js';
import { NetnsCluster } from './netns-cluster.js';

const here = new URL('.', import.meta.url).pathname;
const NET = 200 + (process.pid % 50);

describeE2E('kubeplane proxy --kubeconfig: kubectl changes reach the kernel (nftables)', { netns: true, commands: ['nft', 'iptables-restore', 'kubectl', 'curl'] }, () => {
  const cluster = new NetnsCluster({
    prefix: 'kpa',
    net: NET,
    nodes: [{ name: 'node1', pods: [{ name: 'a1', host: 10 }, { name: 'a2', host: 11 }, { name: 'a3', host: 12 }, { name: 'c1', host: 20 }] }],
    clients: ['api'],
  });
  let dir = '';
  let kubeconfig = '';
  let proxy: ReturnType<NetnsCluster['spawnIn']> | undefined;
  let clusterIP = '';
  let server: ReturnType<NetnsCluster['spawnIn']> | undefined;
  // a fixed port in the API server's own namespace, so a restarted server is where the kubeconfig says
  const API_PORT = 6443;

  const startAPIServer = async (): Promise<string> => {
    const api = cluster.client('api');
    const s = cluster.spawnIn(api.ns, process.execPath, [kubeplaneBin, 'apiserver', `--secure-port=${API_PORT}`, `--bind-address=${api.ip}`, `--data-dir=${join(dir, 'apiserver')}`]);
    server = s;
    const m = await waitFor(() => /kubeconfig: (\S+)/.exec(s.output()) ?? (s.exitCode !== null ? Promise.reject(new Error(s.output())) : undefined), { timeoutMs: 30_000, what: 'apiserver to serve' });
    return m[1]!;
  };

  const kubectl = (...args: string[]): { code: number; stdout: string; stderr: string } =>
    cluster.exec(cluster.client('api').ns, 'env', [`HOME=${dir}`, '/usr/bin/kubectl', `--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, 'cache')}`, ...args], 30_000);
  const kubectlOK = (...args: string[]): string => {
    const r = kubectl(...args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const applyFile = (name: string, obj: unknown): string => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(obj));
    return kubectlOK('apply', '-f', file);
  };
  const slice = (pods: string[]): unknown => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({ addresses: [cluster.pod(p).ip], nodeName: 'node1', conditions: { ready: true } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });
  const curl = (url: string): { code: number; body: string } => {
    const r = cluster.exec(cluster.pod('c1').ns, 'curl', ['-s', '--max-time', '2', url]);
    return { code: r.code, body: r.stdout.trim() };
  };
  /** who answered n requests to the ClusterIP: backend names, or `error:<curl exit code>` */
  const responders = (n: number): Set<string> => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const r = curl(`http://${clusterIP}/`);
      seen.add(r.code === 0 ? r.body.split(' ')[0]! : `error:${r.code}`);
    }
    return seen;
  };
  const nftRules = (): string => cluster.exec(cluster.node('node1').ns, 'nft', ['list', 'table', 'ip', 'kube-proxy']).stdout;
  const sorted = (s: Set<string>): string[] => [...s].sort();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `kp-proxy-api-${process.pid}-`));
    cluster.create();
    kubeconfig = await startAPIServer();
    // the API server's host routes pod traffic to the node, as a real cluster network would
    expect(cluster.exec(cluster.client('api').ns, 'ip', ['route', 'add', '10.244.0.0/16', 'via', cluster.node('node1').ip]).code).toBe(0);
    for (const p of ['a1', 'a2', 'a3']) cluster.spawnIn(cluster.pod(p).ns, process.execPath, [join(here, 'backend-server.mjs'), p, '8080', '5353']);

    const node = cluster.node('node1');
    // The kernel rate-limits the ICMP port-unreachable that nftables' `reject` sends (per peer,
    // 1 s by default), which would turn back-to-back refusals into silent drops.
    expect(cluster.exec(node.ns, 'sysctl', ['-qw', 'net.ipv4.icmp_ratelimit=0']).code).toBe(0);
    proxy = cluster.spawnIn(node.ns, process.execPath, [
      kubeplaneBin,
      'proxy',
      '--proxy-mode=nftables',
      `--kubeconfig=${kubeconfig}`,
      '--node-name=node1',
      `--node-ip=${node.ip}`,
      '--cluster-cidr=10.244.0.0/16',
      '--service-cidr=10.96.0.0/12',
      '--iptables-min-sync-period=100ms',
      '--healthz-bind-address=127.0.0.1:10256',
      '--metrics-bind-address=127.0.0.1:10249',
      `--state-dir=${join(dir, 'proxy-state')}`,
      '-v=2',
    ]);
    const p = proxy;
    await waitFor(() => p.output().includes('Synced proxy rules') || (p.exitCode !== null ? Promise.reject(new Error(p.output())) : false), { timeoutMs: 30_000, what: 'proxy first sync' });
    for (const pod of ['a1', 'a2', 'a3']) await waitFor(() => cluster.exec(cluster.pod(pod).ns, 'curl', ['-s', '--max-time', '1', 'http://127.0.0.1:8080/']).code === 0, { what: `backend ${pod} up` });
  }, 90_000);

  afterAll(async () => {
    await cluster.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the default/kubernetes Service the API server made takes a pod to the API server through its ClusterIP', async () => {
    const ip = kubectlOK('get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}').trim();
    expect(ip).toBe('10.96.0.1');
    // the API server may publish its endpoints just after the proxy's first sync: wait for them
    await waitFor(() => nftRules().includes(`dnat to ${cluster.client('api').ip}:${API_PORT}`), { what: `the kubernetes Service's rules: ${nftRules()}` });
    // any HTTP status proves the TLS connection reached the API server (unauthenticated may be 401/403)
    const r = cluster.exec(cluster.pod('c1').ns, 'curl', ['-sk', '--max-time', '3', '-o', '/dev/null', '-w', '%{http_code}', `https://${ip}/version`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[2-4]\d\d$/);
  });

  it('a ClusterIP created with kubectl reaches the EndpointSlice kubectl created, over the API server watch', async () => {
    applyFile('service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'default', name: 'web' },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    clusterIP = kubectlOK('get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}').trim();
    expect(clusterIP).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    applyFile('slice', slice(['a1', 'a2']));
    await waitFor(() => curl(`http://${clusterIP}/`).code === 0, { what: `ClusterIP ${clusterIP} answers; proxy: ${proxy?.output().slice(-2000)}` });
    // both endpoints serve, and nothing else does
    expect(sorted(responders(30))).toEqual(['a1', 'a2']);
    // the pod's own address reaches the backend: pod-to-ClusterIP traffic inside the cluster CIDR is not masqueraded
    expect(curl(`http://${clusterIP}/`).body.split(' ')[1]).toBe(cluster.pod('c1').ip);
  });

  it('editing the EndpointSlice with kubectl moves the traffic', async () => {
    applyFile('slice', slice(['a3']));
    await waitFor(() => sorted(responders(5)).join() === 'a3', { what: 'traffic to move to a3' });
    expect(sorted(responders(20))).toEqual(['a3']);
    expect(nftRules()).toContain(`dnat to ${cluster.pod('a3').ip}:8080`);
    expect(nftRules()).not.toContain(`dnat to ${cluster.pod('a1').ip}:8080`);
  });

  it('kubectl delete endpointslice leaves the Service without endpoints: connections are refused', async () => {
    kubectlOK('delete', 'endpointslice', 'web-1');
    // kube-proxy rejects traffic to a Service with no endpoints (ICMP port unreachable): curl exit 7
    await waitFor(() => curl(`http://${clusterIP}/`).code === 7, { what: 'connection refused after the slice is deleted' });
    expect(sorted(responders(5))).toEqual(['error:7']);
    expect(nftRules()).not.toContain(`dnat to ${cluster.pod('a3').ip}:8080`);
  });

  it('kubectl delete service removes its rules; the ClusterIP no longer answers', async () => {
    applyFile('slice', slice(['a2']));
    await waitFor(() => curl(`http://${clusterIP}/`).body.startsWith('a2 '), { what: 'traffic back on a2' });
    expect(nftRules()).toContain(clusterIP);
    kubectlOK('delete', 'service', 'web');
    await waitFor(() => !nftRules().includes(clusterIP), { what: `rules for ${clusterIP} to go: ${nftRules()}` });
    // the slice still exists, but without its Service nothing sends traffic to it
    expect(kubectlOK('get', 'endpointslice', 'web-1', '-o', 'name').trim()).toBe('endpointslice.discovery.k8s.io/web-1');
    const after = curl(`http://${clusterIP}/`);
    expect(after.code).not.toBe(0);
    expect(after.body).toBe('');
  });

  it('keeps its rules while the API server is down and resumes watching when it is back', async () => {
    applyFile('service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'default', name: 'web' },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    clusterIP = kubectlOK('get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}').trim();
    applyFile('slice', slice(['a1']));
    await waitFor(() => curl(`http://${clusterIP}/`).body.startsWith('a1 '), { what: 'traffic on a1' });

    await cluster.stopProcess(server!);
    expect(kubectl('get', 'service', 'web').code).not.toBe(0);
    // the kernel keeps serving what the proxy last programmed, and the proxy keeps running
    expect(sorted(responders(10))).toEqual(['a1']);
    expect(proxy!.exitCode).toBeNull();

    kubeconfig = await startAPIServer();
    applyFile('slice', slice(['a2', 'a3']));
    await waitFor(() => sorted(responders(6)).join() === 'a2,a3', { timeoutMs: 30_000, what: `traffic to move to a2,a3 after the restart; proxy: ${proxy?.output().slice(-2000)}` });
    expect(proxy!.exitCode).toBeNull();
  }, 60_000);
});
