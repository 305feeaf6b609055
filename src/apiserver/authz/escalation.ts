// RBAC's escalation prevention, as kube-apiserver's RBAC registry enforces it: a user may only
// write a Role/ClusterRole whose rules they already hold (or with the `escalate` verb on it),
// and only bind a role whose rules they hold (or with the `bind` verb on it). Without this,
// `create rolebindings` alone would be enough to bind cluster-admin.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { ApiError } from '../errors.js';
import type { UserInfo } from '../auth.js';
import type { Attributes } from './attributes.js';
import { authorize, compactRule, rulesFor, uncovered, type PolicyRule, type PolicySource } from './rbac.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const GROUP = 'rbac.authorization.k8s.io';

/** the user a request is served for; unset for the server's own writes (bootstrap) */
export const requestUser = new AsyncLocalStorage<UserInfo>();

function allowed(policy: PolicySource, user: UserInfo, verb: string, resource: string, namespace: string, name: string): boolean {
  const a: Attributes = { user, verb, isResourceRequest: true, path: '', apiGroup: GROUP, apiVersion: 'v1', namespace, resource, subresource: '', name };
  return authorize(policy, a).allowed;
}

function forbiddenGrant(info: ResourceInfo, name: string, user: UserInfo, missing: PolicyRule[]): ApiError {
  const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]`;
  return new ApiError(
    403,
    'Forbidden',
    `${info.resource}.${GROUP} ${JSON.stringify(name)} is forbidden: user ${JSON.stringify(user.name)} (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${missing.map(compactRule).join('\n')}`,
    { name, group: GROUP, kind: info.resource },
  );
}

/** A registry admission step: throws 403 when the write would grant more than the user holds. */
export function escalationCheck(policy: PolicySource): (info: ResourceInfo, obj: KubeObject) => void {
  return (info, obj) => {
    if (info.group !== GROUP) return;
    const user = requestUser.getStore();
    if (!user || user.groups.includes('system:masters')) return;
    const o = obj as unknown as Obj;
    const name: string = o.metadata?.name ?? '';
    const namespace: string = info.namespaced ? (o.metadata?.namespace ?? '') : '';
    let requested: PolicyRule[];
    if (info.resource === 'roles' || info.resource === 'clusterroles') {
      if (allowed(policy, user, 'escalate', info.resource, namespace, name)) return;
      requested = (o.rules ?? []) as PolicyRule[];
    } else {
      const ref: Obj = o.roleRef ?? {};
      const roleResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
      if (allowed(policy, user, 'bind', roleResource, namespace, ref.name ?? '')) return;
      const rules = ref.kind === 'Role' ? policy.roleRules(namespace, ref.name ?? '') : policy.clusterRoleRules(ref.name ?? '');
      // binding a role that does not exist yet would grant whatever it is later made of
      if (!rules) throw new ApiError(403, 'Forbidden', `${info.resource}.${GROUP} ${JSON.stringify(name)} is forbidden: ${ref.kind === 'Role' ? 'role' : 'clusterrole'}.${GROUP} ${JSON.stringify(ref.name ?? '')} not found`, { name, group: GROUP, kind: info.resource });
      requested = rules;
    }
    const missing = uncovered(rulesFor(policy, user, namespace), requested);
    if (missing.length > 0) throw forbiddenGrant(info, name, user, missing);
  };
}
