// The scheduler loop: pods without a node come from the informer into the queue, are
// scheduled one at a time against the cache, and bound through pods/binding concurrently.
// Pods that fit nowhere get a FailedScheduling event and PodScheduled=False, and wait for
// a node or pod change before their next try.

import type { Condition, KubeObject, Node, Pod, Service } from '../api/types.js';
import { resourceFor } from '../api/resources.js';
import { isConflict, isNotFound } from '../client/errors.js';
import type { ApiInformerFactory } from '../client/api-informers.js';
import type { Informer } from '../client/informer.js';
import type { RestClient } from '../client/rest.js';
import { NAMESPACE_INDEX } from '../client/store.js';
import { logger } from '../observability/log.js';
import type { ReplicaSet } from '../controllers/apps-types.js';
import { EventRecorder } from '../controllers/runtime.js';
import { SchedulerCache } from './cache.js';
import { SchedulingQueue } from './queue.js';
import { DEFAULT_PROFILE, FitError, fitErrorMessage, Scheduler, type Profile } from './schedule.js';
import { podPriority, type PreemptionCandidate } from './preemption.js';

const log = logger('scheduler');
const podsResource = resourceFor('', 'pods')!;

export interface SchedulerRuntimeOptions {
  schedulerName?: string;
  profile?: Profile;
  /** bindings in flight at once */
  bindConcurrency?: number;
  /** record Scheduled / FailedScheduling Events (default true) */
  events?: boolean;
  /** how often parked pods are retried even if nothing changed (kube-scheduler: 5 min) */
  unschedulableFlushMs?: number;
}

export interface SchedulerStats {
  scheduled: number;
  unschedulable: number;
  bindErrors: number;
}

function podKey(p: Pod): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}

function labelsMatch(sel: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  for (const k in sel) if (labels?.[k] !== sel[k]) return false;
  return true;
}

export class SchedulerRuntime {
  readonly cache = new SchedulerCache();
  readonly queue = new SchedulingQueue();
  readonly stats: SchedulerStats = { scheduled: 0, unschedulable: 0, bindErrors: 0 };
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly services: Informer<Service>;
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly namespaces: Informer<KubeObject>;
  private readonly algorithm: Scheduler;
  private readonly schedulerName: string;
  private readonly bindConcurrency: number;
  private readonly events: EventRecorder | undefined;
  private inFlight = 0;
  /** preemptors → the node they preempted on, until bound or gone */
  private readonly nominated = new Map<string, string>();
  private bindSlot: (() => void) | undefined;

  constructor(
    private readonly client: RestClient,
    factory: ApiInformerFactory,
    private readonly opts: SchedulerRuntimeOptions = {},
  ) {
    this.schedulerName = opts.schedulerName ?? 'default-scheduler';
    this.bindConcurrency = opts.bindConcurrency ?? 64;
    this.algorithm = new Scheduler(opts.profile ?? DEFAULT_PROFILE);
    this.events = opts.events === false ? undefined : new EventRecorder(client, this.schedulerName);
    this.pods = factory.informerFor<Pod>('', 'pods');
    this.nodes = factory.informerFor<Node>('', 'nodes');
    this.services = factory.informerFor<Service>('', 'services');
    this.replicaSets = factory.informerFor<ReplicaSet>('apps', 'replicasets');
    // namespace labels, for pod affinity terms with a namespaceSelector
    this.namespaces = factory.informerFor<KubeObject>('', 'namespaces');

    this.nodes.addEventHandler({
      onAdd: (n) => {
        this.cache.upsertNode(n);
        this.queue.moveAllToActive();
      },
      onUpdate: (_o, n) => {
        this.cache.upsertNode(n);
        this.queue.moveAllToActive();
      },
      onDelete: (n) => this.cache.removeNode(n.metadata.name!),
    });
    this.pods.addEventHandler({
      onAdd: (p) => this.podChanged(p),
      onUpdate: (o, p) => this.podChanged(p, o),
      onDelete: (p) => {
        const key = podKey(p);
        this.queue.delete(key);
        this.nominated.delete(key);
        if (this.cache.isAssumedOrBound(key)) {
          this.cache.removePod(key);
          this.queue.moveAllToActive();
        }
      },
    });
  }

  private responsible(p: Pod): boolean {
    return (p.spec.schedulerName ?? 'default-scheduler') === this.schedulerName;
  }

