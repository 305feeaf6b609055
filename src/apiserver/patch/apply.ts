// Server-side apply and managedFields bookkeeping. Each managedFields entry is one manager's
// field set for one operation (Apply or Update) and subresource. An apply merges the applied
// configuration into the live object by the schema's list semantics, removes fields the
// manager applied before and no longer applies (unless someone else owns them), and refuses
// to change a value another manager owns unless forced.

import type { KubeObject, ManagedFieldsEntry } from '../../api/types.js';
import { apiVersionOf, type ResourceInfo } from '../../api/resources.js';
import { ApplyConflictError, PatchError, type ApplyConflict } from './errors.js';
import { FieldSet, associativeListErrors, itemKey, pathString, pathsOf, presentPaths, removeAt, valueAt, type FieldPath } from './fieldset.js';
import { childSchema, clone, deepEqual, isObject, rootSchema, type Schema } from './schema-node.js';

type Info = Pick<ResourceInfo, 'group' | 'version' | 'kind' | 'subresources'>;

export interface ApplyOptions {
  fieldManager: string;
  force: boolean;
  /** RFC 3339 time recorded on entries that change. */
  time: string;
  /** 'status' for an apply to the status subresource: only status is taken from the config. */
  subresource?: 'status';
}

export interface UpdateOptions {
  manager: string;
  operation: 'Update';
  subresource?: string;
  time: string;
}

// Fields the server owns; they never appear in a manager's field set.
const SERVER_FIELDS: FieldPath[] = [
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata', 'f:name'],
  ['f:metadata', 'f:namespace'],
  ['f:metadata', 'f:uid'],
  ['f:metadata', 'f:resourceVersion'],
  ['f:metadata', 'f:generation'],
  ['f:metadata', 'f:creationTimestamp'],
  ['f:metadata', 'f:deletionTimestamp'],
  ['f:metadata', 'f:deletionGracePeriodSeconds'],
  ['f:metadata', 'f:managedFields'],
  ['f:metadata', 'f:selfLink'],
];

function startsWith(path: FieldPath, prefix: FieldPath): boolean {
  return prefix.length <= path.length && prefix.every((pe, i) => path[i] === pe);
}

/** Keeps only the paths a write through `subresource` may own (status vs. the rest). */
function tracked(set: FieldSet, info: Info, subresource: string | undefined): FieldSet {
  const statusSeparate = info.subresources.includes('status');
  return set.filter((p) => {
    if (SERVER_FIELDS.some((s) => startsWith(p, s))) return false;
    if (p.length === 1 && (p[0] === 'f:metadata' || p[0] === 'f:status' || p[0] === 'f:spec')) return false;
    const isStatus = p[0] === 'f:status';
    if (subresource === 'status') return isStatus;
    return !(statusSeparate && isStatus);
  });
}

interface Manager {
  entry: ManagedFieldsEntry;
  set: FieldSet;
  /** The stored entry, written back verbatim when neither its set nor its entry changed. */
  original?: { entry: ManagedFieldsEntry; set: FieldSet };
}

function managersOf(obj: KubeObject | undefined): Manager[] {
  return (obj?.metadata.managedFields ?? []).map((entry) => {
    const set = FieldSet.fromFieldsV1(entry.fieldsV1);
    return { entry: { ...entry }, set, original: { entry, set } };
  });
}

function sameManager(e: ManagedFieldsEntry, manager: string, operation: string, subresource: string | undefined): boolean {
  return e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');
}

