// InterPodAffinity, as kube-scheduler's plugin: required pod affinity and anti-affinity as a
// filter (including the anti-affinity of pods already running), preferred terms as a score.
// Counts are kept per topology pair ("key=value" of a node label) and computed once per cycle
// in PreFilter / PreScore, so each node is then checked in time proportional to its labels.

import type { Pod } from '../api/types.js';
import type { NodeInfo } from './node-info.js';
import { MAX_NODE_SCORE, type CycleState, type FilterPlugin, type ScorePlugin } from './framework.js';
import { compileTerm, requiredAntiAffinityTerms, termMatchesPod, type CompiledTerm } from './terms.js';

export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** kube-scheduler's hardPodAffinityWeight default: an existing pod's required affinity also pulls in scoring */
const HARD_POD_AFFINITY_WEIGHT = 1;

const pair = (key: string, value: string) => `${key}\x00${value}`;

interface PreFilterState {
  affinity: CompiledTerm[];
  antiAffinity: CompiledTerm[];
  /** topology pair → existing pods matching all the incoming pod's required affinity terms */
  affinityCounts: Map<string, number>;
  /** topology pair → existing pods matching one of its required anti-affinity terms */
  antiAffinityCounts: Map<string, number>;
  /** topology pair → existing pods whose required anti-affinity rejects the incoming pod */
  existingAntiAffinityCounts: Map<string, number>;
}

