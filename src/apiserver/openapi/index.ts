// /openapi/v3: the root listing one document per served group-version, and those documents.
// kubectl needs them for `--validate=strict` (it then leaves validation to the server),
// client-side apply (strategic patches computed from the schemas' merge keys) and `explain`.
// Also the field checks behind `fieldValidation=Strict|Warn`.

import { createHash } from 'node:crypto';
import { RESOURCES, apiVersionOf, type ResourceInfo } from '../../api/resources.js';
import { childSchema, hasField, isObject, rootSchema, type Schema } from '../patch/schema-node.js';
import { definitionForKind } from './schema-table.js';
import { WRAPPER_SCHEMAS, componentSchema, reachableDefinitions } from './schemas.js';
import { resourcePaths } from './paths.js';

export { PATCH_CONTENT_TYPES } from './paths.js';

function gvPathOf(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group === '' ? `api/${info.version}` : `apis/${apiVersionOf(info)}`;
}

/** Served group-version paths, e.g. 'api/v1', 'apis/apps/v1'. */
export function openapiGroupVersions(): string[] {
  return [...new Set(RESOURCES.map(gvPathOf))];
}

function buildDocument(gvPath: string): object | undefined {
  const infos = RESOURCES.filter((i) => gvPathOf(i) === gvPath);
  if (infos.length === 0) return undefined;
  const paths: Record<string, object> = {};
  const roots: string[] = [];
  for (const info of infos) {
    const def = definitionForKind(info.group, info.version, info.kind);
    if (!def) continue;
    roots.push(def);
    if (info.subresources.includes('scale')) roots.push(definitionForKind('autoscaling', 'v1', 'Scale')!);
    if (info.subresources.includes('binding')) roots.push(definitionForKind('', 'v1', 'Binding')!);
    Object.assign(paths, resourcePaths(info));
  }
  const schemas: Record<string, object> = {};
  for (const name of reachableDefinitions(roots)) schemas[name] = componentSchema(name)!;
  Object.assign(schemas, WRAPPER_SCHEMAS);
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.4' },
    paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
  };
}

interface Built {
  doc: object;
  hash: string;
}
const cache = new Map<string, Built | undefined>();

function built(gvPath: string): Built | undefined {
  if (!cache.has(gvPath)) {
    const doc = buildDocument(gvPath);
    // The hash in serverRelativeURL lets clients cache a document until it changes.
    cache.set(gvPath, doc && { doc, hash: createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 128).toUpperCase() });
  }
  return cache.get(gvPath);
}

/** The /openapi/v3 root: each group-version's document URL, with its content hash. */
export function openapiV3Root(): object {
  const paths: Record<string, object> = {};
  for (const gv of openapiGroupVersions()) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${built(gv)!.hash}` };
  return { paths };
}

/** The document for one group-version path ('api/v1', 'apis/apps/v1', ...), or undefined. */
export function openapiV3Document(gvPath: string): object | undefined {
  return built(gvPath.replace(/^\/+|\/+$/g, ''))?.doc;
}

/** The content hash of a group-version document (for ETag / cache headers). */
export function openapiV3Hash(gvPath: string): string | undefined {
  return built(gvPath.replace(/^\/+|\/+$/g, ''))?.hash;
}

/**
 * Paths of fields the schema does not know, as kube-apiserver names them in
 * `strict decoding error: unknown field "spec.bogus"` (list items as `[i]`).
 * Free-form parts of the schema are not checked.
 */
export function unknownFields(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>, obj: unknown): string[] {
  const out: string[] = [];
  const walk = (value: unknown, schema: Schema, path: string): void => {
    if (schema.t === 'list') {
      if (Array.isArray(value)) value.forEach((item, i) => walk(item, schema.item, `${path}[${i}]`));
      return;
    }
    if (!isObject(value)) return;
    if (schema.t === 'map') {
      for (const [k, v] of Object.entries(value)) walk(v, schema.value, `${path}.${k}`);
      return;
    }
    if (schema.t !== 'struct') return;
    for (const [k, v] of Object.entries(value)) {
      const childPath = path ? `${path}.${k}` : k;
      if (!hasField(schema, k)) out.push(childPath);
      else walk(v, childSchema(schema, k).schema, childPath);
    }
  };
  walk(obj, rootSchema(info), '');
  return out;
}

/**
 * Keys that appear more than once in the same JSON object of a request body, with their
 * paths (`duplicate field "spec.type"`), which JSON.parse would silently collapse.
 */
export function duplicateFields(json: string): string[] {
  const out: string[] = [];
  let i = 0;
  const ws = (): void => {
    while (i < json.length && ' \t\r\n'.includes(json[i]!)) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < json.length && json[i] !== '"') i += json[i] === '\\' ? 2 : 1;
    i++;
    try {
      return JSON.parse(json.slice(start, i)) as string;
    } catch {
      return json.slice(start + 1, i - 1);
    }
  };
  const value = (path: string): void => {
    ws();
    const c = json[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      ws();
      while (i < json.length && json[i] !== '}') {
        ws();
        if (json[i] !== '"') return;
        const key = str();
        const keyPath = path ? `${path}.${key}` : key;
        if (seen.has(key)) out.push(keyPath);
        seen.add(key);
        ws();
        if (json[i] !== ':') return;
        i++;
        value(keyPath);
        ws();
        if (json[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '[') {
      i++;
      let n = 0;
      ws();
      while (i < json.length && json[i] !== ']') {
        value(`${path}[${n++}]`);
        ws();
        if (json[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '"') str();
    else while (i < json.length && !',}] \t\r\n'.includes(json[i]!)) i++;
  };
  value('');
  return out;
}

export interface FieldValidationResult {
  /** Messages such as `unknown field "spec.bogus"`, `duplicate field "spec.type"`. */
  problems: string[];
  /** Paths of unknown fields (what fieldValidation=Ignore/Warn drop), e.g. spec.ports[0].bogus. */
  unknown: string[];
  /** Paths of keys repeated in the raw JSON. */
  duplicates: string[];
  /** For fieldValidation=Strict: the 400 BadRequest message, when there are problems. */
  strictError?: string;
}

/**
 * What fieldValidation=Strict|Warn reports for a request body: unknown fields (by schema)
 * and duplicate keys (when the raw JSON text is given). Warn sends each problem as a
 * `Warning: 299 - "<problem>"` header; Strict answers 400 with strictError.
 */
export function validateFields(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>, obj: unknown, rawJson?: string): FieldValidationResult {
  const duplicates = rawJson === undefined ? [] : duplicateFields(rawJson);
  const unknown = unknownFields(info, obj);
  const problems = [...duplicates.map((p) => `duplicate field ${JSON.stringify(p)}`), ...unknown.map((p) => `unknown field ${JSON.stringify(p)}`)];
  if (problems.length === 0) return { problems, unknown, duplicates };
  return { problems, unknown, duplicates, strictError: `${info.kind} in version ${JSON.stringify(info.version)} cannot be handled as a ${info.kind}: strict decoding error: ${problems.join(', ')}` };
}
