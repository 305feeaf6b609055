// `kubeplane node` as the chart's DaemonSet runs it: proxy + DNS + ingress in one process, in
// a network namespace of the test's own, configured by a KubeProxyConfiguration file.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { kubeplaneBin, runCommand, stopProcess, waitFor } from '../../helpers/cli.js';

const OBJECTS = `
apiVersion: v1
kind: Namespace
metadata: {name: default}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.7.7
  clusterIPs: [10.96.7.7]
  ipFamilies: [IPv4]
  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.244.0.5], conditions: {ready: true}, nodeName: n1}]
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kubeplane}
spec: {controller: kubeplane.io/ingress}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: site, namespace: default}
spec:
  ingressClassName: kubeplane
  rules: [{host: site.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: missing, port: {number: 80}}}}]}}]
`;

const KUBE_PROXY_CONFIG = `
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clusterCIDR: 10.244.0.0/16
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nftables:
  masqueradeBit: 14
  minSyncPeriod: 100ms
  syncPeriod: 30s
`;

describeE2E('kubeplane node', { netns: true, commands: ['nft', 'dig', 'curl'] }, () => {
  const ns = `kpnode-${process.pid}`;
  let dir = '';
  let proc: ChildProcess & { out?: string } = undefined as never;
  let out = '';
  const inNs = (cmd: string, args: string[]) => runCommand('ip', ['netns', 'exec', ns, cmd, ...args], { timeoutMs: 20_000 });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-node-'));
    writeFileSync(join(dir, 'objects.yaml'), OBJECTS);
    writeFileSync(join(dir, 'kube-proxy.yaml'), KUBE_PROXY_CONFIG);
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', '192.168.77.2/24', 'dev', 'lo']);
    proc = spawn('ip', ['netns', 'exec', ns, process.execPath, kubeplaneBin, 'node', '--objects', join(dir, 'objects.yaml'), '--node-name', 'n1', '--config', join(dir, 'kube-proxy.yaml'), '--state-dir', join(dir, 'state'),
      '--dns-bind', '127.0.0.1:5353', '--upstream', '127.0.0.1:9', '--http-bind', '127.0.0.1:8088', '--https-bind', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  });

  afterAll(async () => {
    if (proc) await stopProcess(proc);
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      // already gone
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('programs nftables from the KubeProxyConfiguration, answers DNS and routes HTTP', async () => {
    const rules = await waitFor(async () => {
      const r = await inNs('nft', ['list', 'table', 'ip', 'kube-proxy']);
      return r.code === 0 && r.stdout.includes('10.96.7.7') ? r.stdout : undefined;
    }, { what: `nftables rules (output: ${out})`, timeoutMs: 30_000 });
    expect(rules).toMatch(/service-[A-Z0-9]{8}-default\/web\/tcp\/http/);
    expect(rules).toContain('10.244.0.5');
    const dig = await waitFor(async () => {
      const r = await inNs('dig', ['@127.0.0.1', '-p', '5353', '+short', '+time=2', '+tries=1', 'web.default.svc.cluster.local', 'A']);
      return r.stdout.trim() === '10.96.7.7' ? r.stdout.trim() : undefined;
    }, { what: 'DNS answer' });
    expect(dig).toBe('10.96.7.7');
    const curl = await waitFor(async () => {
      const r = await inNs('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: site.example', 'http://127.0.0.1:8088/']);
      return r.stdout === '503' ? r.stdout : undefined;
    }, { what: 'ingress answer' });
    expect(curl).toBe('503');
    const health = await inNs('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:10256/healthz']);
    expect(health.stdout).toBe('200');
  }, 60_000);

  it('leaves the kernel rules in place when it stops, and --cleanup removes them', async () => {
    await stopProcess(proc);
    expect((await inNs('nft', ['list', 'table', 'ip', 'kube-proxy'])).code).toBe(0);
    const clean = await inNs(process.execPath, [kubeplaneBin, 'node', '--cleanup', '--dns=false', '--ingress=false']);
    expect(clean.code, clean.stderr).toBe(0);
    expect((await inNs('nft', ['list', 'table', 'ip', 'kube-proxy'])).code).not.toBe(0);
  }, 30_000);
});
