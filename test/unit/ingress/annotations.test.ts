import { describe, expect, it } from 'vitest';
import { parseAnnotations, parseSize, AnnotationError, DEFAULT_ANNOTATIONS, type IngressAnnotations } from '../../../src/ingress/annotations.js';
import { chooseCanary, rewritePath, sourceAllowed } from '../../../src/ingress/policy.js';
import type { PathRoute } from '../../../src/ingress/routes.js';

const N = 'nginx.ingress.kubernetes.io/';

type Valid = [Record<string, string>, (a: IngressAnnotations) => unknown, unknown];
const valid: Valid[] = [
  [{}, (a) => a, DEFAULT_ANNOTATIONS],
  [{ [N + 'rewrite-target']: '/$2' }, (a) => a.rewriteTarget, '/$2'],
  [{ [N + 'use-regex']: 'true' }, (a) => a.useRegex, true],
  [{ [N + 'ssl-redirect']: 'false' }, (a) => a.sslRedirect, false],
  [{ [N + 'force-ssl-redirect']: 'true' }, (a) => a.forceSslRedirect, true],
  [{ [N + 'backend-protocol']: 'https' }, (a) => a.backendProtocol, 'HTTPS'],
  [{ [N + 'backend-protocol']: 'GRPC' }, (a) => a.backendProtocol, 'GRPC'],
  [{ [N + 'proxy-body-size']: '8m' }, (a) => a.proxyBodySize, 8 * 1024 * 1024],
  [{ [N + 'proxy-body-size']: '0' }, (a) => a.proxyBodySize, 0],
  [{ [N + 'proxy-connect-timeout']: '3' }, (a) => a.connectTimeout, 3000],
  [{ [N + 'proxy-read-timeout']: '120s' }, (a) => a.readTimeout, 120000],
  [{ [N + 'proxy-send-timeout']: '500ms' }, (a) => a.sendTimeout, 500],
  [{ [N + 'whitelist-source-range']: '10.0.0.0/8, 192.168.1.1' }, (a) => a.allowSourceRange?.length, 2],
  [{ [N + 'allowlist-source-range']: '::1/128' }, (a) => a.allowSourceRange?.length, 1],
  [{ [N + 'canary']: 'true', [N + 'canary-weight']: '30' }, (a) => a.canary?.weight, 30],
  [{ [N + 'canary']: 'true', [N + 'canary-by-header']: 'X-Canary' }, (a) => a.canary?.header, 'X-Canary'],
  [{ [N + 'canary']: 'false', [N + 'canary-weight']: '30' }, (a) => a.canary, undefined],
  [{ [N + 'affinity']: 'cookie' }, (a) => a.affinity?.cookieName, 'INGRESSCOOKIE'],
  [{ [N + 'affinity']: 'cookie', [N + 'session-cookie-name']: 'route', [N + 'session-cookie-max-age']: '3600' }, (a) => [a.affinity?.cookieName, a.affinity?.maxAge], ['route', 3600]],
  [{ [N + 'enable-cors']: 'true' }, (a) => a.cors?.allowOrigin, ['*']],
  [{ [N + 'custom-headers']: 'X-One: 1\nX-Two: two words' }, (a) => a.responseHeaders, [['X-One', '1'], ['X-Two', 'two words']]],
  [{ [N + 'permanent-redirect']: 'https://example.com/new' }, (a) => a.redirect, { url: 'https://example.com/new', code: 301 }],
  [{ [N + 'permanent-redirect']: 'https://example.com/', [N + 'permanent-redirect-code']: '308' }, (a) => a.redirect?.code, 308],
  [{ [N + 'temporal-redirect']: '/elsewhere' }, (a) => a.redirect, { url: '/elsewhere', code: 302 }],
  [{ [N + 'limit-rps']: '5' }, (a) => a.limitRps, 5],
  [{ [N + 'limit-connections']: '2' }, (a) => a.limitConnections, 2],
  [{ [N + 'load-balance']: 'ewma' }, (a) => a.loadBalance, 'least_request'],
  [{ 'kubeplane.io/ssl-redirect': 'false' }, (a) => a.sslRedirect, false],
  [{ [N + 'ssl-redirect']: 'true', 'kubeplane.io/ssl-redirect': 'false' }, (a) => a.sslRedirect, false],
  [{ 'example.com/unrelated': 'x' }, (a) => a, DEFAULT_ANNOTATIONS],
];

