// The Deployment controller: one ReplicaSet per pod template (named by its hash), rolled
// from old to new within maxSurge/maxUnavailable as the new pods become available, with
// the status and conditions `kubectl rollout status` waits on.

import type { KubeObject } from '../../api/types.js';
import { resourceFor } from '../../api/resources.js';
import { isAlreadyExists, isNotFound } from '../../client/errors.js';
import type { Informer } from '../../client/informer.js';
import type { Deployment, ReplicaSet } from '../apps-types.js';
import { semanticEqual } from '../equality.js';
import { CONTROLLER_UID_INDEX, controllerOf, indexedInformer, keyOf, QueueController, UID_INDEX, type ControllerContext } from '../runtime.js';
import {
  ANNOTATION_DESIRED,
  ANNOTATION_MAX,
  ANNOTATION_REVISION,
  deploymentStatus,
  maxSurgeAndUnavailable,
  newReplicaSetReplicas,
  POD_TEMPLATE_HASH,
  podTemplateHash,
  sameTemplate,
  scaleDownOld,
} from './rolling.js';

const rsResource = resourceFor('apps', 'replicasets')!;
const deployResource = resourceFor('apps', 'deployments')!;

export class DeploymentController extends QueueController {
  readonly name = 'deployment-controller';
  protected readonly informers: Informer<KubeObject>[];
  private readonly deployments: Informer<Deployment>;
  private readonly replicaSets: Informer<ReplicaSet>;

  constructor(ctx: ControllerContext) {
    super(ctx, 'deployment-controller', 4);
    this.deployments = indexedInformer<Deployment>(ctx.factory, 'apps', 'deployments');
    this.replicaSets = indexedInformer<ReplicaSet>(ctx.factory, 'apps', 'replicasets');
    this.informers = [this.deployments, this.replicaSets] as Informer<KubeObject>[];
    const dChanged = (d: Deployment) => this.queue.add(keyOf(d));
    this.deployments.addEventHandler({ onAdd: dChanged, onUpdate: (_o, d) => dChanged(d) });
    const rsChanged = (rs: ReplicaSet) => {
      const ref = controllerOf(rs);
      if (ref?.kind !== 'Deployment') return;
      const d = this.deployments.byIndex(UID_INDEX, ref.uid)[0];
      if (d) this.queue.add(keyOf(d));
    };
    this.replicaSets.addEventHandler({ onAdd: rsChanged, onUpdate: (_o, rs) => rsChanged(rs), onDelete: rsChanged });
  }

  protected async sync(key: string): Promise<void> {
    const d = this.deployments.get(key);
    if (!d || !d.metadata.uid || d.metadata.deletionTimestamp) return;
    const owned = this.replicaSets.byIndex(CONTROLLER_UID_INDEX, d.metadata.uid).filter((rs) => !rs.metadata.deletionTimestamp);
    let newRS = owned.find((rs) => sameTemplate(rs.spec.template, d.spec.template));
    const old = owned.filter((rs) => rs !== newRS);
    if (d.spec.paused) return this.writeStatus(d, owned, newRS);

    if (!newRS) {
      newRS = await this.createReplicaSet(d, old);
      if (!newRS) return; // created: its informer event brings us back
    }
    const all = [newRS, ...old];
    const replicas = d.spec.replicas ?? 1;
    const { maxSurge } = maxSurgeAndUnavailable(d);
    const annotate = (rs: ReplicaSet, n: number) => this.scale(rs, n, replicas, replicas + maxSurge);

    if (d.spec.strategy?.type === 'Recreate') {
      const oldRunning = old.reduce((n, rs) => n + (rs.status?.replicas ?? 0) + (rs.spec.replicas ?? 0), 0);
      for (const rs of old) if ((rs.spec.replicas ?? 0) > 0) await annotate(rs, 0);
      if (oldRunning === 0 && (newRS.spec.replicas ?? 0) !== replicas) await annotate(newRS, replicas);
      return this.writeStatus(d, all, newRS);
    }

    const cur = newRS.spec.replicas ?? 0;
    if (cur > replicas) {
      await annotate(newRS, replicas);
    } else if (cur < replicas) {
      const want = newReplicaSetReplicas(d, all, newRS);
      if (want !== cur) await annotate(newRS, want);
    }
    for (const [name, n] of scaleDownOld(d, all, newRS, old)) {
      const rs = old.find((r) => r.metadata.name === name)!;
      await annotate(rs, n);
    }
    await this.cleanupOldReplicaSets(d, old);
    await this.writeStatus(d, all, newRS);
  }