function inc(m: Map<string, number>, k: string, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

function compute(state: CycleState, nodes: readonly NodeInfo[]): PreFilterState {
  const { pod } = state;
  const nsLabels = state.namespaceLabels;
  const pa = pod.spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  const affinity = pa.map((t) => compileTerm(t, pod));
  const antiAffinity = requiredAntiAffinityTerms(pod).map((t) => compileTerm(t, pod));
  const s: PreFilterState = { affinity, antiAffinity, affinityCounts: new Map(), antiAffinityCounts: new Map(), existingAntiAffinityCounts: new Map() };
  const ownTerms = affinity.length > 0 || antiAffinity.length > 0;
  // Without terms of its own, only pods with anti-affinity can keep the pod out.
  for (const node of ownTerms ? nodes : (state.nodesWithAffinity ?? nodes)) {
    if (node.pods.size === 0 || (!ownTerms && node.podsWithRequiredAntiAffinity.size === 0)) continue;
    const labels = node.node.metadata.labels ?? {};
    // Existing pods' required anti-affinity against the incoming pod.
    for (const existing of node.podsWithRequiredAntiAffinity.values()) {
      for (const t of requiredAntiAffinityTerms(existing)) {
        const v = labels[t.topologyKey];
        if (v !== undefined && termMatchesPod(compileTerm(t, existing), pod, nsLabels)) inc(s.existingAntiAffinityCounts, pair(t.topologyKey, v));
      }
    }
    if (!ownTerms) continue;
    for (const existing of node.pods.values()) {
      if (affinity.length > 0 && affinity.every((t) => termMatchesPod(t, existing, nsLabels))) {
        for (const t of affinity) {
          const v = labels[t.topologyKey];
          if (v !== undefined) inc(s.affinityCounts, pair(t.topologyKey, v));
        }
      }
      for (const t of antiAffinity) {
        const v = labels[t.topologyKey];
        if (v !== undefined && termMatchesPod(t, existing, nsLabels)) inc(s.antiAffinityCounts, pair(t.topologyKey, v));
      }
    }
  }
  return s;
}

function satisfiesExistingAntiAffinity(s: PreFilterState, node: NodeInfo): boolean {
  if (s.existingAntiAffinityCounts.size === 0) return true;
  const labels = node.node.metadata.labels ?? {};
  for (const k in labels) if ((s.existingAntiAffinityCounts.get(pair(k, labels[k]!)) ?? 0) > 0) return false;
  return true;
}

function satisfiesAntiAffinity(s: PreFilterState, node: NodeInfo): boolean {
  const labels = node.node.metadata.labels ?? {};
  for (const t of s.antiAffinity) {
    const v = labels[t.topologyKey];
    if (v !== undefined && (s.antiAffinityCounts.get(pair(t.topologyKey, v)) ?? 0) > 0) return false;
  }
  return true;
}

function satisfiesAffinity(s: PreFilterState, node: NodeInfo, pod: Pod, state: CycleState): boolean {
  const labels = node.node.metadata.labels ?? {};
  let podsExist = true;
  for (const t of s.affinity) {
    const v = labels[t.topologyKey];
    if (v === undefined) return false;
    if ((s.affinityCounts.get(pair(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group whose terms select itself may go anywhere the keys exist,
  // or a self-affine ReplicaSet could never start.
  return s.affinityCounts.size === 0 && s.affinity.every((t) => termMatchesPod(t, pod, state.namespaceLabels));
}

export const InterPodAffinity: FilterPlugin & ScorePlugin = {
  name: 'InterPodAffinity',
  weight: 2,
  preFilter(state, nodes) {
    (state.preFilter ??= new Map()).set('InterPodAffinity', compute(state, nodes));
  },
  filter(state, node) {
    const s = state.preFilter?.get('InterPodAffinity') as PreFilterState | undefined;
    if (!s) return undefined;
    // kube-scheduler's order, so the reason named is the same
    if (s.affinity.length > 0 && !satisfiesAffinity(s, node, state.pod, state)) return [ERR_AFFINITY];
    if (s.antiAffinity.length > 0 && !satisfiesAntiAffinity(s, node)) return [ERR_ANTI_AFFINITY];
    if (!satisfiesExistingAntiAffinity(s, node)) return [ERR_EXISTING_ANTI_AFFINITY];
    return undefined;
  },

  // Preferred terms of the incoming pod against existing pods, and existing pods' terms
  // against the incoming pod, summed per topology pair.
  preScore(state) {
    const { pod } = state;
    const nsLabels = state.namespaceLabels;
    const pref = pod.spec.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const prefAnti = pod.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const ownPreferred = pref.length > 0 || prefAnti.length > 0;
    const scores = new Map<string, number>();
    for (const node of ownPreferred ? (state.nodes ?? []) : (state.nodesWithAffinity ?? state.nodes ?? [])) {
      const pods = ownPreferred ? node.pods : node.podsWithAffinity;
      if (pods.size === 0) continue;
      const labels = node.node.metadata.labels ?? {};
      const add = (key: string, w: number) => {
        const v = labels[key];
        if (v !== undefined && w !== 0) inc(scores, pair(key, v), w);
      };
      for (const existing of pods.values()) {
        for (const w of pref) if (termMatchesPod(compileTerm(w.podAffinityTerm, pod), existing, nsLabels)) add(w.podAffinityTerm.topologyKey, w.weight);
        for (const w of prefAnti) if (termMatchesPod(compileTerm(w.podAffinityTerm, pod), existing, nsLabels)) add(w.podAffinityTerm.topologyKey, -w.weight);
        const ea = existing.spec.affinity;
        if (!ea) continue;
        for (const t of ea.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) if (termMatchesPod(compileTerm(t, existing), pod, nsLabels)) add(t.topologyKey, HARD_POD_AFFINITY_WEIGHT);
        for (const w of ea.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) if (termMatchesPod(compileTerm(w.podAffinityTerm, existing), pod, nsLabels)) add(w.podAffinityTerm.topologyKey, w.weight);
        for (const w of ea.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) if (termMatchesPod(compileTerm(w.podAffinityTerm, existing), pod, nsLabels)) add(w.podAffinityTerm.topologyKey, -w.weight);
      }
    }
    if (scores.size > 0) (state.preScore ??= new Map()).set('InterPodAffinity', scores);
  },
  score(state, node) {
    const scores = state.preScore?.get('InterPodAffinity') as Map<string, number> | undefined;
    if (!scores) return 0;
    const labels = node.node.metadata.labels ?? {};
    let s = 0;
    for (const k in labels) s += scores.get(pair(k, labels[k]!)) ?? 0;
    return s;
  },
  normalize(scores) {
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.floor((MAX_NODE_SCORE * (scores[i]! - min)) / diff) : 0;
  },
};
