import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, beforeEach } from 'vitest';
import type { Ingress, IngressClass } from '../../../src/api/types.js';
import { ownsIngress, projectIngress, IngressRejectedError, type ClassSelection } from '../../../src/ingress/routes.js';
import { TableBuilder, renderTable, hostFromHeader, type RouteTable } from '../../../src/ingress/table.js';
import { ingress, resetClock, type PathSpec } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));

function tableOf(...ings: Ingress[]): RouteTable {
  const b = new TableBuilder();
  for (const i of ings) b.set(`${i.metadata.namespace}/${i.metadata.name}`, projectIngress(i));
  return b.build().table;
}

/** The Service a request reaches: 'svc' name, 'fallback:svc', or '404'. */
function route(t: RouteTable, host: string, path: string): string {
  const h = t.hostFor(hostFromHeader(host));
  const m = h.match(path);
  if (m) return m.route.backend.upstreamKey.replace(/^default\//, '').replace(/:80$/, '');
  if (h.routes.fallback) return 'fallback:' + h.routes.fallback.backend.upstreamKey.replace(/^default\//, '').replace(/:80$/, '');
  return '404';
}

beforeEach(() => resetClock());

interface PathCase {
  name: string;
  paths: PathSpec[];
  request: string;
  want: string;
}

// The Kubernetes documentation's examples table (concepts/services-networking/ingress, "Examples").
const docsTable: PathCase[] = [
  { name: 'Prefix / matches all paths', paths: [{ path: '/', type: 'Prefix', service: 'a' }], request: '/anything/at/all', want: 'a' },
  { name: 'Exact /foo matches /foo', paths: [{ path: '/foo', type: 'Exact', service: 'a' }], request: '/foo', want: 'a' },
  { name: 'Exact /foo does not match /bar', paths: [{ path: '/foo', type: 'Exact', service: 'a' }], request: '/bar', want: '404' },
  { name: 'Exact /foo does not match /foo/', paths: [{ path: '/foo', type: 'Exact', service: 'a' }], request: '/foo/', want: '404' },
  { name: 'Exact /foo/ does not match /foo', paths: [{ path: '/foo/', type: 'Exact', service: 'a' }], request: '/foo', want: '404' },
  { name: 'Prefix /foo matches /foo', paths: [{ path: '/foo', service: 'a' }], request: '/foo', want: 'a' },
  { name: 'Prefix /foo matches /foo/', paths: [{ path: '/foo', service: 'a' }], request: '/foo/', want: 'a' },
  { name: 'Prefix /foo/ matches /foo', paths: [{ path: '/foo/', service: 'a' }], request: '/foo', want: 'a' },
  { name: 'Prefix /foo/ matches /foo/', paths: [{ path: '/foo/', service: 'a' }], request: '/foo/', want: 'a' },
  { name: 'Prefix /aaa/bb does not match /aaa/bbb', paths: [{ path: '/aaa/bb', service: 'a' }], request: '/aaa/bbb', want: '404' },
  { name: 'Prefix /aaa/bbb matches /aaa/bbb', paths: [{ path: '/aaa/bbb', service: 'a' }], request: '/aaa/bbb', want: 'a' },
  { name: 'Prefix /aaa/bbb/ matches /aaa/bbb (rule trailing slash ignored)', paths: [{ path: '/aaa/bbb/', service: 'a' }], request: '/aaa/bbb', want: 'a' },
  { name: 'Prefix /aaa/bbb matches /aaa/bbb/ (request trailing slash)', paths: [{ path: '/aaa/bbb', service: 'a' }], request: '/aaa/bbb/', want: 'a' },
  { name: 'Prefix /aaa/bbb matches /aaa/bbb/ccc (subpath)', paths: [{ path: '/aaa/bbb', service: 'a' }], request: '/aaa/bbb/ccc', want: 'a' },
  { name: 'Prefix /aaa/bbb does not match /aaa/bbbxyz (not a string prefix)', paths: [{ path: '/aaa/bbb', service: 'a' }], request: '/aaa/bbbxyz', want: '404' },
  { name: 'Prefix /, /aaa: /aaa/ccc via /aaa', paths: [{ path: '/', service: 'root' }, { path: '/aaa', service: 'aaa' }], request: '/aaa/ccc', want: 'aaa' },
  { name: 'Prefix /, /aaa, /aaa/bbb: /aaa/bbb via /aaa/bbb', paths: [{ path: '/', service: 'root' }, { path: '/aaa', service: 'aaa' }, { path: '/aaa/bbb', service: 'bbb' }], request: '/aaa/bbb', want: 'bbb' },
  { name: 'Prefix /, /aaa, /aaa/bbb: /ccc via /', paths: [{ path: '/', service: 'root' }, { path: '/aaa', service: 'aaa' }, { path: '/aaa/bbb', service: 'bbb' }], request: '/ccc', want: 'root' },
  { name: 'Prefix /aaa: /ccc has no match (default backend)', paths: [{ path: '/aaa', service: 'aaa' }], request: '/ccc', want: '404' },
  { name: 'Mixed /foo Prefix and Exact: /foo prefers Exact', paths: [{ path: '/foo', type: 'Prefix', service: 'prefix' }, { path: '/foo', type: 'Exact', service: 'exact' }], request: '/foo', want: 'exact' },
];

const moreCases: PathCase[] = [
  { name: 'Exact is case-sensitive', paths: [{ path: '/foo', type: 'Exact', service: 'a' }], request: '/FOO', want: '404' },
  { name: 'Prefix is case-sensitive', paths: [{ path: '/foo', service: 'a' }], request: '/Foo/bar', want: '404' },
  { name: 'Mixed, listed Exact first: still Exact', paths: [{ path: '/foo', type: 'Exact', service: 'exact' }, { path: '/foo', type: 'Prefix', service: 'prefix' }], request: '/foo', want: 'exact' },
  { name: 'Mixed: /foo/x goes to Prefix', paths: [{ path: '/foo', type: 'Prefix', service: 'prefix' }, { path: '/foo', type: 'Exact', service: 'exact' }], request: '/foo/x', want: 'prefix' },
  { name: '/foo and /foo/ both Prefix: longer rule path wins', paths: [{ path: '/foo', service: 'short' }, { path: '/foo/', service: 'long' }], request: '/foo/bar', want: 'long' },
  { name: 'longest Prefix beats shorter Exact', paths: [{ path: '/a', type: 'Exact', service: 'exact' }, { path: '/a/b', service: 'prefix' }], request: '/a/b', want: 'prefix' },
  { name: 'ImplementationSpecific is a string prefix', paths: [{ path: '/foo', type: 'ImplementationSpecific', service: 'is' }], request: '/foobar', want: 'is' },
  { name: 'ImplementationSpecific longest wins', paths: [{ path: '/f', type: 'ImplementationSpecific', service: 'short' }, { path: '/foo', type: 'ImplementationSpecific', service: 'long' }], request: '/food', want: 'long' },
  { name: 'Prefix beats ImplementationSpecific of equal length', paths: [{ path: '/foo', type: 'ImplementationSpecific', service: 'is' }, { path: '/foo', type: 'Prefix', service: 'prefix' }], request: '/foo/x', want: 'prefix' },
  { name: 'query string ignored for matching', paths: [{ path: '/foo', type: 'Exact', service: 'a' }], request: '/foo', want: 'a' },
  { name: 'Prefix does not decode %2F', paths: [{ path: '/a/b', service: 'a' }], request: '/a%2Fb', want: '404' },
];

describe('path matching (Kubernetes docs table)', () => {
  for (const c of docsTable) {
    it(c.name, () => {
      expect(route(tableOf(ingress('ing', [{ host: 'foo.com', paths: c.paths }])), 'foo.com', c.request)).toBe(c.want);
    });
  }
});

describe('path matching (more)', () => {
  for (const c of moreCases) {
    it(c.name, () => {
      expect(route(tableOf(ingress('ing', [{ host: 'foo.com', paths: c.paths }])), 'foo.com', c.request)).toBe(c.want);
    });
  }
});

describe('hosts', () => {
  const t = () =>
    tableOf(
      ingress('exact', [{ host: 'bar.foo.com', paths: [{ path: '/', service: 'exact' }] }]),
      ingress('wild', [{ host: '*.foo.com', paths: [{ path: '/', service: 'wild' }] }]),
      ingress('nohost', [{ paths: [{ path: '/', service: 'nohost' }] }]),
    );
  const cases: [string, string][] = [
    ['bar.foo.com', 'exact'],
    ['BAR.Foo.COM', 'exact'],
    ['bar.foo.com:8080', 'exact'],
    ['bar.foo.com.', 'exact'],
    ['baz.foo.com', 'wild'],
    ['baz.bar.foo.com', 'nohost'],
    ['foo.com', 'nohost'],
    ['', 'nohost'],
    ['10.0.0.1', 'nohost'],
    ['[::1]:80', 'nohost'],
  ];
  for (const [host, want] of cases) it(`${host || '(no Host)'} → ${want}`, () => expect(route(t(), host, '/x')).toBe(want));

  it('an exact host with no matching path does not fall through to the wildcard or no-host server', () => {
    const tb = tableOf(
      ingress('exact', [{ host: 'bar.foo.com', paths: [{ path: '/api', service: 'exact' }] }]),
      ingress('wild', [{ host: '*.foo.com', paths: [{ path: '/', service: 'wild' }] }]),
    );
    expect(route(tb, 'bar.foo.com', '/other')).toBe('404');
  });

  it('a wildcard host matches exactly one label', () => {
    const tb = tableOf(ingress('wild', [{ host: '*.foo.com', paths: [{ path: '/', service: 'wild' }] }]));
    expect(route(tb, 'a.foo.com', '/')).toBe('wild');
    expect(route(tb, 'a.b.foo.com', '/')).toBe('404');
    expect(route(tb, 'foo.com', '/')).toBe('404');
  });
});

describe('merging and precedence across Ingresses', () => {
  it('merges paths of several Ingresses for one host', () => {
    const t = tableOf(ingress('one', [{ host: 'h', paths: [{ path: '/a', service: 'a' }] }]), ingress('two', [{ host: 'h', paths: [{ path: '/b', service: 'b' }] }]));
    expect(route(t, 'h', '/a/1')).toBe('a');
    expect(route(t, 'h', '/b/1')).toBe('b');
  });
  it('the oldest Ingress wins an identical host+path, whatever the insertion order', () => {
    const older = ingress('zzz-older', [{ host: 'h', paths: [{ path: '/a', service: 'older' }] }]);
    const newer = ingress('aaa-newer', [{ host: 'h', paths: [{ path: '/a', service: 'newer' }] }]);
    expect(route(tableOf(newer, older), 'h', '/a')).toBe('older');
    expect(route(tableOf(older, newer), 'h', '/a')).toBe('older');
  });
  it('on equal creation time, namespace/name decides', () => {
    const created = '2026-01-01T00:00:00Z';
    const b = ingress('b', [{ host: 'h', paths: [{ path: '/a', service: 'b' }] }], { created });
    const a = ingress('a', [{ host: 'h', paths: [{ path: '/a', service: 'a' }] }], { created });
    expect(route(tableOf(b, a), 'h', '/a')).toBe('a');
  });
});

describe('default backends', () => {
  it('no rule and no defaultBackend: 404', () => {
    expect(route(tableOf(ingress('i', [{ host: 'h', paths: [{ path: '/a', service: 'a' }] }])), 'other', '/')).toBe('404');
  });
  it('an Ingress with only a defaultBackend takes every unmatched host', () => {
    const t = tableOf(ingress('catchall', [], { defaultBackend: 'def' }), ingress('i', [{ host: 'h', paths: [{ path: '/a', service: 'a' }] }]));
    expect(route(t, 'other', '/x')).toBe('fallback:def');
    expect(route(t, '', '/x')).toBe('fallback:def');
  });
  it('the oldest catch-all wins', () => {
    const t = tableOf(ingress('first', [], { defaultBackend: 'first' }), ingress('second', [], { defaultBackend: 'second' }));
    expect(route(t, 'x', '/')).toBe('fallback:first');
  });
  it('defaultBackend with rules is the fallback of the hosts that Ingress defines first', () => {
    const t = tableOf(
      ingress('owner', [{ host: 'h', paths: [{ path: '/a', service: 'a' }] }], { defaultBackend: 'owner-def' }),
      ingress('later', [{ host: 'h', paths: [{ path: '/b', service: 'b' }] }, { host: 'g', paths: [{ path: '/g', service: 'g' }] }], { defaultBackend: 'later-def' }),
    );
    expect(route(t, 'h', '/zzz')).toBe('fallback:owner-def');
    expect(route(t, 'g', '/zzz')).toBe('fallback:later-def');
    expect(route(t, 'other', '/zzz')).toBe('404');
  });
});

describe('ImplementationSpecific regex mode (use-regex / rewrite-target on the host)', () => {
  it('use-regex on one Ingress makes every path of the host a case-insensitive regex prefix', () => {
    const t = tableOf(
      ingress('plain', [{ host: 'h', paths: [{ path: '/exact', type: 'Exact', service: 'exact' }] }]),
      ingress('re', [{ host: 'h', paths: [{ path: '/api/v[0-9]+', type: 'ImplementationSpecific', service: 're' }] }], { annotations: { 'nginx.ingress.kubernetes.io/use-regex': 'true' } }),
    );
    expect(route(t, 'h', '/api/v2/users')).toBe('re');
    expect(route(t, 'h', '/API/V3')).toBe('re');
    expect(route(t, 'h', '/EXACT/more')).toBe('exact');
    expect(route(t, 'h', '/api/vx')).toBe('404');
  });
  it('rewrite-target captures', () => {
    const t = tableOf(ingress('rw', [{ host: 'h', paths: [{ path: '/something(/|$)(.*)', type: 'ImplementationSpecific', service: 'rw' }] }], { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/$2' } }));
    const m = t.hostFor('h').match('/something/new/path')!;
    expect(m.captures?.[2]).toBe('new/path');
  });
  it('an invalid regex path is skipped and reported, the other paths still work', () => {
    const t = tableOf(ingress('re', [{ host: 'h', paths: [{ path: '/ok', type: 'ImplementationSpecific', service: 'ok' }, { path: '/bad(', type: 'ImplementationSpecific', service: 'bad' }] }], { annotations: { 'kubeplane.io/use-regex': 'true' } }));
    expect(route(t, 'h', '/ok')).toBe('ok');
    expect(t.hostFor('h').invalid.map((i) => i.route.path)).toEqual(['/bad(']);
  });
});

describe('validation of what the API server might not have checked', () => {
  it('rejects a bad Exact path', () => {
    expect(() => projectIngress(ingress('x', [{ host: 'h', paths: [{ path: '/a/../b', type: 'Exact', service: 'a' }] }]))).toThrow(IngressRejectedError);
  });
  it('rejects a misplaced wildcard', () => {
    expect(() => projectIngress(ingress('x', [{ host: 'a.*.com', paths: [{ path: '/', service: 'a' }] }]))).toThrow(/wildcard/);
  });
});

describe('class ownership', () => {
  const sel: ClassSelection = { ingressClass: 'kubeplane', controllerName: 'kubeplane.io/ingress', watchWithoutClass: false };
  const cls = (name: string, controller: string, isDefault = false): IngressClass => ({ metadata: { name, annotations: isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : undefined }, spec: { controller } });
  const ing = (className?: string, legacy?: string): Ingress => ({ metadata: { name: 'i', namespace: 'default', annotations: legacy ? { 'kubernetes.io/ingress.class': legacy } : undefined }, spec: { ingressClassName: className, rules: [] } });
  const classes = [cls('ours', 'kubeplane.io/ingress'), cls('nginx', 'k8s.io/ingress-nginx')];
  it('class field naming our IngressClass', () => expect(ownsIngress(ing('ours'), classes, sel)).toBe(true));
  it('class field naming another controller', () => expect(ownsIngress(ing('nginx'), classes, sel)).toBe(false));
  it('class field naming a missing IngressClass', () => expect(ownsIngress(ing('gone'), classes, sel)).toBe(false));
  it('legacy annotation with our class name', () => expect(ownsIngress(ing(undefined, 'kubeplane'), classes, sel)).toBe(true));
  it('legacy annotation with another name', () => expect(ownsIngress(ing(undefined, 'nginx'), classes, sel)).toBe(false));
  it('no class: not owned by default', () => expect(ownsIngress(ing(), classes, sel)).toBe(false));
  it('no class: owned with --watch-ingress-without-class', () => expect(ownsIngress(ing(), classes, { ...sel, watchWithoutClass: true })).toBe(true));
  it('no class: owned when our IngressClass is the default', () => expect(ownsIngress(ing(), [cls('ours', 'kubeplane.io/ingress', true)], sel)).toBe(true));
});

describe('incremental builds', () => {
  it('recompiles only the hosts an Ingress change touches, and removes hosts that lost all Ingresses', () => {
    const b = new TableBuilder();
    for (let i = 0; i < 50; i++) {
      const ing = ingress(`i${i}`, [{ host: `h${i}.example.com`, paths: [{ path: '/', service: `s${i}` }] }]);
      b.set(`default/i${i}`, projectIngress(ing));
    }
    const first = b.build();
    expect(first.recompiled).toHaveLength(50);
    const moved = ingress('i7', [{ host: 'new.example.com', paths: [{ path: '/', service: 's7' }] }]);
    b.set('default/i7', projectIngress(moved));
    const second = b.build();
    expect(second.recompiled.map((h) => h.routes.host).sort()).toEqual(['new.example.com']);
    expect(second.table.exact.has('h7.example.com')).toBe(false);
    expect(second.table.exact.get('h8.example.com')).toBe(first.table.exact.get('h8.example.com'));
    // the old table is untouched: requests that already looked it up keep their view
    expect(first.table.exact.has('h7.example.com')).toBe(true);
    expect(b.build().recompiled).toHaveLength(0);
  });
});

describe('golden route table', () => {
  it('matches testdata/table.golden', () => {
    const t = tableOf(
      ingress('web', [{ host: 'shop.example.com', paths: [{ path: '/', service: 'web' }, { path: '/api', service: 'api' }, { path: '/health', type: 'Exact', service: 'health' }] }], { tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }] }),
      ingress('web-canary', [{ host: 'shop.example.com', paths: [{ path: '/', service: 'web-v2' }] }], { annotations: { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '10' } }),
      ingress('api-extra', [{ host: 'shop.example.com', paths: [{ path: '/api', service: 'ignored-dup' }, { path: '/cart', service: 'cart' }] }]),
      ingress('wild', [{ host: '*.apps.example.com', paths: [{ path: '/', service: 'apps' }] }], { tls: [{ hosts: ['*.apps.example.com'] }] }),
      ingress('rewrite', [{ host: 'rw.example.com', paths: [{ path: '/v1(/|$)(.*)', type: 'ImplementationSpecific', service: 'v1' }] }], { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/$2' }, defaultBackend: 'rw-default' }),
      ingress('catchall', [], { defaultBackend: 'default-http-backend' }),
      ingress('nohost', [{ paths: [{ path: '/status', type: 'Exact', service: 'status' }] }]),
    );
    const got = renderTable(t);
    const file = join(here, 'testdata', 'table.golden');
    if (process.env.UPDATE_GOLDEN) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, got);
    }
    expect(got).toBe(readFileSync(file, 'utf8'));
  });
});
