// Request parsing: URL paths to resources, request bodies by Content-Type, and what the
// client accepts back (JSON, Table, protobuf), as kube-apiserver's negotiation does it.
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { resourceFor, type ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { decodeProtobuf, ProtobufUnsupportedError, isProtobufContentType } from './protobuf/index.js';
import { ApiError, badRequest, tooLarge, unsupportedMediaType } from './errors.js';

/** kube-apiserver's --max-request-body-bytes default (3 MiB) */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface ResourcePath {
  info: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export type RoutedPath = { kind: 'resource'; path: ResourcePath } | { kind: 'unknown' };

/** `/api/v1/...` and `/apis/<group>/<version>/...` resource paths; undefined for anything else */
export function parseResourcePath(pathname: string): RoutedPath | undefined {
  const segs = pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    group = '';
    version = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1]!;
    version = segs[2]!;
    rest = segs.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const inner = resourceFor(group, rest[2]!);
    if (inner?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const info = resourceFor(group, rest[0]!);
  if (!info || info.version !== version || rest.length > 3) return { kind: 'unknown' };
  if (!info.namespaced && namespace !== undefined) return { kind: 'unknown' };
  const subresource = rest[2];
  if (subresource !== undefined && !info.subresources.includes(subresource)) return { kind: 'unknown' };
  return { kind: 'resource', path: { info, namespace, name: rest[1], subresource } };
}

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export interface DecodedBody {
  obj: KubeObject;
  /** the JSON text, for duplicate-field checks */
  rawJson?: string;
}

function jsonError(e: unknown): string {
  return (e as Error).message.replace(/^JSON\.parse: /, '');
}

/** A body for create/update: JSON (also the default when Content-Type is empty), YAML or protobuf. */
export function decodeObjectBody(contentType: string | undefined, body: Buffer): DecodedBody {
  const type = mediaType(contentType);
  let obj: unknown;
  let rawJson: string | undefined;
  if (type === '' || type === 'application/json' || type === '*/*') {
    rawJson = body.toString('utf8');
    if (rawJson.trim() === '') throw badRequest('the request body is empty');
    try {
      obj = JSON.parse(rawJson);
    } catch (e) {
      throw badRequest(`couldn't get version/kind; json parse error: ${jsonError(e)}`);
    }
  } else if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml') {
    try {
      obj = parseYaml(body.toString('utf8'), { strict: true, uniqueKeys: true });
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: yaml: ${(e as Error).message.split('\n')[0]}`);
    }
  } else if (isProtobufContentType(contentType)) {
    try {
      obj = decodeProtobuf(new Uint8Array(body));
    } catch (e) {
      if (e instanceof ProtobufUnsupportedError) throw new ApiError(415, 'UnsupportedMediaType', e.message);
      throw badRequest(`failed to decode protobuf body: ${(e as Error).message}`);
    }
  } else throw unsupportedMediaType(contentType ?? '');
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw badRequest(`Object 'Kind' is missing in '${rawJson ?? JSON.stringify(obj)}'`.slice(0, 1024));
  }
  return { obj: obj as KubeObject, rawJson };
}

/** apiVersion/kind of a body must name the resource on the URL, as kube-apiserver's decoder insists */
export function checkBodyKind(info: ResourceInfo, obj: KubeObject, expectedKind = info.kind, expectedApiVersion = info.group ? `${info.group}/${info.version}` : info.version): void {
  const raw = JSON.stringify(obj);
  if (!obj.kind) throw badRequest(`Object 'Kind' is missing in '${raw.length > 512 ? raw.slice(0, 512) + '...' : raw}'`);
  if (!obj.apiVersion) throw badRequest(`Object 'apiVersion' is missing in '${raw.length > 512 ? raw.slice(0, 512) + '...' : raw}'`);
  if (obj.apiVersion !== expectedApiVersion) throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expectedApiVersion})`);
  if (obj.kind !== expectedKind) throw badRequest(`${obj.kind} in version "${obj.apiVersion.split('/').pop()}" cannot be handled as a ${expectedKind}: the object kind "${obj.kind}" does not match the kind "${expectedKind}" of the URL`);
  if (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata)) {
    if (obj.metadata === undefined) (obj as { metadata: object }).metadata = {};
    else throw badRequest(`${expectedKind} in version "${info.version}" cannot be handled as a ${expectedKind}: json: cannot unmarshal into Go struct field ${expectedKind}.metadata of type v1.ObjectMeta`);
  }
}

/** removes the fields unknownFields() named, as the decoder drops them (paths like spec.ports[0].bogus) */
export function pruneFields(obj: unknown, paths: string[]): void {
  for (const path of paths) {
    const segs: (string | number)[] = [];
    for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) segs.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
    let cur: unknown = obj;
    for (let i = 0; i < segs.length - 1 && cur !== undefined && cur !== null; i++) cur = (cur as Record<string | number, unknown>)[segs[i]!];
    if (cur && typeof cur === 'object') delete (cur as Record<string | number, unknown>)[segs[segs.length - 1]!];
  }
}

export type ResponseFormat = { kind: 'json' } | { kind: 'table'; includeObject: 'None' | 'Metadata' | 'Object' } | { kind: 'protobuf' } | { kind: 'yaml' };

export const TABLE_CONTENT_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

/** The first Accept range this server can produce; undefined when none (406). */
export function negotiate(accept: string | undefined, allowTable: boolean, includeObject: string | null): ResponseFormat | undefined {
  if (!accept || accept.trim() === '') return { kind: 'json' };
  for (const part of accept.split(',')) {
    const [typeRaw, ...paramsRaw] = part.split(';');
    const type = typeRaw!.trim().toLowerCase();
    const params = new Map(paramsRaw.map((p) => p.split('=').map((s) => s.trim()) as [string, string]));
    if (type === 'application/json' && params.get('as') !== undefined) {
      if (allowTable && params.get('as') === 'Table' && params.get('g') === 'meta.k8s.io' && (params.get('v') === 'v1' || params.get('v') === 'v1beta1')) {
        const inc = includeObject === 'None' || includeObject === 'Object' ? includeObject : 'Metadata';
        return { kind: 'table', includeObject: inc };
      }
      continue;
    }
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return { kind: 'json' };
    if (type === 'application/yaml') return { kind: 'yaml' };
    if (type === 'application/vnd.kubernetes.protobuf') return { kind: 'protobuf' };
  }
  return undefined;
}
