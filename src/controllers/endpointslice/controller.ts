// The EndpointSlice controller: for every Service with a selector, keeps the slices it
// manages equal to the endpoints of the pods it selects, writing through the REST client.

import type { EndpointSlice, KubeObject, Node, Pod, Service } from '../../api/types.js';
import { resourceFor } from '../../api/resources.js';
import { isNotFound } from '../../client/errors.js';
import type { Informer } from '../../client/informer.js';
import { NAMESPACE_INDEX } from '../../client/store.js';
import { keyOf, QueueController, splitKey, type ControllerContext } from '../runtime.js';
import { addressTypesFor, CONTROLLER_NAME, desiredEndpoints, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, labelsMatch, type AddressType } from './desired.js';
import { reconcileSlices } from './reconcile.js';

const slicesResource = resourceFor('discovery.k8s.io', 'endpointslices')!;
export const ANNOTATION_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
const SERVICE_NAME_INDEX = 'serviceName';

/** Per Service, what we wrote and have not yet seen come back through the informer. */
type Expectations = Map<string, { name: string; generation: number | 'deleted' }[]>;

export class EndpointSliceController extends QueueController {
  readonly name = 'endpointslice-controller';
  protected readonly informers: Informer<KubeObject>[];
  private readonly services: Informer<Service>;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly triggerTimes = new Map<string, string>();
  private readonly expectations: Expectations = new Map();
  /** count of slice writes, for tests and benchmarks that check churn */
  writes = 0;

  constructor(ctx: ControllerContext) {
    super(ctx, 'endpointslice-controller');
    this.services = ctx.factory.informerFor<Service>('', 'services');
    this.pods = ctx.factory.informerFor<Pod>('', 'pods');
    this.nodes = ctx.factory.informerFor<Node>('', 'nodes');
    this.slices = ctx.factory.informerFor<EndpointSlice>('discovery.k8s.io', 'endpointslices');
    this.slices.addIndexer(SERVICE_NAME_INDEX, (s) => {
      const svc = s.metadata.labels?.[LABEL_SERVICE_NAME];
      return svc ? [`${s.metadata.namespace}/${svc}`] : [];
    });
    this.informers = [this.services, this.pods, this.nodes, this.slices] as Informer<KubeObject>[];

    this.services.addEventHandler({
      onAdd: (s) => this.enqueue(keyOf(s)),
      onUpdate: (_o, s) => this.enqueue(keyOf(s)),
      onDelete: (s) => this.enqueue(keyOf(s)),
    });
    this.pods.addEventHandler({
      onAdd: (p) => this.podChanged(p),
      onUpdate: (o, p) => this.podChanged(p, o),
      onDelete: (p) => this.podChanged(p),
    });
    this.slices.addEventHandler({
      onAdd: (s) => this.sliceChanged(s),
      onUpdate: (_o, s) => this.sliceChanged(s),
      onDelete: (s) => this.sliceChanged(s),
    });
    // A node's zone label feeds every endpoint on it; zones rarely change, so resync all then.
    this.nodes.addEventHandler({
      onUpdate: (o, n) => {
        if (o.metadata.labels?.['topology.kubernetes.io/zone'] !== n.metadata.labels?.['topology.kubernetes.io/zone']) for (const s of this.services.list()) this.queue.add(keyOf(s));
      },
    });
  }

