// The ReplicaSet controller: keeps `replicas` active pods from the template, and reports
// replicas / readyReplicas / availableReplicas / observedGeneration in status.

import type { KubeObject, Pod } from '../../api/types.js';
import { resourceFor } from '../../api/resources.js';
import { isEverything, matchesLabels, selectorFromLabelSelector } from '../../api/selectors.js';
import { isConflict, isNotFound } from '../../client/errors.js';
import { NAMESPACE_INDEX } from '../../client/store.js';
import type { Informer } from '../../client/informer.js';
import type { ReplicaSet } from '../apps-types.js';
import { CONTROLLER_UID_INDEX, controllerOf, indexedInformer, keyOf, QueueController, UID_INDEX, type ControllerContext } from '../runtime.js';
import { semanticEqual } from '../equality.js';
import { compareForDeletion, isPodActive, isPodAvailable, isPodReady, msUntilAvailable, podFromTemplate } from './pods.js';

const podsResource = resourceFor('', 'pods')!;
const rsResource = resourceFor('apps', 'replicasets')!;
/** client-go's BurstReplicas: at most this many creations or deletions per sync */
const BURST_REPLICAS = 500;
/** Expectations older than this are forgotten, in case a watch event was lost. */
const EXPECTATION_TTL_MS = 60_000;

interface Expectation {
  adds: number;
  deletes: Set<string>;
  at: number;
}

export class ReplicaSetController extends QueueController {
  readonly name = 'replicaset-controller';
  protected readonly informers: Informer<KubeObject>[];
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;
  private readonly expectations = new Map<string, Expectation>();

  constructor(ctx: ControllerContext) {
    super(ctx, 'replicaset-controller', 4);
    this.replicaSets = indexedInformer<ReplicaSet>(ctx.factory, 'apps', 'replicasets');
    this.pods = indexedInformer<Pod>(ctx.factory, '', 'pods');
    this.informers = [this.replicaSets, this.pods] as Informer<KubeObject>[];
    const rsChanged = (rs: ReplicaSet) => this.queue.add(keyOf(rs));
    this.replicaSets.addEventHandler({ onAdd: rsChanged, onUpdate: (_o, rs) => rsChanged(rs), onDelete: (rs) => this.expectations.delete(keyOf(rs)) });
    this.pods.addEventHandler({
      onAdd: (p) => {
        const key = this.ownerKey(p);
        if (!key) return this.orphanChanged(p);
        const e = this.expectations.get(key);
        if (e && e.adds > 0) e.adds--;
        this.queue.add(key);
      },
      onUpdate: (o, p) => {
        const key = this.ownerKey(p);
        if (!key) return this.orphanChanged(p);
        if (p.metadata.deletionTimestamp && !o.metadata.deletionTimestamp) this.expectations.get(key)?.deletes.delete(keyOf(p));
        this.queue.add(key);
      },
      onDelete: (p) => {
        const key = this.ownerKey(p);
        if (!key) return;
        this.expectations.get(key)?.deletes.delete(keyOf(p));
        this.queue.add(key);
      },
    });
  }

