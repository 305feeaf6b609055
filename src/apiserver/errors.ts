// Status objects for every failure the API server answers with, shaped and worded as
// k8s.io/apimachinery/pkg/api/errors builds them, so clients classify them by reason and code.
import type { ResourceInfo } from '../api/resources.js';
import type { Status, StatusCause } from '../api/types.js';

type Details = NonNullable<Status['details']>;

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Details,
    /** extra response headers, e.g. Retry-After */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): Status {
    const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) s.details = this.details;
    return s;
  }

  static fromStatus(s: { code: number; reason?: string; message?: string; details?: Details }): ApiError {
    return new ApiError(s.code, s.reason ?? '', s.message ?? '', s.details);
  }
}

/** `services`, or `deployments.apps` for a group, as kube-apiserver's qualified resource prints. */
export function qualifiedResource(info: Pick<ResourceInfo, 'group' | 'resource'>, subresource?: string): string {
  const r = subresource ? `${info.resource}/${subresource}` : info.resource;
  return info.group ? `${r}.${info.group}` : r;
}

function details(info: Pick<ResourceInfo, 'group' | 'resource'>, name: string): Details {
  const d: Details = { name, kind: info.resource };
  if (info.group) d.group = info.group;
  return d;
}

export const notFound = (info: Pick<ResourceInfo, 'group' | 'resource'>, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualifiedResource(info)} "${name}" not found`, details(info, name));

export const pathNotFound = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

export const alreadyExists = (info: Pick<ResourceInfo, 'group' | 'resource'>, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualifiedResource(info)} "${name}" already exists`, details(info, name));

export const conflict = (info: Pick<ResourceInfo, 'group' | 'resource'>, name: string, why: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(info)} "${name}": ${why}`, details(info, name));

export const OBJECT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);

export const forbidden = (message: string, d?: Details): ApiError => new ApiError(403, 'Forbidden', message, d);

export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized');

export const methodNotSupported = (info: Pick<ResourceInfo, 'group' | 'resource'>, verb: string): ApiError =>
  new ApiError(405, 'MethodNotAllowed', `${verb} is not supported on resources of kind "${qualifiedResource(info)}"`, { kind: info.resource, ...(info.group ? { group: info.group } : {}) });

export const unsupportedMediaType = (contentType: string): ApiError =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format (${contentType}) - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml`);

export const notAcceptable = (): ApiError =>
  new ApiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io');

export const tooLarge = (limit: number): ApiError => new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);

export const expired = (message: string): ApiError => new ApiError(410, 'Expired', message);

export const tooOldResourceVersion = (requested: number, oldest: number): ApiError => expired(`too old resource version: ${requested} (${oldest})`);

export const tooLargeResourceVersion = (requested: number, current: number): ApiError =>
  new ApiError(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }, { 'Retry-After': '1' });

export const invalidParameter = (info: Pick<ResourceInfo, 'group' | 'resource' | 'kind'>, causes: StatusCause[], message: string): ApiError =>
  new ApiError(422, 'Invalid', message, { kind: info.kind, ...(info.group ? { group: info.group } : {}), causes });

export const serviceUnavailable = (message: string): ApiError => new ApiError(503, 'ServiceUnavailable', message);

export const internalError = (err: unknown): ApiError =>
  new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`, { causes: [{ message: err instanceof Error ? err.message : String(err) }] });

