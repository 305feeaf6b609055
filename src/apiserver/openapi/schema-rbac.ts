// Schema-table entries for rbac.authorization.k8s.io/v1 (Role, ClusterRole and their bindings)
// and the authorization.k8s.io/v1 SelfSubjectAccessReview `kubectl auth can-i` posts in
// protobuf. Field numbers are upstream's generated.proto ones; see schema-table.ts for the format.
import type { Definition, FieldTuple } from './schema-table.js';

const M = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const R = 'io.k8s.api.rbac.v1.';
const Z = 'io.k8s.api.authorization.v1.';
const T = 'io.k8s.api.authentication.v1.';
export const RBAC_PREFIXES = { rbac: R, authorization: Z, authentication: T };

const atomic = { listType: 'atomic' as const };
const typeMeta = {
  apiVersion: ['string', 0, 'The versioned schema of this representation of an object; servers convert to their latest internal value.'] as FieldTuple,
  kind: ['string', 0, 'The REST resource this object represents, in CamelCase; inferred from the endpoint a client submits to.'] as FieldTuple,
};

function top(group: string, kind: string, description: string, fields: Record<string, FieldTuple>): Definition {
  return { description, gvk: { group, version: 'v1', kind }, fields: { ...typeMeta, metadata: ['@' + M + 'ObjectMeta', 1, `Standard object's metadata of this ${kind}.`], ...fields } };
}

const RULES: FieldTuple = ['[]@' + R + 'PolicyRule', 2, 'Rules holds all the PolicyRules for this role.', atomic];
const SUBJECTS: FieldTuple = ['[]@' + R + 'Subject', 2, 'Subjects holds references to the objects the role applies to.', atomic];

