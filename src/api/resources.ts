// The resources kubeplane serves, with the facts discovery, storage and clients need about each.

export interface ResourceInfo {
  group: string; // '' for core
  version: string;
  resource: string; // plural
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Subresources served besides the main resource. */
  subresources: string[];
  /** etcd key prefix as kube-apiserver uses it (historic names kept). */
  storagePrefix: string;
  /** Whether spec changes bump metadata.generation. */
  tracksGeneration: boolean;
  verbs: string[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function r(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<Omit<ResourceInfo, 'group' | 'version' | 'resource' | 'kind' | 'namespaced'>> = {},
): ResourceInfo {
  return {
    group,
    version,
    resource,
    kind,
    namespaced,
    singular: extra.singular ?? kind.toLowerCase(),
    listKind: `${kind}List`,
    shortNames: extra.shortNames ?? [],
    categories: extra.categories ?? [],
    subresources: extra.subresources ?? [],
    storagePrefix: extra.storagePrefix ?? `/registry/${group === '' || !group.includes('.') || group.endsWith('.k8s.io') ? '' : group + '/'}${resource}`,
    tracksGeneration: extra.tracksGeneration ?? false,
    verbs: extra.verbs ?? ALL_VERBS,
  };
}

export const RESOURCES: readonly ResourceInfo[] = [
  r('', 'v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'], subresources: ['status', 'finalize'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  r('', 'v1', 'services', 'Service', true, { shortNames: ['svc'], categories: ['all'], subresources: ['status'], storagePrefix: '/registry/services/specs' }),
  r('', 'v1', 'endpoints', 'Endpoints', true, { shortNames: ['ep'], singular: 'endpoints', storagePrefix: '/registry/services/endpoints' }),
  r('', 'v1', 'pods', 'Pod', true, { shortNames: ['po'], categories: ['all'], subresources: ['status', 'binding'] }),
  r('', 'v1', 'nodes', 'Node', false, { shortNames: ['no'], subresources: ['status'], storagePrefix: '/registry/minions' }),
  r('', 'v1', 'secrets', 'Secret', true),
  r('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  r('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  r('', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true, { tracksGeneration: true }),
  r('networking.k8s.io', 'v1', 'ingresses', 'Ingress', true, { shortNames: ['ing'], subresources: ['status'], tracksGeneration: true, storagePrefix: '/registry/ingress' }),
  r('networking.k8s.io', 'v1', 'ingressclasses', 'IngressClass', false, { tracksGeneration: true }),
  r('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  r('apps', 'v1', 'deployments', 'Deployment', true, { shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'], tracksGeneration: true }),
  r('apps', 'v1', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'], tracksGeneration: true }),
  r('apps', 'v1', 'daemonsets', 'DaemonSet', true, { shortNames: ['ds'], categories: ['all'], subresources: ['status'], tracksGeneration: true }),
  r('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false, { shortNames: ['pc'] }),
  r('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  r('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  r('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  r('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
];

export function apiVersionOf(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

const byKind = new Map<string, ResourceInfo>();
const byResource = new Map<string, ResourceInfo>();
for (const info of RESOURCES) {
  byKind.set(`${apiVersionOf(info)}/${info.kind}`, info);
  byResource.set(`${info.group}/${info.resource}`, info);
}

/** The resource for an object's apiVersion and kind, e.g. ('v1', 'Service'). */
export function resourceForKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return byKind.get(`${apiVersion}/${kind}`);
}

export function resourceFor(group: string, resource: string): ResourceInfo | undefined {
  return byResource.get(`${group}/${resource}`);
}
