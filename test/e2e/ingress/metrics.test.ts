// The request metrics count every answer, as ingress-nginx's do: the controller's own
// (404, 503, 403, redirects, 413, limits, 400) as well as what upstreams answered.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { EchoBackend, get, ing, ingressClass, rawRequest, rule, serviceObjects, startIngress, writeObjects, type RunningIngress } from './harness.js';

const N = 'nginx.ingress.kubernetes.io/';

describeE2E('kubeplane ingress request metrics for its own answers', {}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kp-ingress-metrics-'));
  const objectsPath = join(dir, 'objects.yaml');
  const web = new EchoBackend('web-pod', 'web');
  const unready = new EchoBackend('unready-pod', 'unready');
  let ingress: RunningIngress | undefined;
  const r = (host: string, service = 'web'): Record<string, unknown> => ({ rules: [rule(host, [['/', 'Prefix', service]])] });

  beforeAll(async () => {
    await web.start();
    await unready.start();
    writeObjects(objectsPath, [
      ingressClass,
      ...serviceObjects({ service: 'web', pods: [web] }),
      ...serviceObjects({ service: 'unready', pods: [], notReady: [unready] }),
      ing('ok', r('ok.m.test')),
      ing('ghost', r('ghost.m.test', 'ghost')),
      ing('no-endpoints', r('unready.m.test', 'unready')),
      ing('deny', r('deny.m.test'), { [N + 'whitelist-source-range']: '10.0.0.0/8' }),
      ing('force', r('force.m.test'), { [N + 'force-ssl-redirect']: 'true' }),
      ing('moved', r('moved.m.test'), { [N + 'permanent-redirect']: 'https://new.example/' }),
      ing('small', r('small.m.test'), { [N + 'proxy-body-size']: '1k' }),
      ing('rps', r('rps.m.test'), { [N + 'limit-rps']: '1' }),
    ]);
    ingress = await startIngress(objectsPath);
  });

  afterAll(async () => {
    await ingress?.stop();
    await Promise.all([web.stop(), unready.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const port = (): number => ingress!.httpPort;
  const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${ingress!.metricsPort}/metrics`)).text();
  /** The nginx_ingress_controller_requests value for one label set (0 when the series is absent). */
  function requests(text: string, l: { host?: string; ingress?: string; service?: string; path?: string; method?: string; status: number }): number {
    const ns = l.ingress ? 'default' : '';
    const labels = `host="${l.host ?? ''}",ingress="${l.ingress ?? ''}",namespace="${ns}",service="${l.service ?? ''}",path="${l.path ?? ''}",method="${l.method ?? 'GET'}",status="${l.status}",canary=""`;
    const line = text.split('\n').find((s) => s.startsWith(`nginx_ingress_controller_requests{${labels}} `));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  }
  const route = (host: string, ingressName: string, service = 'web'): { host: string; ingress: string; service: string; path: string } => ({ host, ingress: ingressName, service, path: '/' });

  it('counts 404 for a request no route matches, with empty route labels', async () => {
    const before = requests(await scrape(), { status: 404 });
    expect((await get(port(), 'nowhere.m.test', '/x')).status).toBe(404);
    expect((await get(port(), 'elsewhere.m.test', '/y')).status).toBe(404);
    expect(requests(await scrape(), { status: 404 }) - before).toBe(2);
  });

  it('counts 503 for a missing Service and for a Service without ready endpoints under the route', async () => {
    expect((await get(port(), 'ghost.m.test', '/')).status).toBe(503);
    expect((await get(port(), 'unready.m.test', '/')).status).toBe(503);
    const text = await scrape();
    expect(requests(text, { ...route('ghost.m.test', 'ghost', 'ghost'), status: 503 })).toBe(1);
    expect(requests(text, { ...route('unready.m.test', 'no-endpoints', 'unready'), status: 503 })).toBe(1);
  });

  it('counts 403 from the allowlist, 308 and 301 redirects and 413 for a body above proxy-body-size', async () => {
    expect((await get(port(), 'deny.m.test', '/')).status).toBe(403);
    expect((await get(port(), 'force.m.test', '/')).status).toBe(308);
    expect((await get(port(), 'moved.m.test', '/')).status).toBe(301);
    expect((await get(port(), 'small.m.test', '/', { method: 'POST', body: Buffer.alloc(4096, 1) })).status).toBe(413);
    const text = await scrape();
    expect(requests(text, { ...route('deny.m.test', 'deny'), status: 403 })).toBe(1);
    expect(requests(text, { ...route('force.m.test', 'force'), status: 308 })).toBe(1);
    expect(requests(text, { ...route('moved.m.test', 'moved'), status: 301 })).toBe(1);
    expect(requests(text, { ...route('small.m.test', 'small'), method: 'POST', status: 413 })).toBe(1);
    expect(text).toMatch(/nginx_ingress_controller_request_duration_seconds_count\{host="deny\.m\.test",ingress="deny",[^}]*status="403"[^}]*\} 1/);
  });

  it('counts limit-rps refusals next to the proxied answers of the same route', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push((await get(port(), 'rps.m.test', '/')).status);
    const text = await scrape();
    const ok = codes.filter((c) => c === 200).length;
    expect(ok).toBeGreaterThan(0);
    expect(requests(text, { ...route('rps.m.test', 'rps'), status: 200 })).toBe(ok);
    expect(requests(text, { ...route('rps.m.test', 'rps'), status: 503 })).toBe(12 - ok);
  });

  it('counts 400 for a request that does not parse', async () => {
    const before = requests(await scrape(), { method: '', status: 400 });
    expect(await rawRequest(port(), 'GET / HTTP/1.1\r\nHost: ok.m.test\r\nbad header line\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(requests(await scrape(), { method: '', status: 400 }) - before).toBe(1);
  });

  it('still counts proxied answers under their route', async () => {
    expect((await get(port(), 'ok.m.test', '/')).status).toBe(200);
    expect(requests(await scrape(), { ...route('ok.m.test', 'ok'), status: 200 })).toBe(1);
  });
});
