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

/**
 * iptables-restore --noflush, as a model: table -> chain -> rules. A `:CHAIN` line creates or
 * flushes the chain, `-A` appends, `-I CHAIN 1` inserts first, `-D` removes the exact rule
 * (and fails when it is not there, as the kernel does), `-X` deletes an empty chain.
 */
function applyRestore(tables: Map<string, Map<string, string[]>>, payload: string): void {
  let table: Map<string, string[]> | undefined;
  for (const line of payload.split('\n')) {
    if (!line || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      const name = line.slice(1);
      if (!tables.has(name)) tables.set(name, new Map());
      table = tables.get(name);
      continue;
    }
    const t = table!;
    if (line.startsWith(':')) {
      t.set(line.slice(1, line.indexOf(' ')), []);
      continue;
    }
    const [op, chain, ...rest] = line.split(' ');
    const rules = t.get(chain!);
    if (!rules) throw new Error(`no chain ${chain}: ${line}`);
    if (op === '-A') rules.push(rest.join(' '));
    else if (op === '-I') {
      expect(rest[0]).toBe('1');
      rules.unshift(rest.slice(1).join(' '));
    } else if (op === '-D') {
      const i = rules.indexOf(rest.join(' '));
      if (i < 0) throw new Error(`-D of a rule that is not there: ${line}`);
      rules.splice(i, 1);
    } else if (op === '-X') {
      expect(rules).toEqual([]);
      t.delete(chain!);
    } else throw new Error(`unexpected ${line}`);
  }
}

