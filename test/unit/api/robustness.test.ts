// Objects arrive from users: whatever JSON they send, defaulting, validation, field extraction
// and Table rendering must answer with errors or cells, never throw (a throw would be a 500
// from a long-running server).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyDefaults, normalizeClusterIPs } from '../../../src/api/defaults.js';
import { RESOURCES } from '../../../src/api/resources.js';
import { fieldsForObject } from '../../../src/api/selectors.js';
import type { KubeObject } from '../../../src/api/types.js';
import { formatFieldError, invalidStatus, validateObject, validateStatusUpdate } from '../../../src/api/validation/index.js';
import { toTable } from '../../../src/apiserver/table.js';

// JSON shaped roughly like the kinds, so the generator reaches deep fields, plus arbitrary JSON anywhere.
const anyJson = fc.jsonValue({ maxDepth: 3 });
const fieldNames = ['spec', 'status', 'metadata', 'ports', 'containers', 'selector', 'template', 'rules', 'http', 'paths', 'backend', 'service', 'port', 'endpoints', 'addresses', 'clusterIPs', 'ipFamilies', 'type', 'name', 'data', 'labels', 'strategy', 'rollingUpdate', 'matchLabels', 'matchExpressions', 'subsets', 'tls', 'hosts', 'parameters', 'conditions', 'containerStatuses', 'state', 'podIPs', 'involvedObject', 'loadBalancer', 'ingress'];
const shaped: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyJson,
    fc.dictionary(fc.constantFrom(...fieldNames), tie('node'), { maxKeys: 5 }),
    fc.array(tie('node'), { maxLength: 3 }),
  ),
})).node;
const object = fc.record({ metadata: fc.oneof(shaped, fc.record({ name: fc.string(), namespace: fc.string(), labels: shaped })), spec: shaped, status: shaped, data: shaped, addressType: shaped, endpoints: shaped, ports: shaped, subsets: shaped, type: shaped, involvedObject: shaped });

describe('no input makes the API helpers throw', () => {
  for (const info of RESOURCES) {
    it(`${info.group || 'core'}/${info.resource}`, () => {
      fc.assert(
        fc.property(object, object, (a, b) => {
          const obj = a as unknown as KubeObject;
          const old = b as unknown as KubeObject;
          applyDefaults(info, obj);
          normalizeClusterIPs(obj, old);
          const errs = [...validateObject(info, obj), ...validateObject(info, obj, old), ...validateStatusUpdate(info, obj, old)];
          for (const e of errs) expect(typeof formatFieldError(e)).toBe('string');
          expect(invalidStatus(info.kind, 'x', errs).code).toBe(422);
          fieldsForObject(info, obj);
          const t = toTable(info, [obj, old], {}, {}, new Date());
          expect(t.rows).toHaveLength(2);
          JSON.stringify(t);
        }),
        { numRuns: 150 },
      );
    });
  }
});
