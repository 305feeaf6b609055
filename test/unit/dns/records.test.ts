// The record index kept from events: compact endpoints, the reverse map and per-service
// endpoint lists stay right through updates and deletes, whether the objects come whole or
// projected by the informer transforms (trim.ts).
import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '../../../src/api/types.js';
import { RecordIndex } from '../../../src/dns/records.js';
import { trimEndpointSliceFor, trimService } from '../../../src/dns/trim.js';

const svc = (name: string, ip: string, port = 80, portName = 'http'): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'NS', resourceVersion: '1' }, spec: { clusterIP: ip, ports: [{ name: portName, protocol: 'TCP', port }] } }) as Service;

function slice(name: string, service: string, eps: { ip: string; hostname?: string; pod?: string; ready?: boolean }[], port = 8080): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'ns', resourceVersion: '1', labels: { 'kubernetes.io/service-name': service } },
    addressType: eps[0]?.ip.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: eps.map((e) => ({ addresses: [e.ip], hostname: e.hostname, conditions: { ready: e.ready }, targetRef: e.pod ? { kind: 'Pod', name: e.pod, namespace: 'ns' } : undefined })),
    ports: [{ name: 'http', protocol: 'TCP', port }],
  } as EndpointSlice;
}

const view = (index: RecordIndex, service: string): string[] => index.endpoints('ns', service).map((e) => `${e.hostname}/${e.ip}/${e.family}/${e.ports.map((p) => p.port).join(',')}`);

for (const projected of [false, true]) {
  describe(`RecordIndex from ${projected ? 'projected' : 'whole'} objects`, () => {
    const make = (podNames = false): { index: RecordIndex; s: (o: Service) => Service; e: (o: EndpointSlice) => EndpointSlice } => ({
      index: new RecordIndex({ endpointPodNames: podNames }),
      s: projected ? trimService : (o) => o,
      e: projected ? trimEndpointSliceFor(podNames) : (o) => o,
    });

    it('labels endpoints by hostname, pod name (endpoint_pod_names) or dashed IP, and drops not-ready ones', () => {
      for (const podNames of [false, true]) {
        const { index, e } = make(podNames);
        index.upsertEndpointSlice(e(slice('a-1', 'a', [{ ip: '10.0.0.1', hostname: 'Web-0' }, { ip: '10.0.0.2', pod: 'pod-b' }, { ip: '10.0.0.3', ready: false }, { ip: '2001:db8::' }])));
        expect(view(index, 'a')).toEqual(['web-0/10.0.0.1/4/8080', `${podNames ? 'pod-b' : '10-0-0-2'}/10.0.0.2/4/8080`, '2001-db8--0/2001:db8::/6/8080']);
      }
    });

    it('keeps the reverse map right when endpoints move, two services share an IP, and slices go', () => {
      const { index, e } = make();
      index.upsertEndpointSlice(e(slice('a-1', 'a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', hostname: 'two' }])));
      index.upsertEndpointSlice(e(slice('b-1', 'b', [{ ip: '10.0.0.2' }])));
      expect(index.endpointOwners('10.0.0.2')).toEqual([
        { hostname: 'two', service: 'a', namespace: 'ns' },
        { hostname: '10-0-0-2', service: 'b', namespace: 'ns' },
      ]);
      // a's slice changes: 10.0.0.2 leaves it, 10.0.0.9 comes
      index.upsertEndpointSlice(e({ ...slice('a-1', 'a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.9' }]), metadata: { ...slice('a-1', 'a', []).metadata, resourceVersion: '2' } }));
      expect(index.endpointOwners('10.0.0.2')).toEqual([{ hostname: '10-0-0-2', service: 'b', namespace: 'ns' }]);
      expect(index.endpointOwners('10.0.0.9')).toEqual([{ hostname: '10-0-0-9', service: 'a', namespace: 'ns' }]);
      index.deleteEndpointSlice(slice('b-1', 'b', []));
      expect(index.endpointOwners('10.0.0.2')).toEqual([]);
      expect(index.endpointOwners('10.0.0.1')).toHaveLength(1);
    });

    it('joins the endpoints of a service\'s slices and follows their changes', () => {
      const { index, e } = make();
      index.upsertEndpointSlice(e(slice('a-1', 'a', [{ ip: '10.0.0.1' }])));
      expect(view(index, 'a')).toEqual(['10-0-0-1/10.0.0.1/4/8080']);
      index.upsertEndpointSlice(e(slice('a-2', 'a', [{ ip: '10.0.0.2' }], 9090)));
      expect(view(index, 'a')).toEqual(['10-0-0-1/10.0.0.1/4/8080', '10-0-0-2/10.0.0.2/4/9090']);
      index.deleteEndpointSlice(slice('a-1', 'a', []));
      expect(view(index, 'a')).toEqual(['10-0-0-2/10.0.0.2/4/9090']);
      expect(index.endpoints('ns', 'none')).toEqual([]);
    });

    it('gives each service its own ports though equal port lists are shared, and counts only real changes', () => {
      const { index, s } = make();
      index.upsertService(s(svc('a', '10.96.0.1')));
      index.upsertService(s(svc('b', '10.96.0.2')));
      index.upsertService(s(svc('c', '10.96.0.3', 81, 'web')));
      expect(index.service('ns', 'a')!.ports).toEqual([{ name: 'http', protocol: 'tcp', port: 80 }]);
      expect(index.service('ns', 'c')!.ports).toEqual([{ name: 'web', protocol: 'tcp', port: 81 }]);
      expect(index.clusterIPOwners('10.96.0.2').map((r) => r.name)).toEqual(['b']);
      const g = index.generation;
      index.upsertService(s({ ...svc('a', '10.96.0.1'), metadata: { ...svc('a', '').metadata, resourceVersion: '7' } }));
      expect(index.generation).toBe(g);
      index.upsertService(s(svc('a', '10.96.0.1', 8080)));
      expect(index.generation).toBe(g + 1);
      expect(index.service('ns', 'a')!.ports[0]!.port).toBe(8080);
      expect(index.service('ns', 'b')!.ports[0]!.port).toBe(80);
    });
  });
}
