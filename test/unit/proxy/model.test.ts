import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '../../../src/api/types.js';
import { EndpointsChangeTracker, ServiceChangeTracker } from '../../../src/proxy/model/change-tracker.js';
import { endpointsForService } from '../../../src/proxy/model/endpoints.js';
import { servicePortsFor } from '../../../src/proxy/model/service-port.js';
import { categorizeEndpoints } from '../../../src/proxy/model/topology.js';
import type { EndpointInfo, ServicePortInfo } from '../../../src/proxy/model/types.js';

function svc(spec: Service['spec'], name = 'svc1'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'ns1', name }, spec };
}
function slice(endpoints: EndpointSlice['endpoints'], name = 'svc1-1'): EndpointSlice {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { namespace: 'ns1', name, labels: { 'kubernetes.io/service-name': 'svc1' } }, addressType: 'IPv4', endpoints, ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] };
}
function ep(ip: string, over: Partial<EndpointInfo> = {}): EndpointInfo {
  return { ip, port: 80, endpoint: `${ip}:80`, isLocal: false, ready: true, serving: true, terminating: false, zoneHints: undefined, nodeName: '', ...over };
}
function port(over: Partial<ServicePortInfo> = {}): ServicePortInfo {
  return servicePortsFor(svc({ clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80 }] }), 'IPv4').map((p) => ({ ...p, ...over }))[0]!;
}
const node = { name: 'test-node', zone: 'zone-a' };
const ips = (eps: EndpointInfo[]): string[] => eps.map((e) => e.ip);

describe('servicePortsFor', () => {
  it('skips headless, ExternalName and other-family services and normalises IPs', () => {
    expect(servicePortsFor(svc({ clusterIP: 'None', ports: [{ port: 80 }] }), 'IPv4')).toEqual([]);
    expect(servicePortsFor(svc({ type: 'ExternalName', externalName: 'x', ports: [{ port: 80 }] }), 'IPv4')).toEqual([]);
    expect(servicePortsFor(svc({ clusterIP: 'fd00::1', ports: [{ port: 80 }] }), 'IPv4')).toEqual([]);
    const [p] = servicePortsFor(svc({ clusterIP: '172.030.000.041', externalIPs: ['1.2.3.4', 'fd00::9'], ports: [{ name: 'p80', port: 80 }] }), 'IPv4');
    expect(p!.clusterIP).toBe('172.30.0.41');
    expect(p!.externalIPs).toEqual(['1.2.3.4']);
    expect(p!.nameString).toBe('ns1/svc1:p80');
  });
});

describe('endpointsForService', () => {
  it('dedups by ip:port preferring ready, defaults nil conditions, sorts by ip:port string', () => {
    const m = endpointsForService(
      [slice([{ addresses: ['10.180.0.9'] }, { addresses: ['10.180.0.10'], conditions: { ready: false } }], 'a'), slice([{ addresses: ['10.180.0.10'], nodeName: 'test-node' }], 'b')],
      'IPv4',
      'test-node',
    );
    const eps = m.get('ns1/svc1:p80/TCP')!;
    expect(eps.map((e) => e.endpoint)).toEqual(['10.180.0.10:80', '10.180.0.9:80']);
    expect(eps[0]!.ready).toBe(true);
    expect(eps[0]!.isLocal).toBe(true);
    expect(eps[1]!.serving).toBe(true);
  });
});

