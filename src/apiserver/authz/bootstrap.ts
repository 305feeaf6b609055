// The default ClusterRoles and ClusterRoleBindings a fresh cluster needs (kube-apiserver's
// bootstrap policy, the part kubeplane's users meet) plus system:kubeplane-node, the role the
// node components run with. Written on every start: missing ones are created, and ones still
// marked autoupdate are put back to these rules, as kube-apiserver reconciles its own.
import { resourceFor } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { ApiError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import type { PolicyRule } from './rbac.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const GROUP = 'rbac.authorization.k8s.io';
export const NODE_CLUSTER_ROLE = 'system:kubeplane-node';
/** the group of node credentials; bound to system:kubeplane-node */
export const NODES_GROUP = 'system:kubeplane-nodes';
export const nodeUserName = (name: string): string => `system:kubeplane-node:${name}`;

const READ = ['get', 'list', 'watch'];

/**
 * Exactly what `kubeplane node` (proxy + DNS + ingress) reads and writes. charts/kubeplane's
 * ClusterRole holds the same rules (a test compares them).
 */
export const NODE_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['namespaces', 'nodes', 'pods', 'secrets', 'services'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses', 'ingresses'], verbs: READ },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['patch', 'update'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'update'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

const HEALTH_URLS = ['/healthz', '/livez', '/readyz', '/version', '/version/'];

export const BOOTSTRAP_CLUSTER_ROLES: Record<string, PolicyRule[]> = {
  'cluster-admin': [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ],
  'system:discovery': [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], verbs: ['get'] }],
  'system:basic-user': [
    { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
    { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
  ],
  'system:public-info-viewer': [{ nonResourceURLs: HEALTH_URLS, verbs: ['get'] }],
  [NODE_CLUSTER_ROLE]: NODE_RULES,
};

const group = (name: string) => ({ apiGroup: GROUP, kind: 'Group', name });

export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: Record<string, { role: string; subjects: Obj[] }> = {
  'cluster-admin': { role: 'cluster-admin', subjects: [group('system:masters')] },
  'system:discovery': { role: 'system:discovery', subjects: [group('system:authenticated')] },
  'system:basic-user': { role: 'system:basic-user', subjects: [group('system:authenticated')] },
  'system:public-info-viewer': { role: 'system:public-info-viewer', subjects: [group('system:authenticated'), group('system:unauthenticated')] },
  [NODE_CLUSTER_ROLE]: { role: NODE_CLUSTER_ROLE, subjects: [group(NODES_GROUP)] },
};

const metadata = (name: string) => ({
  name,
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
});

async function ensure(registry: Registry, resource: string, desired: Obj, same: (cur: Obj) => boolean, fix: (cur: Obj) => Obj): Promise<void> {
  const info = resourceFor(GROUP, resource)!;
  try {
    await registry.create(info, undefined, desired as KubeObject, { fieldManager: 'kube-apiserver' });
    return;
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
  const cur = (await registry.get(info, undefined, desired.metadata.name)) as Obj;
  if (cur.metadata?.annotations?.['rbac.authorization.kubernetes.io/autoupdate'] === 'false' || same(cur)) return;
  await registry.update(info, undefined, desired.metadata.name, (c) => fix(c as Obj) as KubeObject, { fieldManager: 'kube-apiserver' });
}

export async function bootstrapPolicy(registry: Registry): Promise<void> {
  for (const [name, rules] of Object.entries(BOOTSTRAP_CLUSTER_ROLES)) {
    await ensure(
      registry,
      'clusterroles',
      { apiVersion: `${GROUP}/v1`, kind: 'ClusterRole', metadata: metadata(name), rules },
      (cur) => JSON.stringify(cur.rules ?? []) === JSON.stringify(rules),
      (cur) => ({ ...cur, rules }),
    );
  }
  for (const [name, { role, subjects }] of Object.entries(BOOTSTRAP_CLUSTER_ROLE_BINDINGS)) {
    await ensure(
      registry,
      'clusterrolebindings',
      { apiVersion: `${GROUP}/v1`, kind: 'ClusterRoleBinding', metadata: metadata(name), roleRef: { apiGroup: GROUP, kind: 'ClusterRole', name: role }, subjects },
      (cur) => subjects.every((s) => (cur.subjects ?? []).some((c: Obj) => c.kind === s.kind && c.name === s.name)),
      // subjects are only added: an operator's extra subjects stay
      (cur) => ({ ...cur, subjects: [...(cur.subjects ?? []), ...subjects.filter((s) => !(cur.subjects ?? []).some((c: Obj) => c.kind === s.kind && c.name === s.name))] }),
    );
  }
}
