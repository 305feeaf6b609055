// The default kube-scheduler plugins this scheduler runs, as filters (hard) and scores
// (soft, 0..100 before weights). Reasons use kube-scheduler's exact wording because users
// read them in `kubectl describe pod`.

import type { NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration } from '../api/types.js';
import type { NodeInfo } from './node-info.js';
import { podHostPorts, podLabelKey } from './node-info.js';
import { MAX_NODE_SCORE, type CycleState, type FilterPlugin, type ScorePlugin } from './framework.js';
import { InterPodAffinity } from './interpod.js';
import { explicitSpreadFilter, explicitSpreadNormalize, explicitSpreadPreFilter, explicitSpreadPreScore, explicitSpreadScore, type NodeEligibility } from './spread.js';

export { MAX_NODE_SCORE, type CycleState, type FilterPlugin, type ScorePlugin } from './framework.js';

// ---- helpers -----------------------------------------------------------------

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

function toleratedBy(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => tolerates(t, taint));
}

function requirementMatches(req: NodeSelectorRequirement, value: string | undefined): boolean {
  switch (req.operator) {
    case 'In':
      return value !== undefined && (req.values ?? []).includes(value);
    case 'NotIn':
      return value === undefined || !(req.values ?? []).includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || !/^-?\d+$/.test(value) || (req.values ?? []).length !== 1) return false;
      const a = Number(value);
      const b = Number(req.values![0]);
      return req.operator === 'Gt' ? a > b : a < b;
    }
  }
}

export function termMatches(term: NodeSelectorTerm, node: NodeInfo): boolean {
  const labels = node.node.metadata.labels ?? {};
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const e of exprs) if (!requirementMatches(e, labels[e.key])) return false;
  for (const f of fields) if (!requirementMatches(f, f.key === 'metadata.name' ? node.name : undefined)) return false;
  return true;
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  // for..in: this runs per pod per node in every scoring cycle; Object.entries would allocate.
  for (const k in selector) if (labels?.[k] !== selector[k]) return false;
  return true;
}

// Module-level rather than closures inside score(): score runs once per feasible node per
// cycle, and a closure per call costs an allocation (and, under tsx, a name definition).
function leastAllocated(req: number, alloc: number): number {
  return alloc <= 0 || req > alloc ? 0 : ((alloc - req) * MAX_NODE_SCORE) / alloc;
}

function usedFraction(req: number, alloc: number): number {
  return alloc <= 0 ? 1 : Math.min(1, req / alloc);
}

// ---- filters -------------------------------------------------------------------

export const NodeName: FilterPlugin = {
  name: 'NodeName',
  filter: ({ pod }, node) => (pod.spec.nodeName && pod.spec.nodeName !== node.name ? ["node(s) didn't match the requested node name"] : undefined),
};

const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

export const NodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter: ({ pod }, node) =>
    node.node.spec?.unschedulable && !toleratedBy(pod.spec.tolerations, UNSCHEDULABLE_TAINT) ? ['node(s) were unschedulable'] : undefined,
};

