// The garbage collector, for the owner → dependent edges kubeplane creates: a dependent
// whose owners are all gone is deleted (background propagation, so its own dependents
// follow in turn). Absence is confirmed with a live GET before deleting, so a cache that
// has not yet seen a new owner never costs a dependent.

import type { KubeObject, OwnerReference } from '../../api/types.js';
import { resourceForKind, type ResourceInfo } from '../../api/resources.js';
import { isNotFound } from '../../client/errors.js';
import type { Informer } from '../../client/informer.js';
import { indexedInformer, keyOf, OWNER_UID_INDEX, QueueController, splitKey, UID_INDEX, type ControllerContext } from '../runtime.js';

/** group/resource pairs whose objects are watched as dependents and as owners. */
export const GC_RESOURCES: readonly [string, string][] = [
  ['', 'pods'],
  ['apps', 'replicasets'],
  ['apps', 'deployments'],
  ['apps', 'daemonsets'],
  ['', 'services'],
  ['discovery.k8s.io', 'endpointslices'],
];

export class GarbageCollector extends QueueController {
  readonly name = 'garbage-collector-controller';
  protected readonly informers: Informer<KubeObject>[] = [];
  private readonly byResource = new Map<string, Informer<KubeObject>>();
  /** dependents deleted by this collector, for tests */
  deleted = 0;

  constructor(ctx: ControllerContext) {
    super(ctx, 'garbage-collector-controller', 4);
    for (const [group, resource] of GC_RESOURCES) {
      const inf = indexedInformer<KubeObject>(ctx.factory, group, resource);
      this.informers.push(inf);
      this.byResource.set(`${group}/${resource}`, inf);
      inf.addEventHandler({
        onAdd: (o) => this.checkDependent(group, resource, o),
        onUpdate: (old, o) => {
          if (JSON.stringify(old.metadata.ownerReferences) !== JSON.stringify(o.metadata.ownerReferences)) this.checkDependent(group, resource, o);
        },
        onDelete: (o) => this.ownerGone(o),
      });
    }
  }

  private informerForOwner(ref: OwnerReference): { info: ResourceInfo; inf: Informer<KubeObject> | undefined } | undefined {
    const info = resourceForKind(ref.apiVersion, ref.kind);
    if (!info) return undefined;
    return { info, inf: this.byResource.get(`${info.group}/${info.resource}`) };
  }

  /** Queues a dependent whose owners are not in the caches (after they synced). */
  private checkDependent(group: string, resource: string, o: KubeObject): void {
    const refs = o.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const missing = refs.every((r) => {
      const found = this.informerForOwner(r);
      return found?.inf !== undefined && found.inf.hasSynced() && found.inf.byIndex(UID_INDEX, r.uid).length === 0;
    });
    if (missing) this.queue.add(`${group}/${resource}|${keyOf(o)}`);
  }

  private ownerGone(owner: KubeObject): void {
    const uid = owner.metadata.uid;
    if (!uid) return;
    for (const [group, resource] of GC_RESOURCES) {
      for (const dep of this.byResource.get(`${group}/${resource}`)!.byIndex(OWNER_UID_INDEX, uid)) this.queue.add(`${group}/${resource}|${keyOf(dep)}`);
    }
  }

  override async run(signal: AbortSignal): Promise<void> {
    // Owners deleted while nobody watched: check every dependent once the caches are full.
    void Promise.all(this.informers.map((i) => i.synced())).then(() => {
      for (const [group, resource] of GC_RESOURCES) for (const o of this.byResource.get(`${group}/${resource}`)!.list()) this.checkDependent(group, resource, o);
    });
    return super.run(signal);
  }

  protected async sync(item: string): Promise<void> {
    const bar = item.indexOf('|');
    const gr = item.slice(0, bar);
    const key = item.slice(bar + 1);
    const inf = this.byResource.get(gr);
    const dep = inf?.get(key);
    if (!inf || !dep) return;
    const refs = dep.metadata.ownerReferences ?? [];
    if (refs.length === 0 || dep.metadata.deletionTimestamp) return;
    const ns = splitKey(key).namespace || undefined;
    for (const ref of refs) {
      const found = this.informerForOwner(ref);
      if (!found) return; // an owner kind we do not know: leave the dependent alone
      try {
        const owner = await this.ctx.client.get(found.info, ref.name, { namespace: found.info.namespaced ? ns : undefined });
        if (owner.metadata.uid === ref.uid) return; // still there
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    try {
      await this.ctx.client.delete(inf.resource, dep.metadata.name!, { namespace: ns, propagationPolicy: 'Background', preconditions: { uid: dep.metadata.uid } });
      this.deleted++;
      this.log.v(2, 'Deleted object whose owners are gone', { object: item });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
