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
