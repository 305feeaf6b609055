// `kubeplane trace http` must say what the controller does: for each request, the trace's
// verdict (status, redirect Location, backend endpoints, upstream path) is compared with what
// a running `kubeplane ingress` on the same objects does with the same request over real HTTP.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runKubeplane } from '../../helpers/cli.js';
import { EchoBackend, get, ing, ingressClass, rule, serviceObjects, startIngress, writeObjects, type RunningIngress } from '../ingress/harness.js';
import type { HttpTrace } from '../../../src/ingress/trace.js';

const N = 'nginx.ingress.kubernetes.io/';

describeE2E('kubeplane trace http agrees with kubeplane ingress', {}, () => {
  let dir = '';
  let objectsPath = '';
  const pods = {
    api: new EchoBackend('api-pod', 'api'),
    web: new EchoBackend('web-pod', 'web'),
    web2: new EchoBackend('web-pod-2', 'web'),
    canary: new EchoBackend('canary-pod', 'canary'),
    wild: new EchoBackend('wild-pod', 'wild'),
    nohost: new EchoBackend('nohost-pod', 'nohost'),
    fallback: new EchoBackend('fallback-pod', 'fallback'),
    exact: new EchoBackend('exact-pod', 'exact'),
  };
  const gone = new EchoBackend('gone-pod', 'empty');
  let ingress: RunningIngress | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-trace-http-'));
    objectsPath = join(dir, 'objects.yaml');
    for (const p of Object.values(pods)) await p.start();
    gone.port = 1;
    writeObjects(objectsPath, [
      ingressClass,
      ...serviceObjects({ service: 'api', pods: [pods.api] }),
      ...serviceObjects({ service: 'web', pods: [pods.web, pods.web2] }),
      ...serviceObjects({ service: 'canary', pods: [pods.canary] }),
      ...serviceObjects({ service: 'wild', pods: [pods.wild] }),
      ...serviceObjects({ service: 'nohost', pods: [pods.nohost] }),
      ...serviceObjects({ service: 'fallback', pods: [pods.fallback] }),
      ...serviceObjects({ service: 'exact', pods: [pods.exact] }),
      ...serviceObjects({ service: 'empty', pods: [], notReady: [gone] }),
      ing('shop', { ingressClassName: 'kubeplane', rules: [rule('shop.test', [['/', 'Prefix', 'web'], ['/api', 'Prefix', 'api'], ['/api/v1', 'Exact', 'exact'], ['/empty', 'Prefix', 'empty'], ['/missing', 'Prefix', 'no-such-service']])] }),
      ing('shop-canary', { ingressClassName: 'kubeplane', rules: [rule('shop.test', [['/', 'Prefix', 'canary']])] }, { [N + 'canary']: 'true', [N + 'canary-by-header']: 'X-Canary' }),
      ing('wild', { ingressClassName: 'kubeplane', rules: [rule('*.wild.test', [['/', 'Prefix', 'wild']])] }),
      ing('nohost', { ingressClassName: 'kubeplane', rules: [rule(undefined, [['/', 'Prefix', 'nohost']])] }),
      ing('dflt', { ingressClassName: 'kubeplane', defaultBackend: { service: { name: 'fallback', port: { number: 80 } } }, rules: [rule('dflt.test', [['/only', 'Exact', 'api']])] }),
      ing('rewrite', { ingressClassName: 'kubeplane', rules: [rule('rewrite.test', [['/app(/|$)(.*)', 'ImplementationSpecific', 'api']])] }, { [N + 'rewrite-target']: '/$2' }),
      ing('secure', { ingressClassName: 'kubeplane', tls: [{ hosts: ['secure.test'], secretName: 'secure-tls' }], rules: [rule('secure.test', [['/', 'Prefix', 'web']])] }),
      ing('moved', { ingressClassName: 'kubeplane', rules: [rule('moved.test', [['/', 'Prefix', 'web']])] }, { [N + 'permanent-redirect']: 'https://new.example/' }),
      ing('deny', { ingressClassName: 'kubeplane', rules: [rule('deny.test', [['/', 'Prefix', 'web']])] }, { [N + 'whitelist-source-range']: '10.0.0.0/8' }),
      ing('cors', { ingressClassName: 'kubeplane', rules: [rule('cors.test', [['/', 'Prefix', 'web']])] }, { [N + 'enable-cors']: 'true' }),
      ing('other-class', { ingressClassName: 'nginx', rules: [rule('other.test', [['/', 'Prefix', 'web']])] }),
      ing('invalid', { ingressClassName: 'kubeplane', rules: [rule('invalid.test', [['/', 'Prefix', 'web']])] }, { [N + 'proxy-body-size']: 'lots' }),
    ]);
    ingress = await startIngress(objectsPath);
  }, 60_000);

  afterAll(async () => {
    await ingress?.stop();
    await Promise.all(Object.values(pods).map((p) => p.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases: { name: string; host: string; path: string; method?: string; headers?: Record<string, string>; want: number | 'proxy'; service?: string }[] = [
    { name: 'Prefix path', host: 'shop.test', path: '/api/items', want: 'proxy', service: 'api' },
    { name: 'Prefix does not match a partial element', host: 'shop.test', path: '/apix', want: 'proxy', service: 'web' },
    { name: 'Exact beats Prefix on the same path', host: 'shop.test', path: '/api/v1', want: 'proxy', service: 'exact' },
    { name: 'Prefix past the Exact path', host: 'shop.test', path: '/api/v1/x', want: 'proxy', service: 'api' },
    { name: 'two endpoints', host: 'shop.test', path: '/', want: 'proxy', service: 'web' },
    { name: 'canary by header', host: 'shop.test', path: '/', headers: { 'X-Canary': 'always' }, want: 'proxy', service: 'canary' },
    { name: 'canary header never', host: 'shop.test', path: '/', headers: { 'X-Canary': 'never' }, want: 'proxy', service: 'web' },
    { name: 'no ready endpoints', host: 'shop.test', path: '/empty', want: 503 },
    { name: 'backend Service missing', host: 'shop.test', path: '/missing', want: 503 },
    { name: 'wildcard host, one label', host: 'a.wild.test', path: '/x', want: 'proxy', service: 'wild' },
    { name: 'wildcard does not match two labels', host: 'a.b.wild.test', path: '/x', want: 'proxy', service: 'nohost' },
    { name: 'unknown host takes the no-host rules', host: 'unknown.test', path: '/', want: 'proxy', service: 'nohost' },
    { name: 'defaultBackend for unmatched paths', host: 'dflt.test', path: '/other', want: 'proxy', service: 'fallback' },
    { name: 'rewrite-target', host: 'rewrite.test', path: '/app/deep/path?q=1', want: 'proxy', service: 'api' },
    { name: 'TLS host redirects plain HTTP', host: 'secure.test', path: '/p?x=1', want: 308 },
    { name: 'permanent-redirect', host: 'moved.test', path: '/', want: 301 },
    { name: 'allowlist', host: 'deny.test', path: '/', want: 403 },
    { name: 'CORS preflight', host: 'cors.test', path: '/', method: 'OPTIONS', headers: { Origin: 'https://a.example', 'Access-Control-Request-Method': 'PUT' }, want: 204 },
    { name: 'Ingress of another class', host: 'other.test', path: '/', want: 'proxy', service: 'nohost' },
    { name: 'rejected Ingress', host: 'invalid.test', path: '/', want: 'proxy', service: 'nohost' },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const headerFlags = Object.entries(c.headers ?? {}).flatMap(([k, v]) => ['--header', `${k}: ${v}`]);
      const r = await runKubeplane(['trace', 'http', `http://${c.host}${c.path}`, '--objects', objectsPath, '--method', c.method ?? 'GET', '--https-port', String(ingress!.httpsPort), '--from', '127.0.0.1', ...headerFlags, '-o', 'json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const t = JSON.parse(r.stdout) as HttpTrace;
      expect(t.status).toBe(c.want);
      const real = await get(ingress!.httpPort, c.host, c.path, { method: c.method, headers: c.headers });
      if (t.status === 'proxy') {
        expect(real.status).toBe(200);
        expect(real.echo?.service).toBe(c.service);
        expect(t.backend?.service).toBe(`default/${c.service}`);
        const pod = Object.values(pods).find((p) => p.pod === real.echo?.pod)!;
        expect(t.backend?.endpoints).toContain(`127.0.0.1:${pod.port}`);
        expect(real.echo?.url).toBe(t.upstreamPath);
      } else {
        expect(real.status).toBe(t.status);
        expect(real.headers.location).toBe(t.location);
      }
    });
  }

  it('explains the choice in words', async () => {
    const r = await runKubeplane(['trace', 'http', 'http://shop.test/api/v1', '--objects', objectsPath]);
    expect(r.stdout).toMatch(/server: shop.test \(exact\)/);
    expect(r.stdout).toMatch(/\* Exact \/api\/v1 -> default\/exact:80 \(default\/shop\)/);
    expect(r.stdout).toMatch(/\+ Prefix \/api -> default\/api:80/);
    expect(r.stdout).toMatch(/- Prefix \/empty/);
    expect(r.stdout).toMatch(/precedence: the longest matching path wins; on equal length Exact > Prefix/);
    const root = await runKubeplane(['trace', 'http', 'http://shop.test/', '--objects', objectsPath]);
    expect(root.stdout).toMatch(/canary input: default\/shop-canary: header X-Canary \(always\|never\), request has none/);
    const other = await runKubeplane(['trace', 'http', 'http://other.test/', '--objects', objectsPath]);
    expect(other.stdout).toMatch(/ignored: default\/other-class: class "nginx" is not served/);
    expect(other.stdout).toMatch(/ignored: default\/invalid: rejected: annotation nginx.ingress.kubernetes.io\/proxy-body-size/);
  });
});
