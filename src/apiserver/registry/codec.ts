// Storage keys and the stored form of objects: JSON without resourceVersion, which is always
// the key's modRevision when read back (so a stored value never disagrees with its revision).
import type { ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import type { KeyValue } from '../storage/interface.js';

export type Info = ResourceInfo;

export function objectKey(info: Pick<ResourceInfo, 'storagePrefix' | 'namespaced'>, namespace: string | undefined, name: string): string {
  return info.namespaced ? `${info.storagePrefix}/${namespace ?? ''}/${name}` : `${info.storagePrefix}/${name}`;
}

/** prefix for a list: one namespace, or every object of the resource */
export function listPrefix(info: Pick<ResourceInfo, 'storagePrefix' | 'namespaced'>, namespace: string | undefined): string {
  return info.namespaced && namespace ? `${info.storagePrefix}/${namespace}/` : `${info.storagePrefix}/`;
}

/** kind, apiVersion and metadata lead, as kube-apiserver writes objects, so rawWithRevision can splice */
export function encodeObject(obj: KubeObject): string {
  const { resourceVersion: _rv, ...metadata } = obj.metadata;
  const { kind, apiVersion, metadata: _m, ...rest } = obj as KubeObject & Record<string, unknown>;
  return JSON.stringify({ kind, apiVersion, metadata, ...rest });
}

const LEAD = /^\{"kind":"[A-Za-z0-9]*","apiVersion":"[A-Za-z0-9./-]*","metadata":\{/;

/**
 * The stored JSON with metadata.resourceVersion filled in, without parsing it: lists of many
 * objects skip a decode and an encode per item this way.
 */
export function rawWithRevision(kv: KeyValue): string {
  const m = LEAD.exec(kv.value);
  if (!m) return JSON.stringify(decodeObject(kv));
  const at = m[0].length;
  const rv = `"resourceVersion":"${kv.modRevision}"`;
  return kv.value.slice(0, at) + (kv.value[at] === '}' ? rv : rv + ',') + kv.value.slice(at);
}

export function decodeObject(kv: KeyValue, revision = kv.modRevision): KubeObject {
  const obj = JSON.parse(kv.value) as KubeObject;
  obj.metadata.resourceVersion = String(revision);
  return obj;
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Structural equality for JSON values, ignoring key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => jsonEqual(ao[k], bo[k]));
}