  private podChanged(p: Pod, old?: Pod): void {
    const key = podKey(p);
    const terminal = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    if (p.spec.nodeName) {
      this.queue.delete(key);
      if (terminal) {
        if (this.cache.isAssumedOrBound(key)) {
          this.cache.removePod(key);
          this.queue.moveAllToActive();
        }
      } else {
        // new on its node: never seen bound, or our own assumption now confirmed
        const isNew = !this.cache.isAssumedOrBound(key) || this.cache.isAssumed(key);
        this.cache.addPod(key, p);
        // A pod newly on a node may satisfy a parked pod's affinity (or a spread constraint).
        if (isNew && this.queue.unschedulableLength > 0) this.queue.moveAllToActive();
      }
      return;
    }
    if (!this.responsible(p) || p.metadata.deletionTimestamp || terminal) {
      this.queue.delete(key);
      return;
    }
    if (this.cache.isAssumedOrBound(key)) return; // our binding is on its way back
    // A parked pod comes back only when its spec changed (e.g. a toleration was added), not on our own status write.
    if (old && this.queue.isUnschedulable(key) && JSON.stringify(old.spec) === JSON.stringify(p.spec) && JSON.stringify(old.metadata.labels) === JSON.stringify(p.metadata.labels)) return;
    this.queue.add(key);
  }

  private readonly namespaceLabels = (ns: string): Record<string, string> | undefined => this.namespaces.get(ns)?.metadata.labels;

