// OpenAPI v3 component schemas generated from the schema table, in the shape kube-apiserver
// publishes them: `$ref` wrapped in `allOf`, GVK arrays on top-level kinds, and the list and
// patch extensions kubectl reads to compute strategic merge patches.

import { DEFINITIONS, jsonFields, parseType, type FieldExtras, type ParsedType } from './schema-table.js';

const REF = '#/components/schemas/';
const INTSTR = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.Time';
const MICROTIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime';
const FIELDSV1 = 'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1';
export const PATCH_SCHEMA = 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch';
export const STATUS_SCHEMA = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';

// Types that are strings on the wire but have their own named schema upstream.
export const WRAPPER_SCHEMAS: Record<string, object> = {
  [INTSTR]: { description: 'An int32 or a string. When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.', type: 'string', format: 'int-or-string' },
  [QUANTITY]: { description: 'A fixed-point representation of a number, such as "100m" or "2Gi", with SI (decimal) or binary suffixes.', type: 'string' },
  [TIME]: { description: 'A timestamp, serialized as RFC 3339 with second precision.', type: 'string', format: 'date-time' },
  [MICROTIME]: { description: 'A timestamp with microsecond precision, serialized as RFC 3339.', type: 'string', format: 'date-time' },
  [FIELDSV1]: { description: 'A set of fields in the FieldsV1 trie format.', type: 'object' },
  [PATCH_SCHEMA]: { description: 'The body of a PATCH request; its format depends on the Content-Type.', type: 'object' },
  [STATUS_SCHEMA]: {
    description: 'The result of an operation that does not return another object.',
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      code: { type: 'integer', format: 'int32', description: 'Suggested HTTP return code.' },
      message: { type: 'string', description: 'Human-readable description of the status.' },
      reason: { type: 'string', description: 'Machine-readable description of why the operation failed.' },
      status: { type: 'string', description: 'Success or Failure.' },
    },
    'x-kubernetes-group-version-kind': [{ group: '', kind: 'Status', version: 'v1' }],
  },
};

const NAMED_SCALARS: Record<string, string> = { IntOrString: INTSTR, Quantity: QUANTITY, Time: TIME, MicroTime: MICROTIME };

function refTo(name: string): object {
  return { $ref: REF + name };
}

function typeSchema(p: ParsedType, fieldPath: string): Record<string, unknown> {
  switch (p.kind) {
    case 'ref':
      return { default: {}, allOf: [refTo(p.name)] };
    case 'list':
      return { type: 'array', items: typeSchema(p.item, fieldPath) };
    case 'map':
      return { type: 'object', additionalProperties: typeSchema(p.value, fieldPath) };
    case 'scalar':
      if (fieldPath.endsWith('ManagedFieldsEntry.fieldsV1')) return { allOf: [refTo(FIELDSV1)] };
      if (NAMED_SCALARS[p.name]) return { allOf: [refTo(NAMED_SCALARS[p.name]!)] };
      switch (p.name) {
        case 'string':
          return { type: 'string', default: '' };
        case 'int32':
          return { type: 'integer', format: 'int32' };
        case 'int64':
          return { type: 'integer', format: 'int64' };
        case 'boolean':
          return { type: 'boolean' };
        case 'double':
          return { type: 'number', format: 'double' };
        case 'bytes':
          return { type: 'string', format: 'byte' };
        default:
          return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
      }
  }
}

function fieldSchema(type: string, description: string, extras: FieldExtras, fieldPath: string): Record<string, unknown> {
  const parsed = parseType(type);
  const schema: Record<string, unknown> = { description, ...typeSchema(parsed, fieldPath) };
  // A plain $ref cannot carry siblings in OpenAPI 3.0, hence allOf; scalars drop the default.
  if (parsed.kind === 'scalar' && schema.default === '' && extras.required) delete schema.default;
  if (extras.listType) schema['x-kubernetes-list-type'] = extras.listType;
  if (extras.listMapKeys) schema['x-kubernetes-list-map-keys'] = extras.listMapKeys;
  if (extras.mapType) schema['x-kubernetes-map-type'] = extras.mapType;
  if (extras.mergeKey) schema['x-kubernetes-patch-merge-key'] = extras.mergeKey;
  if (extras.patchStrategy) schema['x-kubernetes-patch-strategy'] = extras.patchStrategy;
  if (extras.enum) {
    if (parsed.kind === 'list') (schema.items as Record<string, unknown>).enum = extras.enum;
    else schema.enum = extras.enum;
  }
  return schema;
}

/** The component schema of one table definition. */
export function componentSchema(defName: string): Record<string, unknown> | undefined {
  const def = DEFINITIONS[defName];
  if (!def) return undefined;
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [name, [type, , description, extras]] of Object.entries(jsonFields(defName))) {
    properties[name] = fieldSchema(type, description, extras ?? {}, `${defName}.${name}`);
    if (extras?.required) required.push(name);
  }
  const schema: Record<string, unknown> = { description: def.description, type: 'object', properties };
  if (required.length > 0) schema.required = required;
  if (def.gvk) schema['x-kubernetes-group-version-kind'] = [{ group: def.gvk.group, kind: def.gvk.kind, version: def.gvk.version }];
  if (def.mapType) schema['x-kubernetes-map-type'] = def.mapType;
  return schema;
}

/** Every definition reachable from the roots, roots included. */
export function reachableDefinitions(roots: string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name) || !DEFINITIONS[name]) return;
    seen.add(name);
    for (const [type] of Object.values(DEFINITIONS[name]!.fields)) {
      let p = parseType(type);
      while (p.kind === 'list' || p.kind === 'map') p = p.kind === 'list' ? p.item : p.value;
      if (p.kind === 'ref') visit(p.name);
    }
  };
  roots.forEach(visit);
  return [...seen].sort();
}
