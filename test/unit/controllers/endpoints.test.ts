import { describe, expect, it } from 'vitest';
import type { Pod, Service } from '../../../src/api/types.js';
import { desiredEndpointsObject, endpointsEqual } from '../../../src/controllers/endpoints/desired.js';

const svc: Service = {
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  spec: { selector: { app: 'web' }, clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
};

function pod(name: string, ip: string, ready: boolean, extra: Partial<Pod['metadata']> = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `u-${name}`, labels: { app: 'web' }, ...extra },
    spec: { nodeName: 'n1', containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

describe('desiredEndpointsObject', () => {
  it('splits ready and not-ready addresses, sorted, with ports and targetRefs', () => {
    const ep = desiredEndpointsObject(svc, [pod('b', '10.244.0.9', true), pod('a', '10.244.0.10', true), pod('c', '10.244.0.3', false)])!;
    expect(ep.subsets).toEqual([
      {
        addresses: [
          { ip: '10.244.0.10', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'u-a' } },
          { ip: '10.244.0.9', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'u-b' } },
        ],
        notReadyAddresses: [{ ip: '10.244.0.3', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: 'u-c' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
    expect(ep.metadata.labels).toEqual({ app: 'web' });
  });

  it('drops terminating pods unless the Service publishes not-ready addresses', () => {
    const term = pod('t', '10.244.0.4', true, { deletionTimestamp: '2026-11-23T10:00:00Z' });
    expect(desiredEndpointsObject(svc, [term])!.subsets).toEqual([]);
    const pub = { ...svc, spec: { ...svc.spec, publishNotReadyAddresses: true } };
    expect(desiredEndpointsObject(pub, [term])!.subsets![0]!.addresses![0]!.ip).toBe('10.244.0.4');
  });

  it('is undefined for a Service without a selector, and compares by content', () => {
    expect(desiredEndpointsObject({ ...svc, spec: { ...svc.spec, selector: undefined } }, [])).toBeUndefined();
    const a = desiredEndpointsObject(svc, [pod('a', '10.244.0.10', true)])!;
    const b = desiredEndpointsObject(svc, [pod('a', '10.244.0.10', true)])!;
    expect(endpointsEqual(a, b)).toBe(true);
    expect(endpointsEqual(a, desiredEndpointsObject(svc, [pod('a', '10.244.0.10', false)])!)).toBe(false);
  });
});
