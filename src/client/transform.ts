// Object transforms for informer caches, after client-go's SharedIndexInformer.SetTransform:
// a function applied to every object as it enters the cache (list, watch event, file
// reload), before any handler sees it. A component that reads three fields of a Service
// need not keep the rest: managedFields and the last-applied annotation alone are often
// larger than the spec. The component that owns an informer passes the transform; an
// informer shared with components that read other fields must get one they all accept.
import type { KubeObject } from '../api/types.js';

export type TransformFunc<T extends KubeObject = KubeObject> = (obj: T) => T;

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops what no data-plane consumer reads: metadata.managedFields and the last-applied
 * annotation (the equivalent of client-go's TransformStripManagedFields, plus kubectl's copy).
 */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata;
  if (!meta) return obj;
  const hasManaged = 'managedFields' in meta;
  const annotations = meta.annotations;
  const hasLastApplied = annotations !== undefined && LAST_APPLIED_ANNOTATION in annotations;
  if (!hasManaged && !hasLastApplied) return obj;
  const { managedFields: _managed, ...rest } = meta as typeof meta & { managedFields?: unknown };
  const out = { ...obj, metadata: rest };
  if (hasLastApplied) {
    const { [LAST_APPLIED_ANNOTATION]: _applied, ...others } = annotations;
    if (Object.keys(others).length) out.metadata.annotations = others;
    else delete out.metadata.annotations;
  }
  return out;
}

/**
 * Which fields to keep: `true` keeps a value whole; an object keeps the listed keys of an
 * object (or of a map such as labels); a one-element array applies its spec to every
 * element of an array. Anything not listed is dropped.
 */
export type FieldSpec = true | readonly [FieldSpec] | { readonly [key: string]: FieldSpec };

type Projector = (value: unknown) => unknown;

const keepWhole: Projector = (v) => v;

/** Turns a spec into a function once, so projecting an object walks no spec at run time. */
function compile(spec: FieldSpec): Projector {
  if (spec === true) return keepWhole;
  if (Array.isArray(spec)) {
    const each = compile(spec[0] as FieldSpec);
    return (v) => (Array.isArray(v) ? v.map(each) : undefined);
  }
  const fields = Object.entries(spec as Record<string, FieldSpec>).map(([k, sub]) => [k, compile(sub)] as const);
  return (v) => {
    // A value of the wrong shape is of no use to a consumer expecting structure: dropped.
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, f] of fields) {
      const x = src[k];
      if (x === undefined) continue;
      const y = f(x);
      if (y !== undefined) out[k] = y;
    }
    return out;
  };
}

/** The fields every cached object needs whatever the consumer: identity and version. */
const IDENTITY: Record<string, FieldSpec> = { apiVersion: true, kind: true };
const META: Record<string, FieldSpec> = { name: true, namespace: true, uid: true, resourceVersion: true, generation: true };

/**
 * A transform keeping only `spec` (metadata's name, namespace, uid, resourceVersion and
 * generation are always kept, so the cache can key, compare and replace objects).
 */
export function keepFields<T extends KubeObject>(spec: { readonly [key: string]: FieldSpec }): TransformFunc<T> {
  const metaSpec = spec.metadata;
  const full: Record<string, FieldSpec> = { ...IDENTITY, ...spec, metadata: metaSpec === true ? true : { ...META, ...(metaSpec as Record<string, FieldSpec> | undefined) } };
  const project = compile(full);
  return (obj) => project(obj) as T;
}

/** Applies transforms left to right. */
export function chainTransforms<T extends KubeObject>(...fns: TransformFunc<T>[]): TransformFunc<T> {
  return (obj) => fns.reduce((o, f) => f(o), obj);
}