  private enqueue(key: string): void {
    if (!this.triggerTimes.has(key)) this.triggerTimes.set(key, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
    this.queue.add(key);
  }

  private podChanged(pod: Pod, old?: Pod): void {
    const ns = pod.metadata.namespace ?? '';
    for (const svc of this.services.byIndex(NAMESPACE_INDEX, ns)) {
      const sel = svc.spec.selector;
      if (!sel) continue;
      if (labelsMatch(sel, pod.metadata.labels) || (old && labelsMatch(sel, old.metadata.labels))) this.enqueue(keyOf(svc));
    }
  }

  private sliceChanged(slice: EndpointSlice): void {
    if (slice.metadata.labels?.[LABEL_MANAGED_BY] !== CONTROLLER_NAME) return;
    const svc = slice.metadata.labels?.[LABEL_SERVICE_NAME];
    // Only our own writes coming back or someone else's edits: a plain re-sync, no trigger time.
    if (svc) this.queue.add(`${slice.metadata.namespace}/${svc}`);
  }

  private ownedSlices(key: string): EndpointSlice[] {
    return this.slices.byIndex(SERVICE_NAME_INDEX, key).filter((s) => s.metadata.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME);
  }

  /** Whether the informer has caught up with our last writes for this Service. */
  private expectationsMet(key: string): boolean {
    const exp = this.expectations.get(key);
    if (!exp) return true;
    const { namespace } = splitKey(key);
    for (const e of exp) {
      const s = this.slices.get(`${namespace}/${e.name}`);
      if (e.generation === 'deleted' ? s !== undefined : (s?.metadata.generation ?? 0) < e.generation) return false;
    }
    this.expectations.delete(key);
    return true;
  }

  protected async sync(key: string): Promise<void> {
    if (!this.expectationsMet(key)) {
      // Our writes are still on their way back; working from a stale cache would duplicate slices.
      this.queue.addAfter(key, 20);
      return;
    }
    const { namespace } = splitKey(key);
    const svc = this.services.get(key);
    const owned = this.ownedSlices(key);
    if (!svc || !svc.spec.selector) {
      // Deleted Services' slices also go by GC; doing it here does not wait for it.
      if (!svc) await this.apply(key, { create: [], update: [], delete: owned });
      this.triggerTimes.delete(key);
      return;
    }
    const desired = desiredEndpoints(svc, this.pods.byIndex(NAMESPACE_INDEX, namespace), (n) => this.nodes.get(n));
    const wanted = new Set<AddressType>(addressTypesFor(svc));
    const changes = { create: [] as EndpointSlice[], update: [] as EndpointSlice[], delete: [] as EndpointSlice[] };
    for (const s of owned) if (!wanted.has(s.addressType as AddressType)) changes.delete.push(s);
    // Slices still owned by an earlier incarnation of the Service (same name, other uid) go too.
    const current = owned.filter((s) => wanted.has(s.addressType as AddressType) && (s.metadata.ownerReferences ?? []).some((r) => r.uid === svc.metadata.uid));
    for (const s of owned) if (wanted.has(s.addressType as AddressType) && !current.includes(s)) changes.delete.push(s);
    for (const [type, groups] of desired) {
      const c = reconcileSlices(svc, type, current.filter((s) => s.addressType === type), groups);
      changes.create.push(...c.create);
      changes.update.push(...c.update);
      changes.delete.push(...c.delete);
    }
    // Taken now, so a change that arrives while we write gets its own trigger time next sync.
    const trigger = this.triggerTimes.get(key);
    this.triggerTimes.delete(key);
    for (const s of [...changes.create, ...changes.update]) {
      if (trigger) s.metadata.annotations = { ...(s.metadata.annotations ?? {}), [ANNOTATION_TRIGGER_TIME]: trigger };
      else if (s.metadata.annotations) delete s.metadata.annotations[ANNOTATION_TRIGGER_TIME];
    }
    try {
      await this.apply(key, changes);
    } catch (err) {
      if (trigger && !this.triggerTimes.has(key)) this.triggerTimes.set(key, trigger);
      throw err;
    }
  }

  private async apply(key: string, changes: { create: EndpointSlice[]; update: EndpointSlice[]; delete: EndpointSlice[] }): Promise<void> {
    const exp: { name: string; generation: number | 'deleted' }[] = [];
    try {
      for (const s of changes.create) {
        const created = await this.ctx.client.create<EndpointSlice>(slicesResource, s);
        this.writes++;
        exp.push({ name: created.metadata.name!, generation: created.metadata.generation ?? 1 });
      }
      for (const s of changes.update) {
        const updated = await this.ctx.client.update<EndpointSlice>(slicesResource, s);
        this.writes++;
        exp.push({ name: updated.metadata.name!, generation: updated.metadata.generation ?? 0 });
      }
      for (const s of changes.delete) {
        try {
          await this.ctx.client.delete(slicesResource, s.metadata.name!, { namespace: s.metadata.namespace, preconditions: { uid: s.metadata.uid } });
          this.writes++;
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        exp.push({ name: s.metadata.name!, generation: 'deleted' });
      }
    } finally {
      if (exp.length > 0) this.expectations.set(key, exp);
    }
  }
}
