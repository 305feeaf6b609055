// Walks the shared schema table the way patch code needs it: what is at a key of a struct,
// and how a list or map merges. Fields the table does not know are treated as free-form
// ('any'): merged like JSON maps, lists replaced atomically, as upstream does for unknown types.

import type { ResourceInfo } from '../../api/resources.js';
import { DEFINITIONS, definitionForKind, jsonFields, parseType, type FieldExtras, type ParsedType } from '../openapi/schema-table.js';

export type Schema =
  | { t: 'struct'; def: string; atomic: boolean }
  | { t: 'map'; value: Schema; atomic: boolean }
  | { t: 'list'; item: Schema; extras: FieldExtras }
  | { t: 'scalar' }
  | { t: 'any' };

const ANY: Schema = { t: 'any' };

function fromParsed(p: ParsedType, extras: FieldExtras): Schema {
  switch (p.kind) {
    case 'list':
      return { t: 'list', item: fromParsed(p.item, {}), extras };
    case 'map':
      return { t: 'map', value: fromParsed(p.value, {}), atomic: extras.mapType === 'atomic' };
    case 'ref': {
      const def = DEFINITIONS[p.name];
      if (!def) return ANY;
      return structSchema(p.name, extras.mapType === 'atomic' || def.mapType === 'atomic');
    }
    case 'scalar':
      return p.name === 'object' ? ANY : { t: 'scalar' };
  }
}

// Struct schemas are canonical objects, so per-schema caches below can key on identity.
const structs = new Map<string, Schema>();
function structSchema(def: string, atomic: boolean): Schema {
  const key = `${def}/${atomic}`;
  let s = structs.get(key);
  if (!s) structs.set(key, (s = { t: 'struct', def, atomic }));
  return s;
}

/** The schema of a served kind's whole object ('any' for kinds without a definition). */
export function rootSchema(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>): Schema {
  const def = definitionForKind(info.group, info.version, info.kind);
  return def ? structSchema(def, false) : ANY;
}

const NO_EXTRAS: FieldExtras = {};
const UNKNOWN_CHILD = { schema: ANY, extras: NO_EXTRAS };
type Child = { schema: Schema; extras: FieldExtras };
const childCache = new WeakMap<Schema, Map<string, Child>>();

/** The schema at `key` inside a struct or map schema, with the field's list/patch extras. */
export function childSchema(parent: Schema, key: string): Child {
  if (parent.t === 'map') return { schema: parent.value, extras: NO_EXTRAS };
  if (parent.t !== 'struct') return UNKNOWN_CHILD;
  let children = childCache.get(parent);
  if (!children) childCache.set(parent, (children = new Map()));
  const cached = children.get(key);
  if (cached) return cached;
  const field = jsonFields(parent.def)[key];
  if (!field) return UNKNOWN_CHILD;
  const extras = field[3] ?? NO_EXTRAS;
  const result = { schema: fromParsed(parseType(field[0]), extras), extras };
  children.set(key, result);
  return result;
}

/** Whether a struct schema declares `key` (used to tell unknown fields apart). */
export function hasField(parent: Schema, key: string): boolean {
  return parent.t === 'struct' && jsonFields(parent.def)[key] !== undefined;
}

// Defaults of associative-list key fields: server-side apply keys a Service port without a
// protocol as protocol TCP, as upstream's schema defaults make it do.
const KEY_DEFAULTS: Record<string, Record<string, unknown>> = {
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
};

export function keyFieldDefault(item: Schema, key: string): unknown {
  return item.t === 'struct' ? KEY_DEFAULTS[item.def]?.[key] : undefined;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}
