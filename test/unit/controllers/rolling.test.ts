import { describe, expect, it } from 'vitest';
import type { Deployment, ReplicaSet } from '../../../src/controllers/apps-types.js';
import {
  deploymentStatus,
  maxSurgeAndUnavailable,
  newReplicaSetReplicas,
  podTemplateHash,
  resolveIntOrPercent,
  sameTemplate,
  scaleDownOld,
} from '../../../src/controllers/deployment/rolling.js';

const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } });

function deployment(replicas: number, rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string }, type: 'RollingUpdate' | 'Recreate' = 'RollingUpdate'): Deployment {
  return { metadata: { name: 'web', namespace: 'default', uid: 'd1', generation: 2 }, spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: template('v2'), strategy: { type, rollingUpdate } } };
}

function rs(name: string, replicas: number, available: number, created = '2024-01-01T00:00:00Z', statusReplicas = replicas): ReplicaSet {
  return { metadata: { name, creationTimestamp: created }, spec: { replicas, selector: {}, template: template(name) }, status: { replicas: statusReplicas, availableReplicas: available, readyReplicas: available } };
}

describe('pod-template-hash', () => {
  it('is stable, ignores the hash label, and changes with the template or collision count', () => {
    const a = podTemplateHash(template('v1'));
    expect(podTemplateHash(template('v1'))).toBe(a);
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    const labelled = { ...template('v1'), metadata: { labels: { app: 'web', 'pod-template-hash': a } } };
    expect(podTemplateHash(labelled)).toBe(a);
    expect(sameTemplate(labelled, template('v1'))).toBe(true);
    expect(podTemplateHash(template('v2'))).not.toBe(a);
    expect(podTemplateHash(template('v1'), 1)).not.toBe(a);
  });
});

describe('maxSurge / maxUnavailable', () => {
  it.each([
    [10, undefined, { maxSurge: 3, maxUnavailable: 2 }], // 25% each: surge rounds up, unavailable down
    [4, { maxSurge: 1, maxUnavailable: 0 }, { maxSurge: 1, maxUnavailable: 0 }],
    [4, { maxSurge: 0, maxUnavailable: 0 }, { maxSurge: 0, maxUnavailable: 1 }],
    [3, { maxSurge: '50%', maxUnavailable: '50%' }, { maxSurge: 2, maxUnavailable: 1 }],
  ])('replicas %i, %j → %j', (replicas, ru, want) => {
    expect(maxSurgeAndUnavailable(deployment(replicas, ru))).toEqual(want);
  });

  it('Recreate allows everything down and nothing extra', () => {
    expect(maxSurgeAndUnavailable(deployment(3, undefined, 'Recreate'))).toEqual({ maxSurge: 0, maxUnavailable: 3 });
  });

  it('refuses a malformed value', () => {
    expect(() => resolveIntOrPercent('ten', 10, true, '25%')).toThrow(/invalid value/);
    expect(resolveIntOrPercent('3', 10, true, '25%')).toBe(3);
  });
});

describe('rolling update steps', () => {
  it('surges the new ReplicaSet by at most maxSurge', () => {
    const d = deployment(3, { maxSurge: 1, maxUnavailable: 0 });
    const old = rs('old', 3, 3);
    const fresh = rs('new', 0, 0);
    expect(newReplicaSetReplicas(d, [fresh, old], fresh)).toBe(1);
    // already at replicas + surge: wait
    const surged = rs('new', 1, 0);
    expect(newReplicaSetReplicas(d, [surged, old], surged)).toBe(1);
  });

  it('scales old down only as new pods become available (maxUnavailable 0)', () => {
    const d = deployment(3, { maxSurge: 1, maxUnavailable: 0 });
    const old = rs('old', 3, 3);
    expect(scaleDownOld(d, [rs('new', 1, 0), old], rs('new', 1, 0), [old]).size).toBe(0);
    const ready = rs('new', 1, 1);
    expect(scaleDownOld(d, [ready, old], ready, [old])).toEqual(new Map([['old', 2]]));
  });

  it('removes unhealthy old replicas first, oldest ReplicaSet first', () => {
    const d = deployment(4, { maxSurge: 0, maxUnavailable: 1 });
    const older = rs('older', 2, 0, '2024-01-01T00:00:00Z');
    const old = rs('old', 2, 2, '2024-02-01T00:00:00Z');
    const fresh = rs('new', 0, 0);
    // 4 specified, min available 3: one replica may go, and it is an unavailable one of the oldest set.
    expect(scaleDownOld(d, [fresh, older, old], fresh, [older, old])).toEqual(new Map([['older', 1]]));
    // with more room (maxUnavailable 2), both unavailable ones go before any available one
    const roomy = deployment(4, { maxSurge: 0, maxUnavailable: 2 });
    expect(scaleDownOld(roomy, [fresh, older, old], fresh, [older, old])).toEqual(new Map([['older', 0]]));
  });
});

describe('deployment status', () => {
  it('reports a finished rollout as kubectl rollout status expects', () => {
    const d = deployment(2, { maxSurge: 1, maxUnavailable: 0 });
    const fresh = rs('web-abc', 2, 2);
    const old = rs('web-old', 0, 0);
    const s = deploymentStatus(d, [fresh, old], fresh, new Date('2024-03-01T00:00:00Z'));
    expect(s).toMatchObject({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 0 });
    expect(s.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);
    expect(s.conditions?.[1]?.message).toBe('ReplicaSet "web-abc" has successfully progressed.');
  });

  it('reports a rollout in progress and keeps transition times while the state holds', () => {
    const d = deployment(3, { maxSurge: 1, maxUnavailable: 0 });
    const fresh = rs('web-abc', 1, 0);
    const old = rs('web-old', 3, 3);
    const first = deploymentStatus(d, [fresh, old], fresh, new Date('2024-03-01T00:00:00Z'));
    expect(first.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('ReplicaSetUpdated');
    expect(first.unavailableReplicas).toBe(1);
    const later = deploymentStatus({ ...d, status: first }, [fresh, old], fresh, new Date('2024-03-01T00:01:00Z'));
    expect(later).toEqual(first);
  });
});