describe('iptables in-place partial sync', () => {
  const rcfg = iptablesConfig(cfg, 'IPv4');
  const base = loadObjects('overall.json');
  const render = (objs: KubeObject[], changed?: string[], prev?: ReturnType<typeof renderIptables>) => {
    const state = stateFromObjects(objs, 'IPv4', 'test-node');
    if (!changed) return renderIptables(state, rcfg);
    const portKeysByService = new Map<string, string[]>();
    for (const [key, svc] of state.services) portKeysByService.set(`${svc.namespace}/${svc.name}`, [...(portKeysByService.get(`${svc.namespace}/${svc.name}`) ?? []), key]);
    const totals = { filterRules: prev!.filterRules, natRulesTotal: prev!.natRulesTotal, noLocalEndpointsInternal: prev!.noLocalEndpointsInternal, noLocalEndpointsExternal: prev!.noLocalEndpointsExternal };
    return renderIptables({ ...state, changedServices: new Set(changed), programmed: { byService: prev!.ports, portKeysByService, totals } }, rcfg);
  };
  /** The kernel after a full sync of `from` and then the partial sync to `to`, beside a full sync of `to`. */
  const afterPartial = (from: KubeObject[], to: KubeObject[], changed: string[]) => {
    const a = render(from);
    const p = render(to, changed, a);
    const kernel = new Map<string, Map<string, string[]>>();
    applyRestore(kernel, a.text);
    applyRestore(kernel, p.text);
    const want = new Map<string, Map<string, string[]>>();
    applyRestore(want, render(to).text);
    return { partial: p, kernel, want };
  };
  const sortedChains = (t: Map<string, Map<string, string[]>>) => new Map([...t].map(([name, chains]) => [name, new Map([...chains].map(([c, r]) => [c, [...r].sort()]))]));
  const nodePortsJump = /nodeports; NOTE: this must be the last rule in this chain/;

  it('a full sync is unchanged and returns every port\'s shared-chain rules', () => {
    const full = render(base);
    expect(full.text).toBe(renderIptables(stateFromObjects(base, 'IPv4', 'test-node'), rcfg).text);
    const shared = [...full.ports.values()].flatMap((m) => [...m.values()]).flatMap((r) => [...r.nat, ...r.filter]);
    for (const l of shared) expect(full.text).toContain(l + '\n');
    expect(shared.some((l) => l.startsWith('-A KUBE-SERVICES ') && l.includes('ns2/svc2:p80 cluster IP'))).toBe(true);
  });

  it('adding a service inserts its rules into KUBE-SERVICES without redeclaring the shared chains', () => {
    const { partial, kernel, want } = afterPartial(base, [...base, ...extra], ['ns9/new']);
    const lines = partial.text.split('\n');
    for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-PROXY-FIREWALL', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']) expect(lines).not.toContain(`:${c} - [0:0]`);
    expect(partial.text).not.toContain('*filter');
    expect(lines.filter((l) => l.includes('KUBE-SERVICES'))).toEqual([expect.stringMatching(/^-I KUBE-SERVICES 1 -m comment --comment "ns9\/new:p80 cluster IP" -m tcp -p tcp -d 172\.30\.0\.99 --dport 80 -j KUBE-SVC-/)]);
    expect(lines.filter((l) => l.startsWith('-A KUBE-SERVICES') || l.startsWith('-D '))).toEqual([]);
    expect(sortedChains(kernel)).toEqual(sortedChains(want));
    expect(kernel.get('nat')!.get('KUBE-SERVICES')!.at(-1)).toMatch(nodePortsJump);
  });

  it('deleting a service removes exactly its programmed shared-chain rules before its chains', () => {
    const withNew = [...base, ...extra];
    const gone = ['ns2/svc2', 'ns5/svc5'];
    const to = withNew.filter((o) => !gone.includes(`${o.metadata.namespace}/${(o.metadata.labels?.['kubernetes.io/service-name'] ?? o.metadata.name)}`) || o.kind === 'Node');
    const { partial, kernel, want } = afterPartial(withNew, to, gone);
    const full = render(withNew);
    const expected = [...full.ports.entries()].filter(([svc]) => gone.includes(svc)).flatMap(([, m]) => [...m.values()]).flatMap((r) => [...r.nat, ...r.filter]).map((l) => '-D' + l.slice(2));
    const deletes = partial.text.split('\n').filter((l) => l.startsWith('-D '));
    expect(deletes.sort()).toEqual(expected.sort());
    // health check port (filter KUBE-NODEPORTS), firewall drop (KUBE-PROXY-FIREWALL) and external IP rules among them
    expect(deletes.some((l) => l.startsWith('-D KUBE-NODEPORTS ') && l.includes('health check node port'))).toBe(true);
    expect(deletes.some((l) => l.startsWith('-D KUBE-PROXY-FIREWALL '))).toBe(true);
    const lastDelete = partial.text.lastIndexOf('\n-D ');
    expect(lastDelete).toBeGreaterThan(0);
    expect(partial.text.indexOf('\n-X ')).toBeGreaterThan(lastDelete);
    expect(gone.map((svc) => partial.ports.get(svc)?.size)).toEqual([0, 0]);
    // counts carried forward from the full sync match a full render of the result
    const fullTo = render(to);
    expect([partial.filterRules, partial.natRulesTotal, partial.noLocalEndpointsInternal, partial.noLocalEndpointsExternal]).toEqual([fullTo.filterRules, fullTo.natRulesTotal, fullTo.noLocalEndpointsInternal, fullTo.noLocalEndpointsExternal]);
    expect(sortedChains(kernel)).toEqual(sortedChains(want));
    expect(kernel.get('nat')!.get('KUBE-SERVICES')!.at(-1)).toMatch(nodePortsJump);
  });

  it('a service losing its endpoints moves from nat to a filter REJECT, and back', () => {
    const noEps = base.filter((o) => !(o.kind === 'EndpointSlice' && o.metadata.name === 'svc1-1'));
    const lose = afterPartial(base, noEps, ['ns1/svc1']);
    expect(lose.partial.text).toMatch(/^-A KUBE-SERVICES -m comment --comment "ns1\/svc1:p80 has no endpoints" .* -j REJECT$/m);
    expect(lose.partial.text).toMatch(/^-D KUBE-SERVICES -m comment --comment "ns1\/svc1:p80 cluster IP" /m);
    expect(sortedChains(lose.kernel)).toEqual(sortedChains(lose.want));
    const regain = afterPartial(noEps, base, ['ns1/svc1']);
    expect(regain.partial.text).toMatch(/^-D KUBE-SERVICES -m comment --comment "ns1\/svc1:p80 has no endpoints" /m);
    expect(sortedChains(regain.kernel)).toEqual(sortedChains(regain.want));
    expect(regain.kernel.get('nat')!.get('KUBE-SERVICES')!.at(-1)).toMatch(nodePortsJump);
  });

  it('an endpoint change rewrites only the service chains; a change with no effect sends nothing', () => {
    const moved = base.map((o) =>
      o.kind === 'EndpointSlice' && o.metadata.name === 'svc3-1' ? ({ ...o, endpoints: [...(o as unknown as { endpoints: unknown[] }).endpoints, { addresses: ['10.180.3.9'] }] } as KubeObject) : o,
    );
    const { partial, kernel, want } = afterPartial(base, moved, ['ns3/svc3']);
    expect(partial.text).not.toMatch(/^-[ADI] KUBE-(SERVICES|NODEPORTS) /m);
    expect(partial.text).toMatch(/^:KUBE-SEP-\S+ - \[0:0\]$/m);
    expect(sortedChains(kernel)).toEqual(sortedChains(want));
    // the Service "changed" but renders the same: nothing outside its own chains
    const same = render(base, ['ns6/svc6'], render(base));
    expect(same.text).toBe('');
  });
});
