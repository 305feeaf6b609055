// One scheduling cycle for one pod: filter the nodes, score the feasible ones, pick the best.

import type { Pod } from '../api/types.js';
import type { NodeInfo } from './node-info.js';
import { podRequests } from './node-info.js';
import type { NamespaceLabels } from './terms.js';
import { findPreemption, type PreemptionOutcome } from './preemption.js';
import { DEFAULT_FILTERS, DEFAULT_SCORES, type CycleState, type FilterPlugin, type ScorePlugin } from './plugins.js';

export interface Profile {
  filters: readonly FilterPlugin[];
  scores: readonly ScorePlugin[];
  /** kube-scheduler's percentageOfNodesToScore; 0 = adaptive */
  percentageOfNodesToScore: number;
}

export const DEFAULT_PROFILE: Profile = { filters: DEFAULT_FILTERS, scores: DEFAULT_SCORES, percentageOfNodesToScore: 0 };

/** Why a pod fits no node, formatted as kube-scheduler's FitError. */
export class FitError extends Error {
  override name = 'FitError';
  constructor(
    readonly numAllNodes: number,
    /** reason → number of nodes that gave it */
    readonly reasons: ReadonlyMap<string, number>,
  ) {
    super(fitErrorMessage(numAllNodes, reasons));
  }
}

export function fitErrorMessage(numAllNodes: number, reasons: ReadonlyMap<string, number>): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  const parts = [...reasons].map(([reason, n]) => `${n} ${reason}`).sort();
  if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
  return msg;
}

/** How many feasible nodes to find before scoring (kube-scheduler's numFeasibleNodesToFind). */
export function numFeasibleNodesToFind(numAllNodes: number, percentage: number): number {
  const minFeasible = 100;
  if (numAllNodes < minFeasible) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(5, 50 - Math.floor(numAllNodes / 125));
  const n = Math.floor((numAllNodes * pct) / 100);
  return Math.max(n, minFeasible);
}

export class Scheduler {
  /** where the next cycle starts scanning, so load spreads over the node list */
  private nextStartIndex = 0;

  constructor(
    private readonly profile: Profile = DEFAULT_PROFILE,
    private readonly random: () => number = Math.random,
  ) {}

  /** The chosen node, or a FitError listing why each node was rejected. */
  schedule(pod: Pod, nodes: readonly NodeInfo[], spreadSelectors: Record<string, string>[] = [], namespaceLabels?: NamespaceLabels, nodesWithAffinity?: readonly NodeInfo[]): NodeInfo | FitError {
    if (nodes.length === 0) return new FitError(0, new Map());
    const state: CycleState = { pod, requests: podRequests(pod), spreadSelectors, nodes, namespaceLabels, nodesWithAffinity };
    for (const f of this.profile.filters) f.preFilter?.(state, nodes);
    const want = numFeasibleNodesToFind(nodes.length, this.profile.percentageOfNodesToScore);
    const feasible: NodeInfo[] = [];
    const reasons = new Map<string, number>();
    let scanned = 0;
    for (; scanned < nodes.length && feasible.length < want; scanned++) {
      const node = nodes[(this.nextStartIndex + scanned) % nodes.length]!;
      let failed: string[] | undefined;
      for (const f of this.profile.filters) {
        failed = f.filter(state, node);
        if (failed) break;
      }
      if (failed) for (const r of failed) reasons.set(r, (reasons.get(r) ?? 0) + 1);
      else feasible.push(node);
    }
    this.nextStartIndex = (this.nextStartIndex + scanned) % nodes.length;
    if (feasible.length === 0) return new FitError(nodes.length, reasons);
    if (feasible.length === 1) return feasible[0]!;

    const total = new Array<number>(feasible.length).fill(0);
    for (const plugin of this.profile.scores) plugin.preScore?.(state, feasible);
    for (const plugin of this.profile.scores) {
      const scores = new Array<number>(feasible.length);
      for (let i = 0; i < feasible.length; i++) scores[i] = plugin.score(state, feasible[i]!, feasible);
      plugin.normalize?.(scores, state);
      for (let i = 0; i < scores.length; i++) total[i]! += scores[i]! * plugin.weight;
    }
    // Highest total wins; ties are broken at random, as kube-scheduler does (reservoir sampling).
    let best = 0;
    let ties = 1;
    for (let i = 1; i < total.length; i++) {
      if (total[i]! > total[best]!) {
        best = i;
        ties = 1;
      } else if (total[i] === total[best]) {
        ties++;
        if (this.random() * ties < 1) best = i;
      }
    }
    return feasible[best]!;
  }

  /** After a FitError: a node where evicting lower-priority pods lets the pod fit, and those pods. */
  preempt(pod: Pod, nodes: readonly NodeInfo[], spreadSelectors: Record<string, string>[] = [], namespaceLabels?: NamespaceLabels): PreemptionOutcome {
    const state: CycleState = { pod, requests: podRequests(pod), spreadSelectors, nodes, namespaceLabels };
    return findPreemption(state, this.profile.filters, nodes);
  }
}
