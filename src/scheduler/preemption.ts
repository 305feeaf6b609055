// DefaultPreemption, simplified: when a pod fits nowhere, find nodes where removing pods of
// lower priority would let it fit, keep as many of those pods as still allow it (highest
// priority reprieved first), and pick the node whose victims cost least: lowest highest
// victim priority, then lowest sum of priorities, then fewest victims (kube-scheduler's
// pickOneNodeForPreemption without PodDisruptionBudgets, which kubeplane does not serve).
// Nodes rejected for reasons no eviction can change (selector, taints, cordon, name) are
// not candidates, as UnschedulableAndUnresolvable nodes are not upstream.

import type { Pod } from '../api/types.js';
import type { CycleState, FilterPlugin } from './framework.js';
import { NodeInfo } from './node-info.js';

export const ERR_NO_VICTIMS = 'No preemption victims found for incoming pod';
export const ERR_NOT_HELPFUL = 'Preemption is not helpful for scheduling';

/** Filters whose rejection no eviction can change. */
const UNRESOLVABLE = new Set(['NodeName', 'NodeUnschedulable', 'TaintToleration', 'NodeAffinity']);

export const podPriority = (p: Pod): number => p.spec.priority ?? 0;

export interface Victim {
  key: string;
  pod: Pod;
}

export interface PreemptionCandidate {
  node: NodeInfo;
  victims: Victim[];
}

export interface PreemptionOutcome {
  candidate?: PreemptionCandidate;
  /** reason → nodes, for the "preemption: ..." part of the FailedScheduling message */
  diagnosis: Map<string, number>;
}

/** kube-scheduler's candidate budget: 10% of the nodes, at least 100 */
function candidateBudget(n: number): number {
  return Math.max(100, Math.floor(n / 10));
}

function fits(state: CycleState, filters: readonly FilterPlugin[], node: NodeInfo, nodes: readonly NodeInfo[], original: NodeInfo): boolean {
  // PreFilter state (affinity and spread counts) must see the node without its victims.
  const view = nodes.map((n) => (n === original ? node : n));
  state.preFilter = undefined;
  for (const f of filters) f.preFilter?.(state, view);
  for (const f of filters) if (f.filter(state, node)) return false;
  return true;
}

function withPods(original: NodeInfo, pods: readonly Victim[]): NodeInfo {
  const n = new NodeInfo(original.node);
  for (const v of pods) n.addPod(v.key, v.pod);
  return n;
}

/** The fewest, lowest-priority pods to remove from `node` so the pod fits, or undefined. */
export function selectVictimsOnNode(state: CycleState, filters: readonly FilterPlugin[], node: NodeInfo, nodes: readonly NodeInfo[]): Victim[] | undefined {
  const prio = podPriority(state.pod);
  const keep: Victim[] = [];
  const lower: Victim[] = [];
  for (const [key, pod] of node.pods) (podPriority(pod) < prio ? lower : keep).push({ key, pod });
  if (lower.length === 0) return undefined;
  const reduced = withPods(node, keep);
  if (!fits(state, filters, reduced, nodes, node)) return undefined;
  // Reprieve from the most important down: each pod that can stay without breaking the fit stays.
  lower.sort((a, b) => podPriority(b.pod) - podPriority(a.pod));
  const victims: Victim[] = [];
  for (const v of lower) {
    reduced.addPod(v.key, v.pod);
    if (!fits(state, filters, reduced, nodes, node)) {
      reduced.removePod(v.key);
      victims.push(v);
    }
  }
  return victims;
}

function cost(victims: readonly Victim[]): [number, number, number] {
  let highest = -Infinity;
  let sum = 0;
  for (const v of victims) {
    const p = podPriority(v.pod);
    if (p > highest) highest = p;
    sum += p;
  }
  return [highest, sum, victims.length];
}

function cheaper(a: readonly Victim[], b: readonly Victim[]): boolean {
  const ca = cost(a);
  const cb = cost(b);
  for (let i = 0; i < 3; i++) if (ca[i] !== cb[i]) return ca[i]! < cb[i]!;
  return false;
}

/**
 * Looks for a node to preempt on. `state` is the failed cycle's state (pod and requests);
 * its preFilter data is recomputed for each trial.
 */
export function findPreemption(state: CycleState, filters: readonly FilterPlugin[], nodes: readonly NodeInfo[]): PreemptionOutcome {
  // trials swap a node for a copy without victims: every node must be looked at
  state.nodesWithAffinity = undefined;
  const diagnosis = new Map<string, number>();
  const note = (r: string) => diagnosis.set(r, (diagnosis.get(r) ?? 0) + 1);
  state.preFilter = undefined;
  for (const f of filters) f.preFilter?.(state, nodes);
  const unresolvable = new Set<NodeInfo>();
  for (const node of nodes) {
    for (const f of filters) {
      if (f.filter(state, node)) {
        if (UNRESOLVABLE.has(f.name)) unresolvable.add(node);
        break;
      }
    }
  }
  let best: PreemptionCandidate | undefined;
  let found = 0;
  const budget = candidateBudget(nodes.length);
  for (const node of nodes) {
    if (unresolvable.has(node)) {
      note(ERR_NOT_HELPFUL);
      continue;
    }
    if (found >= budget) continue;
    const victims = selectVictimsOnNode(state, filters, node, nodes);
    if (!victims || victims.length === 0) {
      // a node that fits without victims was not there when the cycle failed: no preemption needed there
      note(ERR_NO_VICTIMS);
      continue;
    }
    found++;
    if (!best || cheaper(victims, best.victims)) best = { node, victims };
  }
  return { candidate: best, diagnosis };
}
