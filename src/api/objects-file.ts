import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './types.js';
import { resourceForKind, type ResourceInfo } from './resources.js';

export class ObjectsFileError extends Error {
  override name = 'ObjectsFileError';
}

/**
 * Reads Kubernetes objects from YAML (several documents) or JSON, flattening `List`
 * kinds, as `kubectl apply -f` accepts them.
 */
export function parseObjects(text: string, source = 'input'): KubeObject[] {
  const out: KubeObject[] = [];
  // JSON is YAML too, but the YAML parser needs seconds and a GB for a 10 MB JSON List.
  if (/^\s*[{[]/.test(text)) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (json !== undefined) {
      flatten(json, source, out);
      return out;
    }
  }
  const docs = parseAllDocuments(text);
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new ObjectsFileError(`${source}: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    flatten(value, source, out);
  }
  return out;
}

function flatten(value: unknown, source: string, out: KubeObject[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ObjectsFileError(`${source}: expected an object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  const obj = value as Record<string, unknown>;
  if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
    for (const item of obj.items) flatten(item, source, out);
    return;
  }
  if (typeof obj.kind !== 'string' || typeof obj.apiVersion !== 'string') throw new ObjectsFileError(`${source}: object is missing apiVersion or kind`);
  const meta = obj.metadata as Record<string, unknown> | undefined;
  if (!meta || typeof meta.name !== 'string') throw new ObjectsFileError(`${source}: ${obj.kind} is missing metadata.name`);
  out.push(obj as unknown as KubeObject);
}

export function readObjectsFile(path: string): KubeObject[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ObjectsFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseObjects(text, path);
}

/** Groups objects by their resource; kinds kubeplane does not know are reported. */
export function groupByResource(objs: readonly KubeObject[]): { byResource: Map<ResourceInfo, KubeObject[]>; unknown: KubeObject[] } {
  const byResource = new Map<ResourceInfo, KubeObject[]>();
  const unknown: KubeObject[] = [];
  for (const o of objs) {
    const info = resourceForKind(o.apiVersion ?? '', o.kind ?? '');
    if (!info) {
      unknown.push(o);
      continue;
    }
    if (info.namespaced && !o.metadata.namespace) o.metadata = { ...o.metadata, namespace: 'default' };
    let list = byResource.get(info);
    if (!list) byResource.set(info, (list = []));
    list.push(o);
  }
  return { byResource, unknown };
}
