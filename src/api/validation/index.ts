// validateObject: kube-apiserver's per-kind Validate / ValidateUpdate, picked by resource.
//
// Order the server should follow (as kube-apiserver's create/update path does):
//   applyDefaults → normalizeClusterIPs (services, on update) → allocate IPs/ports →
//   validateObject → 422 via invalidStatus() when the list is not empty.
// Pass `{ beforeAllocation: true }` to validate before allocating.

import type { ResourceInfo } from '../resources.js';
import type { KubeObject } from '../types.js';
import { validateConfigMap, validateEndpoints, validateEvent, validateLease, validateNamespace, validateNode, validateSecret, validateServiceAccount } from './core.js';
import { validateEndpointSlice, validateEndpointSliceUpdate } from './endpointslice.js';
import type { FieldError } from './errors.js';
import { validateIngress, validateIngressClass, validateIngressStatusUpdate } from './ingress.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { nameIsDNSSubdomain } from './names.js';
import { validatePod, validatePodUpdate } from './pod.js';
import { validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding } from './rbac.js';
import { type ServiceValidationOptions, validateService, validateServiceStatusUpdate, validateServiceUpdate } from './service.js';
import { validateDaemonSet, validateDeployment, validateReplicaSet } from './workloads.js';
import { validatePriorityClass } from './scheduling.js';

export * from './errors.js';
export type { ServiceValidationOptions } from './service.js';

export type ValidationOptions = ServiceValidationOptions;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

/** Field errors for `obj` (create), or for the change from `old` to `obj` (update). Empty means valid. */
export function validateObject(info: Pick<ResourceInfo, 'group' | 'resource' | 'namespaced'>, obj: KubeObject, old?: KubeObject, opts: ValidationOptions = {}): FieldError[] {
  const o = obj as unknown as Obj;
  const prev = old as unknown as Obj | undefined;
  switch (`${info.group}/${info.resource}`) {
    case '/services':
      return prev ? validateServiceUpdate(o, prev, opts) : validateService(o, opts);
    case '/pods':
      return prev ? validatePodUpdate(o, prev) : validatePod(o);
    case '/namespaces':
      return validateNamespace(o, prev);
    case '/nodes':
      return validateNode(o, prev);
    case '/configmaps':
      return validateConfigMap(o, prev);
    case '/secrets':
      return validateSecret(o, prev);
    case '/serviceaccounts':
      return validateServiceAccount(o, prev);
    case '/events':
      return validateEvent(o, prev);
    case '/endpoints':
      return validateEndpoints(o, prev);
    case 'discovery.k8s.io/endpointslices':
      return prev ? validateEndpointSliceUpdate(o, prev) : validateEndpointSlice(o);
    case 'networking.k8s.io/ingresses':
      return validateIngress(o, prev);
    case 'networking.k8s.io/ingressclasses':
      return validateIngressClass(o, prev);
    case 'coordination.k8s.io/leases':
      return validateLease(o, prev);
    case 'apps/deployments':
      return validateDeployment(o, prev);
    case 'apps/replicasets':
      return validateReplicaSet(o, prev);
    case 'apps/daemonsets':
      return validateDaemonSet(o, prev);
    case 'rbac.authorization.k8s.io/roles':
      return validateRole(o, prev);
    case 'rbac.authorization.k8s.io/clusterroles':
      return validateClusterRole(o, prev);
    case 'rbac.authorization.k8s.io/rolebindings':
      return validateRoleBinding(o, prev);
    case 'rbac.authorization.k8s.io/clusterrolebindings':
      return validateClusterRoleBinding(o, prev);
    case 'scheduling.k8s.io/priorityclasses':
      return validatePriorityClass(o, prev);
    default: {
      // A kind without its own rules still gets the metadata rules.
      const errs = prev ? validateObjectMetaUpdate(o.metadata, prev.metadata) : [];
      return [...errs, ...validateObjectMeta(o.metadata, info.namespaced, nameIsDNSSubdomain)];
    }
  }
}

/**
 * Field errors for a write through the /status subresource (the spec is the stored one by then).
 * Services and Ingresses get their load-balancer status checked; other kinds their metadata rules.
 */
export function validateStatusUpdate(info: Pick<ResourceInfo, 'group' | 'resource'>, obj: KubeObject, old: KubeObject): FieldError[] {
  const o = obj as unknown as Obj;
  const prev = old as unknown as Obj;
  if (info.group === '' && info.resource === 'services') return validateServiceStatusUpdate(o, prev);
  if (info.group === 'networking.k8s.io' && info.resource === 'ingresses') return validateIngressStatusUpdate(o, prev);
  return validateObjectMetaUpdate(o.metadata, prev.metadata);
}
