// The apps/v1 and events shapes the controllers read and write. They live here rather than
// in api/types.ts because only the controller-manager, the scheduler and the node agent use them.

import type { Condition, KubeObject, ObjectMeta, PodSpec } from '../api/types.js';
import type { MetaLabelSelector } from '../api/selectors.js';

export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec: PodSpec;
}

export interface ReplicaSet extends KubeObject {
  spec: { replicas?: number; minReadySeconds?: number; selector: MetaLabelSelector; template: PodTemplateSpec };
  status?: {
    replicas: number;
    fullyLabeledReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: number;
    conditions?: Condition[];
  };
}

export interface DeploymentStrategy {
  type?: 'RollingUpdate' | 'Recreate';
  rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
}

export interface DeploymentCondition extends Condition {
  lastUpdateTime?: string;
}

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number;
    selector: MetaLabelSelector;
    template: PodTemplateSpec;
    strategy?: DeploymentStrategy;
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    progressDeadlineSeconds?: number;
    paused?: boolean;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: DeploymentCondition[];
    collisionCount?: number;
  };
}

export interface DaemonSet extends KubeObject {
  spec: { selector: MetaLabelSelector; template: PodTemplateSpec; minReadySeconds?: number };
  status?: {
    currentNumberScheduled: number;
    numberMisscheduled: number;
    desiredNumberScheduled: number;
    numberReady: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    numberUnavailable?: number;
    observedGeneration?: number;
  };
}

/** core/v1 Event, as `kubectl describe` and `kubectl get events` read it. */
export type { KubeEvent } from '../client/events.js';
