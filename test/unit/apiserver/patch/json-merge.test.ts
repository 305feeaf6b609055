import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch, PatchError } from '../../../../src/apiserver/patch/index.js';

const svc = () => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', labels: { app: 'web', 'a/b': 'x' } },
  spec: { ports: [{ port: 80 }, { port: 443 }], selector: { app: 'web' } },
});

describe('applyJsonPatch (RFC 6902)', () => {
  const cases: [string, unknown[], (d: any) => void][] = [
    ['add a field', [{ op: 'add', path: '/spec/type', value: 'NodePort' }], (d) => expect(d.spec.type).toBe('NodePort')],
    ['add into a list', [{ op: 'add', path: '/spec/ports/1', value: { port: 8080 } }], (d) => expect(d.spec.ports.map((p: any) => p.port)).toEqual([80, 8080, 443])],
    ['append with -', [{ op: 'add', path: '/spec/ports/-', value: { port: 9 } }], (d) => expect(d.spec.ports[2]).toEqual({ port: 9 })],
    ['remove', [{ op: 'remove', path: '/spec/ports/0' }], (d) => expect(d.spec.ports).toEqual([{ port: 443 }])],
    ['replace', [{ op: 'replace', path: '/spec/selector/app', value: 'api' }], (d) => expect(d.spec.selector.app).toBe('api')],
    ['escaped pointer tokens', [{ op: 'replace', path: '/metadata/labels/a~1b', value: 'y' }], (d) => expect(d.metadata.labels['a/b']).toBe('y')],
    ['move', [{ op: 'move', from: '/spec/selector', path: '/metadata/annotations' }], (d) => {
      expect(d.spec.selector).toBeUndefined();
      expect(d.metadata.annotations).toEqual({ app: 'web' });
    }],
    ['copy', [{ op: 'copy', from: '/spec/ports/1', path: '/spec/ports/0' }], (d) => expect(d.spec.ports.map((p: any) => p.port)).toEqual([443, 80, 443])],
    ['test then replace', [{ op: 'test', path: '/metadata/name', value: 'web' }, { op: 'replace', path: '/metadata/name', value: 'x' }], (d) => expect(d.metadata.name).toBe('x')],
  ];
  it.each(cases)('%s', (_name, ops, check) => {
    const doc = svc();
    const before = JSON.stringify(doc);
    check(applyJsonPatch(doc, ops));
    expect(JSON.stringify(doc)).toBe(before);
  });

  const failures: [string, unknown, number, RegExp][] = [
    ['not a list', { op: 'add' }, 400, /cannot unmarshal/],
    ['unknown op', [{ op: 'frob', path: '/a' }], 400, /Unexpected kind: frob/],
    ['missing value', [{ op: 'add', path: '/a' }], 400, /needs "value"/],
    ['failed test', [{ op: 'test', path: '/metadata/name', value: 'other' }], 422, /testing value \/metadata\/name failed/],
    ['remove a missing key', [{ op: 'remove', path: '/spec/nope' }], 422, /missing path/],
    ['replace a missing key', [{ op: 'replace', path: '/spec/nope', value: 1 }], 422, /missing key/],
    ['index out of range', [{ op: 'add', path: '/spec/ports/7', value: {} }], 422, /out of bounds/],
    ['parent missing', [{ op: 'add', path: '/x/y/z', value: 1 }], 422, /missing path/],
  ];
  it.each(failures)('rejects %s', (_name, ops, code, msg) => {
    let err: unknown;
    try {
      applyJsonPatch(svc(), ops);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatchError);
    const pe = err as PatchError;
    expect(pe.code).toBe(code);
    expect(pe.message + ' ' + pe.causes.map((c) => c.message).join(' ')).toMatch(msg);
  });
});

describe('applyMergePatch (RFC 7386)', () => {
  it.each([
    ['sets and deletes keys', { metadata: { labels: { app: null, tier: 'fe' } } }, (d: any) => expect(d.metadata.labels).toEqual({ 'a/b': 'x', tier: 'fe' })],
    ['replaces lists whole', { spec: { ports: [{ port: 1 }] } }, (d: any) => expect(d.spec.ports).toEqual([{ port: 1 }])],
    ['label patch as kubectl label sends it', { metadata: { labels: { a: 'b' } } }, (d: any) => expect(d.metadata.labels.a).toBe('b')],
    ['scale patch', { spec: { replicas: 3 } }, (d: any) => expect(d.spec.replicas).toBe(3)],
    ['an object replaces a scalar', { spec: { selector: 'x' } }, (d: any) => expect(d.spec.selector).toBe('x')],
  ])('%s', (_n, patch, check) => check(applyMergePatch(svc(), patch)));

  it('rejects a non-object patch with 400', () => {
    expect(() => applyMergePatch(svc(), [1])).toThrow(PatchError);
    try {
      applyMergePatch(svc(), 'x');
    } catch (e) {
      expect((e as PatchError).code).toBe(400);
    }
  });
});
