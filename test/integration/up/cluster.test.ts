// `kubeplane up` as a developer uses it: one process whose controllers, scheduler, simulated
// node, DNS and ingress all reach the API through its kubeconfig, driven with the real kubectl.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { dig, freePort } from '../../e2e/dns/dig.js';

describeE2E('kubeplane up cluster', { commands: ['kubectl', 'dig'] }, () => {
  let dir = '';
  let up: ReturnType<typeof startKubeplane> | undefined;
  let kubeconfig = '';
  let dnsPort = 0;
  let httpPort = 0;
  const kubectl = (args: string[]) => runCommand('/usr/bin/kubectl', ['--cache-dir', join(dir, 'cache'), ...args], { env: { KUBECONFIG: kubeconfig, HOME: dir } });
  const ok = async (args: string[]) => {
    const r = await kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `kp-up-${process.pid}-`));
    dnsPort = await freePort();
    httpPort = await freePort();
    // Port 9 on loopback: nothing answers there, so forwarding never leaves the machine.
    up = startKubeplane(['up', '--secure-port', '0', '--data-dir', join(dir, 'state'), '--nodes', '2', '--dns-bind', `127.0.0.1:${dnsPort}`, '--upstream', '127.0.0.1:9', '--http-bind', `127.0.0.1:${httpPort}`, '--https-bind', 'off']);
    const p = up;
    kubeconfig = await waitFor(() => /export KUBECONFIG=(\S+)/.exec(p.output())?.[1] ?? (p.exitCode !== null ? Promise.reject(new Error(p.output())) : undefined), { timeoutMs: 60_000, what: 'kubeplane up' });
  }, 90_000);

  afterAll(async () => {
    if (up) await stopProcess(up);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a Deployment: pods scheduled on the simulated nodes, Ready, and in the Service\'s EndpointSlice', async () => {
    await waitFor(async () => (await ok(['get', 'nodes', '-o', 'name'])).trim().split('\n').length === 2, { what: '2 nodes', timeoutMs: 30_000 });
    await ok(['create', 'deployment', 'web', '--image=registry.invalid/web', '--replicas=3', '--port=8080']);
    await ok(['expose', 'deployment', 'web', '--port=80', '--target-port=8080']);
    const rollout = await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    expect(rollout.code, rollout.stderr).toBe(0);
    const pods = JSON.parse(await ok(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as { items: { spec: { nodeName: string }; status: { podIP: string; phase: string } }[] };
    expect(pods.items).toHaveLength(3);
    expect(pods.items.every((p) => p.status.phase === 'Running' && /^10\.244\./.test(p.status.podIP))).toBe(true);
    expect(new Set(pods.items.map((p) => p.spec.nodeName)).size).toBe(2);
    const ips = await waitFor(async () => {
      const slices = JSON.parse(await ok(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json'])) as { items: { endpoints: { addresses: string[] }[] | null }[] };
      const got = slices.items.flatMap((s) => (s.endpoints ?? []).map((e) => e.addresses[0]!)).sort();
      return got.length === 3 ? got : undefined;
    }, { what: 'EndpointSlice with 3 endpoints', timeoutMs: 30_000 });
    expect(ips).toEqual(pods.items.map((p) => p.status.podIP).sort());
    // DNS sees the Service through the same API.
    const clusterIP = (await ok(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const a = await waitFor(async () => {
      const r = await dig(dnsPort, 'web.default.svc.cluster.local', 'A');
      return r.answer.length ? r : undefined;
    }, { what: 'web A record' });
    expect(a.answer).toEqual([`web.default.svc.cluster.local. 30 IN A ${clusterIP}`]);
  }, 120_000);

  it('routes an Ingress made with kubectl and writes its status address', async () => {
    // A Service with no selector has no endpoints: the ingress answers 503 without dialling anywhere.
    await ok(['create', 'service', 'clusterip', 'empty', '--tcp=80:80']);
    await ok(['create', 'ingress', 'site', '--class=kubeplane', '--rule=site.example/=empty:80']);
    const status = await waitFor(async () => {
      const r = await request(`http://127.0.0.1:${httpPort}/`, { headers: { host: 'site.example' } });
      await r.body.dump();
      return r.statusCode === 503 ? r.statusCode : undefined;
    }, { what: 'ingress route', timeoutMs: 20_000 });
    expect(status).toBe(503);
    const miss = await request(`http://127.0.0.1:${httpPort}/`, { headers: { host: 'nothing.example' } });
    await miss.body.dump();
    expect(miss.statusCode).toBe(404);
    const address = await waitFor(async () => (await ok(['get', 'ingress', 'site', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])).trim(), { what: 'ingress status', timeoutMs: 20_000 });
    expect(address).toBe('127.0.0.1');
  }, 60_000);

  it('rejects an Ingress with an invalid annotation with a Warning Event, and keeps serving the rest', async () => {
    await ok(['create', 'ingress', 'bad', '--class=kubeplane', '--rule=bad.example/=empty:80', '--annotation=nginx.ingress.kubernetes.io/ssl-redirect=maybe']);
    const ev = await waitFor(async () => {
      const list = JSON.parse(await ok(['get', 'events', '--field-selector', 'involvedObject.name=bad,involvedObject.kind=Ingress', '-o', 'json'])) as { items: { type: string; reason: string; message: string }[] };
      return list.items[0];
    }, { what: 'Warning event', timeoutMs: 20_000 });
    expect(ev).toMatchObject({ type: 'Warning', reason: 'Rejected' });
    expect(ev.message).toContain('nginx.ingress.kubernetes.io/ssl-redirect: "maybe" is not a boolean');
    const bad = await request(`http://127.0.0.1:${httpPort}/`, { headers: { host: 'bad.example' } });
    await bad.body.dump();
    expect(bad.statusCode).toBe(404);
    const good = await request(`http://127.0.0.1:${httpPort}/`, { headers: { host: 'site.example' } });
    await good.body.dump();
    expect(good.statusCode).toBe(503);
  }, 60_000);
});
