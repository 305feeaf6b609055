// Strategic merge patch (application/strategic-merge-patch+json): a JSON merge patch that
// knows, from the schema, which lists merge by a key (containers by name, Service ports by
// port, ...) and understands the directives kubectl's apply and patch send: `$patch`
// (delete/replace/merge), `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>` and
// `$retainKeys`.

import type { ResourceInfo } from '../../api/resources.js';
import { PatchError } from './errors.js';
import { childSchema, clone, deepEqual, isObject, rootSchema, type Schema } from './schema-node.js';
import type { FieldExtras } from '../openapi/schema-table.js';

const DELETED = Symbol('deleted');
const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';
const ANY: Schema = { t: 'any' };

type JsonMap = Record<string, unknown>;

function isDirectiveKey(key: string): boolean {
  return key === '$patch' || key === '$retainKeys' || key.startsWith(SET_ORDER) || key.startsWith(DELETE_FROM);
}

function itemSchemaOf(list: Schema): Schema {
  return list.t === 'list' ? list.item : ANY;
}

function stripDirectives(value: unknown, schema: Schema): unknown {
  if (isObject(value)) {
    const merged = mergeMap(undefined, value, schema);
    return merged === DELETED ? undefined : merged;
  }
  if (Array.isArray(value)) {
    const item = itemSchemaOf(schema);
    return value.filter((x) => !(isObject(x) && x.$patch === 'delete')).map((x) => stripDirectives(x, item));
  }
  return value;
}

function mergeMap(original: JsonMap | undefined, patch: JsonMap, schema: Schema): JsonMap | typeof DELETED {
  const directive = patch.$patch;
  if (directive === 'delete') return DELETED;
  if (directive === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return stripDirectives(rest, schema) as JsonMap;
  }
  if (directive !== undefined && directive !== 'merge') throw PatchError.badRequest(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);

  const out: JsonMap = isObject(original) ? { ...original } : {};
  const retainKeys = patch.$retainKeys;
  if (retainKeys !== undefined) {
    if (!Array.isArray(retainKeys) || !retainKeys.every((k) => typeof k === 'string')) throw PatchError.badRequest('invalid patch: $retainKeys must be a list of strings');
    for (const key of Object.keys(patch)) {
      if (!isDirectiveKey(key) && !retainKeys.includes(key)) throw new PatchError(422, 'Invalid', `patch content doesn't match retainKeys list: ${key} is not in ${JSON.stringify(retainKeys)}`);
    }
  }

  const deletions: [string, unknown[]][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_FROM)) {
      if (!Array.isArray(value)) throw PatchError.badRequest(`invalid patch: ${key} must be a list`);
      deletions.push([key.slice(DELETE_FROM.length), value]);
      continue;
    }
    if (isDirectiveKey(key)) continue;
    if (value === null) {
      delete out[key];
      continue;
    }
    const { schema: child, extras } = childSchema(schema, key);
    const order = patch[SET_ORDER + key];
    if (Array.isArray(value)) out[key] = mergeList(out[key], value, child, extras, order);
    else if (isObject(value)) {
      const merged = mergeMap(isObject(out[key]) ? (out[key] as JsonMap) : undefined, value, child);
      if (merged === DELETED) delete out[key];
      else out[key] = merged;
    } else out[key] = value;
  }

  for (const [field, values] of deletions) {
    const current = out[field];
    if (Array.isArray(current)) out[field] = current.filter((v) => !values.some((d) => deepEqual(d, v)));
  }
  // An order given without changes to the list still reorders it.
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const field = key.slice(SET_ORDER.length);
    if (field in patch) continue;
    const current = out[field];
    if (Array.isArray(current)) out[field] = reorder(current, order, childSchema(schema, field).extras.mergeKey);
  }
  if (Array.isArray(retainKeys)) {
    for (const key of Object.keys(out)) if (!retainKeys.includes(key)) delete out[key];
  }
  return out;
}

function mergeList(original: unknown, patch: unknown[], schema: Schema, extras: FieldExtras, order: unknown): unknown[] {
  const item = itemSchemaOf(schema);
  const replaceMarker = patch.findIndex((x) => isObject(x) && x.$patch === 'replace' && Object.keys(x).length === 1);
  if (replaceMarker >= 0) return stripDirectives(patch.filter((_, i) => i !== replaceMarker), schema) as unknown[];
  const merging = (extras.patchStrategy ?? '').split(',').includes('merge');
  if (!merging) return stripDirectives(patch, schema) as unknown[];
  const base = Array.isArray(original) ? clone(original) : [];

  const mergeKey = extras.mergeKey;
  if (!mergeKey || patch.every((x) => !isObject(x))) {
    // A set of primitives (finalizers, podCIDRs): union, original order first.
    const out = [...base];
    for (const v of patch) if (!out.some((o) => deepEqual(o, v))) out.push(v);
    return order === undefined ? out : reorder(out, order, undefined);
  }

  const out: unknown[] = base;
  for (const p of patch) {
    if (!isObject(p)) throw new PatchError(422, 'Invalid', `invalid patch: list ${JSON.stringify(patch)} mixes maps and other values`);
    if (!(mergeKey in p)) throw new PatchError(422, 'Invalid', `map: ${JSON.stringify(p)} does not contain declared merge key: ${mergeKey}`);
    const idx = out.findIndex((o) => isObject(o) && deepEqual(o[mergeKey], p[mergeKey]));
    if (p.$patch === 'delete') {
      for (let i = out.length - 1; i >= 0; i--) {
        const o = out[i];
        if (isObject(o) && deepEqual(o[mergeKey], p[mergeKey])) out.splice(i, 1);
      }
      continue;
    }
    const merged = mergeMap(idx >= 0 ? (out[idx] as JsonMap) : undefined, p, item);
    if (merged === DELETED) {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) out[idx] = merged;
    else out.push(merged);
  }
  return order === undefined ? out : reorder(out, order, mergeKey);
}

/**
 * `$setElementOrder`: elements named in the order list take, in that order, the positions
 * elements of the list held; elements the order does not name (added by someone else) stay put.
 */
function reorder(list: unknown[], order: unknown, mergeKey: string | undefined): unknown[] {
  if (!Array.isArray(order)) throw PatchError.badRequest('invalid patch: $setElementOrder must be a list');
  const keyOf = (x: unknown): unknown => (mergeKey && isObject(x) ? x[mergeKey] : x);
  const wanted = order.map(keyOf);
  const rank = (x: unknown): number => wanted.findIndex((k) => deepEqual(k, keyOf(x)));
  const named = list.filter((x) => rank(x) >= 0).sort((a, b) => rank(a) - rank(b));
  let next = 0;
  return list.map((x) => (rank(x) >= 0 ? named[next++] : x));
}

/** Applies a strategic merge patch to a copy of doc, using the kind's merge keys. */
export function applyStrategicMergePatch<T>(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>, doc: T, patch: unknown): T {
  if (!isObject(patch)) throw PatchError.badRequest('json: cannot unmarshal into Go value of type map[string]interface {}: a strategic merge patch must be a JSON object');
  const merged = mergeMap(clone(doc) as JsonMap, patch, rootSchema(info));
  if (merged === DELETED) throw PatchError.badRequest('a strategic merge patch cannot delete the whole object; use DELETE');
  return merged as T;
}
