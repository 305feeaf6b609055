// Reconfiguration under load: 1,000 Ingresses changed, and a rolling update of a backend,
// while a bounded load loop runs and a WebSocket stays open. Nothing may fail or drop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Agent, WebSocket } from 'undici';
import { describeE2E } from '../../helpers/e2e.js';
import { waitFor } from '../../helpers/cli.js';
import { EchoBackend, get, ing, ingressClass, rule, serviceObjects, startIngress, writeObjects, type RunningIngress } from './harness.js';

interface LoadResult {
  ok: number;
  failed: string[];
}

/** `workers` keep-alive clients sending GETs until stop() (bounded by maxRequests and maxMs). */
function loadLoop(port: number, host: string, opts: { workers: number; maxRequests: number; maxMs: number }): { stop: () => Promise<LoadResult> } {
  const agent = new Agent({ connections: opts.workers });
  const result: LoadResult = { ok: 0, failed: [] };
  let stopped = false;
  const deadline = Date.now() + opts.maxMs;
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (!stopped && Date.now() < deadline && sent < opts.maxRequests) {
      sent++;
      try {
        const r = await get(port, host, '/load', { dispatcher: agent });
        if (r.status === 200 && r.echo) result.ok++;
        else result.failed.push(`status ${r.status}: ${r.body.slice(0, 80)}`);
      } catch (err) {
        result.failed.push(String(err));
      }
    }
  };
  const running = Promise.all(Array.from({ length: opts.workers }, worker));
  return {
    stop: async () => {
      stopped = true;
      await running;
      await agent.close();
      return result;
    },
  };
}

function openWebSocket(port: number): Promise<{ ws: WebSocket; closed: () => boolean; echo: (msg: string) => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    let closed = false;
    const waiters: ((m: string) => void)[] = [];
    ws.addEventListener('close', () => (closed = true));
    ws.addEventListener('message', (ev) => waiters.shift()?.(String(ev.data)));
    ws.addEventListener('error', () => reject(new Error('websocket error')));
    ws.addEventListener('open', () =>
      resolve({
        ws,
        closed: () => closed,
        echo: (msg) =>
          new Promise((r) => {
            waiters.push(r);
            ws.send(msg);
          }),
      }),
    );
  });
}

describeE2E('kubeplane ingress reconfiguration under load', { commands: ['openssl'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kp-ingress-churn-'));
  const objectsPath = join(dir, 'objects.yaml');
  const steady = new EchoBackend('steady-pod', 'steady');
  const pods: EchoBackend[] = [];
  let ingress: RunningIngress | undefined;
  const base = (): object[] => [ingressClass, ...serviceObjects({ service: 'steady', pods: [steady] }), ing('steady', { rules: [rule('steady.test', [['/', 'Prefix', 'steady']]), rule(undefined, [['/ws', 'Prefix', 'steady']])] })];

  beforeAll(async () => {
    await steady.start();
    writeObjects(objectsPath, base());
    ingress = await startIngress(objectsPath);
  });

  afterAll(async () => {
    await ingress?.stop();
    await Promise.all([steady, ...pods].map((b) => b.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds, changes and removes 1,000 Ingresses with no failed request and no dropped WebSocket', async () => {
    const port = ingress!.httpPort;
    const ws = await openWebSocket(port);
    expect(await ws.echo('before')).toBe('steady-pod:before');
    const load = loadLoop(port, 'steady.test', { workers: 8, maxRequests: 50_000, maxMs: 60_000 });
    const many = (version: string): object[] => Array.from({ length: 1000 }, (_, i) => ing(`bulk-${i}`, { rules: [rule(`h${i}.bulk.test`, [[`/${version}`, 'Prefix', 'steady']])] }));
    writeObjects(objectsPath, [...base(), ...many('v1')]);
    await waitFor(async () => (await get(port, 'h999.bulk.test', '/v1')).status === 200, { what: '1,000 Ingresses applied' });
    expect(await ws.echo('after-add')).toBe('steady-pod:after-add');
    writeObjects(objectsPath, [...base(), ...many('v2')]);
    await waitFor(async () => (await get(port, 'h500.bulk.test', '/v2')).status === 200, { what: '1,000 Ingresses changed' });
    expect((await get(port, 'h500.bulk.test', '/v1')).status).toBe(404);
    writeObjects(objectsPath, base());
    await waitFor(async () => (await get(port, 'h0.bulk.test', '/v2')).status === 404, { what: '1,000 Ingresses removed' });
    const r = await load.stop();
    expect(r.failed).toEqual([]);
    expect(r.ok).toBeGreaterThan(0);
    expect(ws.closed()).toBe(false);
    expect(await ws.echo('after-remove')).toBe('steady-pod:after-remove');
    ws.ws.close();
  });

  it('rolls a backend from v1 to v2 pods under load with zero failed requests', async () => {
    const port = ingress!.httpPort;
    const v1 = [0, 1, 2].map((i) => new EchoBackend(`web-v1-${i}`, 'web'));
    const v2 = [0, 1, 2].map((i) => new EchoBackend(`web-v2-${i}`, 'web'));
    pods.push(...v1, ...v2);
    for (const p of [...v1, ...v2]) await p.start();
    const route = ing('web', { rules: [rule('web.test', [['/', 'Prefix', 'web']])] });
    const write = (ready: EchoBackend[], terminating: EchoBackend[] = []): void => {
      const svc = serviceObjects({ service: 'web', pods: ready });
      // terminating pods: not ready, still serving (kubelet's view during graceful shutdown)
      for (const t of terminating) svc.push({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `web-${t.pod}`, namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', ports: [{ name: 'http', port: t.port, protocol: 'TCP' }], endpoints: [{ addresses: [t.address], conditions: { ready: false, serving: true, terminating: true } }] });
      writeObjects(objectsPath, [...base(), route, ...svc]);
    };
    write(v1);
    await waitFor(async () => (await get(port, 'web.test', '/')).status === 200, { what: 'web route' });
    const load = loadLoop(port, 'web.test', { workers: 8, maxRequests: 50_000, maxMs: 60_000 });
    // maxSurge 1, maxUnavailable 0: start a v2 pod, then take a v1 pod out and let it exit.
    for (let i = 0; i < 3; i++) {
      const ready = [...v1.slice(i + 1), ...v2.slice(0, i + 1)];
      write(ready, [v1[i]!]);
      await waitFor(async () => (await get(port, 'web.test', '/')).echo?.pod !== v1[i]!.pod || undefined, { what: `v1-${i} out of rotation` });
      await new Promise((r) => setTimeout(r, 300));
      write(ready);
      await new Promise((r) => setTimeout(r, 300));
      await v1[i]!.drain();
    }
    await new Promise((r) => setTimeout(r, 300));
    const r = await load.stop();
    expect(r.failed).toEqual([]);
    expect(r.ok).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await get(port, 'web.test', '/')).echo!.pod);
    expect([...seen].every((p) => p.startsWith('web-v2'))).toBe(true);
  });
});