  /** Keeps at most revisionHistoryLimit (default 10) empty old ReplicaSets, dropping the oldest revisions. */
  private async cleanupOldReplicaSets(d: Deployment, old: ReplicaSet[]): Promise<void> {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const empty = old.filter((rs) => (rs.spec.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0);
    if (empty.length <= limit) return;
    const revision = (rs: ReplicaSet) => Number(rs.metadata.annotations?.[ANNOTATION_REVISION] ?? 0) || 0;
    for (const rs of empty.sort((a, b) => revision(a) - revision(b)).slice(0, empty.length - limit)) {
      try {
        await this.ctx.client.delete(rsResource, rs.metadata.name!, { namespace: rs.metadata.namespace, preconditions: { uid: rs.metadata.uid }, propagationPolicy: 'Background' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  private async createReplicaSet(d: Deployment, old: ReplicaSet[]): Promise<ReplicaSet | undefined> {
    const hash = podTemplateHash(d.spec.template, d.status?.collisionCount ?? 0);
    const revision = 1 + Math.max(0, ...old.map((rs) => Number(rs.metadata.annotations?.[ANNOTATION_REVISION] ?? 0) || 0));
    const replicas = d.spec.replicas ?? 1;
    const { maxSurge } = maxSurgeAndUnavailable(d);
    const labels = { ...(d.spec.template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels,
        annotations: { [ANNOTATION_REVISION]: String(revision), [ANNOTATION_DESIRED]: String(replicas), [ANNOTATION_MAX]: String(replicas + maxSurge) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name!, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        replicas: 0,
        minReadySeconds: d.spec.minReadySeconds ?? 0,
        selector: { ...d.spec.selector, matchLabels: { ...(d.spec.selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash } },
        template: { ...d.spec.template, metadata: { ...(d.spec.template.metadata ?? {}), labels } },
      },
    };
    // The first ReplicaSet of a Deployment starts at full size: there is nothing to roll from.
    if (old.every((r) => (r.spec.replicas ?? 0) === 0)) rs.spec.replicas = d.spec.strategy?.type === 'Recreate' && old.some((r) => (r.status?.replicas ?? 0) > 0) ? 0 : replicas;
    try {
      const created = await this.ctx.client.create<ReplicaSet>(rsResource, rs);
      this.ctx.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${rs.spec.replicas}`);
      return created;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // Same name, different template (a hash collision) or ours not yet in the cache.
      const existing = await this.ctx.client.get<ReplicaSet>(rsResource, rs.metadata.name!, { namespace: d.metadata.namespace });
      if (controllerOf(existing)?.uid === d.metadata.uid && sameTemplate(existing.spec.template, d.spec.template)) return existing;
      await this.ctx.client.update<Deployment>(deployResource, { ...d, status: { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 } }, { subresource: 'status' });
      return undefined;
    }
  }

  private async scale(rs: ReplicaSet, replicas: number, desired: number, max: number): Promise<void> {
    const from = rs.spec.replicas ?? 0;
    const next: ReplicaSet = {
      ...rs,
      metadata: { ...rs.metadata, annotations: { ...(rs.metadata.annotations ?? {}), [ANNOTATION_DESIRED]: String(desired), [ANNOTATION_MAX]: String(max) } },
      spec: { ...rs.spec, replicas },
    };
    // Optimistic concurrency on the cached resourceVersion: a stale cache gets a 409 and a retry.
    await this.ctx.client.update<ReplicaSet>(rsResource, next);
    const owner = this.deployments.byIndex(UID_INDEX, controllerOf(rs)?.uid ?? '')[0];
    if (owner) this.ctx.events.record(owner, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${replicas}`);
  }

  private async writeStatus(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = deploymentStatus(d, all, newRS);
    if (semanticEqual(status, d.status ?? {})) return;
    try {
      await this.ctx.client.update<Deployment>(deployResource, { ...d, status }, { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
