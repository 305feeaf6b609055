// The DaemonSet controller: one pod per node its template can run on (node selector,
// required node affinity, NoSchedule/NoExecute taints), placed by the scheduler through a
// required node affinity on the node's name, as kube-controller-manager does since 1.12.

import { createHash } from 'node:crypto';
import type { KubeObject, Node, Pod } from '../../api/types.js';
import { resourceFor } from '../../api/resources.js';
import { isNotFound } from '../../client/errors.js';
import type { Informer } from '../../client/informer.js';
import { NodeAffinity, TaintToleration } from '../../scheduler/plugins.js';
import { NodeInfo, podRequests } from '../../scheduler/node-info.js';
import type { DaemonSet } from '../apps-types.js';
import { semanticEqual } from '../equality.js';
import { isPodActive, isPodAvailable, isPodReady, podFromTemplate } from '../replicaset/pods.js';
import { CONTROLLER_UID_INDEX, controllerOf, indexedInformer, keyOf, QueueController, UID_INDEX, type ControllerContext } from '../runtime.js';

const podsResource = resourceFor('', 'pods')!;
const dsResource = resourceFor('apps', 'daemonsets')!;
const EXPECTATION_TTL_MS = 60_000;
/** the pod label naming the template revision a pod was made from, as upstream's ControllerRevisions do */
export const REVISION_LABEL = 'controller-revision-hash';

export function templateHash(ds: DaemonSet): string {
  return createHash('sha256').update(JSON.stringify(ds.spec.template)).digest('hex').slice(0, 10);
}

/** RollingUpdate's maxUnavailable as a pod count (int or percent of desired, at least 1 as upstream rounds up) */
function maxUnavailable(ds: DaemonSet, desired: number): number {
  const v = (ds.spec as { updateStrategy?: { rollingUpdate?: { maxUnavailable?: number | string } } }).updateStrategy?.rollingUpdate?.maxUnavailable ?? 1;
  if (typeof v === 'number') return Math.max(1, v);
  const m = /^(\d+)%$/.exec(v);
  return m ? Math.max(1, Math.ceil((Number(m[1]) * desired) / 100)) : Math.max(1, Number(v) || 1);
}

/** Whether the DaemonSet's pod should run on this node. */
export function shouldRunOn(ds: DaemonSet, node: Node): boolean {
  const pod: Pod = { metadata: {}, spec: ds.spec.template.spec };
  const state = { pod, requests: podRequests(pod), spreadSelectors: [] };
  const info = new NodeInfo(node);
  return NodeAffinity.filter(state, info) === undefined && TaintToleration.filter(state, info) === undefined;
}

/** The name of the node a DaemonSet pod is meant for, from its nodeName or its node affinity. */
export function targetNode(pod: Pod): string | undefined {
  if (pod.spec.nodeName) return pod.spec.nodeName;
  for (const t of pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [])
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  return undefined;
}

export class DaemonSetController extends QueueController {
  readonly name = 'daemonset-controller';
  protected readonly informers: Informer<KubeObject>[];
  private readonly daemonSets: Informer<DaemonSet>;
  private readonly nodes: Informer<Node>;
  private readonly pods: Informer<Pod>;
  /** ds key → node names we created a pod for and have not seen yet */
  private readonly expected = new Map<string, { nodes: Set<string>; at: number }>();

  constructor(ctx: ControllerContext) {
    super(ctx, 'daemonset-controller', 2);
    this.daemonSets = indexedInformer<DaemonSet>(ctx.factory, 'apps', 'daemonsets');
    this.nodes = ctx.factory.informerFor<Node>('', 'nodes');
    this.pods = indexedInformer<Pod>(ctx.factory, '', 'pods');
    this.informers = [this.daemonSets, this.nodes, this.pods] as Informer<KubeObject>[];
    const all = () => {
      for (const ds of this.daemonSets.list()) this.queue.add(keyOf(ds));
    };
    this.daemonSets.addEventHandler({ onAdd: (d) => this.queue.add(keyOf(d)), onUpdate: (_o, d) => this.queue.add(keyOf(d)), onDelete: (d) => this.expected.delete(keyOf(d)) });
    this.nodes.addEventHandler({ onAdd: all, onUpdate: (o, n) => (semanticEqual([o.metadata.labels, o.spec], [n.metadata.labels, n.spec]) ? undefined : all()), onDelete: all });
    const podChanged = (p: Pod) => {
      const ref = controllerOf(p);
      if (ref?.kind !== 'DaemonSet') return;
      const ds = this.daemonSets.byIndex(UID_INDEX, ref.uid)[0];
      if (!ds) return;
      const node = targetNode(p);
      if (node) this.expected.get(keyOf(ds))?.nodes.delete(node);
      this.queue.add(keyOf(ds));
    };
    this.pods.addEventHandler({ onAdd: podChanged, onUpdate: (_o, p) => podChanged(p), onDelete: podChanged });
  }

