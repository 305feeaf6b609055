import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resourceFor } from '../../../src/api/resources.js';
import {
  SelectorError,
  checkFieldSelector,
  fieldsForObject,
  labelSelectorString,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  selectorFromLabelSelector,
  selectorFromSet,
} from '../../../src/api/selectors.js';

const info = (group: string, resource: string) => resourceFor(group, resource)!;

describe('parseLabelSelector', () => {
  // [selector, labels, expected match] — cases from apimachinery's selector_test.go semantics.
  const cases: [string, Record<string, string>, boolean][] = [
    ['', { a: 'b' }, true],
    ['a=b', { a: 'b' }, true],
    ['a==b', { a: 'b' }, true],
    ['a=b', { a: 'c' }, false],
    ['a=b', {}, false],
    ['a!=b', { a: 'c' }, true],
    ['a!=b', {}, true],
    ['a!=b', { a: 'b' }, false],
    ['a in (b,c)', { a: 'c' }, true],
    ['a in (b,c)', { a: 'd' }, false],
    ['a in (b,c)', {}, false],
    ['a notin (b,c)', { a: 'd' }, true],
    ['a notin (b,c)', {}, true],
    ['a notin (b,c)', { a: 'b' }, false],
    ['a', { a: '' }, true],
    ['a', { b: '' }, false],
    ['!a', { b: 'x' }, true],
    ['!a', { a: 'x' }, false],
    ['a=b,c=d', { a: 'b', c: 'd' }, true],
    ['a=b,c=d', { a: 'b' }, false],
    ['  a = b ,  c  ', { a: 'b', c: '' }, true],
    ['a=', { a: '' }, true],
    ['a=', { a: 'x' }, false],
    ['a in ()', { a: '' }, true],
    ['x in (foo,,baz)', { x: '' }, true],
    ['a>5', { a: '6' }, true],
    ['a>5', { a: '5' }, false],
    ['a<5', { a: '4' }, true],
    ['a<5', { a: 'x' }, false],
    ['example.com/a=b', { 'example.com/a': 'b' }, true],
    ['in in (in)', { in: 'in' }, true],
    ['!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless', {}, true],
    ['!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless', { 'service.kubernetes.io/headless': '' }, false],
  ];
  it.each(cases)('%j on %j → %s', (text, labels, want) => {
    expect(matchesLabels(parseLabelSelector(text), labels)).toBe(want);
  });

  it('sorts requirements by key and prints the canonical form', () => {
    expect(labelSelectorString(parseLabelSelector('z=1, a in (y,x), !m, k'))).toBe('a in (x,y),k,!m,z=1');
  });

  const errors: [string, string][] = [
    ['a=b,', "found '', expected: identifier after ','"],
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['=b', "found '=', expected: !, identifier, or 'end of string'"],
    ['a in b', "unable to parse requirement: found 'b' expected: '('"],
    ['a in (b', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a=(b)', "unable to parse requirement: found '(', expected: identifier"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    [
      'a=b$',
      `unable to parse requirement: values[0][a]: Invalid value: "b$": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    ],
    [
      'a/b/c=d',
      `unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ],
    ['a>x', `unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer`],
  ];
  it.each(errors)('rejects %j', (text, msg) => {
    let err: unknown;
    try {
      parseLabelSelector(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SelectorError);
    expect((err as Error).message).toBe(msg);
  });
});

describe('selectorFromLabelSelector / selectorFromSet', () => {
  it('nil selects nothing, {} selects everything', () => {
    expect(matchesLabels(selectorFromLabelSelector(undefined), {})).toBe(false);
    expect(matchesLabels(selectorFromLabelSelector(null), { a: 'b' })).toBe(false);
    expect(matchesLabels(selectorFromLabelSelector({}), { a: 'b' })).toBe(true);
  });
  it('combines matchLabels and matchExpressions', () => {
    const sel = selectorFromLabelSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['fe', 'be'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'zone', operator: 'Exists' },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
      ],
    });
    expect(matchesLabels(sel, { app: 'web', tier: 'fe', zone: 'a' })).toBe(true);
    expect(matchesLabels(sel, { app: 'web', tier: 'fe', zone: 'a', canary: '1' })).toBe(false);
    expect(matchesLabels(sel, { app: 'web', tier: 'fe', zone: 'a', env: 'prod' })).toBe(false);
    expect(matchesLabels(sel, { app: 'web', tier: 'x', zone: 'a' })).toBe(false);
    expect(labelSelectorString(sel)).toBe('app=web,!canary,env notin (prod),tier in (be,fe),zone');
  });
  it('rejects an unknown operator and empty In values', () => {
    expect(() => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] })).toThrow('"Gt" is not a valid label selector operator');
    expect(() => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).toThrow(
      "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
    );
  });
  it('selectorFromSet matches supersets only', () => {
    const sel = selectorFromSet({ app: 'web', tier: 'fe' });
    expect(matchesLabels(sel, { app: 'web', tier: 'fe', x: 'y' })).toBe(true);
    expect(matchesLabels(sel, { app: 'web' })).toBe(false);
    expect(matchesLabels(selectorFromSet({}), {})).toBe(true);
    expect(labelSelectorString(sel)).toBe('app=web,tier=fe');
  });
});

