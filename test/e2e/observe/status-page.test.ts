// The status page of `kubeplane node` on a fixture cluster: proxy (iptables), DNS and ingress
// in a network namespace of the test's own, a backend "pod" in it, real dig and curl traffic,
// then the page must show the right numbers, and headless Chromium (no JavaScript needed)
// takes a screenshot kept in test/artifacts/status-page.png.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { kubeplaneBin, repoRoot, runCommand, stopProcess, waitFor } from '../../helpers/cli.js';
import type { StatusData } from '../../../src/observability/status-page.js';

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
  ports: [{name: http, port: 80, targetPort: 8081, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8081, protocol: TCP}]
endpoints:
- {addresses: [10.244.0.5], conditions: {ready: true}, nodeName: n1}
- {addresses: [10.244.1.5], conditions: {ready: true}, nodeName: n2}
- {addresses: [10.244.1.6], conditions: {ready: false}, nodeName: n2}
---
apiVersion: v1
kind: Service
metadata: {name: broken, namespace: default}
spec:
  clusterIP: 10.96.7.8
  clusterIPs: [10.96.7.8]
  ports: [{name: http, port: 80, targetPort: 9, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: broken-1, namespace: default, labels: {kubernetes.io/service-name: broken}}
addressType: IPv4
ports: [{name: http, port: 9, protocol: TCP}]
endpoints:
- {addresses: [10.244.0.5], conditions: {ready: true}, nodeName: n1}
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
  rules:
  - host: site.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /broken, pathType: Prefix, backend: {service: {name: broken, port: {number: 80}}}}
