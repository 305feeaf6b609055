// RBAC evaluation as kube-apiserver's RBAC authorizer does it (plugin/pkg/auth/authorizer/rbac):
// walk the ClusterRoleBindings, then the RoleBindings of the request's namespace, and allow as
// soon as one rule of a role bound to the user matches. Pure: the policy comes in as data.

import type { UserInfo } from '../auth.js';
import type { Attributes } from './attributes.js';

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind?: string;
  apiGroup?: string;
  name?: string;
  namespace?: string;
}

export interface Binding {
  name: string;
  namespace?: string;
  subjects?: Subject[];
  roleRef?: { apiGroup?: string; kind?: string; name?: string };
}

/** The policy the authorizer reads: roles by namespace and name, bindings by namespace. */
export interface PolicySource {
  clusterRoleRules(name: string): PolicyRule[] | undefined;
  roleRules(namespace: string, name: string): PolicyRule[] | undefined;
  clusterRoleBindings(): Iterable<Binding>;
  roleBindings(namespace: string): Iterable<Binding>;
}

export interface Decision {
  allowed: boolean;
  /** why: the binding that allowed it, or the policy errors met on the way (RBAC: ...) */
  reason: string;
}

const has = (list: string[] | undefined, v: string): boolean => !!list && (list.includes('*') || list.includes(v));

export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.isResourceRequest) {
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
  }
  if (!has(rule.apiGroups, a.apiGroup)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk = (rule.resources ?? []).some((r) => r === '*' || r === combined || (a.subresource !== '' && r === `*/${a.subresource}`));
  if (!resourceOk) return false;
  return !rule.resourceNames || rule.resourceNames.length === 0 || rule.resourceNames.includes(a.name);
}

/** serviceaccount.MakeUsername */
export const serviceAccountUser = (namespace: string, name: string): string => `system:serviceaccount:${namespace}:${name}`;

export function appliesTo(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name ?? '');
    case 'ServiceAccount': {
      // a RoleBinding may name a ServiceAccount of its own namespace without the namespace
      const ns = subject.namespace || bindingNamespace;
      return ns !== '' && user.name === serviceAccountUser(ns, subject.name ?? '');
    }
    default:
      return false;
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `ServiceAccount ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} "${s.name}"`;
}

/** Rules of the role a binding points at, or an error text as the authorizer reports it. */
function boundRules(policy: PolicySource, b: Binding): { rules?: PolicyRule[]; error?: string } {
  const ref = b.roleRef ?? {};
  if (ref.kind === 'ClusterRole') {
    const rules = policy.clusterRoleRules(ref.name ?? '');
    return rules ? { rules } : { error: `clusterrole.rbac.authorization.k8s.io "${ref.name}" not found` };
  }
  if (ref.kind === 'Role' && b.namespace) {
    const rules = policy.roleRules(b.namespace, ref.name ?? '');
    return rules ? { rules } : { error: `role.rbac.authorization.k8s.io "${ref.name}" not found` };
  }
  return { error: `unknown roleRef kind ${JSON.stringify(ref.kind ?? '')}` };
}

export function authorize(policy: PolicySource, a: Attributes): Decision {
  const errors: string[] = [];
  const visit = (b: Binding, scope: 'ClusterRoleBinding' | 'RoleBinding'): string | undefined => {
    const ns = b.namespace ?? '';
    const subject = (b.subjects ?? []).find((s) => appliesTo(a.user, s, ns));
    if (!subject) return undefined;
    const { rules, error } = boundRules(policy, b);
    if (error) {
      errors.push(error);
      return undefined;
    }
    if (!rules!.some((r) => ruleAllows(a, r))) return undefined;
    const where = scope === 'RoleBinding' ? `RoleBinding ${JSON.stringify(`${b.name}/${ns}`)}` : `ClusterRoleBinding ${JSON.stringify(b.name)}`;
    const role = `${b.roleRef?.kind} ${JSON.stringify(b.roleRef?.name ?? '')}`;
    return `RBAC: allowed by ${where} of ${role} to ${describeSubject(subject, ns)}`;
  };
  for (const b of policy.clusterRoleBindings()) {
    const why = visit(b, 'ClusterRoleBinding');
    if (why) return { allowed: true, reason: why };
  }
  if (a.namespace !== '') {
    for (const b of policy.roleBindings(a.namespace)) {
      const why = visit(b, 'RoleBinding');
      if (why) return { allowed: true, reason: why };
    }
  }
  return { allowed: false, reason: errors.length === 0 ? '' : `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` };
}

