// Every supported ingress-nginx annotation, over real HTTP through the running controller.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { request } from 'undici';
import { describeE2E } from '../../helpers/e2e.js';
import { EchoBackend, freePort, get, ing, ingressClass, rule, selfSigned, serviceObjects, startIngress, writeObjects, type RunningIngress } from './harness.js';

const N = 'nginx.ingress.kubernetes.io/';

describeE2E('kubeplane ingress annotations', { commands: ['openssl'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kp-ingress-ann-'));
  const objectsPath = join(dir, 'objects.yaml');
  const main = new EchoBackend('main-pod', 'main');
  const canary = new EchoBackend('canary-pod', 'canary');
  const pair = [new EchoBackend('pair-1', 'pair', '127.0.0.1'), new EchoBackend('pair-2', 'pair', '127.0.0.1')];
  const secure = new EchoBackend('secure-pod', 'secure');
  const slow = new EchoBackend('slow-pod', 'slow');
  const flaky = new EchoBackend('flaky-up', 'flaky');
  const all = [main, canary, ...pair, secure, slow, flaky];
  let ingress: RunningIngress | undefined;
  const r = (host: string, service = 'main', path = '/', type: 'Prefix' | 'ImplementationSpecific' = 'Prefix'): Record<string, unknown> => ({ rules: [rule(host, [[path, type, service]])] });

  beforeAll(async () => {
    const cert = selfSigned(dir, 'backend', ['secure-pod']);
    for (const b of all) await b.start(0, b === secure ? cert : undefined);
    // a second endpoint for "flaky" that refuses connections: a port nobody listens on
    const dead = new EchoBackend('flaky-dead', 'flaky');
    dead.port = await freePort();
    writeObjects(objectsPath, [
      ingressClass,
      ...serviceObjects({ service: 'main', pods: [main] }),
      ...serviceObjects({ service: 'canary', pods: [canary] }),
      ...serviceObjects({ service: 'pair', pods: pair }),
      ...serviceObjects({ service: 'secure', pods: [secure] }),
      ...serviceObjects({ service: 'slow', pods: [slow] }),
      ...serviceObjects({ service: 'flaky', pods: [flaky, dead] }),
      ing('rewrite', r('rewrite.test', 'main', '/something(/|$)(.*)', 'ImplementationSpecific'), { [N + 'rewrite-target']: '/$2' }),
      ing('regex', r('regex.test', 'main', '/v[0-9]+/items', 'ImplementationSpecific'), { [N + 'use-regex']: 'true' }),
      ing('https-backend', r('secure.test', 'secure'), { [N + 'backend-protocol']: 'HTTPS' }),
      ing('timeout', r('timeout.test', 'slow'), { [N + 'proxy-read-timeout']: '1' }),
      ing('deny', r('deny.test'), { [N + 'whitelist-source-range']: '10.0.0.0/8' }),
      ing('allow', r('allow.test'), { [N + 'allowlist-source-range']: '127.0.0.0/8, ::1' }),
      ing('canary-main', r('canary.test')),
      ing('canary-header', r('canary.test', 'canary'), { [N + 'canary']: 'true', [N + 'canary-by-header']: 'X-Canary', [N + 'canary-by-cookie']: 'beta' }),
      ing('weight-main', r('weight.test')),
      ing('weight-canary', r('weight.test', 'canary'), { [N + 'canary']: 'true', [N + 'canary-weight']: '100' }),
      ing('affinity', r('sticky.test', 'pair'), { [N + 'affinity']: 'cookie', [N + 'session-cookie-name']: 'route' }),
      ing('rr', r('rr.test', 'pair')),
      ing('lr', r('lr.test', 'pair'), { [N + 'load-balance']: 'ewma' }),
      ing('cors', r('cors.test'), { [N + 'enable-cors']: 'true', [N + 'cors-allow-origin']: 'https://app.example' }),
      ing('headers', r('headers.test'), { [N + 'custom-headers']: 'X-Frame-Options: DENY\nX-Served-By: kubeplane' }),
      ing('perm', r('perm.test'), { [N + 'permanent-redirect']: 'https://new.example/' }),
      ing('temp', r('temp.test'), { 'kubeplane.io/temporal-redirect': 'https://tmp.example/x' }),
      ing('rps', r('rps.test'), { [N + 'limit-rps']: '1' }),
      ing('conns', r('conns.test', 'slow'), { [N + 'limit-connections']: '1' }),
      ing('retry', r('retry.test', 'flaky')),
      ing('invalid', r('invalid.test'), { [N + 'proxy-body-size']: '1m;ssl_engine evil' }),
      ing('invalid-2', r('invalid.test', 'canary', '/ok')),
    ]);
    ingress = await startIngress(objectsPath);
  });

  afterAll(async () => {
    await ingress?.stop();
    for (const b of all) b.release();
    await Promise.all(all.map((b) => b.stop()));
    rmSync(dir, { recursive: true, force: true });
  });
  const port = (): number => ingress!.httpPort;

  it('rewrite-target with capture groups (query kept)', async () => {
    expect((await get(port(), 'rewrite.test', '/something/new/path?x=1')).echo?.url).toBe('/new/path?x=1');
    expect((await get(port(), 'rewrite.test', '/something')).echo?.url).toBe('/');
  });

  it('use-regex: case-insensitive regex paths', async () => {
    expect((await get(port(), 'regex.test', '/V2/items/7')).status).toBe(200);
    expect((await get(port(), 'regex.test', '/vx/items')).status).toBe(404);
  });

  it('backend-protocol HTTPS', async () => {
    const e = (await get(port(), 'secure.test', '/')).echo!;
    expect(e.pod).toBe('secure-pod');
    expect(e.tls).toBe(true);
  });

  it('proxy-read-timeout: 504 when the backend sends no headers in time', async () => {
    const res = await get(port(), 'timeout.test', '/__silent');
    expect(res.status).toBe(504);
    slow.release();
  });

  it('whitelist/allowlist-source-range: 403 outside, 200 inside', async () => {
    expect((await get(port(), 'deny.test', '/')).status).toBe(403);
    expect((await get(port(), 'allow.test', '/')).status).toBe(200);
  });

  it('canary by header and by cookie', async () => {
    expect((await get(port(), 'canary.test', '/')).echo?.service).toBe('main');
    expect((await get(port(), 'canary.test', '/', { headers: { 'x-canary': 'always' } })).echo?.service).toBe('canary');
    expect((await get(port(), 'canary.test', '/', { headers: { 'x-canary': 'never', cookie: 'beta=always' } })).echo?.service).toBe('main');
    expect((await get(port(), 'canary.test', '/', { headers: { cookie: 'beta=always' } })).echo?.service).toBe('canary');
  });

  it('canary by weight (100: every request)', async () => {
    for (let i = 0; i < 5; i++) expect((await get(port(), 'weight.test', '/')).echo?.service).toBe('canary');
  });

  it('affinity cookie pins a client to one endpoint', async () => {
    const first = await get(port(), 'sticky.test', '/');
    const setCookie = String(first.headers['set-cookie']);
    expect(setCookie).toMatch(/^route=[0-9a-f]{40}; Path=\/; HttpOnly/);
    const cookie = setCookie.split(';')[0]!;
    for (let i = 0; i < 6; i++) expect((await get(port(), 'sticky.test', '/', { headers: { cookie } })).echo?.pod).toBe(first.echo?.pod);
  });

  it('round robin alternates endpoints; ewma/least-request spreads too', async () => {
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await get(port(), 'rr.test', '/')).echo!.pod);
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen[0]).toBe(seen[2]);
    const lr = new Set<string>();
    for (let i = 0; i < 6; i++) lr.add((await get(port(), 'lr.test', '/')).echo!.pod);
    expect(lr.size).toBe(2);
  });

  it('enable-cors: preflight answered, responses carry the allowed origin', async () => {
    const pre = await get(port(), 'cors.test', '/api', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(pre.headers['access-control-allow-methods']).toContain('PUT');
    const normal = await get(port(), 'cors.test', '/api', { headers: { origin: 'https://app.example' } });
    expect(normal.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await get(port(), 'cors.test', '/api', { headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('custom response headers', async () => {
    const res = await get(port(), 'headers.test', '/');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-served-by']).toBe('kubeplane');
  });

  it('permanent and temporal redirects', async () => {
    const p = await get(port(), 'perm.test', '/x');
    expect([p.status, p.headers.location]).toEqual([301, 'https://new.example/']);
    const t = await get(port(), 'temp.test', '/x');
    expect([t.status, t.headers.location]).toEqual([302, 'https://tmp.example/x']);
  });

  it('limit-rps: 503 beyond the burst (5 × rps)', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push((await get(port(), 'rps.test', '/')).status);
    expect(codes.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(codes).toContain(503);
  });

  it('limit-connections: 503 for a second concurrent request from the same client', async () => {
    const held = request(`http://127.0.0.1:${port()}/__hold`, { headers: { host: 'conns.test' } });
    const first = await held;
    const second = await get(port(), 'conns.test', '/');
    expect(second.status).toBe(503);
    slow.release();
    await first.body.text();
    expect((await get(port(), 'conns.test', '/')).status).toBe(200);
  });

  it('retries an idempotent request on another endpoint after a connect failure', async () => {
    for (let i = 0; i < 6; i++) expect((await get(port(), 'retry.test', '/')).echo?.pod).toBe('flaky-up');
    const metrics = await (await fetch(`http://127.0.0.1:${ingress!.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/kubeplane_ingress_upstream_retries_total [1-9]/);
  });

  it('an invalid annotation rejects only that Ingress; the rest of the host keeps working', async () => {
    expect((await get(port(), 'invalid.test', '/elsewhere')).status).toBe(404);
    expect((await get(port(), 'invalid.test', '/ok')).echo?.service).toBe('canary');
    const metrics = await (await fetch(`http://127.0.0.1:${ingress!.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/kubeplane_ingress_rejected_ingresses 1/);
    expect(ingress!.output()).toMatch(/Rejected Ingress.*default\/invalid.*proxy-body-size/);
  });
});
