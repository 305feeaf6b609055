// Per-resource rules kube-apiserver's registry strategies apply around a write: what a
// create resets, what the main resource and the /status subresource may change, and when
// metadata.generation moves.
import type { ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { jsonEqual } from './codec.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

/** status set by a client on create is dropped, as upstream's PrepareForCreate does */
export function prepareForCreate(info: ResourceInfo, obj: KubeObject): void {
  const o = obj as unknown as Obj;
  switch (`${info.group}/${info.resource}`) {
    case '/pods':
      o.status = { phase: 'Pending', ...(o.status?.qosClass ? {} : {}) };
      break;
    case '/namespaces':
      o.status = { phase: 'Active' };
      break;
    case '/nodes':
      // kubelets register with their status; keep it
      break;
    default:
      if (info.subresources.includes('status')) o.status = {};
  }
  if (info.tracksGeneration) o.metadata.generation = 1;
  else delete o.metadata.generation;
}

/** the parts that count as "spec" for generation: everything but metadata and status */
function specOf(o: Obj): Obj {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

/**
 * The object an update through the main resource (subresource undefined) or /status actually
 * writes: the main resource cannot change status, /status can change nothing else.
 */
export function prepareForUpdate(info: ResourceInfo, updated: KubeObject, old: KubeObject, subresource: string | undefined): KubeObject {
  const n = updated as unknown as Obj;
  const o = old as unknown as Obj;
  let out: Obj;
  if (subresource === 'status') {
    out = structuredClone(o);
    out.status = n.status;
    out.metadata.managedFields = n.metadata.managedFields;
    out.metadata.resourceVersion = n.metadata.resourceVersion;
  } else {
    out = n;
    // a binding sets the PodScheduled condition along with spec.nodeName
    if (info.subresources.includes('status') && subresource !== 'binding') {
      if (o.status === undefined) delete out.status;
      else out.status = structuredClone(o.status);
    }
    // namespaces keep their finalizers list unless /finalize changes it
    if (info.group === '' && info.resource === 'namespaces' && subresource !== 'finalize') {
      out.spec = structuredClone(o.spec ?? {});
    }
  }
  // system metadata never changes through an update
  out.metadata.uid = o.metadata.uid;
  out.metadata.creationTimestamp = o.metadata.creationTimestamp;
  if (o.metadata.deletionTimestamp) {
    out.metadata.deletionTimestamp = o.metadata.deletionTimestamp;
    out.metadata.deletionGracePeriodSeconds = o.metadata.deletionGracePeriodSeconds;
  } else {
    delete out.metadata.deletionTimestamp;
    delete out.metadata.deletionGracePeriodSeconds;
  }
  if (info.tracksGeneration) {
    const gen = typeof o.metadata.generation === 'number' ? o.metadata.generation : 1;
    out.metadata.generation = jsonEqual(specOf(out), specOf(o)) ? gen : gen + 1;
  } else delete out.metadata.generation;
  return out as KubeObject;
}

export const podIsTerminal = (pod: Obj): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** kinds whose DELETE answers with the object instead of a Success Status (ReturnDeletedObject) */
export function returnsDeletedObject(info: ResourceInfo): boolean {
  return info.group === '' && (info.resource === 'pods' || info.resource === 'serviceaccounts' || info.resource === 'namespaces');
}

/** PUT to a missing object creates it for these kinds (AllowCreateOnUpdate) */
export function allowsCreateOnUpdate(info: ResourceInfo): boolean {
  return info.group === '' && (info.resource === 'services' || info.resource === 'endpoints' || info.resource === 'events');
}