describe('field selectors', () => {
  const pod = {
    metadata: { name: 'p1', namespace: 'ns1' },
    spec: { nodeName: 'n1', containers: [], restartPolicy: 'Always', schedulerName: 'default-scheduler', hostNetwork: false },
    status: { phase: 'Running', podIPs: [{ ip: '10.0.0.5' }] },
  };
  it('parses =, ==, != and escapes', () => {
    expect(parseFieldSelector('a=b,c==d,e!=f').requirements).toEqual([
      { field: 'a', operator: '=', value: 'b' },
      { field: 'c', operator: '==', value: 'd' },
      { field: 'e', operator: '!=', value: 'f' },
    ]);
    expect(parseFieldSelector('a=x\\,y').requirements).toEqual([{ field: 'a', operator: '=', value: 'x,y' }]);
    expect(parseFieldSelector('').requirements).toEqual([]);
  });
  it('rejects a term without an operator', () => {
    expect(() => parseFieldSelector('a=b,c')).toThrow("invalid selector: 'a=b,c'; can't understand 'c'");
  });
  it('matches pod fields the scheduler and kubelet use', () => {
    const f = fieldsForObject(info('', 'pods'), pod as never);
    expect(f['status.podIP']).toBe('10.0.0.5');
    expect(f['spec.hostNetwork']).toBe('false');
    expect(matchesFields(parseFieldSelector('spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed'), f)).toBe(true);
    expect(matchesFields(parseFieldSelector('spec.nodeName=n2'), f)).toBe(false);
    expect(matchesFields(parseFieldSelector('metadata.name=p1,metadata.namespace=ns1'), f)).toBe(true);
    expect(matchesFields(parseFieldSelector('spec.nodeName='), fieldsForObject(info('', 'pods'), { metadata: { name: 'x' }, spec: {} } as never))).toBe(true);
  });
  it('knows per-kind fields and rejects others with upstream text', () => {
    expect(() => checkFieldSelector(info('', 'pods'), parseFieldSelector('spec.foo=1'))).toThrow('field label not supported: spec.foo');
    expect(() => checkFieldSelector(info('', 'services'), parseFieldSelector('spec.nodeName=1'))).toThrow('field label not supported: spec.nodeName');
    expect(() => checkFieldSelector(info('', 'secrets'), parseFieldSelector('type=Opaque'))).not.toThrow();
    expect(() => checkFieldSelector(info('', 'nodes'), parseFieldSelector('spec.unschedulable=false'))).not.toThrow();
    expect(() => checkFieldSelector(info('apps', 'replicasets'), parseFieldSelector('status.replicas=0'))).not.toThrow();
    expect(() => checkFieldSelector(info('', 'events'), parseFieldSelector('involvedObject.kind=Service,involvedObject.uid=u'))).not.toThrow();
    const ev = fieldsForObject(info('', 'events'), { metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'p' }, source: { component: 'kubelet' } } as never);
    expect(ev['source']).toBe('kubelet');
    expect(ev['involvedObject.kind']).toBe('Pod');
    const ns = fieldsForObject(info('', 'namespaces'), { metadata: { name: 'a' }, status: { phase: 'Active' } } as never);
    expect(ns['status.phase']).toBe('Active');
    expect(() => checkFieldSelector(info('', 'namespaces'), parseFieldSelector('metadata.namespace=x'))).toThrow('field label not supported: metadata.namespace');
    expect(() => checkFieldSelector(info('', 'nodes'), parseFieldSelector('metadata.namespace=x'))).toThrow('field label not supported: metadata.namespace');
    // Other cluster-scoped kinds accept it, and it matches only the empty value.
    const ic = info('networking.k8s.io', 'ingressclasses');
    const sel = checkFieldSelector(ic, parseFieldSelector('metadata.namespace=x'));
    expect(matchesFields(sel, fieldsForObject(ic, { metadata: { name: 'nginx' } }))).toBe(false);
    expect(matchesFields(checkFieldSelector(ic, parseFieldSelector('metadata.namespace=')), fieldsForObject(ic, { metadata: { name: 'nginx' } }))).toBe(true);
  });
  it('maps the legacy spec.host alias for pods', () => {
    const sel = checkFieldSelector(info('', 'pods'), parseFieldSelector('spec.host=n1'));
    expect(sel.requirements).toEqual([{ field: 'spec.nodeName', operator: '=', value: 'n1' }]);
    expect(matchesFields(sel, fieldsForObject(info('', 'pods'), pod as never))).toBe(true);
  });
});

