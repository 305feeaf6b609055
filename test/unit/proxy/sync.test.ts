// Partial syncs: what the runner sends for add / change / delete / no-op, in both modes.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/api/types.js';
import { renderIptables } from '../../../src/proxy/iptables/render.js';
import { stateFromObjects } from '../../../src/proxy/model/snapshot.js';
import { renderNftables } from '../../../src/proxy/nftables/render.js';
import { iptablesConfig, nftablesConfig } from '../../../src/proxy/render.js';
import { nftTransaction } from '../../../src/proxy/runner/nftables.js';
import { loadObjects, testConfig } from './helpers.js';

const cfg = testConfig();
function nft(objs: KubeObject[]) {
  return renderNftables(stateFromObjects(objs, 'IPv4', 'test-node'), nftablesConfig(cfg, 'IPv4'));
}
const extra: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'ns9', name: 'new' }, spec: { clusterIP: '172.30.0.99', ports: [{ name: 'p80', port: 80 }] } } as KubeObject,
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'ns9', name: 'new-1', labels: { 'kubernetes.io/service-name': 'new' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.180.9.1'] }],
    ports: [{ name: 'p80', port: 80, protocol: 'TCP' }],
  } as KubeObject,
];

describe('nftables transactions', () => {
  it('a no-op sync sends nothing', () => {
    const objs = loadObjects('overall.json');
    expect(nftTransaction(nft(objs), nft(objs))).toBe('');
  });
  it('adding a service sends only its chains and elements', () => {
    const objs = loadObjects('overall.json');
    const tx = nftTransaction(nft(objs), nft([...objs, ...extra]));
    expect(tx.split('\n').filter(Boolean)).toEqual([
      'add chain ip kube-proxy service-' + tx.match(/service-(\S+)/)![1],
      expect.stringMatching(/^add chain ip kube-proxy endpoint-\S+ns9\/new\/tcp\/p80__10.180.9.1\/80$/),
      expect.stringMatching(/^flush chain ip kube-proxy service-/),
      expect.stringMatching(/ip daddr 172.30.0.99 ip saddr != 10.0.0.0\/8 jump mark-for-masquerade$/),
      expect.stringMatching(/numgen random mod 1 vmap/),
      expect.stringMatching(/^flush chain ip kube-proxy endpoint-/),
      expect.stringMatching(/ip saddr 10.180.9.1 jump mark-for-masquerade$/),
      expect.stringMatching(/meta l4proto tcp dnat to 10.180.9.1:80$/),
      'add element ip kube-proxy cluster-ips { 172.30.0.99 }',
      expect.stringMatching(/^add element ip kube-proxy service-ips \{ 172.30.0.99 . tcp . 80 : goto service-/),
    ]);
  });
  it('deleting a service removes its elements, then flushes and deletes its chains', () => {
    const objs = loadObjects('overall.json');
    const tx = nftTransaction(nft([...objs, ...extra]), nft(objs)).split('\n').filter(Boolean);
    expect(tx[0]).toBe('delete element ip kube-proxy cluster-ips { 172.30.0.99 }');
    expect(tx[1]).toBe('delete element ip kube-proxy service-ips { 172.30.0.99 . tcp . 80 }');
    expect(tx.slice(2).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['flush chain', 'flush chain', 'delete chain', 'delete chain']);
  });
});

describe('iptables partial sync', () => {
  it('rewrites only changed services and deletes stale chains', () => {
    const objs = [...loadObjects('overall.json'), ...extra];
    const state = stateFromObjects(objs, 'IPv4', 'test-node');
    const rcfg = iptablesConfig(cfg, 'IPv4');
    const full = renderIptables(state, rcfg);
    const partial = renderIptables({ ...state, changedServices: new Set(['ns9/new']), existingNatChains: [...full.activeNatChains, 'KUBE-SVC-STALESTALESTALE1', 'OTHER-CHAIN'] }, rcfg);
    const natChains = partial.text.split('*nat\n')[1]!.split('\n').filter((l) => l.startsWith(':'));
    expect(natChains.filter((l) => l.startsWith(':KUBE-SVC-') || l.startsWith(':KUBE-SEP-'))).toHaveLength(3);
    expect(partial.text).toContain('-X KUBE-SVC-STALESTALESTALE1');
    expect(partial.text).not.toContain('OTHER-CHAIN');
    // rule counts still describe the whole ruleset
    expect(partial.natRulesTotal).toBe(full.natRulesTotal);
    expect(partial.natRulesWritten).toBeLessThan(full.natRulesWritten);
  });
  it('drops endpoint comments in large-cluster mode', () => {
    const objs: KubeObject[] = [
      { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'big', name: 'big' }, spec: { clusterIP: '172.30.1.1', ports: [{ port: 80 }] } } as KubeObject,
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { namespace: 'big', name: 'big-1', labels: { 'kubernetes.io/service-name': 'big' } },
        addressType: 'IPv4',
        endpoints: Array.from({ length: 1001 }, (_, i) => ({ addresses: [`10.1.${i >> 8}.${i & 255}`] })),
        ports: [{ port: 80, protocol: 'TCP' }],
      } as KubeObject,
    ];
    const r = renderIptables(stateFromObjects(objs, 'IPv4', 'test-node'), iptablesConfig(cfg, 'IPv4'));
    expect(r.largeClusterMode).toBe(true);
    expect(r.text).toMatch(/^-A KUBE-SEP-\S+ -s 10\.1\.0\.0 -j KUBE-MARK-MASQ$/m);
    expect(r.text).not.toContain('"big/big -> ');
  });
});
