// The Priority admission plugin: a new pod's spec.priority (and preemptionPolicy) come from
// its PriorityClass, or from the globalDefault class, or are 0; a class that does not exist
// is refused, as kube-apiserver's plugin/pkg/admission/priority does.

import { resourceFor } from '../../api/resources.js';
import type { Pod, PriorityClass } from '../../api/types.js';
import { SYSTEM_PRIORITY_CLASSES } from '../../api/validation/scheduling.js';
import { ApiError, forbidden } from '../errors.js';

export const PRIORITY_CLASSES = resourceFor('scheduling.k8s.io', 'priorityclasses')!;

export interface PriorityClassReader {
  get(name: string): Promise<PriorityClass | undefined>;
  list(): Promise<PriorityClass[]>;
}

export async function admitPodPriority(pod: Pod, classes: PriorityClassReader): Promise<void> {
  const spec = pod.spec;
  if (!spec || typeof spec !== 'object') return; // validation reports it
  const name = spec.priorityClassName;
  let pc: PriorityClass | undefined;
  if (name) {
    pc = await classes.get(name);
    if (!pc) throw forbidden(`pods "${pod.metadata.name ?? ''}" is forbidden: no PriorityClass with name ${name} was found`, { name: pod.metadata.name, kind: 'pods' });
  } else {
    // the highest globalDefault wins when several claim it, as upstream
    for (const c of await classes.list()) if (c.globalDefault && (!pc || c.value > pc.value)) pc = c;
    if (pc) spec.priorityClassName = pc.metadata.name;
  }
  const value = pc?.value ?? 0;
  if (spec.priority !== undefined && spec.priority !== null && spec.priority !== value) {
    throw forbidden(
      `pods "${pod.metadata.name ?? ''}" is forbidden: the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`,
      { name: pod.metadata.name, kind: 'pods' },
    );
  }
  spec.priority = value;
  if (pc && spec.preemptionPolicy === undefined) spec.preemptionPolicy = pc.preemptionPolicy ?? 'PreemptLowerPriority';
}

export function systemPriorityClasses(): PriorityClass[] {
  return SYSTEM_PRIORITY_CLASSES.map((c) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: c.name }, value: c.value, description: c.description, preemptionPolicy: 'PreemptLowerPriority' }));
}

export function isAlreadyExists(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409;
}

