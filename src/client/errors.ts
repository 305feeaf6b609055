import type { Status } from '../api/types.js';

/**
 * A failed API request, from the server's Status object when it sent one, otherwise
 * built from the HTTP code the way apimachinery's NewGenericServerResponse does.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly status: Status,
  ) {
    super(status.message || `${reason} (${code})`);
  }

  static fromStatus(status: Status, httpCode?: number): ApiError {
    const code = status.code || httpCode || 500;
    return new ApiError(code, status.reason || reasonForCode(code), status);
  }

  /** For a response whose body is not a Status (a proxy's HTML page, plain text, nothing). */
  static fromResponse(httpCode: number, body: string, what: string): ApiError {
    const reason = reasonForCode(httpCode);
    const detail = body.trim().slice(0, 200);
    const message = `${genericMessage(httpCode, what)}${detail ? ` (${detail})` : ''}`;
    return new ApiError(httpCode, reason, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code: httpCode });
  }

  get retryAfterSeconds(): number | undefined {
    return this.status.details?.retryAfterSeconds;
  }
}

function reasonForCode(code: number): string {
  switch (code) {
    case 400: return 'BadRequest';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'NotFound';
    case 405: return 'MethodNotAllowed';
    case 406: return 'NotAcceptable';
    case 409: return 'Conflict';
    case 410: return 'Gone';
    case 415: return 'UnsupportedMediaType';
    case 422: return 'Invalid';
    case 429: return 'TooManyRequests';
    case 500: return 'InternalError';
    case 503: return 'ServiceUnavailable';
    case 504: return 'Timeout';
    default: return code >= 500 ? 'InternalError' : 'Unknown';
  }
}

function genericMessage(code: number, what: string): string {
  switch (code) {
    case 401: return 'Unauthorized';
    case 403: return `forbidden: ${what}`;
    case 404: return 'the server could not find the requested resource';
    case 409: return `the server reported a conflict on ${what}`;
    case 410: return `the resource version requested for ${what} is gone`;
    case 429: return 'the server has received too many requests and has asked us to try again later';
    case 503: return 'the server is currently unable to handle the request';
    case 504: return 'the server was unable to return a response in the time allotted, but may still be processing the request';
    default: return `an error on the server (${code}) has prevented the request from succeeding`;
  }
}

function is(err: unknown, code: number, ...reasons: string[]): boolean {
  if (!(err instanceof ApiError)) return false;
  if (reasons.length > 0 && err.reason && reasons.includes(err.reason)) return true;
  return err.code === code && (reasons.length === 0 || !err.reason || err.reason === 'Unknown' || reasons.includes(err.reason));
}

export const isNotFound = (err: unknown): boolean => is(err, 404, 'NotFound');
export const isAlreadyExists = (err: unknown): boolean => is(err, 409, 'AlreadyExists');
export const isConflict = (err: unknown): boolean => is(err, 409, 'Conflict');
export const isInvalid = (err: unknown): boolean => is(err, 422, 'Invalid');
/** 410 Gone / Expired: the resourceVersion asked for is no longer in history; relist. */
export const isResourceExpired = (err: unknown): boolean => err instanceof ApiError && (err.code === 410 || err.reason === 'Expired' || err.reason === 'Gone');
export const isTooManyRequests = (err: unknown): boolean => is(err, 429, 'TooManyRequests');
/** 504 with ResourceVersionTooLarge: the server has not caught up with an RV we saw elsewhere. */
export const isTooLargeResourceVersion = (err: unknown): boolean =>
  err instanceof ApiError && !!err.status.details?.causes?.some((c) => c.reason === 'ResourceVersionTooLarge');
