// The generic registry: create/get/list/update/delete over the MVCC Store for every served
// resource, with the per-resource strategy, namespace lifecycle, service allocation and the
// resourceVersion rules of kube-apiserver's generic store.
import { randomUUID, randomInt } from 'node:crypto';
import { RESOURCES, resourceFor, type ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { applyDefaults, normalizeClusterIPs } from '../../api/defaults.js';
import { invalidStatus, validateObject, validateStatusUpdate, type FieldError } from '../../api/validation/index.js';
import { fieldsForObject, isEverything, matchesFields, matchesLabels, type FieldSelector, type LabelSelector } from '../../api/selectors.js';
import { updateManagedFields } from '../patch/index.js';
import { StorageError, type Compare, type KeyValue, type Op, type Store } from '../storage/interface.js';
import { ApiError, OBJECT_MODIFIED, alreadyExists, badRequest, conflict, expired, forbidden, internalError, notFound, tooLargeResourceVersion } from '../errors.js';
import { clone, decodeObject, encodeObject, jsonEqual, listPrefix, objectKey, rawWithRevision } from './codec.js';
import { allowsCreateOnUpdate, podIsTerminal, prepareForCreate, prepareForUpdate } from './strategy.js';
import { patchAllocatedValues, type ServiceAllocator } from './services.js';
import { logger } from '../../observability/log.js';
import { admitPodPriority, isAlreadyExists, PRIORITY_CLASSES, systemPriorityClasses } from './priority.js';
import type { Pod, PriorityClass } from '../../api/types.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const log = logger('registry');

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager: string;
  subresource?: string;
  /** managedFields were already computed (server-side apply) */
  applied?: boolean;
}

export interface ListQuery {
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  /** return items as JSON text (in `raw`) instead of objects */
  raw?: boolean;
}

export interface ListResult {
  items: KubeObject[];
  raw?: string[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  dryRun?: boolean;
}

export type Mutation = (current: KubeObject | undefined) => KubeObject | Promise<KubeObject>;

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const NAMESPACES = resourceFor('', 'namespaces')!;
const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function nowRFC3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Maps store failures to the Status kube-apiserver answers with. */
export function storageToApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StorageError) {
    if (err.code === 'Compacted') return expired(`The resourceVersion for the provided list is too old.`);
    if (err.code === 'FutureRevision') return tooLargeResourceVersion(0, err.detail?.currentRevision ?? 0);
    if (err.code === 'Unavailable') return new ApiError(503, 'ServiceUnavailable', `storage unavailable: ${err.message}`);
    // a full disk does not heal by retrying: 507, not 503, so clients do not hammer it
    if (err.code === 'NoSpace') return new ApiError(507, 'InsufficientStorage', `storage is full: ${err.message}`);
  }
  return internalError(err);
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

export function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