`;

/** The PNG's size, and how many distinct byte values its decompressed pixels hold. */
function pngFacts(file: string): { width: number; height: number; distinctBytes: number } {
  const buf = readFileSync(file);
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
    }
    if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const pixels = inflateSync(Buffer.concat(idat));
  const seen = new Set<number>();
  for (const b of pixels) seen.add(b);
  return { width, height, distinctBytes: seen.size };
}

describeE2E('kubeplane node status page', { netns: true, commands: ['iptables-restore', 'dig', 'curl', 'chromium'] }, () => {
  const ns = `kpobs-${process.pid}`;
  let dir = '';
  let proc: ChildProcess | undefined;
  let backend: ChildProcess | undefined;
  let out = '';
  const inNs = (cmd: string, args: string[]) => runCommand('ip', ['netns', 'exec', ns, cmd, ...args], { timeoutMs: 60_000 });
  const status = async (): Promise<StatusData> => JSON.parse((await inNs('curl', ['-sf', 'http://127.0.0.1:10249/status.json'])).stdout) as StatusData;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-obs-'));
    writeFileSync(join(dir, 'objects.yaml'), OBJECTS);
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', '10.244.0.5/32', 'dev', 'lo']);
    backend = spawn('ip', ['netns', 'exec', ns, process.execPath, join(repoRoot, 'test/e2e/proxy/backend-server.mjs'), 'web-pod', '8081', '9999'], { stdio: 'ignore' });
    proc = spawn('ip', ['netns', 'exec', ns, process.execPath, kubeplaneBin, 'node', '--objects', join(dir, 'objects.yaml'), '--node-name', 'n1', '--proxy-mode', 'iptables', '--cluster-cidr', '10.244.0.0/16',
      '--iptables-min-sync-period', '100ms', '--state-dir', join(dir, 'state'), '--healthz-bind-address', '127.0.0.1:10256', '--metrics-bind-address', '127.0.0.1:10249',
      '--dns-bind', '127.0.0.1:5353', '--upstream', '127.0.0.1:9', '--http-bind', '127.0.0.1:8088', '--https-bind', 'off', '--ingress-metrics-bind', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(async () => (await status()).proxy?.syncs, { timeoutMs: 30_000, what: 'the first proxy sync on the status page' });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${out}`);
    }
    await waitFor(async () => (await inNs('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://10.244.0.5:8081/'])).stdout === '200', { what: 'the backend pod' });
  }, 60_000);

  afterAll(async () => {
    if (proc) await stopProcess(proc, 10_000);
    if (backend) await stopProcess(backend);
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      // already gone
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the right numbers after real DNS queries and HTTP requests, and renders without JavaScript', async () => {
    const before = await status();
    for (let i = 0; i < 5; i++) expect((await inNs('dig', ['@127.0.0.1', '-p', '5353', '+short', 'web.default.svc.cluster.local'])).stdout.trim()).toBe('10.96.7.7');
    for (let i = 0; i < 2; i++) expect((await inNs('dig', ['@127.0.0.1', '-p', '5353', 'nope.default.svc.cluster.local'])).stdout).toMatch(/status: NXDOMAIN/);
    const code = async (path: string): Promise<string> => (await inNs('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: site.example', `http://127.0.0.1:8088${path}`])).stdout;
    for (let i = 0; i < 4; i++) expect(await code('/')).toBe('200');
    for (let i = 0; i < 2; i++) expect(await code('/broken')).toBe('502');

    const html = (await inNs('curl', ['-sf', 'http://127.0.0.1:10249/'])).stdout;
    expect(html).toContain('<h1>kubeplane node n1</h1>');
    expect((await inNs('curl', ['-sf', 'http://127.0.0.1:10249/status'])).stdout).toContain('<h1>kubeplane node n1</h1>');
    expect(html).not.toMatch(/<script/i);
    // Services, with endpoints per node (the not-ready one apart).
    expect(html).toMatch(/<tr><td>default\/web<\/td><td>ClusterIP<\/td><td>10\.96\.7\.7<\/td><td>http 80\/TCP<\/td><td><div><b>n1<\/b>: 10\.244\.0\.5<\/div><div><b>n2<\/b>: 10\.244\.1\.5 <span class="bad">not ready: 10\.244\.1\.6<\/span><\/div><\/td><\/tr>/);
    // DNS: exactly the seven queries sent (plus whatever the server had counted before: its loop probe).
    const dnsBefore = before.dns!.queries;
    const rc = (d: StatusData, r: string): number => d.dns!.byRcode.find((x) => x.rcode === r)?.count ?? 0;
    expect(html).toContain(`Queries: <b class="num" id="dns-queries">${dnsBefore + 7}</b>`);
    expect(html).toContain(`<tr><td>NOERROR</td><td>${rc(before, 'NOERROR') + 5}</td></tr>`);
    expect(html).toContain(`<tr><td>NXDOMAIN</td><td>${rc(before, 'NXDOMAIN') + 2}</td></tr>`);
    expect(Number(/id="dns-rate">([\d.]+)</.exec(html)![1])).toBeGreaterThan(0);
    // Ingress: four good requests on /, two 502s on /broken (error ratio 100%).
    expect(html).toMatch(/<tr><td>site\.example<\/td><td>Prefix \/<\/td><td>default\/site<\/td><td>default\/web:80<\/td><td>4<\/td><td>[\d.]+<\/td><td>0<\/td><td>0\.0%<\/td><\/tr>/);
    expect(html).toMatch(/<tr><td>site\.example<\/td><td>Prefix \/broken<\/td><td>default\/site<\/td><td>default\/broken:80<\/td><td>2<\/td><td>[\d.]+<\/td><td>2<\/td><td><span class="bad">100\.0%<\/span><\/td><\/tr>/);
    // Proxy: the rule count on the page is what the kernel holds in kube-proxy's nat chains.
    const after = await status();
    const fam = after.proxy!.families[0]!;
    expect(fam.lastSyncOK).toBe(true);
    const natInKernel = (await inNs('iptables-save', ['-t', 'nat'])).stdout.split('\n').filter((l) => /^-A KUBE-/.test(l)).length;
    expect(fam.rules.find((r) => r.table === 'nat')?.count).toBe(natInKernel);
    expect(html).toContain(`nat ${natInKernel}`);
    expect(after.proxy!.lastSyncSeconds).toBeGreaterThan(0);
    expect(html).toMatch(/id="proxy-last-sync">[\d.]+ (ms|s)</);

    // A screenshot by headless Chromium, kept as a CI artifact.
    const artifacts = join(repoRoot, 'test/artifacts');
    mkdirSync(artifacts, { recursive: true });
    const png = join(artifacts, 'status-page.png');
    rmSync(png, { force: true });
    const shot = await inNs('chromium', ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${join(dir, 'chromium')}`, `--screenshot=${png}`, '--window-size=1280,900', 'http://127.0.0.1:10249/']);
    expect(shot.code, shot.stderr).toBe(0);
    expect(statSync(png).size).toBeGreaterThan(10_000);
    const facts = pngFacts(png);
    expect(facts.width).toBe(1280);
    expect(facts.height).toBe(900);
    expect(facts.distinctBytes).toBeGreaterThan(16);
  }, 90_000);
});
