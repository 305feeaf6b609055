// RFC 7386 JSON Merge Patch (application/merge-patch+json): objects merge key by key, null
// deletes, everything else (lists included) replaces.

import { clone, isObject } from './schema-node.js';
import { PatchError } from './errors.js';

function merge(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = merge(out[key], value);
  }
  return out;
}

export function applyMergePatch<T>(doc: T, patch: unknown): T {
  // A Kubernetes object can only be patched into another object.
  if (!isObject(patch)) throw PatchError.badRequest('json: cannot unmarshal into Go value of type map[string]interface {}: a merge patch must be a JSON object');
  return merge(clone(doc), patch) as T;
}
