// Authorization: the authorizer the API server asks before serving any request, the 403 it
// answers with, and SelfSubjectAccessReview (what `kubectl auth can-i` asks).
//
// Modes, as kube-apiserver's --authorization-mode: RBAC (the default; system:masters bypasses
// it as kube-apiserver's privileged-group authorizer does) and AlwaysAllow (the anonymous,
// insecure mode for local tools).
import type { KubeObject } from '../../api/types.js';
import type { Store } from '../storage/interface.js';
import type { Registry } from '../registry/registry.js';
import { ApiError, badRequest } from '../errors.js';
import type { UserInfo } from '../auth.js';
import type { Attributes } from './attributes.js';
import { bootstrapPolicy } from './bootstrap.js';
import { PolicyCache } from './cache.js';
import { escalationCheck } from './escalation.js';
import { authorize, forbiddenMessage, rulesFor, type Decision, type PolicyRule } from './rbac.js';

export { requestAttributes, type Attributes } from './attributes.js';
export { requestUser } from './escalation.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

export const authorizationModes = ['RBAC', 'AlwaysAllow'] as const;
export type AuthorizationMode = (typeof authorizationModes)[number];

export interface Authorizer {
  start(registry: Registry): Promise<void>;
  stop(): void;
  authorize(a: Attributes): Decision;
  /** every rule that applies to the user in the namespace (SelfSubjectRulesReview) */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[];
}

export const alwaysAllow: Authorizer = {
  start: async () => {},
  stop: () => {},
  authorize: () => ({ allowed: true, reason: '' }),
  rulesFor: () => [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ],
};

const MASTERS = 'system:masters';

export class RbacAuthorizer implements Authorizer {
  readonly policy: PolicyCache;
  constructor(store: Store) {
    this.policy = new PolicyCache(store);
  }
  /** writes the bootstrap policy, then loads and follows the stored policy */
  async start(registry: Registry): Promise<void> {
    await bootstrapPolicy(registry);
    await this.policy.start();
    registry.admitters.push(escalationCheck(this.policy));
  }
  stop(): void {
    this.policy.stop();
  }
  authorize(a: Attributes): Decision {
    if (a.user.groups.includes(MASTERS)) return { allowed: true, reason: '' };
    return authorize(this.policy, a);
  }
  rulesFor(user: UserInfo, namespace: string): PolicyRule[] {
    return rulesFor(this.policy, user, namespace);
  }
}

export function newAuthorizer(mode: AuthorizationMode, store: Store): Authorizer {
  return mode === 'AlwaysAllow' ? alwaysAllow : new RbacAuthorizer(store);
}

/** kube-apiserver's 403: `<resource> [<name>] is forbidden: User "u" cannot ...[: reason]` */
export function forbiddenError(a: Attributes, reason: string): ApiError {
  const err = reason ? `${forbiddenMessage(a)}: ${reason}` : forbiddenMessage(a);
  const qualified = a.resource === '' ? '' : a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  let message: string;
  if (qualified === '') message = `forbidden: ${err}`;
  else if (a.name === '') message = `${qualified} is forbidden: ${err}`;
  else message = `${qualified} ${JSON.stringify(a.name)} is forbidden: ${err}`;
  const details: NonNullable<ReturnType<ApiError['toStatus']>['details']> = {};
  if (a.name) details.name = a.name;
  if (a.apiGroup) details.group = a.apiGroup;
  if (a.resource) details.kind = a.resource;
  return new ApiError(403, 'Forbidden', message, details);
}

/** SelfSubjectAccessReview: the review with its status filled in for the requesting user. */
export function selfSubjectAccessReview(authorizer: Authorizer, user: UserInfo, review: KubeObject): Obj {
  const r = review as unknown as Obj;
  const spec: Obj = r.spec ?? {};
  const ra: Obj | undefined = spec.resourceAttributes;
  const nra: Obj | undefined = spec.nonResourceAttributes;
  if (!!ra === !!nra) {
    throw new ApiError(422, 'Invalid', `SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified`, {
      kind: 'SelfSubjectAccessReview',
      group: 'authorization.k8s.io',
      causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified', field: 'spec.resourceAttributes' }],
    });
  }
  const attrs: Attributes = ra
    ? {
        user,
        verb: String(ra.verb ?? ''),
        isResourceRequest: true,
        path: '',
        apiGroup: String(ra.group ?? ''),
        apiVersion: String(ra.version ?? ''),
        namespace: String(ra.namespace ?? ''),
        resource: String(ra.resource ?? ''),
        subresource: String(ra.subresource ?? ''),
        name: String(ra.name ?? ''),
      }
    : { user, verb: String(nra!.verb ?? ''), isResourceRequest: false, path: String(nra!.path ?? ''), apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '' };
  const d = authorizer.authorize(attrs);
  const status: Obj = { allowed: d.allowed };
  if (d.reason) status.reason = d.reason;
  return { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null, ...(r.metadata?.name ? { name: r.metadata.name } : {}) }, spec, status };
}

export function checkReviewKind(obj: KubeObject, kind = 'SelfSubjectAccessReview'): void {
  if (obj.kind !== kind || obj.apiVersion !== 'authorization.k8s.io/v1') {
    throw badRequest(`${obj.kind ?? ''} in version "${String(obj.apiVersion ?? '').split('/').pop()}" cannot be handled as a ${kind}`);
  }
}

/** SelfSubjectRulesReview (`kubectl auth can-i --list`): the rules that apply to the requester in a namespace. */
export function selfSubjectRulesReview(authorizer: Authorizer, user: UserInfo, review: KubeObject): Obj {
  const namespace = String((review as unknown as Obj).spec?.namespace ?? '');
  const rules = authorizer.rulesFor(user, namespace);
  const list = (v: string[] | undefined) => [...(v ?? [])];
  return {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: { namespace },
    status: {
      resourceRules: rules.filter((r) => !r.nonResourceURLs?.length).map((r) => ({ verbs: list(r.verbs), apiGroups: list(r.apiGroups), resources: list(r.resources), ...(r.resourceNames?.length ? { resourceNames: list(r.resourceNames) } : {}) })),
      nonResourceRules: rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: list(r.verbs), nonResourceURLs: list(r.nonResourceURLs) })),
      incomplete: false,
    },
  };
}
