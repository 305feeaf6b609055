import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { JsonItemsCutter, NotCuttable } from './json-items.js';
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

/** One object seen by ObjectsFileReader.scan. */
export interface ScannedObject {
  apiVersion: string;
  kind: string;
  namespace: string | undefined;
  name: string;
  /** a digest of the object's content (its JSON form): equal content, equal fingerprint */
  fingerprint: string;
  /** undefined when its YAML document is unchanged since the previous scan (not parsed again) */
  object: KubeObject | undefined;
}

/** What ObjectsFileReader.scan feeds. */
export interface ScanSink {
  object(entry: ScannedObject): void;
  /** forget everything seen so far in this scan: the objects are delivered again from the start */
  restart(): void;
}

// Reads well under glibc's mmap threshold: freed 1 MB buffers raised it and left their memory in
// the malloc arena (RSS 140 -> 126 MB with 64 KB reads, 10k Services + 10k EndpointSlices).
const CHUNK = 1 << 16;

/**
 * Streams a file of objects without holding it whole: a JSON List is cut into its items and
 * each parsed on its own (the whole text and the whole parsed tree of a 35 MB List never exist
 * at once), YAML documents are parsed one at a time and, as in ObjectsFileReader.read, not
 * parsed again while their text is unchanged. Only digests of the unchanged documents are
 * kept between scans, never their objects.
 */
export class ObjectsFileScanner {
  private documents = new Map<string, ScannedObject[]>();

  constructor(readonly path: string) {}

  /** Drops the document digests: the next scan parses and delivers every object. */
  forget(): void {
    this.documents.clear();
  }

  /** Calls the sink for every object in file order; throws ObjectsFileError for a bad file. */
  scan(sink: ScanSink): void {
    const first = firstByte(this.path);
    if (first === 0x7b /* { */) {
      try {
        for (const obj of jsonListItems(this.path)) sink.object(scanned(obj));
        this.documents.clear();
        return;
      } catch (err) {
        if (!(err instanceof NotStreamable)) throw err;
        sink.restart();
      }
    }
    const text = readText(this.path);
    if (first === 0x7b || first === 0x5b || /^%/m.test(text)) {
      // JSON the scanner does not stream, YAML flow collections and YAML with directives
      // (which belong to the next document): parsed whole.
      this.documents.clear();
      for (const obj of parseObjects(text, this.path)) sink.object(scanned(obj));
      return;
    }
    const starts = [0];
    for (const m of text.matchAll(DOCUMENT_START)) if (m.index! > 0) starts.push(m.index!);
    const next = new Map<string, ScannedObject[]>();
    for (let i = 0; i < starts.length; i++) {
      const doc = text.slice(starts[i], starts[i + 1] ?? text.length);
      const digest = createHash('sha1').update(doc).digest('base64');
      const known = next.get(digest) ?? this.documents.get(digest);
      if (known) {
        next.set(digest, known);
        for (const e of known) sink.object(e);
        continue;
      }
      let objs: KubeObject[];
      try {
        objs = parseObjects(doc, this.path);
      } catch {
        // Parse whole: an error then carries the file's own line numbers.
        sink.restart();
        this.documents.clear();
        for (const obj of parseObjects(text, this.path)) sink.object(scanned(obj));
        return;
      }
      const entries: ScannedObject[] = [];
      for (const obj of objs) {
        const e = scanned(obj);
        sink.object(e);
        entries.push({ ...e, object: undefined });
      }
      next.set(digest, entries);
    }
    this.documents = next;
  }
}

function scanned(obj: KubeObject): ScannedObject {
  return {
    apiVersion: obj.apiVersion ?? '',
    kind: obj.kind ?? '',
    namespace: obj.metadata.namespace,
    name: obj.metadata.name ?? '',
    fingerprint: createHash('sha1').update(JSON.stringify(obj)).digest('base64'),
    object: obj,
  };
}

function firstByte(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new ObjectsFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const buf = Buffer.alloc(4096);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return -1;
      for (let i = 0; i < n; i++) if (!isSpace(buf[i]!)) return buf[i]!;
    }
  } finally {
    closeSync(fd);
  }
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0xef || b === 0xbb || b === 0xbf;
}

/** The JSON is not a List the scanner can cut into items: parse it whole. */
class NotStreamable extends Error {}

/**
 * The objects of a JSON file whose top level is one object: a List's items are parsed one
 * at a time as their text ends, anything else is parsed whole at the end. Throws
 * NotStreamable for a shape it does not cut (or text that is not JSON: the caller's whole
 * parse gives the error message).
 */
function* jsonListItems(path: string): Generator<KubeObject> {
  const fd = openSync(path, 'r');
  try {
    let ready: KubeObject[] = [];
    // Items read before `kind` said this is a List wait for the end.
    let held: KubeObject[] | undefined;
    const objectsOf = (bytes: Buffer): KubeObject[] => {
      let obj: unknown;
      try {
        obj = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new NotStreamable();
      }
      const out: KubeObject[] = [];
      flatten(obj, path, out);
      return out;
    };
    const cutter = new JsonItemsCutter((bytes) => {
      const kind = cutter.head?.kind;
      if (kind === undefined) held ??= [];
      else if (typeof kind !== 'string' || !kind.endsWith('List')) throw new NotStreamable();
      for (const o of objectsOf(bytes)) (held ?? ready).push(o);
    });
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const n = readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) break;
      try {
        cutter.write(chunk.subarray(0, n));
      } catch (err) {
        throw err instanceof NotCuttable ? new NotStreamable() : err;
      }
      yield* ready;
      ready = [];
    }
    let top: Record<string, unknown>;
    try {
      top = cutter.end();
    } catch {
      throw new NotStreamable();
    }
    if (!cutter.hadItems) {
      const out: KubeObject[] = [];
      flatten(top, path, out);
      yield* out;
      return;
    }
    if (typeof top.kind !== 'string' || !top.kind.endsWith('List')) throw new NotStreamable();
    if (held) yield* held;
  } finally {
    closeSync(fd);
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
