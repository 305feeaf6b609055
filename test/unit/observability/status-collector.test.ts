// The collector reads the components' real state objects: the file-backed informers, the
// proxy, DNS and ingress metric classes and a real route table. Rates are checked on a fake
// clock, so they are exact.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileInformerFactory } from '../../../src/client/file-informers.js';
import { DnsMetrics } from '../../../src/dns/metrics.js';
import { IngressMetrics } from '../../../src/ingress/metrics.js';
import { projectIngress } from '../../../src/ingress/routes.js';
import { TableBuilder } from '../../../src/ingress/table.js';
import type { Ingress } from '../../../src/api/types.js';
import { ProxyMetrics } from '../../../src/proxy/metrics.js';
import { StatusCollector } from '../../../src/observability/status-collector.js';

const OBJECTS = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {clusterIP: 10.96.0.7, ports: [{name: http, port: 80, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-a, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- {addresses: [10.244.0.5], conditions: {ready: true}, nodeName: node-a}
- {addresses: [10.244.1.5], conditions: {ready: true}, nodeName: node-b}
- {addresses: [10.244.1.6], conditions: {ready: false}, nodeName: node-b}
`;

const ingress: Ingress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'shop', namespace: 'default' },
  spec: { rules: [{ host: 'shop.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
} as Ingress;

describe('status collector', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-status-'));
    writeFileSync(join(dir, 'objects.yaml'), OBJECTS);
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('groups endpoints by node and reads the components’ numbers', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T12:00:00Z'), toFake: ['Date', 'setInterval', 'clearInterval'] });
    const informers = new FileInformerFactory(join(dir, 'objects.yaml'));
    const c = new StatusCollector({ node: 'node-a', informers, rateWindowSeconds: 60, sampleMs: 1000 });
    await informers.start();

    const proxy = new ProxyMetrics();
    const proxiers = [{ family: 'IPv4', lastSyncOK: true, syncCount: 0 }];
    c.attachProxy({ metrics: proxy, proxiers }, 'iptables');
    const dns = new DnsMetrics('dns://:53');
    c.attachDns({ metrics: dns });
    const im = new IngressMetrics();
    const builder = new TableBuilder();
    builder.set('default/shop', projectIngress(ingress));
    const table = builder.build().table;
    c.attachIngress({ metrics: im, proxy: { table }, rejected: new Map([['default/bad', 'invalid']]) });

    c.start();
    await vi.advanceTimersByTimeAsync(0);
    // After the first sample: one sync of 25 ms, 20 queries and 10 requests (2 of them 502s) in 10 s.
    proxy.syncDuration.observe(0.025);
    proxiers[0]!.syncCount = 1;
    proxy.iptablesRulesTotal.set({ table: 'nat', ip_family: 'IPv4' }, 21);
    proxy.lastTimestamp.set({ ip_family: 'IPv4' }, 1795435200);
    const ok = dns.seriesFor('cluster.local.', 'udp', '1', 'A', 'NOERROR', 'kubernetes');
    const nx = dns.seriesFor('cluster.local.', 'udp', '1', 'AAAA', 'NXDOMAIN', 'kubernetes');
    for (let i = 0; i < 15; i++) dns.count(ok, 0.0001);
    for (let i = 0; i < 5; i++) dns.count(nx, 0.0001);
    const route = table.hostFor('shop.example').routes.paths[0]!;
    const labels = { host: 'shop.example', ingress: 'shop', namespace: 'default', service: 'web', path: '/', method: 'GET', canary: '' };
    for (let i = 0; i < 8; i++) im.observe(route, null, () => ({ ...labels, status: '200' }), 'GET', 200, 0.01, 100);
    for (let i = 0; i < 2; i++) im.observe(route, null, () => ({ ...labels, status: '502' }), 'GET', 502, 0.01, 100);
    await vi.advanceTimersByTimeAsync(10_000);

    const d = await c.collect();
    c.stop();
    expect(d.node).toBe('node-a');
    expect(d.services).toEqual([
      {
        namespace: 'default',
        name: 'web',
        type: 'ClusterIP',
        clusterIPs: ['10.96.0.7'],
        ports: ['http 80/TCP'],
        endpoints: [
          { node: 'node-a', ready: ['10.244.0.5'], notReady: [] },
          { node: 'node-b', ready: ['10.244.1.5'], notReady: ['10.244.1.6'] },
        ],
      },
    ]);
    expect(d.proxy).toEqual({
      mode: 'iptables',
      syncs: 1,
      lastSyncSeconds: 0.025,
      meanSyncSeconds: 0.025,
      families: [{ family: 'IPv4', syncs: 1, lastSyncOK: true, lastSyncAt: 1795435200, rules: [{ table: 'nat', count: 21 }] }],
    });
    expect(d.dns).toEqual({ queries: 20, rate: 2, byRcode: [{ rcode: 'NOERROR', count: 15 }, { rcode: 'NXDOMAIN', count: 5 }], byType: [{ type: 'A', count: 15 }, { type: 'AAAA', count: 5 }] });
    expect(d.ingress).toEqual({
      routes: [{ host: 'shop.example', path: '/', pathType: 'Prefix', ingress: 'default/shop', backend: 'default/web:80', requests: 10, rate: 1, errors: 2 }],
      rejectedIngresses: 1,
    });
    await informers.stop();
  });

  it('lists components that are off, with no data for them', async () => {
    const c = new StatusCollector({ node: 'n' });
    c.component('proxy', false);
    const d = await c.collect();
    expect(d.components).toEqual([{ name: 'proxy', running: false }]);
    expect(d.proxy).toBeUndefined();
    expect(d.dns).toBeUndefined();
    expect(d.ingress).toBeUndefined();
    expect(d.services).toEqual([]);
  });
});
