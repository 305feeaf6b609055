// The autoscaling/v1 Scale subresource of Deployments and ReplicaSets.
import type { ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { labelSelectorString, selectorFromLabelSelector } from '../api/selectors.js';
import { ApiError, badRequest } from './errors.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

export function scaleOf(_info: ResourceInfo, obj: KubeObject): Obj {
  const o = obj as Obj;
  let selector = '';
  try {
    selector = labelSelectorString(selectorFromLabelSelector(o.spec?.selector));
  } catch {
    selector = '';
  }
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, ...(selector ? { selector } : {}) },
  };
}

/** the workload with spec.replicas from `scale`; the Scale's resourceVersion is a precondition */
export function applyScale(info: ResourceInfo, cur: KubeObject, scale: Obj): KubeObject {
  if (typeof scale !== 'object' || scale === null) throw badRequest('the Scale must be an object');
  const replicas = scale.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    const shown = replicas === undefined ? 0 : replicas;
    throw new ApiError(422, 'Invalid', `Scale.autoscaling "${cur.metadata.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(shown)}: must be greater than or equal to 0`, {
      name: cur.metadata.name,
      group: 'autoscaling',
      kind: 'Scale',
      causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(shown)}: must be greater than or equal to 0`, field: 'spec.replicas' }],
    });
  }
  const next = structuredClone(cur) as Obj;
  next.spec = { ...(next.spec ?? {}), replicas };
  if (scale.metadata?.resourceVersion) next.metadata.resourceVersion = scale.metadata.resourceVersion;
  void info;
  return next as KubeObject;
}