export const RBAC_DEFINITIONS: Record<string, Definition> = {
  [R + 'Role']: top('rbac.authorization.k8s.io', 'Role', 'Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.', { rules: RULES }),
  [R + 'ClusterRole']: top('rbac.authorization.k8s.io', 'ClusterRole', 'ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.', {
    rules: RULES,
    aggregationRule: ['@' + R + 'AggregationRule', 3, 'AggregationRule is an optional field that describes how to build the Rules for this ClusterRole.'],
  }),
  [R + 'RoleBinding']: top('rbac.authorization.k8s.io', 'RoleBinding', 'RoleBinding references a role, but does not contain it. It can reference a Role in the same namespace or a ClusterRole in the global namespace; it only has effect in its own namespace.', {
    subjects: SUBJECTS,
    roleRef: ['@' + R + 'RoleRef', 3, 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. This field is immutable.', { required: true }],
  }),
  [R + 'ClusterRoleBinding']: top('rbac.authorization.k8s.io', 'ClusterRoleBinding', 'ClusterRoleBinding references a ClusterRole, but does not contain it, and adds who information via Subject.', {
    subjects: SUBJECTS,
    roleRef: ['@' + R + 'RoleRef', 3, 'RoleRef can only reference a ClusterRole in the global namespace. This field is immutable.', { required: true }],
  }),
  [R + 'PolicyRule']: {
    description: 'PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.',
    fields: {
      verbs: ['[]string', 1, "Verbs that apply to ALL the ResourceKinds contained in this rule. '*' represents all verbs.", { ...atomic, required: true }],
      apiGroups: ['[]string', 2, 'The API groups of the resources; "" represents the core API group and "*" represents all API groups.', atomic],
      resources: ['[]string', 3, "Resources this rule applies to. '*' represents all resources.", atomic],
      resourceNames: ['[]string', 4, 'Optional white list of names that the rule applies to. An empty set means that everything is allowed.', atomic],
      nonResourceURLs: ['[]string', 5, 'Partial URLs a user should have access to; * is allowed only as the full, final step in the path. Only for ClusterRoles bound by a ClusterRoleBinding.', atomic],
    },
  },
  [R + 'AggregationRule']: {
    description: 'AggregationRule describes how to locate ClusterRoles to aggregate into the ClusterRole.',
    fields: { clusterRoleSelectors: ['[]@' + M + 'LabelSelector', 1, 'Selectors of ClusterRoles whose rules are aggregated into this one.', atomic] },
  },
  [R + 'RoleRef']: {
    description: 'RoleRef contains information that points to the role being used.',
    mapType: 'atomic',
    fields: {
      apiGroup: ['string', 1, 'APIGroup is the group for the resource being referenced.', { required: true }],
      kind: ['string', 2, 'Kind is the type of resource being referenced.', { required: true }],
      name: ['string', 3, 'Name is the name of resource being referenced.', { required: true }],
    },
  },
  [R + 'Subject']: {
    description: 'Subject contains a reference to the object or user identities a role binding applies to.',
    mapType: 'atomic',
    fields: {
      kind: ['string', 1, 'Kind of object being referenced: "User", "Group" or "ServiceAccount".', { required: true }],
      apiGroup: ['string', 2, 'APIGroup of the referenced subject: "" for ServiceAccount subjects, "rbac.authorization.k8s.io" for User and Group subjects.'],
      name: ['string', 3, 'Name of the object being referenced.', { required: true }],
      namespace: ['string', 4, 'Namespace of the referenced object; must be empty for User and Group.'],
    },
  },

  // ---- authorization.k8s.io/v1 (request bodies only; not stored) ----
  [Z + 'SelfSubjectAccessReview']: top('authorization.k8s.io', 'SelfSubjectAccessReview', 'SelfSubjectAccessReview checks whether the current user can perform an action.', {
    spec: ['@' + Z + 'SelfSubjectAccessReviewSpec', 2, 'Spec holds information about the request being evaluated.', { required: true }],
    status: ['@' + Z + 'SubjectAccessReviewStatus', 3, 'Status is filled in by the server and indicates whether the request is allowed or not.'],
  }),
  [Z + 'SelfSubjectRulesReview']: top('authorization.k8s.io', 'SelfSubjectRulesReview', 'SelfSubjectRulesReview enumerates the set of actions the current user can perform within a namespace.', {
    spec: ['@' + Z + 'SelfSubjectRulesReviewSpec', 2, 'Spec holds information about the request being evaluated.', { required: true }],
  }),
  [Z + 'SelfSubjectRulesReviewSpec']: {
    description: 'The specification of a SelfSubjectRulesReview.',
    fields: { namespace: ['string', 1, 'Namespace to evaluate rules for.'] },
  },
  [Z + 'SelfSubjectAccessReviewSpec']: {
    description: 'Exactly one of ResourceAttributes and NonResourceAttributes must be set.',
    fields: {
      resourceAttributes: ['@' + Z + 'ResourceAttributes', 1, 'Information for a resource access request.'],
      nonResourceAttributes: ['@' + Z + 'NonResourceAttributes', 2, 'Information for a non-resource access request.'],
    },
  },
  [Z + 'ResourceAttributes']: {
    description: 'The authorization attributes available for resource requests to the Authorizer interface.',
    fields: {
      namespace: ['string', 1, 'Namespace of the action being requested; "" means all for namespaced resources.'],
      verb: ['string', 2, 'A kubernetes resource API verb, like get, list, watch, create, update, delete; "*" means all.'],
      group: ['string', 3, 'API group of the resource; "*" means all.'],
      version: ['string', 4, 'API version of the resource; "*" means all.'],
      resource: ['string', 5, 'One of the existing resource types; "*" means all.'],
      subresource: ['string', 6, 'One of the existing subresources; "" means none.'],
      name: ['string', 7, 'Name of the resource being requested for a get or deleted for a delete; "" means all.'],
      fieldSelector: ['object', 8, 'Limitation on access based on field (not evaluated by kubeplane).'],
      labelSelector: ['object', 9, 'Limitation on access based on labels (not evaluated by kubeplane).'],
    },
  },
  [Z + 'NonResourceAttributes']: {
    description: 'The authorization attributes available for non-resource requests to the Authorizer interface.',
    fields: {
      path: ['string', 1, 'The URL path of the request.'],
      verb: ['string', 2, 'The standard HTTP verb.'],
    },
  },
  // ---- authentication.k8s.io/v1 TokenRequest (`kubectl create token`) ----
  [T + 'TokenRequest']: top('authentication.k8s.io', 'TokenRequest', 'TokenRequest requests a token for a given service account.', {
    spec: ['@' + T + 'TokenRequestSpec', 2, 'Spec holds information about the request being evaluated.', { required: true }],
    status: ['@' + T + 'TokenRequestStatus', 3, 'Status is filled in by the server and indicates whether the token can be authenticated.'],
  }),
  [T + 'SelfSubjectReview']: top('authentication.k8s.io', 'SelfSubjectReview', 'SelfSubjectReview contains the user information that the API server has about the user making this request.', {
    status: ['@' + T + 'SelfSubjectReviewStatus', 2, 'Status is filled in by the server with the user attributes.'],
  }),
  [T + 'SelfSubjectReviewStatus']: {
    description: 'Filled in by the server with the user attributes.',
    fields: { userInfo: ['@' + T + 'UserInfo', 1, 'User attributes of the user making this request.'] },
  },
  [T + 'UserInfo']: {
    description: 'The information about a user needed to implement the user.Info interface.',
    fields: {
      username: ['string', 1, 'The name that uniquely identifies this user among all active users.'],
      uid: ['string', 2, 'A unique value that identifies this user across time.'],
      groups: ['[]string', 3, 'The names of groups this user is a part of.', atomic],
    },
  },
  [T + 'TokenRequestSpec']: {
    description: 'The parameters of a token request.',
    fields: {
      audiences: ['[]string', 1, 'Intended audiences of the token.', atomic],
      expirationSeconds: ['int64', 4, 'Requested duration of validity of the request.'],
      boundObjectRef: ['@' + T + 'BoundObjectReference', 3, 'Reference to an object that the token will be bound to.'],
    },
  },
  [T + 'BoundObjectReference']: {
    description: 'A reference to an object that a token is bound to.',
    fields: {
      kind: ['string', 1, 'Kind of the referent: Pod and Secret are valid.'],
      apiVersion: ['string', 2, 'API version of the referent.'],
      name: ['string', 3, 'Name of the referent.'],
      uid: ['string', 4, 'UID of the referent.'],
    },
  },
  [T + 'TokenRequestStatus']: {
    description: 'The result of a token request.',
    fields: {
      token: ['string', 1, 'Token is the opaque bearer token.', { required: true }],
      expirationTimestamp: ['Time', 2, 'ExpirationTimestamp is the time of expiration of the returned token.', { required: true }],
    },
  },
  [Z + 'SubjectAccessReviewStatus']: {
    description: 'The result of an access review.',
    fields: {
      allowed: ['boolean', 1, 'Whether the action would be allowed.', { required: true }],
      reason: ['string', 2, 'Why the action was allowed or denied.'],
      evaluationError: ['string', 3, 'An error while checking authorization.'],
      denied: ['boolean', 4, 'Whether the action is definitely denied.'],
    },
  },
};
