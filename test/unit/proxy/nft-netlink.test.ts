// The netlink path for partial nftables syncs must program exactly what `nft -f` programs for
// the same transaction: both are applied to twin network namespaces and the kernel's own
// listing (bytecode, handles, element userdata) is compared.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/api/types.js';
import { RestoreError } from '../../../src/proxy/errors.js';
import type { Family } from '../../../src/proxy/model/types.js';
import { stateFromObjects } from '../../../src/proxy/model/snapshot.js';
import { renderNftables, TABLE } from '../../../src/proxy/nftables/render.js';
import { nftablesConfig } from '../../../src/proxy/render.js';
import { encodeNftBatch } from '../../../src/proxy/runner/netlink/nft-batch.js';
import { NetlinkRelay } from '../../../src/proxy/runner/netlink/relay.js';
import { nftTransaction } from '../../../src/proxy/runner/nftables.js';
import { describeE2E } from '../../helpers/e2e.js';
import { testConfig } from './helpers.js';

const nsA = `kpnl-a-${process.pid}`;
const nsB = `kpnl-b-${process.pid}`;

function nftIn(ns: string, script: string): void {
  execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: script });
}
/** The kernel's bytecode listing; elements of one set sorted, since hash sets list in seed order. */
function listing(ns: string, fam: 'ip' | 'ip6'): string {
  const text = execFileSync('ip', ['netns', 'exec', ns, 'nft', '--debug=netlink', 'list', 'table', fam, TABLE], { encoding: 'utf8' });
  const out: string[] = [];
  let elems: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('\telement ')) {
      elems.push(line);
      continue;
    }
    out.push(...elems.sort());
    elems = [];
    out.push(line);
  }
  return [...out, ...elems.sort()].join('\n');
}

interface Svc {
  name: string;
  ip: string;
  type?: 'ClusterIP' | 'NodePort';
  proto?: 'TCP' | 'UDP' | 'SCTP';
  nodePort?: number;
  externalIPs?: string[];
  eps: string[];
}

function objects(family: Family, svcs: Svc[]): KubeObject[] {
  const out: KubeObject[] = [];
  for (const s of svcs) {
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'ns1', name: s.name },
      spec: { type: s.type ?? 'ClusterIP', clusterIP: s.ip, externalIPs: s.externalIPs, ports: [{ name: 'p', port: 80, protocol: s.proto ?? 'TCP', ...(s.nodePort ? { nodePort: s.nodePort } : {}) }] },
    } as KubeObject);
    out.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'ns1', name: `${s.name}-1`, labels: { 'kubernetes.io/service-name': s.name } },
      addressType: family,
      endpoints: s.eps.map((a, i) => ({ addresses: [a], nodeName: i === 0 ? 'test-node' : 'other', conditions: { ready: true } })),
      ports: [{ name: 'p', port: 8080, protocol: s.proto ?? 'TCP' }],
    } as KubeObject);
  }
  return out;
}

const v4: Svc[] = [
  { name: 'a', ip: '172.30.0.10', eps: ['10.180.0.1', '10.180.0.2', '10.180.0.3'] },
  { name: 'b', ip: '172.30.0.11', type: 'NodePort', nodePort: 30080, externalIPs: ['203.0.113.7'], eps: ['10.180.1.1'] },
  { name: 'c', ip: '172.30.0.12', proto: 'UDP', eps: [] },
  { name: 'd', ip: '172.30.0.13', type: 'NodePort', nodePort: 30081, proto: 'SCTP', eps: [] },
  { name: 'e', ip: '172.30.0.14', proto: 'UDP', eps: ['10.180.2.1', '10.180.2.2'] },
];
const v6: Svc[] = [
  { name: 'a', ip: 'fd00:30::10', eps: ['fd00:10::1', 'fd00:10::2'] },
  { name: 'b', ip: 'fd00:30::11', type: 'NodePort', nodePort: 30080, eps: ['fd00:10::1:1'] },
  { name: 'c', ip: 'fd00:30::12', proto: 'UDP', eps: [] },
];

const cases: { name: string; family: Family; svcs: Svc[]; cfg: Parameters<typeof testConfig>[0] }[] = [
  { name: 'IPv4, byte-aligned cluster CIDR', family: 'IPv4', svcs: v4, cfg: {} },
  { name: 'IPv4, /12 cluster CIDR', family: 'IPv4', svcs: v4, cfg: { clusterCIDRs: ['10.16.0.0/12'] } },
  { name: 'IPv4, masquerade-all', family: 'IPv4', svcs: v4, cfg: { masqueradeAll: true } },
  {
    name: 'IPv6, /60 cluster CIDR',
    family: 'IPv6',
    svcs: v6,
    cfg: { nodeIPs: ['fd00::2'], clusterCIDRs: ['fd00:10::/60'], serviceCIDRs: ['fd00:30::/112'] },
  },
];

