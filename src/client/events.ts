// core/v1 Events written by any component (controllers, scheduler, ingress), as client-go's
// recorder writes them: fire and forget, bounded, never failing the caller.
import type { KubeObject, ObjectReference } from '../api/types.js';
import { resourceFor } from '../api/resources.js';
import type { RestClient } from './rest.js';
import { logger } from '../observability/log.js';

export interface KubeEvent extends KubeObject {
  involvedObject: ObjectReference;
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  source?: { component?: string; host?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
  count?: number;
  reportingComponent?: string;
  reportingInstance?: string;
}

const events = resourceFor('', 'events')!;

export class EventRecorder {
  private inFlight = 0;
  constructor(
    private readonly client: RestClient,
    private readonly component: string,
    /** events beyond this many in flight are dropped rather than queued without bound */
    private readonly maxInFlight = 256,
  ) {}

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.inFlight >= this.maxInFlight) return;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const ns = obj.metadata.namespace || 'default';
    const ev: KubeEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${(Date.now() * 1000 + Math.floor(Math.random() * 1000)).toString(16)}`, namespace: ns },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
      reason,
      message,
      type,
      source: { component: this.component },
      reportingComponent: this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    this.inFlight++;
    this.client
      .create(events, ev)
      .catch((err) => logger('events').v(2, 'Could not write event', { reason, err: String(err) }))
      .finally(() => this.inFlight--);
  }
}