describe('label selector properties', () => {
  const key = fc.oneof(fc.constantFrom('app', 'tier', 'example.com/x', 'zone', 'a.b-c/D_e.f'), fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/));
  const value = fc.stringMatching(/^([A-Za-z0-9]([A-Za-z0-9_.-]{0,6}[A-Za-z0-9])?)?$/);
  const labels = fc.dictionary(fc.constantFrom('app', 'tier', 'example.com/x', 'zone'), fc.constantFrom('', 'a', 'b', 'web'));
  it('printing and re-parsing a selector selects the same objects', () => {
    const req = fc.oneof(
      fc.record({ k: key, v: value }).map(({ k, v }) => `${k}=${v}`),
      fc.record({ k: key, v: value }).map(({ k, v }) => `${k}!=${v}`),
      fc.record({ k: key, vs: fc.array(value, { minLength: 1, maxLength: 3 }) }).map(({ k, vs }) => `${k} in (${vs.join(',')})`),
      fc.record({ k: key, vs: fc.array(value, { minLength: 1, maxLength: 3 }) }).map(({ k, vs }) => `${k} notin (${vs.join(',')})`),
      key,
      key.map((k) => `!${k}`),
    );
    fc.assert(
      fc.property(fc.array(req, { minLength: 1, maxLength: 4 }), labels, (reqs, ls) => {
        let sel;
        try {
          sel = parseLabelSelector(reqs.join(','));
        } catch (e) {
          // Some generated texts are invalid upstream too (e.g. `in (,,)`); only valid ones must round-trip.
          expect(e).toBeInstanceOf(SelectorError);
          return;
        }
        const again = parseLabelSelector(labelSelectorString(sel));
        expect(matchesLabels(again, ls)).toBe(matchesLabels(sel, ls));
        expect(labelSelectorString(again)).toBe(labelSelectorString(sel));
      }),
    );
  });
  it('selectorFromSet matches exactly the label sets that contain the set', () => {
    fc.assert(
      fc.property(labels, labels, (set, ls) => {
        const want = Object.entries(set).every(([k, v]) => ls[k] === v);
        expect(matchesLabels(selectorFromSet(set), ls)).toBe(want);
        expect(matchesLabels(parseLabelSelector(labelSelectorString(selectorFromSet(set))), ls)).toBe(want);
      }),
    );
  });
  it('selectorFromLabelSelector throws only SelectorError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        try {
          selectorFromLabelSelector(v as never);
        } catch (e) {
          expect(e).toBeInstanceOf(SelectorError);
        }
        try {
          selectorFromLabelSelector({ matchExpressions: [v] } as never);
        } catch (e) {
          expect(e).toBeInstanceOf(SelectorError);
        }
      }),
    );
  });
  it('never throws anything but SelectorError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '=', '!', '(', ')', ',', ' ', 'in', 'notin', '/', '.', '-', '<', '>', '1') , maxLength: 20 }), (text) => {
        try {
          parseLabelSelector(text);
        } catch (e) {
          expect(e).toBeInstanceOf(SelectorError);
        }
        try {
          parseFieldSelector(text);
        } catch (e) {
          expect(e).toBeInstanceOf(SelectorError);
        }
      }),
    );
  });
});