export function decodeContinue(token: string): ContinueToken {
  let t: ContinueToken;
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  if (t?.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string' || t.start.includes('..')) {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  return t;
}

export function matches(info: ResourceInfo, obj: KubeObject, label?: LabelSelector, field?: FieldSelector): boolean {
  if (label && !isEverything(label) && !matchesLabels(label, obj.metadata.labels)) return false;
  if (field && field.requirements.length > 0 && !matchesFields(field, fieldsForObject(info, obj))) return false;
  return true;
}

export class Registry {
  private closed = false;
  private readonly finalizing = new Set<string>();

  constructor(
    readonly store: Store,
    readonly allocator: ServiceAllocator,
  ) {}

  close(): void {
    this.closed = true;
  }

  // ---- reads ----

  async get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    const { kv } = await this.store.get(objectKey(info, namespace, name)).catch((e) => {
      throw storageToApiError(e);
    });
    if (!kv) throw notFound(info, name);
    return decodeObject(kv);
  }

  /** the revision a list or watch request should read at, per the resourceVersion rules */
  private async waitForRevision(rv: number): Promise<number> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const current = await this.store.currentRevision();
      if (current >= rv) return current;
      if (Date.now() > deadline) throw tooLargeResourceVersion(rv, current);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async list(info: ResourceInfo, namespace: string | undefined, q: ListQuery): Promise<ListResult> {
    const prefix = listPrefix(info, namespace);
    let revision: number | undefined;
    let startKey: string | undefined;
    let limit = q.limit && q.limit > 0 ? q.limit : 0;
    if (q.continue) {
      if (q.resourceVersion && q.resourceVersion !== '0') throw badRequest('specifying resource version is not allowed when using continue');
      const t = decodeContinue(q.continue);
      revision = t.rv;
      startKey = prefix + t.start;
    } else if (q.resourceVersion !== undefined && q.resourceVersion !== '') {
      if (!/^\d+$/.test(q.resourceVersion)) throw badRequest(`invalid resource version: ${q.resourceVersion}`);
      const rv = Number(q.resourceVersion);
      if (rv === 0) limit = 0; // served from "cache": the whole list
      else if (q.resourceVersionMatch === 'Exact' || (!q.resourceVersionMatch && limit > 0)) {
        const current = await this.waitForRevision(rv);
        revision = rv < current ? rv : undefined;
      } else await this.waitForRevision(rv);
    }
    const filtering = !!(q.labelSelector && !isEverything(q.labelSelector)) || !!(q.fieldSelector && q.fieldSelector.requirements.length > 0);
    const items: KubeObject[] = [];
    const raw: string[] = [];
    let count = 0;
    let readAt: number | undefined = revision;
    let more = false;
    let remaining: number | undefined;
    let lastKey: string | undefined;
    try {
      for (;;) {
        const chunk = limit === 0 ? 0 : filtering ? Math.max(limit * 2, 200) : limit - count;
        const res = await this.store.range(prefix, { revision: readAt, startKey, limit: chunk });
        readAt = res.revision;
        let stoppedEarly = false;
        for (const kv of res.kvs) {
          const obj = q.raw && !filtering ? undefined : decodeObject(kv);
          if (!filtering || matches(info, obj!, q.labelSelector, q.fieldSelector)) {
            if (q.raw) raw.push(rawWithRevision(kv));
            else items.push(obj!);
            count++;
            lastKey = kv.key;
            if (limit > 0 && count >= limit) {
              stoppedEarly = kv !== res.kvs[res.kvs.length - 1] || res.more;
              if (!filtering && kv === res.kvs[res.kvs.length - 1]) remaining = res.remaining;
              break;
            }
          }
        }
        if (limit > 0 && count >= limit) {
          more = stoppedEarly;
          break;
        }
        if (!res.more || res.kvs.length === 0) break;
        startKey = res.kvs[res.kvs.length - 1]!.key + '\x00';
      }
    } catch (e) {
      if (e instanceof StorageError && e.code === 'Compacted' && q.continue) {
        throw expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      if (e instanceof StorageError && e.code === 'Compacted') throw expired(`too old resource version: ${q.resourceVersion} (${await this.store.compactedRevision()})`);
      throw storageToApiError(e);
    }
    const out: ListResult = { items, resourceVersion: String(readAt), ...(q.raw ? { raw } : {}) };
    if (more && lastKey) {
      out.continue = encodeContinue(readAt!, lastKey.slice(prefix.length) + '\x00');
      if (remaining !== undefined && remaining > 0) out.remainingItemCount = remaining;
    }
    return out;
  }

  // ---- admission ----

  private async admitNamespace(info: ResourceInfo, namespace: string | undefined): Promise<void> {
    if (!info.namespaced) return;
    if (!namespace) throw badRequest('the server could not find the requested resource: a namespace is required for a namespaced resource');
    const { kv } = await this.store.get(objectKey(NAMESPACES, undefined, namespace));
    if (!kv) throw notFound(NAMESPACES, namespace);
    const ns = JSON.parse(kv.value) as Obj;
    if (ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') {
      throw forbidden(`${info.group ? `${info.resource}.${info.group}` : info.resource} "${'{name}'}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        kind: info.resource,
        ...(info.group ? { group: info.group } : {}),
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  /** checks after validation that may refuse a valid write (RBAC escalation prevention) */
  readonly admitters: ((info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined) => void)[] = [];

  private validate(info: ResourceInfo, obj: KubeObject, old: KubeObject | undefined, subresource: string | undefined): void {
    let errs: FieldError[];
    if ((subresource === 'status' || subresource === 'binding') && old) errs = validateStatusUpdate(info, obj, old);
    else errs = validateObject(info, obj, old, { beforeAllocation: true });
    if (errs.length > 0) throw ApiError.fromStatus(invalidStatus(info.kind, obj.metadata.name ?? '', errs, info.group));
    for (const admit of this.admitters) admit(info, obj, old);
  }

  // ---- create ----

  async create(info: ResourceInfo, namespace: string | undefined, input: KubeObject, opts: WriteOptions): Promise<KubeObject> {
    const obj = clone(input);
    if (typeof obj.metadata !== 'object' || obj.metadata === null) (obj as Obj).metadata = {};
    const meta = obj.metadata;
    if (info.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + Array.from({ length: 5 }, () => GENERATE_CHARS[randomInt(GENERATE_CHARS.length)]).join('');
    await this.admitNamespace(info, namespace).catch((e) => {
      if (e instanceof ApiError && e.reason === 'Forbidden') throw new ApiError(403, 'Forbidden', e.message.replace('{name}', meta.name ?? ''), e.details);
      throw e;
    });
    meta.uid = randomUUID();
    meta.creationTimestamp = nowRFC3339();
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    obj.apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
    obj.kind = info.kind;
    prepareForCreate(info, obj);
    applyDefaults(info, obj);
    if (info.group === '' && info.resource === 'pods') await admitPodPriority(obj as Pod, this.priorityClasses);
    if (info.group === '' && info.resource === 'services') normalizeClusterIPs(obj);
    this.validate(info, obj, undefined, undefined);
    if (!meta.name) throw badRequest('name or generateName is required');

    let result = obj;
    if (!opts.applied) result = updateManagedFields(info, undefined, obj, { manager: opts.fieldManager, operation: 'Update', time: meta.creationTimestamp });
    const key = objectKey(info, namespace, meta.name);
    for (let attempt = 0; attempt < 5; attempt++) {
      const candidate = clone(result);
      let compares: Compare[] = [{ key, modRevision: 0 }];
      let ops: Op[] = [];
      if (info.group === '' && info.resource === 'services') {
        // an existing name is AlreadyExists, not an allocation clash with itself
        if ((await this.store.get(key)).kv) throw alreadyExists(info, meta.name);
        const plan = await this.allocator.plan(candidate as Obj, undefined, `${namespace}/${meta.name}`);
        if (plan.errors.length) throw ApiError.fromStatus(invalidStatus(info.kind, meta.name, plan.errors));
        compares = compares.concat(plan.compares);
        ops = plan.ops;
      }
      if (opts.dryRun) {
        if ((await this.store.get(key)).kv) throw alreadyExists(info, meta.name);
        return candidate;
      }
      const res = await this.store.txn(compares, [{ type: 'put', key, value: encodeObject(candidate) }, ...ops]).catch((e) => {
        throw storageToApiError(e);
      });
      if (res.succeeded) return decodeObject(res.results[0]!);
      if ((await this.store.get(key)).kv) {
        if (input.metadata?.generateName && !input.metadata.name) {
          const e = alreadyExists(info, meta.name);
          throw new ApiError(409, 'AlreadyExists', e.message, { ...e.details, retryAfterSeconds: 1 });
        }
        throw alreadyExists(info, meta.name);
      }
      // an allocation raced with another writer: plan again
    }
    throw new ApiError(409, 'Conflict', `failed to allocate for ${info.resource} "${meta.name}" after retries`);
  }

  // ---- update ----

  /**
   * Reads the current object, lets `mutate` produce the desired one, and writes it if it
   * changed, retrying on a concurrent write unless the client pinned a resourceVersion.
   */
  async update(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    mutate: Mutation,
    opts: WriteOptions & { createOnUpdate?: boolean },
  ): Promise<{ obj: KubeObject; created: boolean }> {
    const key = objectKey(info, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const { kv } = await this.store.get(key).catch((e) => {
        throw storageToApiError(e);
      });
      if (!kv) {
        if (!opts.createOnUpdate && !(opts.subresource === undefined && allowsCreateOnUpdate(info) && opts.createOnUpdate !== false)) throw notFound(info, name);
        const desired = await mutate(undefined);
        if (desired.metadata?.resourceVersion) throw conflict(info, name, OBJECT_MODIFIED);
        desired.metadata = { ...(desired.metadata ?? {}), name };
        return { obj: await this.create(info, namespace, desired, opts), created: true };
      }
      const old = decodeObject(kv);
      const desired = await mutate(clone(old));
      if (typeof desired !== 'object' || desired === null || typeof desired.metadata !== 'object' || desired.metadata === null) throw badRequest('the object has no metadata');
      const pinned = desired.metadata.resourceVersion !== undefined && desired.metadata.resourceVersion !== '' && desired.metadata.resourceVersion !== old.metadata.resourceVersion;
      if (pinned) throw conflict(info, name, OBJECT_MODIFIED);
      if (desired.metadata.name !== undefined && desired.metadata.name !== name) throw badRequest(`the name of the object (${desired.metadata.name}) does not match the name on the URL (${name})`);
      desired.metadata.name = name;
      if (info.namespaced) {
        if (desired.metadata.namespace && desired.metadata.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
        desired.metadata.namespace = namespace;
      }
      desired.apiVersion = old.apiVersion;
      desired.kind = old.kind;
      let next = prepareForUpdate(info, desired, old, opts.subresource);
      if (opts.subresource !== 'status') {
        applyDefaults(info, next);
        if (info.group === '' && info.resource === 'services') {
          patchAllocatedValues(next as Obj, old as Obj);
          normalizeClusterIPs(next, old);
        }
      }
      const oldFinalizers = old.metadata.finalizers ?? [];
      if (old.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).some((f) => !oldFinalizers.includes(f))) {
        throw ApiError.fromStatus(invalidStatus(info.kind, name, [{ type: 'FieldValueForbidden', field: 'metadata.finalizers', value: '', detail: 'no new finalizers can be added if the object is being deleted' }], info.group));
      }
      this.validate(info, next, old, opts.subresource);
      let compares: Compare[] = [{ key, modRevision: kv.modRevision }];
      let ops: Op[] = [];
      if (info.group === '' && info.resource === 'services' && opts.subresource !== 'status') {
        const plan = await this.allocator.plan(next as Obj, old as Obj, `${namespace}/${name}`);
        if (plan.errors.length) throw ApiError.fromStatus(invalidStatus(info.kind, name, plan.errors));
        compares = compares.concat(plan.compares);
        ops = plan.ops;
      }
      if (!opts.applied) next = updateManagedFields(info, old, next, { manager: opts.fieldManager, operation: 'Update', subresource: opts.subresource, time: nowRFC3339() });
      next.metadata.resourceVersion = old.metadata.resourceVersion;
      if (jsonEqual(next, old)) return { obj: old, created: false };
      // the update that removes the last finalizer of a deleted object deletes it
      const finalDelete = !!next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0 && !(info.group === '' && info.resource === 'namespaces' && ((next as Obj).spec?.finalizers ?? []).length > 0);
      if (opts.dryRun) return { obj: next, created: false };
      const writeOps: Op[] = finalDelete ? [{ type: 'delete', key }, ...(info.resource === 'services' && info.group === '' ? this.allocator.releaseOps(old as Obj) : [])] : [{ type: 'put', key, value: encodeObject(next) }, ...ops];
      const res = await this.store.txn(finalDelete ? [{ key, modRevision: kv.modRevision }] : compares, writeOps).catch((e) => {
        throw storageToApiError(e);
      });
      if (res.succeeded) {
        if (finalDelete) return { obj: { ...next, metadata: { ...next.metadata, resourceVersion: String(res.revision) } }, created: false };
        return { obj: decodeObject(res.results[0]!), created: false };
      }
      if (attempt >= 20) throw conflict(info, name, OBJECT_MODIFIED);
    }
  }

  // ---- delete ----

  async delete(info: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions): Promise<{ obj: KubeObject; deleted: boolean }> {
    const key = objectKey(info, namespace, name);
    for (let attempt = 0; attempt < 20; attempt++) {
      const { kv } = await this.store.get(key).catch((e) => {
        throw storageToApiError(e);
      });
      if (!kv) throw notFound(info, name);
      const obj = decodeObject(kv);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== obj.metadata.uid) throw conflict(info, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
      if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion)
        throw conflict(info, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`);

      const o = obj as Obj;
      let pending: KubeObject | undefined;
      if (info.group === '' && info.resource === 'namespaces') {
        if (SYSTEM_NAMESPACES.slice(0, 3).includes(name)) throw forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
        if (!obj.metadata.deletionTimestamp) {
          pending = clone(obj);
          pending.metadata.deletionTimestamp = nowRFC3339();
          pending.metadata.deletionGracePeriodSeconds = 0;
          (pending as Obj).status = { ...(o.status ?? {}), phase: 'Terminating' };
        } else return { obj, deleted: false };
      } else if (info.group === '' && info.resource === 'pods' && o.spec?.nodeName && !podIsTerminal(o)) {
        const grace = opts.gracePeriodSeconds ?? o.spec?.terminationGracePeriodSeconds ?? 30;
        if (grace > 0 && (obj.metadata.deletionGracePeriodSeconds === undefined || grace < obj.metadata.deletionGracePeriodSeconds)) {
          pending = clone(obj);
          pending.metadata.deletionTimestamp = nowRFC3339(new Date(Date.now() + grace * 1000));
          pending.metadata.deletionGracePeriodSeconds = grace;
        } else if (grace > 0) return { obj, deleted: false };
      }
      if (!pending && (obj.metadata.finalizers ?? []).length > 0) {
        if (obj.metadata.deletionTimestamp) return { obj, deleted: false };
        pending = clone(obj);
        pending.metadata.deletionTimestamp = nowRFC3339();
        pending.metadata.deletionGracePeriodSeconds = 0;
      }
      if (pending) {
        delete pending.metadata.resourceVersion;
        if (opts.dryRun) return { obj: pending, deleted: false };
        const res = await this.store.txn([{ key, modRevision: kv.modRevision }], [{ type: 'put', key, value: encodeObject(pending) }]);
        if (!res.succeeded) continue;
        const written = decodeObject(res.results[0]!);
        if (info.group === '' && info.resource === 'namespaces') void this.finalizeNamespace(name);
        return { obj: written, deleted: false };
      }
      if (opts.dryRun) return { obj, deleted: true };
      const ops: Op[] = [{ type: 'delete', key }];
      if (info.group === '' && info.resource === 'services') ops.push(...this.allocator.releaseOps(o));
      const res = await this.store.txn([{ key, modRevision: kv.modRevision }], ops).catch((e) => {
        throw storageToApiError(e);
      });
      if (res.succeeded) return { obj: { ...obj, metadata: { ...obj.metadata, resourceVersion: String(res.revision) } }, deleted: true };
    }
    throw conflict(info, name, OBJECT_MODIFIED);
  }

  async deleteCollection(info: ResourceInfo, namespace: string | undefined, q: ListQuery, opts: DeleteOptions): Promise<ListResult> {
    const list = await this.list(info, namespace, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const items: KubeObject[] = [];
    for (const o of list.items) {
      try {
        items.push((await this.delete(info, o.metadata.namespace, o.metadata.name!, opts)).obj);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return { items, resourceVersion: String(await this.store.currentRevision()) };
  }

  // ---- namespace lifecycle ----

  /**
   * What the namespace controller does: delete everything in a terminating namespace, then
   * drop the `kubernetes` finalizer so the namespace itself goes. Retries while content remains.
   */
  async finalizeNamespace(name: string): Promise<void> {
    if (this.finalizing.has(name)) return;
    this.finalizing.add(name);
    try {
      while (!this.closed) {
        let remaining = 0;
        for (const info of RESOURCES) {
          if (!info.namespaced) continue;
          const list = await this.list(info, name, {});
          for (const o of list.items) {
            remaining++;
            // no kubelet waits on pods here, so they go at once
            await this.delete(info, name, o.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => undefined);
          }
        }
        if (remaining === 0) {
          try {
            await this.update(
              NAMESPACES,
              undefined,
              name,
              (cur) => {
                const ns = cur as Obj;
                ns.spec = { ...(ns.spec ?? {}), finalizers: (ns.spec?.finalizers ?? []).filter((f: string) => f !== 'kubernetes') };
                return ns as KubeObject;
              },
              { fieldManager: 'namespace-controller', subresource: 'finalize' },
            );
          } catch (e) {
            if (!(e instanceof ApiError && e.code === 404)) throw e;
          }
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } catch (e) {
      log.error('namespace finalization failed', e, { namespace: name });
    } finally {
      this.finalizing.delete(name);
    }
  }

  // ---- bootstrap ----

  /** PriorityClass lookups for the Priority admission plugin */
  private readonly priorityClasses = {
    get: async (name: string): Promise<PriorityClass | undefined> => {
      const { kv } = await this.store.get(objectKey(PRIORITY_CLASSES, undefined, name));
      return kv ? (decodeObject(kv) as PriorityClass) : undefined;
    },
    list: async (): Promise<PriorityClass[]> => (await this.list(PRIORITY_CLASSES, undefined, {})).items as PriorityClass[],
  };

  /** system namespaces and the `kubernetes` Service with its endpoints, as kube-apiserver's bootstrap controller keeps them */
  async bootstrap(advertise: { address: string; port: number }): Promise<void> {
    for (const ns of SYSTEM_NAMESPACES) {
      try {
        await this.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { fieldManager: 'kube-apiserver' });
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 409)) throw e;
      }
    }
    for (const pc of systemPriorityClasses()) await this.create(PRIORITY_CLASSES, undefined, pc, { fieldManager: 'kube-apiserver' }).catch((e) => {
      if (!isAlreadyExists(e)) throw e;
    });
    const svcInfo = resourceFor('', 'services')!;
    const ip = this.allocator.cidr.firstIP();
    try {
      await this.create(
        svcInfo,
        'default',
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
          spec: { type: 'ClusterIP', clusterIP: ip, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: advertise.port }], sessionAffinity: 'None' },
        } as KubeObject,
        { fieldManager: 'kube-apiserver' },
      );
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
    }
    const family = advertise.address.includes(':') ? 'IPv6' : 'IPv4';
    const endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: advertise.address }], ports: [{ name: 'https', port: advertise.port, protocol: 'TCP' }] }],
    } as unknown as KubeObject;
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'kube-apiserver' } },
      addressType: family,
      endpoints: [{ addresses: [advertise.address], conditions: { ready: true } }],
      ports: [{ name: 'https', port: advertise.port, protocol: 'TCP' }],
    } as unknown as KubeObject;
    // endpoints may not point at loopback (validation refuses it, as upstream's does)
    const loopback = /^127\./.test(advertise.address) || advertise.address === '::1';
    if (loopback) log.info('not publishing default/kubernetes endpoints for a loopback address', { address: advertise.address });
    for (const [info, obj] of loopback ? [] : ([
      [resourceFor('', 'endpoints')!, endpoints],
      [resourceFor('discovery.k8s.io', 'endpointslices')!, slice],
    ] as const)) {
      await this.update(
        info,
        'default',
        'kubernetes',
        (cur) => {
          if (!cur) return clone(obj);
          const next = clone(obj);
          next.metadata = { ...cur.metadata, labels: obj.metadata.labels };
          return next;
        },
        { fieldManager: 'kube-apiserver', createOnUpdate: true },
      );
    }
    // resume namespaces that were terminating when the server stopped
    const namespaces = await this.list(NAMESPACES, undefined, {});
    for (const ns of namespaces.items) if (ns.metadata.deletionTimestamp) void this.finalizeNamespace(ns.metadata.name!);
  }
}

export type { KeyValue };