  protected async sync(key: string): Promise<void> {
    const ds = this.daemonSets.get(key);
    if (!ds || !ds.metadata.uid) return;
    const ns = ds.metadata.namespace!;
    const byNode = new Map<string, Pod[]>();
    for (const p of this.pods.byIndex(CONTROLLER_UID_INDEX, ds.metadata.uid)) {
      if (!isPodActive(p)) continue;
      const n = targetNode(p);
      if (!n) continue;
      const list = byNode.get(n) ?? [];
      list.push(p);
      byNode.set(n, list);
    }
    const exp = this.expected.get(key);
    const pendingCreates = exp && Date.now() - exp.at < EXPECTATION_TTL_MS ? exp.nodes : new Set<string>();
    const toCreate: string[] = [];
    const toDelete: Pod[] = [];
    let desired = 0;
    let misscheduled = 0;
    let current = 0;
    let ready = 0;
    let available = 0;
    const now = Date.now();
    const eligible = new Set<string>();
    const hash = templateHash(ds);
    let updated = 0;
    /** pods of an older template, on nodes that should run the DaemonSet */
    const outdated: { pod: Pod; available: boolean }[] = [];
    for (const node of this.nodes.list()) {
      const name = node.metadata.name!;
      const pods = byNode.get(name) ?? [];
      if (shouldRunOn(ds, node)) {
        eligible.add(name);
        desired++;
        if (pods.length === 0 && !pendingCreates.has(name)) toCreate.push(name);
        // Duplicates: keep the oldest.
        if (pods.length > 1) toDelete.push(...pods.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '')).slice(1));
        if (pods.length > 0) {
          current++;
          const isAvailable = isPodAvailable(pods[0]!, ds.spec.minReadySeconds ?? 0, now);
          if (isPodReady(pods[0]!)) ready++;
          if (isAvailable) available++;
          if (pods[0]!.metadata.labels?.[REVISION_LABEL] === hash) updated++;
          else outdated.push({ pod: pods[0]!, available: isAvailable });
        }
      } else if (pods.length > 0) {
        misscheduled += pods.some((p) => p.spec.nodeName) ? 1 : 0;
        toDelete.push(...pods);
      }
    }
    for (const [name, pods] of byNode) if (!eligible.has(name) && !this.nodes.get(name)) toDelete.push(...pods);
    // RollingUpdate (the default strategy): replace old-template pods, never leaving more than
    // maxUnavailable nodes without an available pod; the next sync creates their successors.
    const strategy = (ds.spec as { updateStrategy?: { type?: string } }).updateStrategy?.type ?? 'RollingUpdate';
    if (strategy === 'RollingUpdate' && outdated.length > 0) {
      let budget = maxUnavailable(ds, desired) - (desired - available);
      for (const o of outdated) {
        if (!o.available) toDelete.push(o.pod);
        else if (budget > 0) {
          toDelete.push(o.pod);
          budget--;
        }
      }
    }

    if (toCreate.length > 0) {
      const e = { nodes: new Set([...pendingCreates, ...toCreate]), at: Date.now() };
      this.expected.set(key, e);
      const owner = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name!, uid: ds.metadata.uid!, controller: true, blockOwnerDeletion: true };
      const results = await Promise.allSettled(
        toCreate.map((node) => {
          const pod = podFromTemplate(ds.spec.template, ns, `${ds.metadata.name}-`, owner);
          pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [REVISION_LABEL]: hash };
          pod.spec.affinity = {
            ...(pod.spec.affinity ?? {}),
            nodeAffinity: {
              ...(pod.spec.affinity?.nodeAffinity ?? {}),
              requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] },
            },
          };
          // Daemons run where ordinary pods may not: on unschedulable and not-ready nodes.
          pod.spec.tolerations = [
            ...(pod.spec.tolerations ?? []),
            { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
            { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
            { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
          ];
          return this.ctx.client.create<Pod>(podsResource, pod);
        }),
      );
      results.forEach((r, i) => {
        if (r.status === 'rejected') e.nodes.delete(toCreate[i]!);
        else this.ctx.events.record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${r.value.metadata.name}`);
      });
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) throw failed.reason;
    }
    for (const p of toDelete) {
      try {
        await this.ctx.client.delete(podsResource, p.metadata.name!, { namespace: ns, preconditions: { uid: p.metadata.uid } });
        this.ctx.events.record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const status: NonNullable<DaemonSet['status']> = {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: Math.max(0, desired - available),
      observedGeneration: ds.metadata.generation ?? 1,
    };
    if (semanticEqual({ ...(ds.status ?? {}), ...status }, ds.status ?? {})) return;
    await this.ctx.client.update<DaemonSet>(dsResource, { ...ds, status }, { subresource: 'status' });
  }
}