/** How kube-apiserver names a manager in conflict messages. */
export function describeManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager ?? '');
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion ?? ''}`;
  return s;
}

function render(managers: Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => m.set.size > 0)
    .map((m) => {
      if (m.original && m.set.equals(m.original.set) && deepEqual(m.entry, m.original.entry)) return clone(m.original.entry);
      const { fieldsV1: _old, ...rest } = m.entry;
      return { ...rest, fieldsType: 'FieldsV1', fieldsV1: m.set.toFieldsV1() };
    });
}

/** Drops paths whose value no longer exists in the object whose present paths are given. */
function existing(set: FieldSet, present: FieldSet): FieldSet {
  return set.intersect(present);
}

/**
 * Merges an applied configuration into `live` in place, by the schema's list semantics, and
 * returns the merged value. Both are private copies, so values move across without cloning.
 */
function mergeApplied(live: unknown, applied: unknown, schema: Schema): unknown {
  if (applied === undefined) return live;
  if (schema.t === 'list' && Array.isArray(live) && Array.isArray(applied)) {
    if (schema.extras.listType === 'map' && schema.extras.listMapKeys) {
      const keys = schema.extras.listMapKeys;
      const liveKeys = live.map((x) => itemKey(x, keys, schema.item));
      for (const item of applied) {
        const key = itemKey(item, keys, schema.item);
        const idx = liveKeys.findIndex((k) => deepEqual(k, key));
        if (idx >= 0) live[idx] = mergeApplied(live[idx], item, schema.item);
        else {
          live.push(item);
          liveKeys.push(key);
        }
      }
      return live;
    }
    if (schema.extras.listType === 'set') {
      for (const v of applied) if (!live.some((x) => deepEqual(x, v))) live.push(v);
      return live;
    }
    return applied;
  }
  const granular = schema.t === 'struct' || schema.t === 'map' ? !schema.atomic : schema.t === 'any';
  if (granular && isObject(live) && isObject(applied)) {
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete live[k];
      else live[k] = mergeApplied(live[k], v, childSchema(schema, k).schema);
    }
    return live;
  }
  return applied;
}

function withoutManagedFields(obj: KubeObject): KubeObject {
  const { managedFields: _m, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/**
 * The object after `applied` is server-side applied by opts.fieldManager over `current`
 * (undefined: the object is being created). Throws ApplyConflictError (409) when the apply
 * would change values other managers own and opts.force is false.
 */
export function serverSideApply(info: Info, current: KubeObject | undefined, applied: KubeObject, opts: ApplyOptions): KubeObject {
  if (!isObject(applied) || !isObject(applied.metadata)) throw PatchError.badRequest('the applied configuration must be an object with metadata');
  if (applied.metadata.managedFields !== undefined) throw PatchError.badRequest('metadata.managedFields must be nil');
  if (!opts.fieldManager) throw PatchError.badRequest('PATCH, application/apply-patch+yaml requests must have a fieldManager');
  const schema = rootSchema(info);
  const sub = opts.subresource;
  let config = clone(applied) as KubeObject & { status?: unknown };
  if (sub === 'status') {
    if (!current) throw new PatchError(422, 'Invalid', 'the object must exist before its status can be applied');
    // Through /status only status changes; the rest of the config is ignored, as upstream resets it.
    config = { apiVersion: config.apiVersion, kind: config.kind, metadata: { name: config.metadata.name, namespace: config.metadata.namespace }, ...(config.status === undefined ? {} : { status: config.status }) };
  } else if (info.subresources.includes('status')) {
    // An apply to the main resource leaves status alone, as the status subresource owns it.
    delete config.status;
  }
  const keyErrors = associativeListErrors(config, schema);
  if (keyErrors.length > 0) throw PatchError.badRequest(`failed to create typed patch object (${apiVersionOf(info)}, Kind=${info.kind}): ${keyErrors.join('; ')}`);

  const appliedSet = tracked(pathsOf(config, schema), info, sub);
  const managers = managersOf(current);
  const mine = managers.find((m) => sameManager(m.entry, opts.fieldManager, 'Apply', sub));
  const others = managers.filter((m) => m !== mine);
  const othersSet = others.reduce((acc, m) => acc.union(m.set), new FieldSet());

  const merged = (current ? mergeApplied(clone(withoutManagedFields(current)), clone(config), schema) : clone(config)) as KubeObject;

  // What this manager applied before and dropped now goes, unless someone else still owns it.
  const keep = appliedSet.union(othersSet);
  const dropped = (mine?.set ?? new FieldSet()).minus(appliedSet).minus(othersSet);
  const removals = [...dropped].filter((p) => !keep.hasBelow(p)).sort((a, b) => a.length - b.length);
  // Parents first: an item's key fields must still be there to find the item.
  for (const p of removals) removeAt(merged, p, schema);

  if (current) {
    const conflicts: ApplyConflict[] = [];
    const taken = new Map<Manager, FieldPath[]>();
    for (const leaf of appliedSet.leaves()) {
      // Only values someone else owns can conflict; most applies own everything they send.
      if (!othersSet.has(leaf)) continue;
      const before = valueAt(current, leaf, schema);
      const after = valueAt(merged, leaf, schema);
      if (deepEqual(before, after)) continue;
      for (const m of others) {
        if (!m.set.has(leaf)) continue;
        conflicts.push({ manager: describeManager(m.entry), path: pathString(leaf) });
        taken.set(m, [...(taken.get(m) ?? []), leaf]);
      }
    }
    if (conflicts.length > 0 && !opts.force) throw new ApplyConflictError(conflicts);
    for (const [m, paths] of taken) m.set = m.set.minus(FieldSet.of(paths));
  }

  const present = presentPaths(merged, schema);
  for (const m of others) m.set = existing(m.set, present);
  const unchanged = mine !== undefined && mine.set.equals(appliedSet) && current !== undefined && deepEqual(withoutManagedFields(current), merged);
  const entry: ManagedFieldsEntry = {
    manager: opts.fieldManager,
    operation: 'Apply',
    apiVersion: apiVersionOf(info),
    time: unchanged ? (mine.entry.time ?? opts.time) : opts.time,
  };
  if (sub) entry.subresource = sub;
  const next: Manager = { entry, set: appliedSet };
  const ordered = mine ? managers.map((m) => (m === mine ? next : m)) : [...managers, next];
  merged.metadata.managedFields = render(ordered);
  if (merged.metadata.managedFields.length === 0) delete merged.metadata.managedFields;
  return merged;
}

/**
 * Records an ordinary write (create, update, patch) in managedFields: the writer gains the
 * fields it set or changed, other managers lose them (no conflicts for updates), and fields
 * that are gone leave every set. A client that edits managedFields itself gets them as sent.
 */
export function updateManagedFields(info: Info, old: KubeObject | undefined, updated: KubeObject, opts: UpdateOptions): KubeObject {
  // Only metadata.managedFields is replaced, so a shallow copy down to metadata is enough.
  const out: KubeObject = { ...updated, metadata: { ...updated.metadata } };
  if (out.metadata.managedFields !== undefined && !deepEqual(out.metadata.managedFields, old?.metadata.managedFields)) return out;
  const schema = rootSchema(info);
  const before = old ? withoutManagedFields(old) : undefined;
  const after = withoutManagedFields(out);
  const changed = tracked(pathsOf(after, schema, before, true), info, opts.subresource);
  const managers = managersOf(old);
  let mine = managers.find((m) => sameManager(m.entry, opts.manager, opts.operation, opts.subresource));
  const present = presentPaths(after, schema);
  for (const m of managers) {
    if (m !== mine) m.set = m.set.minus(changed);
    m.set = existing(m.set, present);
  }
  if (changed.size > 0) {
    if (!mine) {
      mine = { entry: { manager: opts.manager, operation: 'Update', apiVersion: apiVersionOf(info), time: opts.time }, set: new FieldSet() };
      if (opts.subresource) mine.entry.subresource = opts.subresource;
      managers.push(mine);
    } else mine.entry.time = opts.time;
    mine.set = existing(mine.set.union(changed), present);
  }
  const entries = render(managers);
  if (entries.length > 0) out.metadata.managedFields = entries;
  else delete out.metadata.managedFields;
  return out;
}
