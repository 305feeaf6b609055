// RFC 6902 JSON Patch (application/json-patch+json). A malformed patch document is a 400;
// a patch that does not apply to the object (missing path, failed test) is a 422, as
// kube-apiserver answers.

import { PatchError } from './errors.js';
import { clone, deepEqual, isObject } from './schema-node.js';

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** Checks the shape of a patch document; throws PatchError 400 when it is not a JSON patch. */
export function parseJsonPatch(ops: unknown): JsonPatchOperation[] {
  if (!Array.isArray(ops)) throw PatchError.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  return ops.map((raw, i) => {
    if (!isObject(raw)) throw PatchError.badRequest(`invalid JSON patch operation at index ${i}: not an object`);
    const op = raw.op;
    if (typeof op !== 'string' || !OPS.has(op)) throw PatchError.badRequest(`Unexpected kind: ${String(op)}`);
    if (typeof raw.path !== 'string') throw PatchError.badRequest(`invalid JSON patch operation at index ${i}: missing path`);
    if ((op === 'move' || op === 'copy') && typeof raw.from !== 'string') throw PatchError.badRequest(`invalid JSON patch operation at index ${i}: ${op} needs "from"`);
    if ((op === 'add' || op === 'replace' || op === 'test') && !('value' in raw)) throw PatchError.badRequest(`invalid JSON patch operation at index ${i}: ${op} needs "value"`);
    return raw as unknown as JsonPatchOperation;
  });
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw PatchError.unprocessable(`invalid JSON pointer ${JSON.stringify(path)}: must start with /`);
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function arrayIndex(arr: unknown[], token: string, forInsert: boolean, op: string, path: string): number {
  if (forInsert && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw PatchError.unprocessable(`${op} operation does not apply: invalid index ${JSON.stringify(token)} in ${path}`);
  const i = Number(token);
  if (i > arr.length || (!forInsert && i === arr.length)) throw PatchError.unprocessable(`${op} operation does not apply: index out of bounds in ${path}`);
  return i;
}

/** The container holding the pointer's last token, and that token. */
function resolveParent(doc: unknown, tokens: string[], op: string, path: string): { parent: Container; key: string } {
  let cur: unknown = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, token, false, op, path)];
    else if (isObject(cur) && Object.prototype.hasOwnProperty.call(cur, token)) cur = cur[token];
    else throw PatchError.unprocessable(`${op} operation does not apply: doc is missing path: ${path}: missing value`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw PatchError.unprocessable(`${op} operation does not apply: doc is missing path: ${path}: missing value`);
  return { parent: cur, key: tokens[tokens.length - 1]! };
}

function getAt(doc: unknown, path: string, op: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return doc;
  const { parent, key } = resolveParent(doc, tokens, op, path);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, key, false, op, path)];
  if (!Object.prototype.hasOwnProperty.call(parent, key)) throw PatchError.unprocessable(`${op} operation does not apply: doc is missing key: ${path}: missing value`);
  return parent[key];
}

function removeAt(doc: unknown, path: string, op: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw PatchError.unprocessable(`${op} operation does not apply: cannot remove the whole document`);
  const { parent, key } = resolveParent(doc, tokens, op, path);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, false, op, path), 1)[0];
  if (!Object.prototype.hasOwnProperty.call(parent, key)) throw PatchError.unprocessable(`${op} operation does not apply: doc is missing path: ${path}: missing value`);
  const old = parent[key];
  delete parent[key];
  return old;
}

function addAt(doc: unknown, path: string, value: unknown, op: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = resolveParent(doc, tokens, op, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, op, path), 0, value);
  else parent[key] = value;
  return doc;
}

/** Applies the operations in order to a copy of doc; the original is left untouched. */
export function applyJsonPatch<T>(doc: T, ops: unknown): T {
  const operations = parseJsonPatch(ops);
  let out: unknown = clone(doc);
  for (const o of operations) {
    switch (o.op) {
      case 'add':
        out = addAt(out, o.path, clone(o.value), 'add');
        break;
      case 'remove':
        removeAt(out, o.path, 'remove');
        break;
      case 'replace': {
        const tokens = parsePointer(o.path);
        if (tokens.length === 0) {
          out = clone(o.value);
          break;
        }
        getAt(out, o.path, 'replace');
        const { parent, key } = resolveParent(out, tokens, 'replace', o.path);
        if (Array.isArray(parent)) parent[arrayIndex(parent, key, false, 'replace', o.path)] = clone(o.value);
        else parent[key] = clone(o.value);
        break;
      }
      case 'move': {
        if (o.path.startsWith(o.from! + '/')) throw PatchError.unprocessable(`move operation does not apply: cannot move ${o.from} into its own child ${o.path}`);
        const value = removeAt(out, o.from!, 'move');
        out = addAt(out, o.path, value, 'move');
        break;
      }
      case 'copy':
        out = addAt(out, o.path, clone(getAt(out, o.from!, 'copy')), 'copy');
        break;
      case 'test': {
        const actual = getAt(out, o.path, 'test');
        if (!deepEqual(actual, o.value)) throw PatchError.unprocessable(`testing value ${o.path} failed: test failed`);
        break;
      }
    }
  }
  return out as T;
}
