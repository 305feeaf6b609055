// core/v1 Events written by any component (controllers, scheduler, ingress), as client-go's
// recorder writes them: fire and forget, bounded, never failing the caller.
//
// Repeats are correlated as client-go's EventCorrelator does, so a pod that stays
// unschedulable for hours is one Event whose count grows, not thousands of objects:
//  - the same event (object, type, reason, message, source) again is a PATCH of the
//    existing Event's count and lastTimestamp;
//  - once an object has had AGGREGATE_MAX_EVENTS distinct messages for the same reason
//    within AGGREGATE_INTERVAL_MS, further ones become one Event whose message starts with
//    "(combined from similar events): ", counted the same way.
import type { KubeObject, ObjectReference } from '../api/types.js';
import { resourceFor } from '../api/resources.js';
import type { RestClient } from './rest.js';
import { isNotFound } from './errors.js';
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

/** client-go's defaults: 10 distinct messages within 10 minutes start aggregating */
export const AGGREGATE_MAX_EVENTS = 10;
export const AGGREGATE_INTERVAL_MS = 600_000;
export const COMBINED_PREFIX = '(combined from similar events): ';
/** entries remembered (client-go's maxLruCacheEntries) */
const MAX_ENTRIES = 4096;

export function eventTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function objectKey(e: KubeEvent): string {
  const o = e.involvedObject;
  return [e.source?.component ?? '', e.source?.host ?? '', o.kind ?? '', o.namespace ?? '', o.name ?? '', o.uid ?? '', o.apiVersion ?? '', e.type, e.reason].join('\x00');
}

interface AggregateRecord {
  messages: Set<string>;
  lastMs: number;
}

export interface Correlated {
  /** the event to write, maybe with the combined message */
  event: KubeEvent;
  /** identity of the Event object this occurrence counts toward */
  key: string;
}

/** Pure bookkeeping of EventCorrelator's aggregation step (no I/O, no clock of its own). */
export class EventCorrelator {
  private readonly aggregates = new Map<string, AggregateRecord>();

  constructor(
    private readonly maxEvents = AGGREGATE_MAX_EVENTS,
    private readonly intervalMs = AGGREGATE_INTERVAL_MS,
  ) {}

  correlate(e: KubeEvent, nowMs: number): Correlated {
    const aggKey = objectKey(e);
    let rec = this.aggregates.get(aggKey);
    if (!rec || nowMs - rec.lastMs > this.intervalMs) rec = { messages: new Set(), lastMs: nowMs };
    this.aggregates.delete(aggKey);
    this.aggregates.set(aggKey, rec);
    if (this.aggregates.size > MAX_ENTRIES) this.aggregates.delete(this.aggregates.keys().next().value!);
    rec.lastMs = nowMs;
    rec.messages.add(e.message);
    if (rec.messages.size < this.maxEvents) return { event: e, key: `${aggKey}\x00${e.message}` };
    // Too many variants: they all count toward one combined Event keyed without the message.
    return { event: { ...e, message: COMBINED_PREFIX + e.message }, key: aggKey };
  }
}

interface Written {
  namespace: string;
  /** the Event's name once created */
  name?: string;
  event: KubeEvent;
  count: number;
  /** occurrences not yet written */
  dirty: boolean;
  writing: boolean;
}

export class EventRecorder {
  private inFlight = 0;
  private readonly correlator = new EventCorrelator();
  private readonly written = new Map<string, Written>();

  constructor(
    private readonly client: RestClient,
    private readonly component: string,
    /** events beyond this many in flight are dropped rather than queued without bound */
    private readonly maxInFlight = 256,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = this.now();
    const ts = eventTime(now);
    const ns = obj.metadata.namespace || 'default';
    const ev: KubeEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${(now.getTime() * 1000 + Math.floor(Math.random() * 1000)).toString(16)}`, namespace: ns },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
      reason,
      message,
      type,
      source: { component: this.component },
      reportingComponent: this.component,
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    };
    const { event, key } = this.correlator.correlate(ev, now.getTime());
    let w = this.written.get(key);
    if (w) {
      w.count++;
      w.event = { ...w.event, message: event.message, lastTimestamp: ts, involvedObject: event.involvedObject };
      // most recently used last, so the oldest entry is the one forgotten
      this.written.delete(key);
    } else {
      if (this.inFlight >= this.maxInFlight) return;
      w = { namespace: ns, event, count: 1, dirty: false, writing: false };
    }
    this.written.set(key, w);
    if (this.written.size > MAX_ENTRIES) this.written.delete(this.written.keys().next().value!);
    w.dirty = true;
    if (!w.writing) void this.flush(w);
  }

  /** Writes an entry until it is clean: repeats that came during a write fold into one PATCH. */
  private async flush(w: Written): Promise<void> {
    w.writing = true;
    this.inFlight++;
    try {
      while (w.dirty) {
        w.dirty = false;
        const count = w.count;
        try {
          if (w.name) {
            await this.client.patch(events, w.name, { count, lastTimestamp: w.event.lastTimestamp, message: w.event.message }, 'merge', { namespace: w.namespace });
            continue;
          }
        } catch (err) {
          if (!isNotFound(err)) throw err;
          // deleted meanwhile (TTL, a user): start a new one, as client-go does
          w.name = undefined;
        }
        const created = await this.client.create<KubeEvent>(events, { ...w.event, metadata: { ...w.event.metadata, resourceVersion: undefined }, count });
        w.name = created.metadata.name;
      }
    } catch (err) {
      logger('events').v(2, 'Could not write event', { reason: w.event.reason, err: String(err) });
    } finally {
      w.writing = false;
      this.inFlight--;
    }
  }
}
