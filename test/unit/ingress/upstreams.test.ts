import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '../../../src/api/types.js';
import { resolveUpstream } from '../../../src/ingress/endpoints.js';
import { EndpointHealth, Upstream } from '../../../src/ingress/upstreams.js';

// Address plan: pods 10.0.0.x (IPv4) and fd00::x (IPv6); Service "web" port 80 named "http".
const svc: Service = { metadata: { name: 'web', namespace: 'ns' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'admin', port: 9000 }] } };
function slice(name: string, addressType: 'IPv4' | 'IPv6', ports: { name: string; port: number }[], eps: [string, { ready?: boolean; serving?: boolean; terminating?: boolean }][]): EndpointSlice {
  return { metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' } }, addressType, ports, endpoints: eps.map(([a, conditions]) => ({ addresses: [a], conditions })) };
}

describe('resolveUpstream', () => {
  const slices = [
    slice('a', 'IPv4', [{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }], [['10.0.0.2', { ready: true }], ['10.0.0.1', {}], ['10.0.0.3', { ready: false, serving: true, terminating: true }], ['10.0.0.4', { ready: false }]]),
    slice('b', 'IPv6', [{ name: 'http', port: 8080 }], [['fd00::1', { ready: true }]]),
  ];
  it('ready endpoints of the named port, by Service port number', () => {
    const r = resolveUpstream({ namespace: 'ns', name: 'web', port: { number: 80 } }, svc, slices);
    expect(r.state).toBe('ok');
    expect(r.endpoints.map((e) => e.origin)).toEqual(['http://10.0.0.1:8080', 'http://10.0.0.2:8080', 'http://[fd00::1]:8080']);
  });
  it('by Service port name', () => {
    expect(resolveUpstream({ namespace: 'ns', name: 'web', port: { name: 'admin' } }, svc, slices).endpoints.map((e) => e.origin)).toEqual(['http://10.0.0.1:9090', 'http://10.0.0.2:9090']);
  });
  it('serving-but-terminating endpoints only when none is ready', () => {
    const only = [slice('c', 'IPv4', [{ name: 'http', port: 8080 }], [['10.0.0.3', { ready: false, serving: true, terminating: true }], ['10.0.0.4', { ready: false }]])];
    expect(resolveUpstream({ namespace: 'ns', name: 'web', port: { number: 80 } }, svc, only).endpoints.map((e) => e.address)).toEqual(['10.0.0.3']);
  });
  it('states for 503s', () => {
    expect(resolveUpstream({ namespace: 'ns', name: 'web', port: { number: 80 } }, undefined, slices).state).toBe('no-service');
    expect(resolveUpstream({ namespace: 'ns', name: 'web', port: { number: 81 } }, svc, slices).state).toBe('no-port');
    expect(resolveUpstream({ namespace: 'ns', name: 'web', port: { number: 80 } }, svc, []).state).toBe('no-endpoints');
  });
});

function upstream(n: number): Upstream {
  const u = new Upstream('ns/web:80', undefined);
  u.state = 'ok';
  u.endpoints = Array.from({ length: n }, (_, i) => ({ address: `10.0.0.${i + 1}`, port: 8080, origin: `http://10.0.0.${i + 1}:8080` }));
  return u;
}

describe('load balancing and passive health', () => {
  it('round robin cycles through endpoints', () => {
    const u = upstream(3);
    const h = new EndpointHealth();
    expect(Array.from({ length: 6 }, () => u.pick('round_robin', h, undefined)!.address)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });
  it('skips an endpoint that failed a connect, and endpoints already tried', () => {
    const u = upstream(3);
    const h = new EndpointHealth();
    h.markFailed('http://10.0.0.2:8080');
    const picks = new Set(Array.from({ length: 6 }, () => u.pick('round_robin', h, undefined)!.address));
    expect([...picks].sort()).toEqual(['10.0.0.1', '10.0.0.3']);
    expect(u.pick('round_robin', h, ['http://10.0.0.1:8080', 'http://10.0.0.3:8080'])!.address).toBe('10.0.0.2');
    h.markOk('http://10.0.0.2:8080');
    expect(new Set(Array.from({ length: 3 }, () => u.pick('round_robin', h, undefined)!.address)).size).toBe(3);
  });
  it('uses a failed endpoint when every endpoint failed', () => {
    const u = upstream(2);
    const h = new EndpointHealth();
    h.markFailed('http://10.0.0.1:8080');
    h.markFailed('http://10.0.0.2:8080');
    expect(u.pick('round_robin', h, undefined)).toBeDefined();
  });
  it('least request picks the endpoint with the fewest in-flight requests', () => {
    const u = upstream(3);
    const h = new EndpointHealth();
    h.begin('http://10.0.0.1:8080');
    h.begin('http://10.0.0.1:8080');
    h.begin('http://10.0.0.2:8080');
    for (let i = 0; i < 3; i++) expect(u.pick('least_request', h, undefined)!.address).toBe('10.0.0.3');
    h.begin('http://10.0.0.3:8080');
    h.begin('http://10.0.0.3:8080');
    expect(u.pick('least_request', h, undefined)!.address).toBe('10.0.0.2');
  });
});