const invalid: [Record<string, string>, string][] = [
  [{ [N + 'use-regex']: 'yes' }, 'use-regex: "yes" is not a boolean'],
  [{ [N + 'ssl-redirect']: '1' }, 'is not a boolean'],
  [{ [N + 'backend-protocol']: 'FCGI' }, 'is not one of HTTP, HTTPS, GRPC'],
  [{ [N + 'proxy-body-size']: '10 m' }, 'is not a size'],
  [{ [N + 'proxy-body-size']: '1m; ssl_engine /tmp/x.so' }, 'is not a size'],
  [{ [N + 'proxy-read-timeout']: '-1' }, 'is not a duration'],
  [{ [N + 'proxy-connect-timeout']: '100000' }, 'longer than a day'],
  [{ [N + 'whitelist-source-range']: '10.0.0.0/33' }, 'is not an IP address or CIDR'],
  [{ [N + 'allowlist-source-range']: 'everyone' }, 'is not an IP address or CIDR'],
  [{ [N + 'canary']: 'true', [N + 'canary-weight']: '150' }, 'out of range'],
  [{ [N + 'canary']: 'true', [N + 'canary-by-header']: 'bad header' }, 'not a valid header'],
  [{ [N + 'canary']: 'true', [N + 'canary-by-header-pattern']: '(' }, 'invalid regular expression'],
  [{ [N + 'affinity']: 'ip' }, 'not supported'],
  [{ [N + 'affinity']: 'cookie', [N + 'session-cookie-path']: '/a;b' }, 'not a cookie path'],
  [{ [N + 'enable-cors']: 'true', [N + 'cors-allow-methods']: 'GET, P O S T' }, 'not a method'],
  [{ [N + 'custom-headers']: 'X-Ok: 1\nX-Bad: a\r\nInjected: yes' }, 'control characters'],
  [{ [N + 'custom-headers']: 'no colon here' }, 'is not "Name: value"'],
  [{ [N + 'rewrite-target']: '/$1\n}' }, 'control characters'],
  [{ [N + 'permanent-redirect']: 'javascript:alert(1)' }, 'must be an http(s) URL'],
  [{ [N + 'permanent-redirect']: 'https://x/', [N + 'permanent-redirect-code']: '200' }, 'out of range'],
  [{ [N + 'permanent-redirect']: 'https://x/', [N + 'permanent-redirect-code']: '304' }, 'not a redirect status code'],
  [{ [N + 'limit-rps']: 'lots' }, 'not a non-negative integer'],
  [{ [N + 'load-balance']: 'random' }, 'is not one of'],
];

describe('parseAnnotations', () => {
  for (const [ann, pick, want] of valid) it(`accepts ${JSON.stringify(ann)}`, () => expect(pick(parseAnnotations(ann))).toEqual(want));
  for (const [ann, msg] of invalid) {
    it(`rejects ${JSON.stringify(ann)}`, () => {
      expect(() => parseAnnotations(ann)).toThrow(AnnotationError);
      expect(() => parseAnnotations(ann)).toThrow(msg);
    });
  }
  it('parses nginx sizes', () => {
    expect(parseSize('x', '8k')).toBe(8192);
    expect(parseSize('x', '2G')).toBe(2 * 1024 ** 3);
  });
});

function route(over: Record<string, string>, path = '/'): PathRoute {
  return { host: 'h', path, pathType: 'ImplementationSpecific', ingress: 'default/c', backend: { upstreamKey: 'default/canary:80' }, annotations: parseAnnotations(over), canaries: [] };
}

describe('canary choice', () => {
  const byHeader = route({ [N + 'canary']: 'true', [N + 'canary-by-header']: 'X-Canary' });
  const byValue = route({ [N + 'canary']: 'true', [N + 'canary-by-header']: 'X-Region', [N + 'canary-by-header-value']: 'eu' });
  const byCookie = route({ [N + 'canary']: 'true', [N + 'canary-by-cookie']: 'beta', [N + 'canary-weight']: '100' });
  const byWeight = route({ [N + 'canary']: 'true', [N + 'canary-weight']: '25' });
  it('header always/never', () => {
    expect(chooseCanary([byHeader], { 'x-canary': 'always' })).toBe(byHeader);
    expect(chooseCanary([byHeader], { 'x-canary': 'never' })).toBeUndefined();
    expect(chooseCanary([byHeader], {})).toBeUndefined();
  });
  it('header value', () => {
    expect(chooseCanary([byValue], { 'x-region': 'eu' })).toBe(byValue);
    expect(chooseCanary([byValue], { 'x-region': 'us' })).toBeUndefined();
  });
  it('cookie never beats weight 100', () => {
    expect(chooseCanary([byCookie], { cookie: 'a=1; beta=never' })).toBeUndefined();
    expect(chooseCanary([byCookie], { cookie: 'beta=always' })).toBe(byCookie);
    expect(chooseCanary([byCookie], {})).toBe(byCookie);
  });
  it('weight', () => {
    expect(chooseCanary([byWeight], {}, () => 0.2)).toBe(byWeight);
    expect(chooseCanary([byWeight], {}, () => 0.3)).toBeUndefined();
  });
});

describe('rewrite and source ranges', () => {
  it('substitutes captures and keeps the query', () => {
    const r = route({ [N + 'rewrite-target']: '/$2' }, '/something(/|$)(.*)');
    const captures = /^\/something(\/|$)(.*)/i.exec('/something/new')!;
    expect(rewritePath(r, { route: r, captures }, '/something/new?x=1', '/something/new')).toBe('/new?x=1');
    const c2 = /^\/something(\/|$)(.*)/i.exec('/something')!;
    expect(rewritePath(r, { route: r, captures: c2 }, '/something', '/something')).toBe('/');
  });
  it('matches IPv4, IPv6 and mapped addresses', () => {
    const ranges = parseAnnotations({ [N + 'whitelist-source-range']: '127.0.0.0/8,fd00::/8' }).allowSourceRange!;
    expect(sourceAllowed(ranges, '127.0.0.5')).toBe(true);
    expect(sourceAllowed(ranges, '::ffff:127.0.0.5')).toBe(true);
    expect(sourceAllowed(ranges, 'fd00::1')).toBe(true);
    expect(sourceAllowed(ranges, '10.0.0.1')).toBe(false);
    expect(sourceAllowed(ranges, 'garbage')).toBe(false);
  });
});
