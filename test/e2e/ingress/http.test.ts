// kubeplane ingress as a process, over real HTTP on loopback, to echo backends the test runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request, WebSocket } from 'undici';
import { describeE2E } from '../../helpers/e2e.js';
import { EchoBackend, get, ing, ingressClass, rawRequest, rule, serviceObjects, startIngress, writeObjects, type Echo, type RunningIngress } from './harness.js';

// The docs' examples table, one host per row so the rows cannot interfere.
const docsRows: { paths: [string, 'Exact' | 'Prefix'][]; request: string; want: string | 404 }[] = [
  { paths: [['/', 'Prefix']], request: '/anything', want: '/' },
  { paths: [['/foo', 'Exact']], request: '/foo', want: 'Exact /foo' },
  { paths: [['/foo', 'Exact']], request: '/bar', want: 404 },
  { paths: [['/foo', 'Exact']], request: '/foo/', want: 404 },
  { paths: [['/foo/', 'Exact']], request: '/foo', want: 404 },
  { paths: [['/foo', 'Prefix']], request: '/foo', want: '/foo' },
  { paths: [['/foo', 'Prefix']], request: '/foo/', want: '/foo' },
  { paths: [['/foo/', 'Prefix']], request: '/foo', want: '/foo/' },
  { paths: [['/foo/', 'Prefix']], request: '/foo/', want: '/foo/' },
  { paths: [['/aaa/bb', 'Prefix']], request: '/aaa/bbb', want: 404 },
  { paths: [['/aaa/bbb', 'Prefix']], request: '/aaa/bbb', want: '/aaa/bbb' },
  { paths: [['/aaa/bbb/', 'Prefix']], request: '/aaa/bbb', want: '/aaa/bbb/' },
  { paths: [['/aaa/bbb', 'Prefix']], request: '/aaa/bbb/', want: '/aaa/bbb' },
  { paths: [['/aaa/bbb', 'Prefix']], request: '/aaa/bbb/ccc', want: '/aaa/bbb' },
  { paths: [['/aaa/bbb', 'Prefix']], request: '/aaa/bbbxyz', want: 404 },
  { paths: [['/', 'Prefix'], ['/aaa', 'Prefix']], request: '/aaa/ccc', want: '/aaa' },
  { paths: [['/', 'Prefix'], ['/aaa', 'Prefix'], ['/aaa/bbb', 'Prefix']], request: '/aaa/bbb', want: '/aaa/bbb' },
  { paths: [['/', 'Prefix'], ['/aaa', 'Prefix'], ['/aaa/bbb', 'Prefix']], request: '/ccc', want: '/' },
  { paths: [['/aaa', 'Prefix']], request: '/ccc', want: 404 },
  { paths: [['/foo', 'Prefix'], ['/foo', 'Exact']], request: '/foo', want: 'Exact /foo' },
];

/** Service names are derived from the rule so the echo tells which rule matched. */
function svcFor(path: string, type: string): string {
  const base = path.replace(/[^a-z]/g, '') || 'root';
  return `${type === 'Exact' ? 'exact' : 'prefix'}-${base}${path.endsWith('/') && path !== '/' ? '-slash' : ''}`;
}

