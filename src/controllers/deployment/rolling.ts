// The pure arithmetic of a Deployment rollout, as pkg/controller/deployment does it:
// pod-template-hash, maxSurge/maxUnavailable resolution, how far to scale the new
// ReplicaSet up and the old ones down, and the status/conditions `kubectl rollout status` reads.

import type { PodTemplateSpec, Deployment, DeploymentCondition, ReplicaSet } from '../apps-types.js';
import { canonicalJSON } from '../equality.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';
export const ANNOTATION_REVISION = 'deployment.kubernetes.io/revision';
export const ANNOTATION_DESIRED = 'deployment.kubernetes.io/desired-replicas';
export const ANNOTATION_MAX = 'deployment.kubernetes.io/max-replicas';

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** The template without the hash label, so a ReplicaSet's template compares with its Deployment's. */
export function templateWithoutHash(t: PodTemplateSpec): PodTemplateSpec {
  const labels = { ...(t.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH];
  return { ...t, metadata: { ...(t.metadata ?? {}), labels } };
}

/** FNV-1a over the template, encoded with the alphabet Kubernetes uses for generated names. */
export function podTemplateHash(t: PodTemplateSpec, collisionCount = 0): string {
  let h = 0x811c9dc5;
  const s = canonicalJSON(templateWithoutHash(t)) + (collisionCount ? String(collisionCount) : '');
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let out = '';
  let n = h;
  do {
    out += SAFE[n % SAFE.length];
    n = Math.floor(n / SAFE.length);
  } while (n > 0);
  return out;
}

export function sameTemplate(a: PodTemplateSpec, b: PodTemplateSpec): boolean {
  return canonicalJSON(templateWithoutHash(a)) === canonicalJSON(templateWithoutHash(b));
}

/** An int or percentage of `total`; percentages round up for surge, down for unavailable. */
export function resolveIntOrPercent(v: number | string | undefined, total: number, roundUp: boolean, dflt: string): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) {
    if (/^\d+$/.test(x)) return Number(x);
    throw new Error(`invalid value for IntOrString: "${x}"`);
  }
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

