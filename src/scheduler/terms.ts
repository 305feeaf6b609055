// Pod affinity terms and spread constraints compiled once per owning pod: which namespaces
// and labels a term selects. Compiled terms are cached by the term object, which the
// informer replaces whenever the pod changes, so a cached entry never goes stale.

import type { Pod, PodAffinityTerm, PodLabelSelector, TopologySpreadConstraint } from '../api/types.js';
import { matchesLabels, NOTHING, selectorFromLabelSelector, type LabelSelector } from '../api/selectors.js';

/** Labels of a namespace by name; undefined when the namespace is unknown. */
export type NamespaceLabels = (namespace: string) => Record<string, string> | undefined;

export interface CompiledTerm {
  topologyKey: string;
  selector: LabelSelector;
  /** explicit namespaces; with `nsSelector` undefined and this empty: the owner's namespace */
  namespaces: Set<string>;
  nsSelector: LabelSelector | undefined;
}

function compileSelector(ls: PodLabelSelector | undefined, owner: Pod, matchKeys: string[] | undefined, mismatchKeys: string[] | undefined): LabelSelector {
  if (!ls) return NOTHING;
  const labels = owner.metadata.labels ?? {};
  // matchLabelKeys / mismatchLabelKeys fold the owner's own label values into the selector.
  const extra: { key: string; operator: string; values: string[] }[] = [];
  for (const k of matchKeys ?? []) if (labels[k] !== undefined) extra.push({ key: k, operator: 'In', values: [labels[k]!] });
  for (const k of mismatchKeys ?? []) if (labels[k] !== undefined) extra.push({ key: k, operator: 'NotIn', values: [labels[k]!] });
  try {
    return selectorFromLabelSelector(extra.length > 0 ? { ...ls, matchExpressions: [...(ls.matchExpressions ?? []), ...extra] } : ls);
  } catch {
    // A selector the API let through but we cannot read selects nothing rather than failing the cycle.
    return NOTHING;
  }
}

const termCache = new WeakMap<object, CompiledTerm>();

export function compileTerm(term: PodAffinityTerm, owner: Pod): CompiledTerm {
  let c = termCache.get(term);
  if (c) return c;
  const namespaces = new Set(term.namespaces ?? []);
  let nsSelector: LabelSelector | undefined;
  if (term.namespaceSelector) {
    try {
      nsSelector = selectorFromLabelSelector(term.namespaceSelector);
    } catch {
      nsSelector = NOTHING;
    }
  }
  if (namespaces.size === 0 && !nsSelector) namespaces.add(owner.metadata.namespace ?? 'default');
  c = { topologyKey: term.topologyKey, selector: compileSelector(term.labelSelector, owner, term.matchLabelKeys, term.mismatchLabelKeys), namespaces, nsSelector };
  termCache.set(term, c);
  return c;
}

/** Whether `pod` is one of the pods the term selects (kube-scheduler's AffinityTerm.Matches). */
export function termMatchesPod(t: CompiledTerm, pod: Pod, nsLabels: NamespaceLabels | undefined): boolean {
  const ns = pod.metadata.namespace ?? 'default';
  if (!t.namespaces.has(ns)) {
    if (!t.nsSelector || !matchesLabels(t.nsSelector, nsLabels?.(ns) ?? {})) return false;
  }
  return matchesLabels(t.selector, pod.metadata.labels);
}

const spreadCache = new WeakMap<object, LabelSelector>();

/** The pods a topology spread constraint counts: same namespace, matching its selector. */
export function spreadSelector(c: TopologySpreadConstraint, owner: Pod): LabelSelector {
  let s = spreadCache.get(c);
  if (!s) {
    s = compileSelector(c.labelSelector, owner, c.matchLabelKeys, undefined);
    spreadCache.set(c, s);
  }
  return s;
}

export function hasPodAffinity(pod: Pod): boolean {
  const a = pod.spec.affinity;
  return !!(a?.podAffinity || a?.podAntiAffinity);
}

export function requiredAntiAffinityTerms(pod: Pod): PodAffinityTerm[] {
  return pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
}
