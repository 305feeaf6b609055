// Field errors and their text exactly as apimachinery's field.Error and NewInvalid render them,
// because kubectl shows the server's message verbatim and users grep for it.

import type { Status, StatusCause } from '../types.js';
import { asString } from './names.js';

export type FieldErrorType =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotFound'
  | 'InternalError';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  value?: unknown;
  detail: string;
}

/** A value printed as given: for Go-syntax renderings upstream produces for internal structs. */
export class RawValue {
  constructor(readonly text: string) {}
}

/** Marks a TooMany error whose count is not shown. */
export const OMIT_VALUE: unique symbol = Symbol('omit');

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
  FieldValueTypeInvalid: 'Invalid value',
};

/** Go's %q, which JSON.stringify matches for the printable strings objects carry. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/**
 * The value as kube-apiserver 1.32's field.Error prints it: numbers and booleans plain, strings
 * quoted, a nil pointer as "null", and anything composite in Go's %#v syntax. A value built with
 * RawValue is printed as given (for Go types we can only spell out by hand).
 */
function renderValue(v: unknown): string {
  if (v instanceof RawValue) return v.text;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return asString(v);
  if (typeof v === 'string') return goQuote(v);
  if (v === undefined || v === null) return goQuote('null');
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return goStrings(v as string[]).text;
  if (typeof v === 'object' && Object.values(v as object).every((x) => typeof x === 'string')) return goStringMap(v as Record<string, string>).text;
  try {
    return JSON.stringify(v) ?? 'null';
  } catch {
    return asString(v);
  }
}

/** `[]string{"a", "b"}`, or `[]string(nil)` for an absent list. */
export function goStrings(list: readonly string[] | null | undefined): RawValue {
  if (!list) return new RawValue('[]string(nil)');
  return new RawValue(`[]string{${list.map((x) => goQuote(asString(x))).join(', ')}}`);
}

/** `map[string]string{"a":"b"}` with sorted keys, or `map[string]string(nil)`. */
export function goStringMap(m: Record<string, string> | null | undefined): RawValue {
  if (!m) return new RawValue('map[string]string(nil)');
  const keys = Object.keys(m).sort();
  return new RawValue(`map[string]string{${keys.map((k) => `${goQuote(k)}:${goQuote(asString(m[k]))}`).join(', ')}}`);
}

/** intstr.IntOrString as %#v prints it. */
export function goIntOrString(v: unknown): RawValue {
  if (typeof v === 'string') return new RawValue(`intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`);
  return new RawValue(`intstr.IntOrString{Type:0, IntVal:${typeof v === 'number' ? Math.trunc(v) : 0}, StrVal:""}`);
}

/** metav1.LabelSelector (dereferenced, as field.Error does with pointers) in %#v form. */
export function goLabelSelector(sel: unknown): RawValue {
  if (sel === null || sel === undefined) return new RawValue(goQuote('null'));
  const s = sel as { matchLabels?: Record<string, string>; matchExpressions?: { key?: string; operator?: string; values?: string[] }[] };
  const exprs = Array.isArray(s.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${s.matchExpressions
        .map((e) => `v1.LabelSelectorRequirement{Key:${goQuote(asString(e?.key ?? ''))}, Operator:${goQuote(asString(e?.operator ?? ''))}, Values:${goStrings(e?.values).text}}`)
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return new RawValue(`v1.LabelSelector{MatchLabels:${goStringMap(s.matchLabels).text}, MatchExpressions:${exprs}}`);
}

/** The message without the field path (a StatusCause's message). */
export function fieldErrorBody(e: FieldError): string {
  let s: string;
  switch (e.type) {
    case 'FieldValueRequired':
    case 'FieldValueForbidden':
    case 'FieldValueTooLong':
    case 'InternalError':
      s = TYPE_TEXT[e.type];
      break;
    default:
      s = e.value === OMIT_VALUE ? TYPE_TEXT[e.type] : `${TYPE_TEXT[e.type]}: ${renderValue(e.value)}`;
  }
  return e.detail ? `${s}: ${e.detail}` : s;
}

/** `spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive` */
export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several as `[a, b]`, duplicates dropped. */
export function aggregateMessage(msgs: string[]): string {
  const seen = new Set<string>();
  const uniq = msgs.filter((m) => (seen.has(m) ? false : (seen.add(m), true)));
  if (uniq.length === 1) return uniq[0]!;
  return `[${uniq.join(', ')}]`;
}

/** `Kind.group` for non-core groups, as schema.GroupKind.String() prints it. */
export function qualifiedKind(kind: string, group = ''): string {
  return group ? `${kind}.${group}` : kind;
}

/** NewInvalid's message: `Service "web" is invalid: <err>` or `... is invalid: [<err1>, <err2>]`. */
export function invalidMessage(kind: string, name: string, errs: FieldError[], group = ''): string {
  const head = `${qualifiedKind(kind, group)} ${JSON.stringify(name)} is invalid`;
  if (errs.length === 0) return head;
  return `${head}: ${aggregateMessage(errs.map(formatFieldError))}`;
}

export function statusCauses(errs: FieldError[]): StatusCause[] {
  return errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field }));
}

/** The whole 422 Status kube-apiserver returns for a validation failure. */
export function invalidStatus(kind: string, name: string, errs: FieldError[], group = ''): Status {
  const details: NonNullable<Status['details']> = { name, kind, causes: statusCauses(errs) };
  if (group) details.group = group;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: invalidMessage(kind, name, errs, group),
    reason: 'Invalid',
    details,
    code: 422,
  };
}

// ---- constructors with field.* names ------------------------------------------

export const invalid = (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail });
export const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, value: '', detail });
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, value: '', detail });
export const duplicate = (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value, detail: '' });
export const notSupported = (field: string, value: unknown, valid: readonly string[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field,
  value,
  detail: valid.length > 0 ? `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` : '',
});
export const tooLong = (field: string, max: number): FieldError => ({
  type: 'FieldValueTooLong',
  field,
  value: '<value omitted>',
  detail: `may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}`,
});
export const tooMany = (field: string, actual: number, max: number): FieldError => ({
  type: 'FieldValueTooMany',
  field,
  value: actual >= 0 ? actual : OMIT_VALUE,
  detail: `must have at most ${max} ${max === 1 ? 'item' : 'items'}`,
});
export const typeInvalid = (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueTypeInvalid', field, value, detail });

export const FIELD_IMMUTABLE = 'field is immutable';

/** ValidateImmutableField: deep-equal or `Invalid value: <new>: field is immutable`. */
export function immutable(newVal: unknown, oldVal: unknown, field: string): FieldError[] {
  return deepEqual(newVal, oldVal) ? [] : [invalid(field, newVal, FIELD_IMMUTABLE)];
}

/** Semantic equality as apimachinery's DeepEqual treats absent and empty alike for our JSON objects. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const emptyish = (v: unknown) =>
    v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
  if (emptyish(a) && emptyish(b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!deepEqual(ao[k], bo[k])) return false;
  return true;
}

/** One message per problem string, all on the same field (the `for _, msg := range ...` idiom). */
export function invalidEach(field: string, value: unknown, msgs: string[]): FieldError[] {
  return msgs.map((m) => invalid(field, value, m));
}
