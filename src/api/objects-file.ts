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
  return parseObjects(readText(path), path);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ObjectsFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

// A line starting a YAML document. YAML forbids `---` at column 0 inside any scalar or
// flow collection of a document, so cutting the text there yields each document whole.
const DOCUMENT_START = /^---(?=[ \t\r\n]|$)/gm;

/**
 * Re-reads an objects file again and again (`--objects` watching it): YAML documents whose
 * text did not change since the last read are not parsed again and keep their object
 * identity, so an edit costs one parse of the documents that changed (the YAML parser
 * needs ~1 ms per small document: 10,000 Ingresses took seconds on every edit).
 * Objects returned are shared between reads: callers must not mutate them.
 */
export class ObjectsFileReader {
  private documents = new Map<string, KubeObject[]>();

  constructor(readonly path: string) {}

  read(): KubeObject[] {
    const text = readText(this.path);
    // JSON, and YAML with directives (which belong to the next document), are parsed whole.
    if (/^\s*[{[]/.test(text) || /^%/m.test(text)) {
      this.documents.clear();
      return parseObjects(text, this.path);
    }
    const starts = [0];
    for (const m of text.matchAll(DOCUMENT_START)) if (m.index! > 0) starts.push(m.index!);
    const next = new Map<string, KubeObject[]>();
    const out: KubeObject[] = [];
    for (let i = 0; i < starts.length; i++) {
      const doc = text.slice(starts[i], starts[i + 1] ?? text.length);
      let objs = next.get(doc) ?? this.documents.get(doc);
      if (!objs) {
        try {
          objs = parseObjects(doc, this.path);
        } catch {
          // Parse whole: an error then carries the file's own line numbers.
          this.documents.clear();
          return parseObjects(text, this.path);
        }
      }
      next.set(doc, objs);
      for (const o of objs) out.push(o);
    }
    this.documents = next;
    return out;
  }
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
