// The plugin interfaces every filter and score implements, and the per-cycle state they share
// (kube-scheduler's framework: PreFilter, Filter, PreScore, Score, NormalizeScore).

import type { Pod } from '../api/types.js';
import type { NodeInfo, PodRequests } from './node-info.js';
import type { NamespaceLabels } from './terms.js';

export const MAX_NODE_SCORE = 100;

/** Per-pod data computed once per scheduling cycle, shared by every plugin. */
export interface CycleState {
  pod: Pod;
  requests: PodRequests;
  /** labels selecting the pod's siblings (Service/ReplicaSet selectors), for default spreading */
  spreadSelectors: Record<string, string>[];
  /** every node of the cluster, not only the ones scanned this cycle */
  nodes?: readonly NodeInfo[];
  /** the nodes holding pods with pod (anti-)affinity, when the caller keeps that list
   * (kube-scheduler's HavePodsWithAffinityList); undefined means look at every node */
  nodesWithAffinity?: readonly NodeInfo[];
  /** namespace labels, for pod affinity terms with a namespaceSelector */
  namespaceLabels?: NamespaceLabels;
  /** what PreFilter hooks computed for this cycle, by plugin name */
  preFilter?: Map<string, unknown>;
  /** what PreScore hooks computed for this cycle, by plugin name */
  preScore?: Map<string, unknown>;
}

export interface FilterPlugin {
  name: string;
  /** once per cycle before filtering, over all nodes (kube-scheduler's PreFilter) */
  preFilter?(state: CycleState, nodes: readonly NodeInfo[]): void;
  /** undefined when the node fits; else the reasons it does not */
  filter(state: CycleState, node: NodeInfo): string[] | undefined;
}

export interface ScorePlugin {
  name: string;
  weight: number;
  /** raw score for one node; `normalize` maps the raw scores of all feasible nodes to 0..100 */
  score(state: CycleState, node: NodeInfo, all: readonly NodeInfo[]): number;
  normalize?(scores: number[], state: CycleState): void;
  /** once per cycle before scoring, over the feasible nodes (kube-scheduler's PreScore) */
  preScore?(state: CycleState, feasible: readonly NodeInfo[]): void;
}