  private spreadSelectors(p: Pod): Record<string, string>[] {
    const out: Record<string, string>[] = [];
    for (const s of this.services.byIndex(NAMESPACE_INDEX, p.metadata.namespace ?? '')) if (s.spec.selector && Object.keys(s.spec.selector).length > 0 && labelsMatch(s.spec.selector, p.metadata.labels)) out.push(s.spec.selector);
    const ref = p.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'ReplicaSet');
    const rs = ref ? this.replicaSets.get(`${p.metadata.namespace}/${ref.name}`) : undefined;
    if (rs?.spec.selector.matchLabels) out.push(rs.spec.selector.matchLabels);
    return out;
  }

  /** Runs the scheduling loop until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.close(), { once: true });
    await Promise.race([Promise.all([this.pods.synced(), this.nodes.synced(), this.services.synced(), this.replicaSets.synced(), this.namespaces.synced()]), new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
    if (signal.aborted) return;
    log.info('Caches are synced, scheduling');
    const flush = setInterval(() => this.queue.moveAllToActive(), this.opts.unschedulableFlushMs ?? 60_000);
    try {
      let sinceYield = 0;
      for (;;) {
        const key = await this.queue.pop();
        if (key === undefined) break;
        this.scheduleOne(key);
        // Let binding responses and watch events in between cycles.
        if (++sinceYield >= 16 || this.inFlight >= this.bindConcurrency) {
          sinceYield = 0;
          await new Promise((r) => setImmediate(r));
          while (this.inFlight >= this.bindConcurrency && !signal.aborted) await new Promise<void>((r) => (this.bindSlot = r));
        }
      }
    } finally {
      clearInterval(flush);
    }
  }

  private scheduleOne(key: string): void {
    const pod = this.pods.get(key);
    if (!pod || pod.spec.nodeName || pod.metadata.deletionTimestamp || !this.responsible(pod) || this.cache.isAssumedOrBound(key)) return;
    let result: ReturnType<Scheduler['schedule']>;
    try {
      result = this.algorithm.schedule(pod, this.cache.nodeInfos(), this.spreadSelectors(pod), this.namespaceLabels, this.cache.nodesWithAffinity());
    } catch (err) {
      // A pod the plugins cannot read (e.g. a malformed quantity) is parked, never fatal to the loop.
      log.error('Error scheduling pod', err, { pod: key });
      this.stats.unschedulable++;
      this.queue.addUnschedulable(key);
      void this.reportUnschedulable(pod, `running scheduling plugins: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (result instanceof FitError) {
      this.stats.unschedulable++;
      this.queue.addUnschedulable(key);
      let message = result.message;
      if (this.eligibleToPreempt(key, pod)) {
        const nodes = this.cache.nodeInfos();
        const out = this.algorithm.preempt(pod, nodes, this.spreadSelectors(pod), this.namespaceLabels);
        if (out.candidate) void this.preempt(key, pod, out.candidate);
        else message += ` preemption: ${fitErrorMessage(nodes.length, out.diagnosis)}`;
      }
      void this.reportUnschedulable(pod, message);
      return;
    }
    const nodeName = result.name;
    this.cache.assume(key, pod, nodeName);
    this.inFlight++;
    void this.bind(key, pod, nodeName).finally(() => {
      this.inFlight--;
      const w = this.bindSlot;
      this.bindSlot = undefined;
      w?.();
    });
  }

  /**
   * PodEligibleToPreemptOthers, for pods that use priorities (priority > 0; pods at the
   * default 0 keep the plain FailedScheduling message): not when its policy is Never, nor
   * while victims it already chose are still terminating on its nominated node.
   */
  private eligibleToPreempt(key: string, pod: Pod): boolean {
    const prio = podPriority(pod);
    if (prio <= 0 || pod.spec.preemptionPolicy === 'Never') return false;
    const nominated = this.nominated.get(key) ?? pod.status?.nominatedNodeName;
    if (!nominated) return true;
    const info = this.cache.nodeInfos().find((n) => n.name === nominated);
    for (const p of info?.pods.values() ?? []) if (p.metadata.deletionTimestamp && podPriority(p) < prio) return false;
    return true;
  }

  private async preempt(key: string, pod: Pod, c: PreemptionCandidate): Promise<void> {
    const nodeName = c.node.name;
    this.nominated.set(key, nodeName);
    log.info('Preempting pods', { pod: key, node: nodeName, victims: c.victims.map((v) => v.key) });
    const { namespace, name, uid } = pod.metadata;
    try {
      await this.client.patch(podsResource, name!, { status: { nominatedNodeName: nodeName } }, 'merge', { namespace, subresource: 'status' });
    } catch (err) {
      if (isNotFound(err)) return;
      log.error('Failed to set nominatedNodeName', err, { pod: key });
    }
    await Promise.all(
      c.victims.map(async ({ key: vkey, pod: victim }) => {
        const vns = victim.metadata.namespace!;
        const vname = victim.metadata.name!;
        // The victim learns why it goes, as kube-scheduler tells it.
        const cond: Condition = { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: `${this.schedulerName}: preempting to accommodate a higher priority pod`, lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
        try {
          await this.client.patch(podsResource, vname, { status: { conditions: [...(victim.status?.conditions ?? []).filter((x) => x.type !== 'DisruptionTarget'), cond] } }, 'merge', { namespace: vns, subresource: 'status' });
          await this.client.delete(podsResource, vname, { namespace: vns, preconditions: victim.metadata.uid ? { uid: victim.metadata.uid } : undefined });
          this.events?.record(victim, 'Normal', 'Preempted', `Preempted by pod ${uid} on node ${nodeName}`);
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) log.error('Failed to preempt pod', err, { pod: vkey, preemptor: key });
        }
      }),
    );
  }

  private async bind(key: string, pod: Pod, nodeName: string): Promise<void> {
    const { namespace, name, uid } = pod.metadata;
    try {
      await this.client.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace!)}/pods/${encodeURIComponent(name!)}/binding`, {
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
      });
      this.stats.scheduled++;
      this.queue.succeeded(key);
      this.nominated.delete(key);
      this.events?.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`);
    } catch (err) {
      this.cache.forget(key);
      this.stats.bindErrors++;
      // Gone, or bound meanwhile (409): nothing to retry; the informer tells us the rest.
      if (isNotFound(err) || isConflict(err)) return;
      log.error('Failed to bind pod', err, { pod: key, node: nodeName });
      this.queue.addBackoff(key);
    }
  }

  private async reportUnschedulable(pod: Pod, message: string): Promise<void> {
    // Every failed attempt is an occurrence, as kube-scheduler records it; the recorder folds
    // repeats into one Event whose count grows.
    this.events?.record(pod, 'Warning', 'FailedScheduling', message);
    const prev = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (prev?.status === 'False' && prev.message === message) return; // condition says it already
    log.v(2, 'Unable to schedule pod', { pod: podKey(pod), err: message });
    const cond: Condition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
    const conditions = [...(pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), cond];
    try {
      await this.client.patch(podsResource, pod.metadata.name!, { status: { conditions } }, 'merge', { namespace: pod.metadata.namespace, subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) log.error('Failed to update pod condition', err, { pod: podKey(pod) });
    }
  }
}