describe('categorizeEndpoints', () => {
  it('uses ready endpoints and ignores terminating ones while any is ready', () => {
    const r = categorizeEndpoints([ep('10.0.0.1'), ep('10.0.0.2', { ready: false, serving: true, terminating: true })], port(), node);
    expect(ips(r.clusterEndpoints)).toEqual(['10.0.0.1']);
    expect(r.hasAnyEndpoints).toBe(true);
  });
  it('falls back to serving terminating endpoints, never to non-serving ones', () => {
    const r = categorizeEndpoints([ep('10.0.0.2', { ready: false, serving: true, terminating: true }), ep('10.0.0.3', { ready: false, serving: false, terminating: true })], port(), node);
    expect(ips(r.clusterEndpoints)).toEqual(['10.0.0.2']);
    const none = categorizeEndpoints([ep('10.0.0.3', { ready: false, serving: false, terminating: true })], port(), node);
    expect(none.hasAnyEndpoints).toBe(false);
  });
  it('internalTrafficPolicy Local uses only local endpoints', () => {
    const r = categorizeEndpoints([ep('10.0.0.1', { isLocal: true }), ep('10.0.0.2')], port({ internalPolicyLocal: true }), node);
    expect(ips(r.localEndpoints)).toEqual(['10.0.0.1']);
    expect(r.clusterEndpoints).toEqual([]);
    expect(ips(r.allReachableEndpoints)).toEqual(['10.0.0.1']);
  });
  it('externalTrafficPolicy Local keeps cluster endpoints for internal traffic', () => {
    const r = categorizeEndpoints([ep('10.0.0.1', { isLocal: true }), ep('10.0.0.2')], port({ externalPolicyLocal: true, nodePort: 30000 }), node);
    expect(ips(r.clusterEndpoints)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(ips(r.localEndpoints)).toEqual(['10.0.0.1']);
  });
  it('topology hints narrow the cluster set only when every ready endpoint has hints and one matches', () => {
    const hinted = [ep('10.0.0.1', { zoneHints: ['zone-a'] }), ep('10.0.0.2', { zoneHints: ['zone-b'] })];
    expect(ips(categorizeEndpoints(hinted, port(), node).clusterEndpoints)).toEqual(['10.0.0.1']);
    const partial = [ep('10.0.0.1', { zoneHints: ['zone-a'] }), ep('10.0.0.2')];
    expect(ips(categorizeEndpoints(partial, port(), node).clusterEndpoints)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(ips(categorizeEndpoints(hinted, port(), { name: 'n', zone: 'zone-c' }).clusterEndpoints)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(ips(categorizeEndpoints(hinted, port(), { name: 'n', zone: undefined }).clusterEndpoints)).toEqual(['10.0.0.1', '10.0.0.2']);
  });
});

describe('change trackers', () => {
  it('drops a service change that ends where it started', () => {
    const t = new ServiceChangeTracker('IPv4');
    const a = svc({ clusterIP: '172.30.0.41', ports: [{ port: 80 }] });
    const b = svc({ clusterIP: '172.30.0.41', ports: [{ port: 81 }] });
    t.update(a, b);
    expect(t.pendingCount).toBe(1);
    t.update(b, a);
    expect(t.pendingCount).toBe(0);
    const m = new Map();
    expect(t.apply(m).size).toBe(0);
  });
  it('applies adds, updates and deletes to the map', () => {
    const t = new ServiceChangeTracker('IPv4');
    const a = svc({ clusterIP: '172.30.0.41', ports: [{ port: 80 }] });
    const m = new Map();
    t.update(undefined, a);
    expect([...t.apply(m)]).toEqual(['ns1/svc1']);
    expect([...m.keys()]).toEqual(['ns1/svc1/TCP']);
    t.update(a, undefined);
    t.apply(m);
    expect(m.size).toBe(0);
  });
  it('groups slices per service, ignores no-op slice updates and reports removed serving endpoints', () => {
    const t = new EndpointsChangeTracker('IPv4', 'test-node');
    const m = new Map();
    const s1 = slice([{ addresses: ['10.180.0.1'] }, { addresses: ['10.180.0.2'] }]);
    t.update(undefined, s1);
    t.apply(m);
    // a rewrite with the same content (new object, e.g. a resync) is not a change
    t.update(s1, structuredClone(s1));
    expect(t.pendingCount).toBe(0);
    const s2 = slice([{ addresses: ['10.180.0.1'] }]);
    t.update(s1, s2);
    const r = t.apply(m);
    expect([...r.updatedServices]).toEqual(['ns1/svc1']);
    expect(r.removed.get('ns1/svc1:p80/TCP')!.map((e) => e.ip)).toEqual(['10.180.0.2']);
    expect(m.get('ns1/svc1:p80/TCP').map((e: EndpointInfo) => e.ip)).toEqual(['10.180.0.1']);
  });
});