  /** A pod no controller owns: every ReplicaSet that selects it may adopt it. */
  private orphanChanged(pod: Pod): void {
    if (controllerOf(pod) || pod.metadata.deletionTimestamp) return;
    for (const rs of this.replicaSets.byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? '')) {
      const sel = selectorFromLabelSelector(rs.spec.selector);
      if (!isEverything(sel) && matchesLabels(sel, pod.metadata.labels)) this.queue.add(keyOf(rs));
    }
  }

  private ownerKey(pod: Pod): string | undefined {
    const ref = controllerOf(pod);
    if (!ref || ref.kind !== 'ReplicaSet') return undefined;
    const rs = this.replicaSets.byIndex(UID_INDEX, ref.uid)[0];
    return rs ? keyOf(rs) : `${pod.metadata.namespace}/${ref.name}`;
  }

  private satisfied(key: string): boolean {
    const e = this.expectations.get(key);
    if (!e) return true;
    if ((e.adds <= 0 && e.deletes.size === 0) || Date.now() - e.at > EXPECTATION_TTL_MS) {
      this.expectations.delete(key);
      return true;
    }
    return false;
  }

  protected async sync(key: string): Promise<void> {
    const rs = this.replicaSets.get(key);
    if (!rs || !rs.metadata.uid) return; // its pods go by garbage collection
    const selector = selectorFromLabelSelector(rs.spec.selector);
    const owned = this.pods.byIndex(CONTROLLER_UID_INDEX, rs.metadata.uid).filter((p) => matchesLabels(selector, p.metadata.labels));
    if (!rs.metadata.deletionTimestamp && !isEverything(selector)) owned.push(...(await this.adoptOrphans(rs, selector)));
    const active = owned.filter(isPodActive);
    if (this.satisfied(key) && !rs.metadata.deletionTimestamp) await this.manageReplicas(key, rs, active);
    await this.updateStatus(key, rs, active);
  }

  /** Pods matching the selector that no controller owns become ours (ClaimPods' adoption). */
  private async adoptOrphans(rs: ReplicaSet, selector: ReturnType<typeof selectorFromLabelSelector>): Promise<Pod[]> {
    const adopted: Pod[] = [];
    for (const p of this.pods.byIndex(NAMESPACE_INDEX, rs.metadata.namespace!)) {
      if (controllerOf(p) || p.metadata.deletionTimestamp || !isPodActive(p) || !matchesLabels(selector, p.metadata.labels)) continue;
      const ref = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name!, uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true };
      try {
        // The resourceVersion makes this conditional: a pod claimed by someone else meanwhile is left alone.
        const patched = await this.ctx.client.patch<Pod>(podsResource, p.metadata.name!, { metadata: { resourceVersion: p.metadata.resourceVersion, ownerReferences: [...(p.metadata.ownerReferences ?? []), ref] } }, 'merge', { namespace: p.metadata.namespace });
        adopted.push(patched);
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    return adopted;
  }

  private async manageReplicas(key: string, rs: ReplicaSet, active: Pod[]): Promise<void> {
    const want = rs.spec.replicas ?? 1;
    const diff = want - active.length;
    const ns = rs.metadata.namespace!;
    if (diff > 0) {
      const n = Math.min(diff, BURST_REPLICAS);
      const exp: Expectation = { adds: n, deletes: new Set(), at: Date.now() };
      this.expectations.set(key, exp);
      const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name!, uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true };
      // Slow start as upstream: batches of 1, 2, 4, ... so a template the server refuses fails fast.
      let created = 0;
      for (let batch = 1; created < n; batch = Math.min(batch * 2, n - created)) {
        const size = Math.min(batch, n - created);
        const results = await Promise.allSettled(
          Array.from({ length: size }, () => this.ctx.client.create<Pod>(podsResource, podFromTemplate(rs.spec.template, ns, `${rs.metadata.name}-`, owner))),
        );
        const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
        exp.adds -= failed.length;
        created += size;
        if (failed.length > 0) {
          exp.adds -= n - created;
          this.ctx.events.record(rs, 'Warning', 'FailedCreate', `Error creating: ${String((failed[0]!.reason as Error)?.message ?? failed[0]!.reason)}`);
          throw failed[0]!.reason;
        }
        const names = results.map((r) => (r as PromiseFulfilledResult<Pod>).value.metadata.name);
        for (const name of names) this.ctx.events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`);
      }
    } else if (diff < 0) {
      const victims = [...active].sort(compareForDeletion).slice(0, Math.min(-diff, BURST_REPLICAS));
      const exp: Expectation = { adds: 0, deletes: new Set(victims.map(keyOf)), at: Date.now() };
      this.expectations.set(key, exp);
      const results = await Promise.allSettled(
        victims.map((p) => this.ctx.client.delete(podsResource, p.metadata.name!, { namespace: ns, preconditions: { uid: p.metadata.uid } })),
      );
      results.forEach((r, i) => {
        const pod = victims[i]!;
        if (r.status === 'fulfilled') this.ctx.events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        else {
          exp.deletes.delete(keyOf(pod));
          if (!isNotFound(r.reason)) throw r.reason;
        }
      });
    }
  }

  private async updateStatus(key: string, rs: ReplicaSet, active: Pod[]): Promise<void> {
    const now = Date.now();
    const minReady = rs.spec.minReadySeconds ?? 0;
    const templateLabels = selectorFromLabelSelector({ matchLabels: rs.spec.template.metadata?.labels ?? {} });
    let ready = 0;
    let available = 0;
    let fullyLabeled = 0;
    let recheckMs: number | undefined;
    for (const p of active) {
      if (matchesLabels(templateLabels, p.metadata.labels)) fullyLabeled++;
      if (isPodReady(p)) ready++;
      if (isPodAvailable(p, minReady, now)) available++;
      else if (minReady > 0) {
        const ms = msUntilAvailable(p, minReady, now);
        if (ms !== undefined) recheckMs = Math.min(recheckMs ?? ms, ms);
      }
    }
    const status: NonNullable<ReplicaSet['status']> = {
      replicas: active.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    if (rs.status?.conditions) status.conditions = rs.status.conditions;
    // A pod that becomes available by the clock alone produces no event: come back then.
    if (recheckMs !== undefined) this.queue.addAfter(key, recheckMs + 10);
    const old = { replicas: 0, fullyLabeledReplicas: 0, readyReplicas: 0, availableReplicas: 0, ...(rs.status ?? {}) };
    if (semanticEqual(old, { ...old, ...status })) return;
    try {
      await this.ctx.client.update<ReplicaSet>(rsResource, { ...rs, status }, { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
