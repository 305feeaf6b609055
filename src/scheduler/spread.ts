// PodTopologySpread for a pod's own `topologySpreadConstraints`: DoNotSchedule constraints
// filter (skew = matching pods in the node's domain + the pod itself - the emptiest domain,
// at most maxSkew; minDomains makes too few domains count as an empty one), ScheduleAnyway
// constraints score (fewer matching pods in the domain is better). Domains are the values of
// topologyKey on the nodes the pod could go to by its node affinity (nodeAffinityPolicy Honor)
// and, when asked, its tolerations (nodeTaintsPolicy Honor).

import { matchesLabels, type LabelSelector } from '../api/selectors.js';
import type { Pod, TopologySpreadConstraint } from '../api/types.js';
import { MAX_NODE_SCORE, type CycleState } from './framework.js';
import type { NodeInfo } from './node-info.js';
import { spreadSelector } from './terms.js';

export const ERR_SPREAD = "node(s) didn't match pod topology spread constraints";
export const ERR_SPREAD_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";

/** Whether the node is a place the pod may go by affinity / taints, as the policies say. */
export interface NodeEligibility {
  affinity(pod: Pod, node: NodeInfo): boolean;
  taints(pod: Pod, node: NodeInfo): boolean;
}

interface Counted {
  c: TopologySpreadConstraint;
  selector: LabelSelector;
  /** domain value → matching pods */
  counts: Map<string, number>;
  minMatch: number;
  selfMatch: number;
}

function constraintsOf(pod: Pod, when: 'DoNotSchedule' | 'ScheduleAnyway'): TopologySpreadConstraint[] {
  return (pod.spec.topologySpreadConstraints ?? []).filter((c) => (c.whenUnsatisfiable ?? 'DoNotSchedule') === when);
}

function countMatching(node: NodeInfo, ns: string | undefined, selector: LabelSelector): number {
  let n = 0;
  for (const p of node.pods.values()) if (p.metadata.namespace === ns && !p.metadata.deletionTimestamp && matchesLabels(selector, p.metadata.labels)) n++;
  return n;
}

function count(pod: Pod, constraints: TopologySpreadConstraint[], nodes: readonly NodeInfo[], eligible: NodeEligibility): Counted[] {
  const out: Counted[] = constraints.map((c) => {
    const selector = spreadSelector(c, pod);
    return { c, selector, counts: new Map(), minMatch: 0, selfMatch: matchesLabels(selector, pod.metadata.labels) ? 1 : 0 };
  });
  const ns = pod.metadata.namespace;
  for (const node of nodes) {
    const labels = node.node.metadata.labels ?? {};
    // kube-scheduler counts only nodes that carry every constraint's key
    if (!constraints.every((c) => labels[c.topologyKey] !== undefined)) continue;
    for (const k of out) {
      if ((k.c.nodeAffinityPolicy ?? 'Honor') === 'Honor' && !eligible.affinity(pod, node)) continue;
      if (k.c.nodeTaintsPolicy === 'Honor' && !eligible.taints(pod, node)) continue;
      const v = labels[k.c.topologyKey]!;
      k.counts.set(v, (k.counts.get(v) ?? 0) + countMatching(node, ns, k.selector));
    }
  }
  for (const k of out) {
    let min = Infinity;
    for (const n of k.counts.values()) if (n < min) min = n;
    k.minMatch = min === Infinity || (k.c.minDomains !== undefined && k.counts.size < k.c.minDomains) ? 0 : min;
  }
  return out;
}

export function explicitSpreadPreFilter(state: CycleState, nodes: readonly NodeInfo[], eligible: NodeEligibility): void {
  const cs = constraintsOf(state.pod, 'DoNotSchedule');
  if (cs.length === 0) return;
  (state.preFilter ??= new Map()).set('PodTopologySpread', count(state.pod, cs, nodes, eligible));
}

export function explicitSpreadFilter(state: CycleState, node: NodeInfo): string[] | undefined {
  const counted = state.preFilter?.get('PodTopologySpread') as Counted[] | undefined;
  if (!counted) return undefined;
  const labels = node.node.metadata.labels ?? {};
  for (const k of counted) {
    const v = labels[k.c.topologyKey];
    if (v === undefined) return [ERR_SPREAD_MISSING_LABEL];
    if ((k.counts.get(v) ?? 0) + k.selfMatch - k.minMatch > k.c.maxSkew) return [ERR_SPREAD];
  }
  return undefined;
}

interface ScoreState {
  counted: Counted[];
  /** log(domains + 2) per constraint: spreading over many domains weighs more, as upstream */
  weights: number[];
}

/** Returns false when the pod has no ScheduleAnyway constraints (nothing to score). */
export function explicitSpreadPreScore(state: CycleState, feasible: readonly NodeInfo[], eligible: NodeEligibility): boolean {
  const cs = constraintsOf(state.pod, 'ScheduleAnyway');
  if (cs.length === 0) return false;
  // Hostname-like keys have one domain per node: counting the feasible nodes is enough and far cheaper.
  const counted = count(state.pod, cs, state.nodes ?? feasible, eligible);
  (state.preScore ??= new Map()).set('PodTopologySpread/explicit', { counted, weights: counted.map((k) => Math.log(k.counts.size + 2)) } satisfies ScoreState);
  return true;
}

/** Raw score, lower is better; -1 marks a node missing a key (scored 0 after normalizing). */
export function explicitSpreadScore(state: CycleState, node: NodeInfo): number {
  const s = state.preScore?.get('PodTopologySpread/explicit') as ScoreState | undefined;
  if (!s) return 0;
  const labels = node.node.metadata.labels ?? {};
  let score = 0;
  for (let i = 0; i < s.counted.length; i++) {
    const k = s.counted[i]!;
    const v = labels[k.c.topologyKey];
    if (v === undefined) return -1;
    score += ((k.counts.get(v) ?? 0) + k.c.maxSkew - 1) * s.weights[i]!;
  }
  return Math.round(score);
}

export function explicitSpreadNormalize(scores: number[]): void {
  let max = 0;
  let min = Infinity;
  for (const s of scores) {
    if (s < 0) continue;
    if (s > max) max = s;
    if (s < min) min = s;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s < 0) scores[i] = 0;
    else scores[i] = max === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (max + min - s)) / max);
  }
}
