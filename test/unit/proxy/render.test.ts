import { describe, expect, it } from 'vitest';
import { renderFullSync } from '../../../src/proxy/render.js';
import { expectGolden, loadObjects, testConfig } from './helpers.js';

describe('full-sync render goldens', () => {
  it('ipvs: ipvsadm, ipset, kube-ipvs0 addresses and helper iptables', () => {
    expectGolden('overall.ipvs.txt', renderFullSync(loadObjects('overall.json'), testConfig({ mode: 'ipvs' })));
    expectGolden('semantics.ipvs.txt', renderFullSync(loadObjects('semantics.json'), testConfig({ mode: 'ipvs', nodeIPs: ['192.168.0.2', 'fd00::2'], clusterCIDRs: ['10.0.0.0/8', 'fd00:10::/64'] })));
  });
  for (const mode of ['iptables', 'nftables'] as const) {
    it(`${mode}: the upstream overall-rules service set`, () => {
      expectGolden(`overall.${mode}.txt`, renderFullSync(loadObjects('overall.json'), testConfig({ mode })));
    });
    it(`${mode}: traffic policies, terminating fallback, hints, protocols, dual-stack, affinity`, () => {
      expectGolden(`semantics.${mode}.txt`, renderFullSync(loadObjects('semantics.json'), testConfig({ mode, nodeIPs: ['192.168.0.2', 'fd00::2'], clusterCIDRs: ['10.0.0.0/8', 'fd00:10::/64'], serviceCIDRs: ['172.30.0.0/16', 'fd00:172:30::/112'] })));
    });
    it(`${mode}: masquerade-all, another mark bit, nodeport addresses, no local detector`, () => {
      expectGolden(
        `masquerade.${mode}.txt`,
        renderFullSync(loadObjects('overall.json'), testConfig({ mode, masqueradeAll: true, masqueradeBit: 7, clusterCIDRs: [], nodePortAddresses: ['192.168.0.0/24'], localhostNodePorts: false })),
      );
    });
  }
});

// Lines of kube-proxy's own expected output for the same objects (TestOverallNFTablesRules /
// TestOverallIPTablesRules), which our render must contain byte for byte.
describe('matches kube-proxy wire format', () => {
  it('nftables per-service rules', () => {
    const out = renderFullSync(loadObjects('overall.json'), testConfig({ mode: 'nftables' }));
    const lines = new Set(out.split('\n'));
    for (const want of [
      'add table ip kube-proxy { comment "rules for kube-proxy" ; }',
      'add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade',
      'add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 }',
      'add rule ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 meta l4proto tcp dnat to 10.180.0.1:80',
      'add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 ip saddr 10.0.0.0/8 goto service-42NFTM6N-ns2/svc2/tcp/p80 comment "short-circuit pod traffic"',
      'add element ip kube-proxy no-endpoint-nodeports { tcp . 3001 comment "ns2/svc2:p80" : drop }',
      'add element ip kube-proxy no-endpoint-services { 1.2.3.4 . tcp . 80 comment "ns2/svc2:p80" : drop }',
      'add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }',
      'add set ip kube-proxy affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }',
      'add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 ip saddr @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80',
      'add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 update @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { ip saddr }',
      'add rule ip kube-proxy firewall-HVFWP5L3-ns5/svc5/tcp/p80 ip saddr != { 203.0.113.0/25 } drop',
      'add element ip kube-proxy firewall-ips { 5.6.7.8 . tcp . 80 : goto firewall-HVFWP5L3-ns5/svc5/tcp/p80 }',
      'add element ip kube-proxy no-endpoint-services { 172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain }',
      'add element ip kube-proxy service-nodeports { tcp . 3002 : goto external-HVFWP5L3-ns5/svc5/tcp/p80 }',
    ]) {
      expect(lines, want).toContain(want);
    }
  });
  it('iptables rules', () => {
    const out = renderFullSync(loadObjects('overall.json'), testConfig({ mode: 'iptables' }));
    const lines = new Set(out.split('\n'));
    for (const want of [
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ',
      '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80',
      '-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT',
      '-A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 30000 -j ACCEPT',
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP',
      '-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN',
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ]) {
      expect(lines, want).toContain(want);
    }
    // The nodeports jump is the last rule of nat KUBE-SERVICES.
    const natServices = out.split('*nat')[1]!.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES'));
    expect(natServices.at(-1)).toContain('KUBE-NODEPORTS');
  });
});
