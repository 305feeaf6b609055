// scheduling.k8s.io/v1 PriorityClass, as kube-apiserver's ValidatePriorityClass(Update).

import { type FieldError, forbidden, immutable, invalid, notSupported, required } from './errors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { nameIsDNSSubdomain } from './names.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

/** user classes may not go above this; the system classes sit above it */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
/** the classes kube-apiserver creates at start */
export const SYSTEM_PRIORITY_CLASSES: readonly { name: string; value: number; description: string }[] = [
  { name: 'system-node-critical', value: SYSTEM_CRITICAL_PRIORITY + 1000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: SYSTEM_CRITICAL_PRIORITY, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];
const PREEMPTION_POLICIES = ['Never', 'PreemptLowerPriority'];

export function validatePriorityClass(pc: Obj, old?: Obj): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(pc.metadata, old.metadata) : validateObjectMeta(pc.metadata, false, nameIsDNSSubdomain);
  const name = typeof pc.metadata?.name === 'string' ? pc.metadata.name : '';
  const system = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
  if (system) {
    if (pc.value !== system.value) errs.push(forbidden('metadata.name', `"${name}" is a reserved name; its value must be ${system.value}`));
  } else if (name.startsWith('system-')) {
    errs.push(forbidden('metadata.name', 'priority class names with \'system-\' prefix are reserved'));
  }
  if (typeof pc.value !== 'number' || !Number.isInteger(pc.value)) errs.push(required('value'));
  else if (!system && pc.value > HIGHEST_USER_DEFINABLE_PRIORITY) errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  if (pc.preemptionPolicy !== undefined && !PREEMPTION_POLICIES.includes(pc.preemptionPolicy)) errs.push(notSupported('preemptionPolicy', pc.preemptionPolicy, PREEMPTION_POLICIES));
  if (pc.globalDefault !== undefined && typeof pc.globalDefault !== 'boolean') errs.push(invalid('globalDefault', pc.globalDefault, 'must be a boolean'));
  if (old) {
    errs.push(...immutable(pc.value, old.value, 'value'));
    errs.push(...immutable(pc.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
  }
  return errs;
}
