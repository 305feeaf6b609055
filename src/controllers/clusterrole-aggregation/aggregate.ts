// What an aggregated ClusterRole's rules should be: the rules of every other ClusterRole one of
// its clusterRoleSelectors selects, selector by selector, roles by name, each rule once.
// Pure, so the controller only decides when to write.

import type { KubeObject } from '../../api/types.js';
import { matchesLabels, selectorFromLabelSelector } from '../../api/selectors.js';

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface ClusterRole extends KubeObject {
  rules?: PolicyRule[] | null;
  aggregationRule?: { clusterRoleSelectors?: Parameters<typeof selectorFromLabelSelector>[0][] } | null;
}

// Absent and empty lists mean the same in a rule (Go's semantic equality on nil vs []).
const FIELDS = ['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs'] as const;
export function ruleEqual(a: PolicyRule, b: PolicyRule): boolean {
  return FIELDS.every((f) => {
    const x = a[f] ?? [];
    const y = b[f] ?? [];
    return x.length === y.length && x.every((v, i) => v === y[i]);
  });
}

export function rulesEqual(a: readonly PolicyRule[], b: readonly PolicyRule[]): boolean {
  return a.length === b.length && a.every((r, i) => ruleEqual(r, b[i]!));
}

export function isAggregated(role: ClusterRole): boolean {
  return !!role.aggregationRule;
}

/** The rules `role` aggregates from `all` (every ClusterRole); undefined when it aggregates nothing. */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] | undefined {
  if (!role.aggregationRule) return undefined;
  const byName = [...all].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const out: PolicyRule[] = [];
  for (const ls of role.aggregationRule.clusterRoleSelectors ?? []) {
    const selector = selectorFromLabelSelector(ls);
    for (const source of byName) {
      if (source.metadata.name === role.metadata.name || !matchesLabels(selector, source.metadata.labels)) continue;
      for (const rule of source.rules ?? []) if (!out.some((r) => ruleEqual(r, rule))) out.push(rule);
    }
  }
  return out;
}
