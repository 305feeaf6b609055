import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, serverSideApply } from '../../../../src/apiserver/patch/index.js';
import { decodeProtobuf, encodeProtobuf } from '../../../../src/apiserver/protobuf/index.js';
import { unknownFields } from '../../../../src/apiserver/openapi/index.js';
import { resourceFor } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';

const services = resourceFor('', 'services')!;
const dnsLabel = fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$/);
const labels = fc.dictionary(dnsLabel, dnsLabel, { maxKeys: 4 });
const port = fc.record(
  {
    port: fc.integer({ min: 1, max: 65535 }),
    protocol: fc.constantFrom('TCP', 'UDP'),
    targetPort: fc.oneof(fc.integer({ min: 1, max: 65535 }), dnsLabel),
    name: dnsLabel,
  },
  { requiredKeys: ['port', 'protocol'] },
);
const ports = fc.uniqueArray(port, { selector: (p) => p.port, maxLength: 5 });
const service = fc.record({ name: dnsLabel, labels, selector: labels, ports, type: fc.constantFrom('ClusterIP', 'NodePort') }).map(
  ({ name, labels: l, selector, ports: p, type }) =>
    ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', labels: l }, spec: { type, selector, ports: p } }) as KubeObject,
);
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string(), fc.boolean(), fc.array(tie('value'), { maxLength: 3 }), tie('object')),
  object: fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), tie('value'), { maxKeys: 4 }),
})).value;
const jsonObject = fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), json, { maxKeys: 5 });

describe('patch properties', () => {
  it('merge patches are idempotent and set every non-null key they carry', () => {
    fc.assert(
      fc.property(jsonObject, jsonObject, (doc, patch) => {
        const once = applyMergePatch(doc, patch) as Record<string, unknown>;
        expect(applyMergePatch(once, patch)).toEqual(once);
        for (const [k, v] of Object.entries(patch)) if (v !== null && (typeof v !== 'object' || Array.isArray(v))) expect(once[k]).toEqual(v);
      }),
    );
  });

  it('JSON patch: add at a new key then remove it gives back the document', () => {
    fc.assert(
      fc.property(jsonObject, json, (doc, value) => {
        const key = '/__new~1key';
        const added = applyJsonPatch(doc, [{ op: 'add', path: key, value }]) as Record<string, unknown>;
        expect(added['__new/key']).toEqual(value);
        expect(applyJsonPatch(added, [{ op: 'remove', path: key }])).toEqual(doc);
      }),
    );
  });

  it('strategic merge patches of Services are idempotent and keep every port not named', () => {
    fc.assert(
      fc.property(service, service, (live, desired) => {
        const patch = { metadata: { labels: desired.metadata.labels }, spec: (desired as any).spec };
        const once = applyStrategicMergePatch(services, live, patch) as any;
        expect(applyStrategicMergePatch(services, once, patch)).toEqual(once);
        const byPort = new Map(once.spec.ports.map((p: any) => [p.port, p]));
        for (const p of (live as any).spec.ports) expect(byPort.has(p.port)).toBe(true);
        for (const p of (desired as any).spec.ports) expect(byPort.get(p.port)).toMatchObject(p);
      }),
    );
  });

  it('server-side apply: re-applying is a no-op, and applied values always land', () => {
    fc.assert(
      fc.property(service, service, (first, second) => {
        const opts = { fieldManager: 'kubectl', force: true, time: '2026-11-23T10:00:00Z' };
        const a = serverSideApply(services, undefined, first, opts);
        const b = serverSideApply(services, a, { ...second, metadata: { ...second.metadata, name: first.metadata.name } }, opts) as any;
        expect(serverSideApply(services, b, { ...second, metadata: { ...second.metadata, name: first.metadata.name } }, { ...opts, time: '2026-11-24T00:00:00Z' })).toEqual(b);
        // The manager alone owned the first config, so what it stopped applying is gone.
        expect(b.spec.ports.map((p: any) => p.port).sort()).toEqual((second as any).spec.ports.map((p: any) => p.port).sort());
        expect(b.metadata.labels ?? {}).toEqual(second.metadata.labels);
      }),
    );
  });

  it('protobuf round trips generated Services, and they have no unknown fields', () => {
    fc.assert(
      fc.property(service, (svc) => {
        expect(decodeProtobuf(encodeProtobuf(svc))).toEqual(dropEmpty(svc));
        expect(unknownFields(services, svc)).toEqual([]);
      }),
    );
  });
});

// Go drops empty maps on the wire and in JSON (omitempty); so does the decoder.
function dropEmpty(obj: KubeObject): KubeObject {
  const o = JSON.parse(JSON.stringify(obj));
  if (Object.keys(o.metadata.labels).length === 0) delete o.metadata.labels;
  if (Object.keys(o.spec.selector).length === 0) delete o.spec.selector;
  if (o.spec.ports.length === 0) delete o.spec.ports;
  return o;
}
