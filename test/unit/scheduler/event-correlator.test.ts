import { describe, expect, it } from 'vitest';
import { AGGREGATE_INTERVAL_MS, COMBINED_PREFIX, EventCorrelator, type KubeEvent } from '../../../src/client/events.js';

// client-go's EventCorrelator aggregation: identical repeats share one key (one Event whose
// count grows); many distinct messages for the same object and reason fold into one
// "(combined from similar events)" Event.

function ev(message: string, mut: (e: KubeEvent) => void = () => {}): KubeEvent {
  const e: KubeEvent = {
    metadata: { name: 'x', namespace: 'default' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'v1' },
    reason: 'FailedScheduling',
    message,
    type: 'Warning',
    source: { component: 'default-scheduler' },
  };
  mut(e);
  return e;
}

describe('EventCorrelator', () => {
  it('the same event again gets the same key, a different message or object another', () => {
    const c = new EventCorrelator();
    const a = c.correlate(ev('0/3 nodes are available: 3 Insufficient cpu.'), 0);
    const b = c.correlate(ev('0/3 nodes are available: 3 Insufficient cpu.'), 1000);
    expect(b.key).toBe(a.key);
    expect(b.event.message).toBe('0/3 nodes are available: 3 Insufficient cpu.');
    expect(c.correlate(ev('0/4 nodes are available: 4 Insufficient cpu.'), 2000).key).not.toBe(a.key);
    expect(c.correlate(ev('0/3 nodes are available: 3 Insufficient cpu.', (e) => (e.involvedObject.uid = 'u2')), 3000).key).not.toBe(a.key);
    expect(c.correlate(ev('0/3 nodes are available: 3 Insufficient cpu.', (e) => (e.reason = 'Other')), 3000).key).not.toBe(a.key);
    expect(c.correlate(ev('0/3 nodes are available: 3 Insufficient cpu.', (e) => (e.source = { component: 'other' })), 3000).key).not.toBe(a.key);
  });

  it('from the 10th distinct message on, similar events combine under one key', () => {
    const c = new EventCorrelator();
    const keys = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const r = c.correlate(ev(`message ${i}`), i);
      expect(r.event.message).toBe(`message ${i}`);
      keys.add(r.key);
    }
    expect(keys.size).toBe(9);
    const tenth = c.correlate(ev('message 9'), 10);
    expect(tenth.event.message).toBe(`${COMBINED_PREFIX}message 9`);
    const eleventh = c.correlate(ev('message 10'), 11);
    expect(eleventh.event.message).toBe(`${COMBINED_PREFIX}message 10`);
    expect(eleventh.key).toBe(tenth.key);
    // another object is not affected
    expect(c.correlate(ev('message 11', (e) => (e.involvedObject.name = 'other')), 12).event.message).toBe('message 11');
  });

  it('the distinct-message window restarts after the interval', () => {
    const c = new EventCorrelator();
    for (let i = 0; i < 12; i++) c.correlate(ev(`m${i}`), 0);
    expect(c.correlate(ev('late'), AGGREGATE_INTERVAL_MS + 1).event.message).toBe('late');
  });
});