export function maxSurgeAndUnavailable(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const replicas = d.spec.replicas ?? 1;
  if (d.spec.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: replicas };
  const ru = d.spec.strategy?.rollingUpdate;
  const maxSurge = resolveIntOrPercent(ru?.maxSurge, replicas, true, '25%');
  let maxUnavailable = resolveIntOrPercent(ru?.maxUnavailable, replicas, false, '25%');
  // Both zero would never make progress.
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

const specReplicas = (rs: ReplicaSet) => rs.spec.replicas ?? 0;
const available = (rs: ReplicaSet) => rs.status?.availableReplicas ?? 0;

/** How many replicas the new ReplicaSet should have now (NewRSNewReplicas). */
export function newReplicaSetReplicas(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet): number {
  const replicas = d.spec.replicas ?? 1;
  const { maxSurge } = maxSurgeAndUnavailable(d);
  const current = all.reduce((n, rs) => n + specReplicas(rs), 0);
  const maxTotal = replicas + maxSurge;
  if (current >= maxTotal) return specReplicas(newRS);
  const up = Math.min(maxTotal - current, replicas - specReplicas(newRS));
  return specReplicas(newRS) + Math.max(0, up);
}

/**
 * New replica counts for old ReplicaSets (reconcileOldReplicaSets): unhealthy old replicas
 * go first, then healthy ones as far as maxUnavailable allows. Returns name → replicas for
 * those that change.
 */
export function scaleDownOld(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet | undefined, old: readonly ReplicaSet[]): Map<string, number> {
  const out = new Map<string, number>();
  const replicas = d.spec.replicas ?? 1;
  const { maxUnavailable } = maxSurgeAndUnavailable(d);
  const oldCount = old.reduce((n, rs) => n + specReplicas(rs), 0);
  if (oldCount === 0) return out;
  const allCount = all.reduce((n, rs) => n + specReplicas(rs), 0);
  const minAvailable = replicas - maxUnavailable;
  const newUnavailable = newRS ? specReplicas(newRS) - available(newRS) : 0;
  let budget = allCount - minAvailable - newUnavailable;
  if (budget <= 0) return out;
  const oldestFirst = [...old].sort((a, b) => (Date.parse(a.metadata.creationTimestamp ?? '') || 0) - (Date.parse(b.metadata.creationTimestamp ?? '') || 0));
  const next = new Map(old.map((rs) => [rs.metadata.name!, specReplicas(rs)]));
  // Unhealthy replicas first: they cost no availability.
  for (const rs of oldestFirst) {
    if (budget <= 0) break;
    const cur = next.get(rs.metadata.name!)!;
    const unhealthy = cur - available(rs);
    if (unhealthy <= 0) continue;
    const n = Math.min(budget, unhealthy);
    next.set(rs.metadata.name!, cur - n);
    budget -= n;
  }
  // Then healthy ones, as far as availability allows.
  const allAvailable = all.reduce((n, rs) => n + available(rs), 0);
  let healthyBudget = Math.min(budget, allAvailable - minAvailable);
  for (const rs of oldestFirst) {
    if (healthyBudget <= 0) break;
    const cur = next.get(rs.metadata.name!)!;
    if (cur === 0) continue;
    const n = Math.min(cur, healthyBudget);
    next.set(rs.metadata.name!, cur - n);
    healthyBudget -= n;
  }
  for (const rs of old) if (next.get(rs.metadata.name!) !== specReplicas(rs)) out.set(rs.metadata.name!, next.get(rs.metadata.name!)!);
  return out;
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string, prev: DeploymentCondition | undefined, now: string): DeploymentCondition {
  const sameState = prev && prev.status === status;
  return {
    type,
    status,
    lastUpdateTime: prev && prev.status === status && prev.reason === reason && prev.message === message ? (prev.lastUpdateTime ?? now) : now,
    lastTransitionTime: sameState ? (prev.lastTransitionTime ?? now) : now,
    reason,
    message,
  };
}

/** The status the Deployment should report (calculateStatus plus the two conditions). */
export function deploymentStatus(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet | undefined, now = new Date()): NonNullable<Deployment['status']> {
  const ts = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const replicas = d.spec.replicas ?? 1;
  const { maxUnavailable } = maxSurgeAndUnavailable(d);
  const sum = (f: (rs: ReplicaSet) => number) => all.reduce((n, rs) => n + f(rs), 0);
  const statusReplicas = sum((rs) => rs.status?.replicas ?? 0);
  const availableReplicas = sum(available);
  const totalSpec = sum(specReplicas);
  const status: NonNullable<Deployment['status']> = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: statusReplicas,
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas,
    unavailableReplicas: Math.max(0, totalSpec - availableReplicas),
  };
  if (d.status?.collisionCount) status.collisionCount = d.status.collisionCount;
  const prev = (t: string) => d.status?.conditions?.find((c) => c.type === t);
  const conds: DeploymentCondition[] = [];
  conds.push(
    availableReplicas >= replicas - maxUnavailable
      ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', prev('Available'), ts)
      : condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', prev('Available'), ts),
  );
  const complete = status.updatedReplicas === replicas && statusReplicas === replicas && availableReplicas === replicas;
  const rsName = newRS?.metadata.name ?? '';
  if (newRS) {
    conds.push(
      complete
        ? condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`, prev('Progressing'), ts)
        : condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, prev('Progressing'), ts),
    );
  }
  // Keep the order kubectl shows: Available then Progressing, and any condition we do not manage.
  for (const c of d.status?.conditions ?? []) if (c.type !== 'Available' && c.type !== 'Progressing') conds.push(c);
  status.conditions = conds;
  return status;
}
