// Logs of the node components: one line per event, klog's text header by default, one JSON
// object per line with --logging-format=json (klog's ts/caller/msg/v keys), and -v raising
// verbosity. node and proxy run in a network namespace of the test's own (they program the
// kernel); dns and ingress listen on free loopback ports.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { kubeplaneBin, runKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { freePort } from '../dns/dig.js';

const OBJECTS = `
apiVersion: v1
kind: Namespace
metadata: {name: default}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {clusterIP: 10.96.9.9, clusterIPs: [10.96.9.9], ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.244.0.5], conditions: {ready: true}}]
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kubeplane}
spec: {controller: kubeplane.io/ingress}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bad, namespace: default}
spec:
  ingressClassName: kubeplane
  rules: [{host: bad.example, http: {paths: [{path: /, pathType: Weird, backend: {service: {name: web, port: {number: 80}}}}]}}]
`;

// klog: Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg  (kubeplane names the component where klog names the file)
const KLOG = /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ [^\]\s]+\] "(?:[^"\\]|\\.)*"(?: [A-Za-z][\w.]*=\S.*)?$/;

interface Run {
  lines: string[];
}

describeE2E('kubeplane logs', { netns: true, commands: ['iptables-restore'] }, () => {
  const ns = `kplog-${process.pid}`;
  let dir = '';
  const procs: ChildProcess[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-logs-'));
    writeFileSync(join(dir, 'objects.yaml'), OBJECTS);
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => stopProcess(p, 10_000)));
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      // already gone
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a command until `until` shows in its output, stops it, and returns its lines. */
  async function run(args: string[], until: RegExp, netns: boolean): Promise<Run> {
    const argv = netns ? ['netns', 'exec', ns, process.execPath, kubeplaneBin, ...args] : [kubeplaneBin, ...args];
    const p = spawn(netns ? 'ip' : process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(p);
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => until.test(out), { timeoutMs: 30_000, what: String(until) });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${out}`);
    }
    await stopProcess(p, 10_000);
    return { lines: out.split('\n').filter((l) => l !== '') };
  }

  const objects = (): string => join(dir, 'objects.yaml');
  const dnsArgs = async (): Promise<string[]> => ['dns', '--objects', objects(), '--dns-bind', `127.0.0.1:${await freePort()}`, '--upstream', '127.0.0.1:9', '--health-bind', 'off', '--ready-bind', 'off', '--metrics-bind', 'off'];
  const ingressArgs = async (): Promise<string[]> => ['ingress', '--objects', objects(), '--http-bind', `127.0.0.1:${await freePort()}`, '--https-bind', 'off', '--metrics-bind', 'off'];
  const proxyArgs = (): string[] => ['proxy', '--objects', objects(), '--node-name', 'n1', '--metrics-bind-address', '', '--healthz-bind-address', '', '--state-dir', join(dir, 'state-proxy'), '--iptables-min-sync-period', '100ms'];
  const nodeArgs = (): string[] => ['node', ...proxyArgs().slice(1), '--dns-bind', '127.0.0.1:5353', '--upstream', '127.0.0.1:9', '--http-bind', '127.0.0.1:8088', '--https-bind', 'off', '--ingress-metrics-bind', 'off'];

  it('text by default: every line has the klog header', async () => {
    const runs = await Promise.all([
      run(await dnsArgs(), /Serving DNS/, false),
      run(await ingressArgs(), /Serving ingress/, false),
      run(nodeArgs(), /kubeplane node running/, true),
    ]);
    for (const r of runs) {
      expect(r.lines.length).toBeGreaterThan(0);
      for (const l of r.lines) expect(l).toMatch(KLOG);
    }
    // A rejected Ingress is a warning with its reason as a key/value pair.
    expect(runs[1]!.lines.some((l) => /^W\d{4} .* ingress\] "Rejected Ingress" ingress="default\/bad" reason=/.test(l))).toBe(true);
  }, 60_000);

  it('--logging-format=json: every line is one JSON object with klog JSON keys', async () => {
    const runs = await Promise.all([
      run([...(await dnsArgs()), '--logging-format=json'], /Serving DNS/, false),
      run([...(await ingressArgs()), '--logging-format', 'json'], /Serving ingress/, false),
      run([...proxyArgs(), '--logging-format=json'], /kubeplane proxy running/, true),
    ]);
    for (const r of runs) {
      expect(r.lines.length).toBeGreaterThan(0);
      for (const l of r.lines) {
        const rec = JSON.parse(l) as Record<string, unknown>;
        expect(typeof rec.ts).toBe('number');
        expect(typeof rec.caller).toBe('string');
        expect(typeof rec.msg).toBe('string');
      }
    }
    const warn = runs[1]!.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.msg === 'Rejected Ingress');
    expect(warn).toMatchObject({ caller: 'ingress', ingress: 'default/bad', v: 0 });
  }, 60_000);

  it('-v raises verbosity: the proxy logs each sync at -v=2 only', async () => {
    const quiet = await run(proxyArgs(), /kubeplane proxy running/, true);
    const loud = await run([...proxyArgs(), '-v=2', '--logging-format=json'], /Synced proxy rules/, true);
    expect(quiet.lines.some((l) => l.includes('Synced proxy rules'))).toBe(false);
    const sync = loud.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.msg === 'Synced proxy rules');
    expect(sync).toMatchObject({ v: 2, ipFamily: 'IPv4', full: true });
  }, 60_000);

  it('an unknown --logging-format is a usage error', async () => {
    const r = await runKubeplane(['dns', '--logging-format', 'xml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid argument "xml" for "--logging-format" flag: must be text or json/);
  });
});
