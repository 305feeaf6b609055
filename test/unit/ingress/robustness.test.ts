import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Ingress } from '../../../src/api/types.js';
import { IngressRejectedError, ownsIngress, projectIngress } from '../../../src/ingress/routes.js';
import { TableBuilder } from '../../../src/ingress/table.js';

// Objects from --objects files are not validated by an API server: any shape must end in
// either routes or an IngressRejectedError, never another exception.
const anyValue = fc.anything({ maxDepth: 3 });
const pathArb = fc.oneof(fc.constantFrom('/', '/a', '/a/b/', '/(x', '', '/%2F', '/a/../b'), fc.string(), anyValue);
const backendArb = fc.oneof(
  fc.record({ service: fc.record({ name: fc.oneof(fc.constantFrom('svc', ''), anyValue), port: fc.oneof(fc.record({ number: fc.oneof(fc.integer(), anyValue) }), fc.record({ name: fc.oneof(fc.string(), anyValue) }), anyValue) }, { requiredKeys: [] }) }, { requiredKeys: [] }),
  anyValue,
);
const ruleArb = fc.oneof(
  fc.record({ host: fc.oneof(fc.constantFrom('a.test', '*.b.test', 'A.Test.', '*', 'x.*.y'), fc.string(), anyValue), http: fc.oneof(fc.record({ paths: fc.array(fc.record({ path: pathArb, pathType: fc.oneof(fc.constantFrom('Exact', 'Prefix', 'ImplementationSpecific'), fc.string()), backend: backendArb }, { requiredKeys: [] }), { maxLength: 4 }) }), anyValue) }, { requiredKeys: [] }),
  anyValue,
);
const specArb = fc.oneof(fc.record({ rules: fc.oneof(fc.array(ruleArb, { maxLength: 3 }), anyValue), defaultBackend: backendArb, tls: fc.oneof(fc.array(fc.record({ hosts: fc.oneof(fc.array(fc.string()), anyValue), secretName: fc.oneof(fc.string(), anyValue) }, { requiredKeys: [] })), anyValue), ingressClassName: fc.oneof(fc.string(), anyValue) }, { requiredKeys: [] }), anyValue);
const annotationsArb = fc.oneof(fc.dictionary(fc.constantFrom('nginx.ingress.kubernetes.io/use-regex', 'nginx.ingress.kubernetes.io/rewrite-target', 'kubeplane.io/canary', 'nginx.ingress.kubernetes.io/canary-weight', 'nginx.ingress.kubernetes.io/proxy-body-size', 'nginx.ingress.kubernetes.io/whitelist-source-range'), fc.oneof(fc.string(), fc.constantFrom('true', '1m', '50', '10.0.0.0/8'))), fc.constant(undefined));

describe('arbitrary Ingress objects', () => {
  it('project to routes or are rejected; building and matching never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(specArb, annotationsArb), { minLength: 1, maxLength: 5 }), fc.array(fc.string(), { maxLength: 5 }), (items, requests) => {
        const b = new TableBuilder();
        items.forEach(([spec, annotations], i) => {
          const ing = { metadata: { name: `i${i}`, namespace: 'default', annotations }, spec } as unknown as Ingress;
          ownsIngress(ing, [], { ingressClass: 'kubeplane', controllerName: 'kubeplane.io/ingress', watchWithoutClass: true });
          try {
            b.set(`default/i${i}`, projectIngress(ing));
          } catch (err) {
            expect(err).toBeInstanceOf(IngressRejectedError);
          }
        });
        const t = b.build().table;
        for (const r of requests) {
          for (const host of ['a.test', 'x.b.test', '', r]) t.hostFor(host).match('/' + r);
        }
      }),
      { numRuns: 400 },
    );
  });
});