export const TaintToleration: FilterPlugin & ScorePlugin = {
  name: 'TaintToleration',
  weight: 3,
  filter({ pod }, node) {
    for (const taint of node.node.spec?.taints ?? []) {
      if (taint.effect === 'PreferNoSchedule') continue;
      if (!toleratedBy(pod.spec.tolerations, taint)) return [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`];
    }
    return undefined;
  },
  score({ pod }, node) {
    const taints = node.node.spec?.taints;
    // Most nodes carry no taints: skip building the pod's PreferNoSchedule tolerations for them.
    if (!taints || taints.length === 0) return 0;
    const prefer = (pod.spec.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    let n = 0;
    for (const taint of taints) if (taint.effect === 'PreferNoSchedule' && !toleratedBy(prefer, taint)) n++;
    return n;
  },
  // Fewer intolerable taints is better.
  normalize(scores) {
    const max = Math.max(0, ...scores);
    for (let i = 0; i < scores.length; i++) scores[i] = max === 0 ? MAX_NODE_SCORE : Math.floor(((max - scores[i]!) * MAX_NODE_SCORE) / max);
  },
};

export const NodeAffinity: FilterPlugin & ScorePlugin = {
  name: 'NodeAffinity',
  weight: 2,
  filter({ pod }, node) {
    const sel = pod.spec.nodeSelector;
    if (sel && !labelsMatch(sel, node.node.metadata.labels)) return ["node(s) didn't match Pod's node affinity/selector"];
    const required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (required && !required.nodeSelectorTerms.some((t) => termMatches(t, node))) return ["node(s) didn't match Pod's node affinity/selector"];
    return undefined;
  },
  score({ pod }, node) {
    let s = 0;
    for (const p of pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) if (p.weight && termMatches(p.preference, node)) s += p.weight;
    return s;
  },
  normalize(scores) {
    const max = Math.max(0, ...scores);
    if (max === 0) return;
    for (let i = 0; i < scores.length; i++) scores[i] = Math.floor((scores[i]! * MAX_NODE_SCORE) / max);
  },
};

export const NodePorts: FilterPlugin = {
  name: 'NodePorts',
  filter({ pod }, node) {
    for (const want of podHostPorts(pod)) {
      for (const used of node.hostPorts) {
        if (used.port !== want.port || used.protocol !== want.protocol) continue;
        if (used.hostIP === '0.0.0.0' || want.hostIP === '0.0.0.0' || used.hostIP === want.hostIP) return ["node(s) didn't have free ports for the requested pod ports"];
      }
    }
    return undefined;
  },
};

export const NodeResourcesFit: FilterPlugin & ScorePlugin = {
  name: 'NodeResourcesFit',
  weight: 1,
  filter({ requests }, node) {
    const reasons: string[] = [];
    const a = node.allocatable;
    const r = node.requested;
    if (r.pods + 1 > a.pods) reasons.push('Too many pods');
    if (requests.milliCPU > 0 && requests.milliCPU > a.milliCPU - r.milliCPU) reasons.push('Insufficient cpu');
    if (requests.memory > 0 && requests.memory > a.memory - r.memory) reasons.push('Insufficient memory');
    for (const [name, v] of requests.scalar) if (v > 0 && v > (a.scalar.get(name) ?? 0) - (r.scalar.get(name) ?? 0)) reasons.push(`Insufficient ${name}`);
    return reasons.length > 0 ? reasons : undefined;
  },
  // LeastAllocated over cpu and memory, weight 1 each.
  score({ requests }, node) {
    const cpu = leastAllocated(node.nonZeroMilliCPU + requests.nonZeroMilliCPU, node.allocatable.milliCPU);
    const mem = leastAllocated(node.nonZeroMemory + requests.nonZeroMemory, node.allocatable.memory);
    return Math.floor((cpu + mem) / 2);
  },
};

export const NodeResourcesBalancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  weight: 1,
  score({ requests }, node) {
    const cpu = usedFraction(node.nonZeroMilliCPU + requests.nonZeroMilliCPU, node.allocatable.milliCPU);
    const mem = usedFraction(node.nonZeroMemory + requests.nonZeroMemory, node.allocatable.memory);
    // standard deviation of two fractions is half their distance
    const std = Math.abs(cpu - mem) / 2;
    return Math.floor((1 - std) * MAX_NODE_SCORE);
  },
};

const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** Whether the node holds, for some selector, pods carrying each of its labels (podLabelKeys). */
function mayHoldMatch(node: NodeInfo, selectorKeys: readonly string[][]): boolean {
  for (const keys of selectorKeys) {
    let all = true;
    for (const k of keys) if (!node.podLabelCounts.has(k)) all = false;
    if (all) return true;
  }
  return false;
}

const spreadEligibility: NodeEligibility = {
  affinity: (pod, node) => NodeAffinity.filter({ pod } as CycleState, node) === undefined,
  taints: (pod, node) => TaintToleration.filter({ pod } as CycleState, node) === undefined,
};

/**
 * PodTopologySpread. A pod's own topologySpreadConstraints filter and score (spread.ts); a
 * pod without any gets the system default constraints (hostname maxSkew 3, zone maxSkew 5,
 * both ScheduleAnyway): nodes whose hostname (the node itself) and zone hold fewer of the
 * pod's siblings score higher.
 */
export const PodTopologySpread: FilterPlugin & ScorePlugin = {
  name: 'PodTopologySpread',
  weight: 2,
  preFilter: (state, nodes) => explicitSpreadPreFilter(state, nodes, spreadEligibility),
  filter: explicitSpreadFilter,
  // Sibling counts per node and per zone, computed once per cycle: scoring each node against
  // every other node of its zone would be quadratic in the feasible nodes.
  preScore(state, feasible) {
    const { pod, spreadSelectors } = state;
    if ((pod.spec.topologySpreadConstraints ?? []).length > 0) {
      explicitSpreadPreScore(state, feasible, spreadEligibility);
      return;
    }
    if (spreadSelectors.length === 0) return;
    const ns = pod.metadata.namespace;
    const perNode = new Map<NodeInfo, number>();
    const perZone = new Map<string, number>();
    const selectorKeys = spreadSelectors.map((s) => Object.keys(s).map((k) => podLabelKey(ns, k, s[k]!)));
    // One single-label selector (a typical ReplicaSet or Service): the node's label count is the answer.
    const single = selectorKeys.length === 1 && selectorKeys[0]!.length === 1 ? selectorKeys[0]![0]! : undefined;
    for (const n of feasible) {
      // Most nodes hold none of the siblings: skip them without touching their pods or the maps.
      if (n.pods.size === 0) continue;
      let c = 0;
      if (single !== undefined) c = n.podLabelCounts.get(single) ?? 0;
      // A selector can match only if the node holds pods carrying each of its labels.
      else if (mayHoldMatch(n, selectorKeys)) {
        for (const p of n.pods.values()) {
          if (p.metadata.namespace !== ns) continue;
          for (const s of spreadSelectors) {
            if (labelsMatch(s, p.metadata.labels)) {
              c++;
              break;
            }
          }
        }
      }
      if (c === 0) continue;
      const zone = n.node.metadata.labels?.[ZONE_LABEL];
      if (zone !== undefined) perZone.set(zone, (perZone.get(zone) ?? 0) + c);
      else perNode.set(n, c);
    }
    (state.preScore ??= new Map()).set('PodTopologySpread', { perNode, perZone });
  },
  score(state, node) {
    if (state.preScore?.has('PodTopologySpread/explicit')) return explicitSpreadScore(state, node);
    const pre = state.preScore?.get('PodTopologySpread') as { perNode: Map<NodeInfo, number>; perZone: Map<string, number> } | undefined;
    if (!pre) return 0;
    const zone = node.node.metadata.labels?.[ZONE_LABEL];
    // the node's own siblings count once, plus those elsewhere in its zone
    return zone !== undefined ? (pre.perZone.get(zone) ?? 0) : (pre.perNode.get(node) ?? 0);
  },
  normalize(scores, state) {
    if (state.preScore?.has('PodTopologySpread/explicit')) return explicitSpreadNormalize(scores);
    const max = Math.max(0, ...scores);
    for (let i = 0; i < scores.length; i++) scores[i] = max === 0 ? MAX_NODE_SCORE : Math.floor(((max - scores[i]!) * MAX_NODE_SCORE) / max);
  },
};

// kube-scheduler's default plugin order and score weights.
export const DEFAULT_FILTERS: readonly FilterPlugin[] = [NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity];
export const DEFAULT_SCORES: readonly ScorePlugin[] = [TaintToleration, NodeAffinity, NodeResourcesFit, NodeResourcesBalancedAllocation, PodTopologySpread, InterPodAffinity];
