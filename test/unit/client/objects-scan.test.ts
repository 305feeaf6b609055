import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectsFileError, ObjectsFileScanner, parseObjects, type ScannedObject } from '../../../src/api/objects-file.js';
import type { KubeObject } from '../../../src/api/types.js';

const dir = mkdtempSync(join(tmpdir(), 'kp-objects-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function scanText(text: string, scanner?: ObjectsFileScanner): { objects: (KubeObject | undefined)[]; entries: ScannedObject[]; restarts: number } {
  const path = join(dir, `f${files++}`);
  writeFileSync(path, text);
  const s = scanner ?? new ObjectsFileScanner(path);
  let entries: ScannedObject[] = [];
  let restarts = 0;
  s.scan({ object: (e) => entries.push(e), restart: () => ((entries = []), restarts++) });
  return { objects: entries.map((e) => e.object), entries, restarts };
}

const svc = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns' }, spec: { ports: [{ port: 80 }] }, ...extra }) as KubeObject;

describe('ObjectsFileScanner', () => {
  it('streams a JSON List bigger than its read chunks item by item, strings with braces, quotes, escapes and multi-byte text intact', () => {
    const tricky = 'a "quoted" {brace} [bracket] \\ back\\slash ünïcødé 🚀 \u0001';
    const items = Array.from({ length: 5000 }, (_, i) => svc(`s${i}`, { metadata: { name: `s${i}`, namespace: 'ns', annotations: { note: tricky.repeat(1 + (i % 7)) } } }));
    const text = JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '' }, items }, null, 1);
    expect(text.length).toBeGreaterThan(2 << 20);
    const r = scanText(text);
    expect(r.restarts).toBe(0);
    expect(r.objects).toEqual(parseObjects(text));
    expect(r.entries[5]!.name).toBe('s5');
  });

  it('gives what parseObjects gives for JSON shapes it does not cut or cuts late', () => {
    const cases = [
      // kind after items
      JSON.stringify({ items: [svc('a'), svc('b')], apiVersion: 'v1', kind: 'ServiceList' }),
      // nested List
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [svc('a'), { apiVersion: 'v1', kind: 'List', items: [svc('b')] }] }),
      // one object
      JSON.stringify(svc('one')),
      // an object that is not a List but has an items field
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, items: [{ x: 1 }] }),
      // an empty List, and whitespace around
      '  \n' + JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [] }) + '\n\n',
      // a YAML flow mapping (not JSON)
      '{apiVersion: v1, kind: Service, metadata: {name: flow}}',
    ];
    for (const text of cases) expect(scanText(text).objects).toEqual(parseObjects(text));
  });

  it('reports a bad file with the whole-file parser\'s message', () => {
    for (const text of ['{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"}},{"broken"', '{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Service"}]}']) {
      let want: unknown;
      try {
        parseObjects(text, 'x');
      } catch (err) {
        want = err;
      }
      expect(want).toBeInstanceOf(ObjectsFileError);
      expect(() => scanText(text)).toThrow(ObjectsFileError);
    }
  });

  it('fingerprints by content: equal objects in other formatting match, an edit does not', () => {
    const a = scanText(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [svc('a'), svc('b')] })).entries;
    const b = scanText(`apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: ns}\nspec:\n  ports:\n  - port: 80\n---\n${JSON.stringify(svc('b', { spec: { ports: [{ port: 81 }] } }))}\n`).entries;
    expect(b[0]!.fingerprint).toBe(a[0]!.fingerprint);
    expect(b[1]!.fingerprint).not.toBe(a[1]!.fingerprint);
  });

  it('does not parse unchanged YAML documents again, and keeps none of their objects', () => {
    const path = join(dir, 'docs.yaml');
    const s = new ObjectsFileScanner(path);
    const doc = (name: string, port: number): string => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports:\n  - port: ${port}\n`;
    writeFileSync(path, [doc('a', 1), doc('b', 2)].join('---\n'));
    const first: ScannedObject[] = [];
    s.scan({ object: (e) => first.push(e), restart: () => undefined });
    expect(first.map((e) => e.object?.metadata.name)).toEqual(['a', 'b']);
    writeFileSync(path, [doc('a', 1), doc('b', 3)].join('---\n'));
    const second: ScannedObject[] = [];
    s.scan({ object: (e) => second.push(e), restart: () => undefined });
    expect(second.map((e) => [e.name, e.object === undefined])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(second[0]!.fingerprint).toBe(first[0]!.fingerprint);
    expect(second[1]!.fingerprint).not.toBe(first[1]!.fingerprint);
    s.forget();
    const third: ScannedObject[] = [];
    s.scan({ object: (e) => third.push(e), restart: () => undefined });
    expect(third.every((e) => e.object !== undefined)).toBe(true);
  });
});