describe('encodeNftBatch', () => {
  it('leaves lines it does not know to nft -f', () => {
    expect(encodeNftBatch(`add set ip ${TABLE} affinity-X { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }\n`, 'ip', TABLE)).toBeUndefined();
    expect(encodeNftBatch(`add rule ip ${TABLE} c ip saddr @affinity-X goto d\n`, 'ip', TABLE)).toBeUndefined();
    expect(encodeNftBatch(`add rule ip ${TABLE} c fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"\n`, 'ip', TABLE)).toBeUndefined();
    expect(encodeNftBatch(`add rule ip6 ${TABLE} c ip saddr 10.0.0.1 drop\n`, 'ip6', TABLE)).toBeUndefined();
  });
  it('maps every message back to its transaction line', () => {
    const b = encodeNftBatch(`add chain ip ${TABLE} x\n\nadd rule ip ${TABLE} x numgen random mod 1 vmap { 0 : goto y }\n`, 'ip', TABLE)!;
    // chain (line 1); anonymous map, its elements and the rule (line 3)
    expect([...b.lineOfSeq.values()]).toEqual([1, 3, 3, 3]);
  });
});

describeE2E('nftables partial syncs over netlink', { root: true, netns: true, commands: ['nft', 'python3'] }, () => {
  let relay: NetlinkRelay | undefined;
  beforeAll(async () => {
    for (const ns of [nsA, nsB]) execFileSync('ip', ['netns', 'add', ns]);
    relay = await NetlinkRelay.start(['ip', 'netns', 'exec', nsB, 'python3']);
  });
  afterAll(() => {
    relay?.close();
    for (const ns of [nsA, nsB]) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });

  for (const c of cases) {
    it(`programs what nft -f programs: ${c.name}`, async () => {
      const cfg = nftablesConfig(testConfig(c.cfg), c.family);
      const fam = c.family === 'IPv4' ? 'ip' : 'ip6';
      const state = (svcs: Svc[]) => renderNftables(stateFromObjects(objects(c.family, svcs), c.family, 'test-node'), cfg);
      const start = state(c.svcs.slice(0, 1));
      const all = state(c.svcs);
      const changed = state([c.svcs[0]!, ...c.svcs.slice(2)]);
      for (const ns of [nsA, nsB]) {
        execFileSync('ip', ['netns', 'exec', ns, 'nft', 'flush', 'ruleset']);
        nftIn(ns, nftTransaction(undefined, start));
      }
      // add services, then remove one and change nothing else: both directions of a partial sync
      for (const [from, to] of [
        [start, all],
        [all, changed],
        [changed, start],
      ] as const) {
        const tx = nftTransaction(from, to);
        expect(tx).not.toBe('');
        const batch = encodeNftBatch(tx, fam, TABLE);
        expect(batch, tx).toBeDefined();
        nftIn(nsA, tx);
        expect(await relay!.send(batch!.data)).toEqual([]);
        // the relay reports the kernel's own time for the batch (what bench/proxy/sync.ts prints as the floor)
        expect(relay!.lastKernelMs).toBeGreaterThan(0);
        expect(listing(nsB, fam)).toBe(listing(nsA, fam));
      }
    });
  }

  it('a rejected batch changes nothing and names the failing line', async () => {
    const cfg = nftablesConfig(testConfig(), 'IPv4');
    execFileSync('ip', ['netns', 'exec', nsB, 'nft', 'flush', 'ruleset']);
    nftIn(nsB, nftTransaction(undefined, renderNftables(stateFromObjects(objects('IPv4', v4.slice(0, 1)), 'IPv4', 'test-node'), cfg)));
    const before = listing(nsB, 'ip');
    const tx = [`add chain ip ${TABLE} fresh`, `add rule ip ${TABLE} fresh goto no-such-chain`, `add element ip ${TABLE} cluster-ips { 172.30.9.9 }`, ''].join('\n');
    const batch = encodeNftBatch(tx, 'ip', TABLE)!;
    const errors = await relay!.send(batch.data);
    expect(errors.length).toBeGreaterThan(0);
    expect(batch.lineOfSeq.get(errors[0]!.seq)).toBe(2);
    expect(errors[0]!.message).toMatch(/No such file or directory/);
    expect(listing(nsB, 'ip')).toBe(before);
  });

  it('NftablesRunner reports a rejected partial transaction as a RestoreError', async () => {
    // The runner's own relay runs in this process's namespace; give it one of ours.
    const { NftablesRunner } = await import('../../../src/proxy/runner/nftables.js');
    const runner = new NftablesRunner('ip', { netlink: true });
    (runner as unknown as { relay: Promise<NetlinkRelay | undefined> }).relay = NetlinkRelay.start(['ip', 'netns', 'exec', nsB, 'python3']);
    try {
      const err = await runner.apply(`add rule ip ${TABLE} services goto no-such-chain\n`, { partial: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RestoreError);
      expect((err as RestoreError).line).toBe(1);
      expect(runner.lastPath).toBe('netlink');
    } finally {
      runner.close();
    }
  });
});