/** The message of kube-apiserver's 403 (responsewriters.forbiddenMessage). */
export function forbiddenMessage(a: Attributes): string {
  const user = a.user.name;
  if (!a.isResourceRequest) return `User ${JSON.stringify(user)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  if (a.namespace) return `User ${JSON.stringify(user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} in the namespace ${JSON.stringify(a.namespace)}`;
  return `User ${JSON.stringify(user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} at the cluster scope`;
}

/** Every rule bound to the user that applies in `namespace` ('' = cluster-wide rules only). */
export function rulesFor(policy: PolicySource, user: UserInfo, namespace: string): PolicyRule[] {
  const out: PolicyRule[] = [];
  const collect = (b: Binding) => {
    if (!(b.subjects ?? []).some((s) => appliesTo(user, s, b.namespace ?? ''))) return;
    const { rules } = boundRules(policy, b);
    if (rules) out.push(...rules);
  };
  for (const b of policy.clusterRoleBindings()) collect(b);
  if (namespace !== '') for (const b of policy.roleBindings(namespace)) collect(b);
  return out;
}

const hasAll = (owner: string[] | undefined, wanted: string[] | undefined): boolean => (wanted ?? []).every((w) => (owner ?? []).includes(w));

/** validation.ruleCovers: whether `owner` grants at least everything `sub` does */
function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = (owner.verbs ?? []).includes('*') || hasAll(owner.verbs, sub.verbs);
  const groups = (owner.apiGroups ?? []).includes('*') || hasAll(owner.apiGroups, sub.apiGroups);
  const resources = (sub.resources ?? []).every((r) => {
    const ownerResources = owner.resources ?? [];
    if (ownerResources.includes('*') || ownerResources.includes(r)) return true;
    const slash = r.indexOf('/');
    return slash >= 0 && ownerResources.includes(`*/${r.slice(slash + 1)}`);
  });
  const urls = (sub.nonResourceURLs ?? []).every((u) => (owner.nonResourceURLs ?? []).some((o) => o === '*' || o === u || (o.endsWith('*') && u.startsWith(o.slice(0, -1)))));
  const names = (sub.resourceNames ?? []).length === 0 ? (owner.resourceNames ?? []).length === 0 : (owner.resourceNames ?? []).length === 0 || hasAll(owner.resourceNames, sub.resourceNames);
  return verbs && groups && resources && urls && names;
}

/** validation.BreakdownRule: one rule per group × resource × verb (× name), or per URL × verb */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const g of rule.apiGroups ?? [])
    for (const r of rule.resources ?? [])
      for (const v of rule.verbs ?? []) {
        if ((rule.resourceNames ?? []).length > 0) for (const n of rule.resourceNames!) out.push({ apiGroups: [g], resources: [r], verbs: [v], resourceNames: [n] });
        else out.push({ apiGroups: [g], resources: [r], verbs: [v] });
      }
  for (const u of rule.nonResourceURLs ?? []) for (const v of rule.verbs ?? []) out.push({ nonResourceURLs: [u], verbs: [v] });
  return out;
}

/** The parts of `requested` no owner rule covers (validation.Covers); empty when fully covered. */
export function uncovered(owner: PolicyRule[], requested: PolicyRule[]): PolicyRule[] {
  return requested.flatMap(breakdown).filter((sub) => !owner.some((o) => ruleCovers(o, sub)));
}

/** rbacv1helpers.CompactString: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}` */
export function compactRule(r: PolicyRule): string {
  const q = (l: string[]) => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.verbs?.length) parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}