describeE2E('kubeplane ingress over HTTP', { commands: ['openssl'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kp-ingress-e2e-'));
  const objectsPath = join(dir, 'objects.yaml');
  const backends = new Map<string, EchoBackend>();
  let ingress: RunningIngress | undefined;
  const agent = new Agent({ keepAliveTimeout: 1000 });

  const svc = (name: string): EchoBackend => {
    let b = backends.get(name);
    if (!b) backends.set(name, (b = new EchoBackend(`${name}-pod`, name)));
    return b;
  };

  beforeAll(async () => {
    const objects: object[] = [ingressClass];
    docsRows.forEach((row, i) => {
      objects.push(ing(`docs-${i}`, { rules: [rule(`row${i}.paths.test`, row.paths.map(([p, t]) => [p, t, svcFor(p, t)]))] }));
    });
    objects.push(
      ing('exact-host', { rules: [rule('bar.foo.test', [['/', 'Prefix', 'exact-host']])] }),
      ing('wild-host', { rules: [rule('*.foo.test', [['/', 'Prefix', 'wild-host']])] }),
      ing('no-host', { rules: [rule(undefined, [['/', 'Prefix', 'no-host']])] }),
      ing('merge-a', { rules: [rule('merge.test', [['/a', 'Prefix', 'merge-a'], ['/same', 'Prefix', 'merge-old']])] }),
      ing('merge-b', { rules: [rule('merge.test', [['/b', 'Prefix', 'merge-b'], ['/same', 'Prefix', 'merge-new']])] }),
      ing('with-default', { defaultBackend: { service: { name: 'host-default', port: { number: 80 } } }, rules: [rule('def.test', [['/known', 'Exact', 'def-known']])] }),
      ing('to-empty', { rules: [rule('empty.test', [['/', 'Prefix', 'no-endpoints']])] }),
      ing('to-missing', { rules: [rule('missing.test', [['/', 'Prefix', 'does-not-exist']])] }),
      ing('named-port', { rules: [{ host: 'named.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'named', port: { name: 'web' } } } }] } }] }),
      ing('other-class', { ingressClassName: 'nginx', rules: [rule('otherclass.test', [['/', 'Prefix', 'exact-host']])] }),
      ing('big-body', { rules: [rule('body.test', [['/', 'Prefix', 'body']])] }, { 'nginx.ingress.kubernetes.io/proxy-body-size': '8m' }),
      ing('small-body', { rules: [rule('smallbody.test', [['/', 'Prefix', 'body']])] }),
    );
    for (const row of docsRows) for (const [p, t] of row.paths) svc(svcFor(p, t));
    for (const n of ['exact-host', 'wild-host', 'no-host', 'merge-a', 'merge-b', 'merge-old', 'merge-new', 'host-default', 'def-known', 'body']) svc(n);
    await Promise.all([...backends.values()].map((b) => b.start()));
    const named = new EchoBackend('named-pod', 'named');
    await named.start();
    backends.set('named', named);
    for (const [name, b] of backends) if (name !== 'named') objects.push(...serviceObjects({ service: name, pods: [b] }));
    objects.push(...serviceObjects({ service: 'named', pods: [named], port: 8080, portName: 'web' }));
    objects.push(...serviceObjects({ service: 'no-endpoints', pods: [], notReady: [svc('exact-host')] }));
    writeObjects(objectsPath, objects);
    ingress = await startIngress(objectsPath);
  });

  afterAll(async () => {
    await agent.close();
    await ingress?.stop();
    await Promise.all([...backends.values()].map((b) => b.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const port = (): number => ingress!.httpPort;

  describe('the Kubernetes docs path table over HTTP', () => {
    docsRows.forEach((row, i) => {
      const want = row.want;
      it(`${row.paths.map(([p, t]) => `${t} ${p}`).join(', ')}: ${row.request} → ${want}`, async () => {
        const r = await get(port(), `row${i}.paths.test`, row.request, { dispatcher: agent });
        if (want === 404) {
          expect(r.status).toBe(404);
          return;
        }
        expect(r.status).toBe(200);
        const [type, path] = want.startsWith('Exact ') ? ['Exact', want.slice(6)] : ['Prefix', want];
        expect(r.echo!.service).toBe(svcFor(path!, type!));
        expect(r.echo!.url).toBe(row.request);
      });
    });
  });

  describe('hosts and precedence', () => {
    const cases: [string | undefined, string | 404][] = [
      ['bar.foo.test', 'exact-host'],
      ['BAR.FOO.TEST:1234', 'exact-host'],
      ['baz.foo.test', 'wild-host'],
      ['a.b.foo.test', 'no-host'],
      ['foo.test', 'no-host'],
      ['127.0.0.1', 'no-host'],
      ['otherclass.test', 'no-host'],
    ];
    for (const [host, want] of cases) {
      it(`Host ${host} → ${want}`, async () => {
        const r = await get(port(), host, '/x', { dispatcher: agent });
        expect(r.echo?.service).toBe(want);
        expect(r.echo?.headers.host).toBe(host);
      });
    }
  });

  it('merges Ingresses for one host; the older one wins the same path', async () => {
    expect((await get(port(), 'merge.test', '/a/1')).echo?.service).toBe('merge-a');
    expect((await get(port(), 'merge.test', '/b/1')).echo?.service).toBe('merge-b');
    expect((await get(port(), 'merge.test', '/same')).echo?.service).toBe('merge-old');
  });

  it('defaultBackend of the Ingress that defines the host takes its unmatched paths', async () => {
    expect((await get(port(), 'def.test', '/known')).echo?.service).toBe('def-known');
    expect((await get(port(), 'def.test', '/unknown')).echo?.service).toBe('host-default');
  });

  it('404 for an unmatched path with no default backend', async () => {
    const r = await get(port(), 'merge.test', '/nothing');
    expect(r.status).toBe(404);
  });

  it('503 when the Service has no ready endpoints, and when it does not exist', async () => {
    expect((await get(port(), 'empty.test', '/')).status).toBe(503);
    expect((await get(port(), 'missing.test', '/')).status).toBe(503);
  });

  it('resolves a Service port by name', async () => {
    expect((await get(port(), 'named.test', '/')).echo?.service).toBe('named');
  });

  it('sets X-Forwarded-*, X-Real-IP, X-Request-ID; keeps Host; drops hop-by-hop request headers', async () => {
    // raw bytes: HTTP clients refuse to send Connection-listed custom headers
    const raw = await rawRequest(port(), 'GET /h?q=1 HTTP/1.1\r\nHost: bar.foo.test\r\nConnection: x-private, close\r\nX-Private: secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nX-Forwarded-For: 6.6.6.6\r\nX-Custom: kept\r\n\r\n');
    const r = { echo: JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Echo };
    const h = r.echo.headers;
    expect(h['keep-alive']).toBeUndefined();
    expect(h.te).toBeUndefined();
    expect(h.host).toBe('bar.foo.test');
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-original-forwarded-for']).toBe('6.6.6.6');
    expect(h['x-real-ip']).toBe('127.0.0.1');
    expect(h['x-forwarded-host']).toBe('bar.foo.test');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-port']).toBe(String(port()));
    expect(h['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(h['x-private']).toBeUndefined();
    expect(h['x-custom']).toBe('kept');
    expect(r.echo!.url).toBe('/h?q=1');
    const again = await get(port(), 'bar.foo.test', '/h', { headers: { 'x-request-id': 'abc-123' } });
    expect(again.echo!.headers['x-request-id']).toBe('abc-123');
  });

  it('drops hop-by-hop response headers', async () => {
    const r = await get(port(), 'bar.foo.test', '/__status?code=201');
    expect(r.status).toBe(201);
    expect(r.headers['x-hop']).toBeUndefined();
    // the backend's keep-alive (timeout=5) is its own; the client sees the ingress's
    expect(r.headers['keep-alive']).not.toBe('timeout=5');
  });

  it('keeps the client connection alive across requests', async () => {
    const sock = connect(port(), '127.0.0.1');
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString()));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    for (let i = 0; i < 3; i++) {
      const before = (data.match(/HTTP\/1\.1 200/g) ?? []).length;
      sock.write(`GET /k${i} HTTP/1.1\r\nHost: bar.foo.test\r\n\r\n`);
      for (let n = 0; n < 100 && (data.match(/HTTP\/1\.1 200/g) ?? []).length === before; n++) await new Promise((r) => setTimeout(r, 20));
    }
    sock.destroy();
    expect((data.match(/HTTP\/1\.1 200/g) ?? []).length).toBe(3);
  });

  it('streams a response without buffering it', async () => {
    const b = backends.get('exact-host')!;
    const r = await request(`http://127.0.0.1:${port()}/__hold`, { headers: { host: 'bar.foo.test' } });
    const it = r.body[Symbol.asyncIterator]();
    const first = await it.next();
    expect(String(first.value)).toBe('first\n');
    b.release();
    let rest = '';
    for (let n = await it.next(); !n.done; n = await it.next()) rest += String(n.value);
    expect(rest).toBe('last\n');
  });

  it('streams request bodies, and answers 413 above proxy-body-size', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 1);
    const ok = await get(port(), 'body.test', '/upload', { method: 'POST', body: big });
    expect(ok.echo?.bodyBytes).toBe(big.length);
    const tooBig = await get(port(), 'smallbody.test', '/upload', { method: 'POST', body: Buffer.alloc(2 * 1024 * 1024) });
    expect(tooBig.status).toBe(413);
    // chunked (no Content-Length): counted while streaming
    const chunked = await rawRequest(port(), `POST /upload HTTP/1.1\r\nHost: smallbody.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${'100000\r\n' + 'a'.repeat(0x100000) + '\r\n'}${'100000\r\n' + 'a'.repeat(0x100000) + '\r\n'}0\r\n\r\n`).catch((e: Error) => `error ${e.message}`);
    expect(chunked).toMatch(/^HTTP\/1\.1 413/);
    const smallChunked = await rawRequest(port(), `POST /upload HTTP/1.1\r\nHost: smallbody.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
    expect(smallChunked).toMatch(/^HTTP\/1\.1 200/);
    expect(smallChunked).toContain('"bodyBytes":5');
  });

  it('forwards a GET body as nginx does (search APIs send one), with Content-Length and chunked', async () => {
    const q = '{"query":{"match_all":{}}}';
    const sized = await get(port(), 'body.test', '/_search', { method: 'GET', body: q });
    expect(sized.echo?.method).toBe('GET');
    expect(sized.echo?.bodyBytes).toBe(q.length);
    expect(sized.echo?.headers['content-length']).toBe(String(q.length));
    const chunked = await rawRequest(port(), `GET /_search HTTP/1.1\r\nHost: body.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
    expect(chunked).toMatch(/^HTTP\/1\.1 200/);
    expect(chunked).toContain('"bodyBytes":5');
    // and a GET without a body still reaches the backend without one
    const bare = await get(port(), 'body.test', '/_search');
    expect(bare.echo?.bodyBytes).toBe(0);
    expect(bare.echo?.headers['transfer-encoding']).toBeUndefined();
  });

  it('upgrades WebSockets and echoes frames both ways', async () => {
    // undici's WebSocket sets Host from the URL, so this goes to the no-host rule.
    const ws = new WebSocket(`ws://127.0.0.1:${port()}/ws`);
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => ws.send('hello'));
      ws.addEventListener('message', (ev) => {
        got.push(String(ev.data));
        if (got.length === 1) ws.send('again');
        else {
          ws.close();
          resolve();
        }
      });
      ws.addEventListener('error', () => reject(new Error('websocket error')));
    });
    expect(got).toEqual(['no-host-pod:hello', 'no-host-pod:again']);
  });

  it('serves Prometheus metrics with ingress-nginx names and labels', async () => {
    await get(port(), 'merge.test', '/a/metrics-probe');
    const text = await (await fetch(`http://127.0.0.1:${ingress!.metricsPort}/metrics`)).text();
    expect(text).toMatch(/nginx_ingress_controller_requests\{host="merge.test",ingress="merge-a",namespace="default",service="merge-a",path="\/a",method="GET",status="200",canary=""\} \d+/);
    expect(text).toContain('nginx_ingress_controller_request_duration_seconds_bucket');
    expect(text).toContain('kubeplane_ingress_table_builds_total');
  });
});
