// trace http decisions the e2e cross-check does not reach (weights, body size, HTTPS URLs,
// --default-backend-service, regex mode), and the command's user errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointSlice, Ingress, Service } from '../../../src/api/types.js';
import { CONTROLLER_NAME } from '../../../src/ingress/routes.js';
import { traceHttp, type IngressObjects } from '../../../src/ingress/trace.js';
import { runKubeplane } from '../../helpers/cli.js';
import { parseHeaders } from '../../../src/cli/trace.js';

const N = 'nginx.ingress.kubernetes.io/';

function service(name: string, port = 80): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'http', port }] } } as Service;
}
function slice(svc: string, ip: string): EndpointSlice {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${svc}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: [ip], conditions: { ready: true } }] } as EndpointSlice;
}
function ingress(name: string, host: string, path: string, pathType: string, svc: string, annotations: Record<string, string> = {}, created = '2026-01-01T00:00:00Z'): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', annotations, creationTimestamp: created },
    spec: { ingressClassName: 'kubeplane', rules: [{ host, http: { paths: [{ path, pathType, backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
  } as Ingress;
}

const objects: IngressObjects = {
  ingressClasses: [{ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'kubeplane' }, spec: { controller: CONTROLLER_NAME } }] as IngressObjects['ingressClasses'],
  services: [service('main'), service('beta'), service('fallback')],
  endpointSlices: [slice('main', '10.244.0.1'), slice('beta', '10.244.0.2'), slice('fallback', '10.244.0.3')],
  ingresses: [
    ingress('main', 'app.test', '/', 'Prefix', 'main', { [N + 'proxy-body-size']: '1k' }),
    ingress('beta', 'app.test', '/', 'Prefix', 'beta', { [N + 'canary']: 'true', [N + 'canary-weight']: '25' }, '2026-01-02T00:00:00Z'),
    ingress('regex', 're.test', '/v[0-9]+/items', 'ImplementationSpecific', 'main', { [N + 'use-regex']: 'true' }),
  ],
};
const opts = { selection: { ingressClass: 'kubeplane', controllerName: CONTROLLER_NAME, watchWithoutClass: false } };

describe('trace http', () => {
  it('gives the canary weight when no header or cookie decides', () => {
    const t = traceHttp(objects, opts, { url: 'http://app.test/' });
    expect(t.status).toBe('proxy');
    expect(t.backend?.service).toBe('default/main');
    expect(t.canary?.chosen).toBeUndefined();
    expect(t.canary?.weight).toBe('default/beta takes 25.0% of these requests by weight');
  });

  it('answers 413 for a body over proxy-body-size', () => {
    const t = traceHttp(objects, opts, { url: 'http://app.test/', method: 'POST', headers: { 'content-length': '2048' } });
    expect(t.status).toBe(413);
    expect(t.annotations).toContain('proxy-body-size 1024');
  });

  it('reads the scheme from the URL: no HTTPS redirect for https', () => {
    const withTls: IngressObjects = { ...objects, ingresses: [{ ...ingress('tls', 'tls.test', '/', 'Prefix', 'main'), spec: { ...ingress('tls', 'tls.test', '/', 'Prefix', 'main').spec, tls: [{ hosts: ['tls.test'] }] } } as Ingress] };
    expect(traceHttp(withTls, opts, { url: 'http://tls.test:8080/x' })).toMatchObject({ status: 308, location: 'https://tls.test/x' });
    expect(traceHttp(withTls, opts, { url: 'https://tls.test/x' }).status).toBe('proxy');
  });

  it('regex mode: case-insensitive, anchored at the start', () => {
    const t = traceHttp(objects, opts, { url: 'http://re.test/V2/items/7' });
    expect(t.server.regex).toBe(true);
    expect(t.status).toBe('proxy');
    expect(traceHttp(objects, opts, { url: 'http://re.test/x/v2/items' }).status).toBe(404);
  });

  it('sends unmatched requests to --default-backend-service', () => {
    const t = traceHttp(objects, { ...opts, defaultBackendService: 'default/fallback' }, { url: 'http://nowhere.test/' });
    expect(t.route?.via).toBe('default-backend-service');
    expect(t.backend).toEqual({ service: 'default/fallback', port: '(first port)', state: 'ok', endpoints: ['10.244.0.3:8080'] });
  });

  describe('user errors', () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'kp-trace-http-'));
      writeFileSync(join(dir, 'objects.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n');
    });
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
    const cases: [string[], RegExp][] = [
      [[], /trace http needs a URL/],
      [['not a url'], /invalid URL "not a url"/],
      [['ftp://x/'], /only http and https/],
      [['http://x/', '--header', 'nocolon'], /invalid --header "nocolon"/],
      [['http://x/', '--from', 'nowhere'], /invalid --from "nowhere"/],
      [['http://x/', '--default-backend-service', 'Bad'], /invalid --default-backend-service/],
      [['http://x/', '-o', 'yaml'], /invalid -o "yaml"/],
    ];
    for (const [args, want] of cases) {
      it(args.join(' ') || '(no URL)', async () => {
        const r = await runKubeplane(['trace', 'http', ...args, '--objects', join(dir, 'objects.yaml')]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(want);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      });
    }
    it('keeps a header value with commas whole', async () => {
      // The list flag splits on commas; parseHeaders joins the pieces back.
      expect(parseHeaders(['Accept: a', 'b', 'X-Canary: always'])).toEqual({ accept: 'a,b', 'x-canary': 'always' });
      const r = await runKubeplane(['trace', 'http', 'http://x/', '--header', 'Accept: a, b', '--objects', join(dir, 'objects.yaml'), '-o', 'json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 404, host: 'x' });
    });
  });
});
