// iptables partial syncs edit the shared chains in place (-D / -I / -A, no flush of
// KUBE-SERVICES). Against the real iptables-restore: a partial sync leaves the kernel with the
// same rules as a full sync of the same objects (positions may differ, the nodeports jump stays
// last in nat KUBE-SERVICES), and the next full sync restores kube-proxy's exact order.
// The proxier runs inside a scratch namespace (dist/, build first), one per side.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';

const tag = `kpip${process.pid % 100000}`;
const nsPartial = `${tag}-part`;
const nsFull = `${tag}-full`;
const dist = `${process.cwd()}/dist`;

/** Runs `body` with a Proxier `p` (iptables, IPv4) and `feed(objects)` inside `ns`; prints what body returns as JSON. */
function inProxier(ns: string, body: string): unknown {
  const code = `
    import { Proxier } from '${dist}/proxy/proxier.js';
    import { ProxyMetrics } from '${dist}/proxy/metrics.js';
    import { IptablesRunner } from '${dist}/proxy/runner/iptables.js';
    import { readObjectsFile } from '${dist}/api/objects-file.js';
    const cfg = { mode: 'iptables', nodeName: 'test-node', nodeIPs: ['192.168.0.2'], clusterCIDRs: ['10.0.0.0/8'], serviceCIDRs: [], masqueradeAll: false, masqueradeBit: 14, nodePortAddresses: [], localhostNodePorts: true, minSyncPeriodMs: 0, syncPeriodMs: 30000, healthzBindAddress: '', metricsBindAddress: '' };
    const p = new Proxier('IPv4', cfg, { metrics: new ProxyMetrics(), iptables: new IptablesRunner('IPv4', 'nft'), keepPayload: true }, () => {});
    const objects = readObjectsFile('${process.cwd()}/test/unit/proxy/testdata/overall.json');
    const byKey = new Map();
    const key = (o) => o.kind + '/' + o.metadata.namespace + '/' + o.metadata.name;
    const feed = (objs) => {
      const next = new Map(objs.map((o) => [key(o), o]));
      for (const [k, o] of byKey) if (!next.has(k)) { if (o.kind === 'Service') p.onService(o, undefined); if (o.kind === 'EndpointSlice') p.onEndpointSlice(o, undefined); byKey.delete(k); }
      for (const [k, o] of next) { const prev = byKey.get(k); if (o.kind === 'Service') p.onService(prev, o); if (o.kind === 'EndpointSlice') p.onEndpointSlice(prev, o); byKey.set(k, o); }
    };
    const svc = (ns, name, ip, nodePort) => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec: { type: nodePort ? 'NodePort' : 'ClusterIP', clusterIP: ip, ports: [{ name: 'p80', port: 80, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) }] } });
    const eps = (ns, name, ips) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { namespace: ns, name: name + '-1', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', endpoints: ips.map((a) => ({ addresses: [a] })), ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] });
    // the change a partial sync carries: two Services added (one NodePort), two deleted
    // (LoadBalancer with health check and source ranges; eTP=Local), one losing its endpoints
    const before = [...objects, svc('ns8', 'old', '172.30.0.98', 3098), eps('ns8', 'old', ['10.180.8.1', '10.180.8.2'])];
    const after = [
      ...objects.filter((o) => !['ns2', 'ns5'].includes(o.metadata.namespace) && !(o.kind === 'EndpointSlice' && o.metadata.name === 'svc1-1')),
      svc('ns9', 'new', '172.30.0.99', 3099), eps('ns9', 'new', ['10.180.9.1']),
      svc('ns8', 'old', '172.30.0.98', 3098), eps('ns8', 'old', ['10.180.8.2', '10.180.8.3']),
    ];
    const result = await (async () => { ${body} })();
    console.log(JSON.stringify(result));`;
  return JSON.parse(execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', code], { encoding: 'utf8' }));
}

/** KUBE-* chains of a table: name -> rules in kernel order (counters stripped). */
function kubeChains(ns: string, table: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of execFileSync('ip', ['netns', 'exec', ns, 'iptables-nft-save', '-t', table], { encoding: 'utf8' }).split('\n')) {
    if (line.startsWith(':KUBE-')) out.set(line.slice(1, line.indexOf(' ')), []);
    const m = /^-A (KUBE-\S+) (.*)$/.exec(line);
    if (m) out.get(m[1]!)!.push(m[2]!);
  }
  return out;
}
const sorted = (m: Map<string, string[]>) => new Map([...m].map(([c, r]) => [c, [...r].sort()]));
const NODEPORTS_JUMP = /nodeports; NOTE: this must be the last rule in this chain/;

describeE2E('iptables in-place partial syncs', { root: true, netns: true, commands: ['iptables-nft-restore', 'iptables-nft-save'] }, () => {
  beforeAll(() => {
    for (const ns of [nsPartial, nsFull]) execFileSync('ip', ['netns', 'add', ns]);
  });
  afterAll(() => {
    for (const ns of [nsPartial, nsFull]) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });

  it('a partial sync programs the rules a full sync programs, and the next full sync restores the order', () => {
    const partial = inProxier(nsPartial, `
      feed(before); await p.sync();
      feed(after); await p.sync();
      const payload = p.lastPayload;
      return { payload, ok: p.lastSyncOK };`) as { payload: string; ok: boolean };
    expect(partial.ok).toBe(true);
    // in place: the shared chains are neither redeclared nor rewritten
    expect(partial.payload).not.toMatch(/^:KUBE-(SERVICES|NODEPORTS|EXTERNAL-SERVICES|PROXY-FIREWALL|FORWARD) /m);
    expect(partial.payload).toMatch(/^-I KUBE-SERVICES 1 .*ns9\/new:p80 cluster IP/m);
    expect(partial.payload).toMatch(/^-D KUBE-SERVICES .*ns2\/svc2:p80 cluster IP/m);
    expect(partial.payload).toMatch(/^-D KUBE-NODEPORTS .*ns2\/svc2:p80 health check node port/m);
    expect(partial.payload).toMatch(/^-A KUBE-SERVICES .*ns1\/svc1:p80 has no endpoints.* -j REJECT$/m);
    expect(partial.payload).toMatch(/^-X KUBE-SVC-/m);

    inProxier(nsFull, `feed(after); await p.sync(); return {};`);
    for (const table of ['nat', 'filter']) {
      const got = kubeChains(nsPartial, table);
      const want = kubeChains(nsFull, table);
      expect(sorted(got), table).toEqual(sorted(want));
    }
    const services = kubeChains(nsPartial, 'nat').get('KUBE-SERVICES')!;
    expect(services.at(-1)).toMatch(NODEPORTS_JUMP);
    expect(services.filter((r) => NODEPORTS_JUMP.test(r))).toHaveLength(1);

    // A full sync over the partially synced kernel writes kube-proxy's order again.
    inProxier(nsPartial, `feed(after); await p.sync(); return {};`);
    for (const table of ['nat', 'filter']) expect(kubeChains(nsPartial, table), table).toEqual(kubeChains(nsFull, table));
  });

  it('a partial sync whose -D finds no rule fails, and the full sync after it repairs the kernel', () => {
    const r = inProxier(nsPartial, `
      feed(before); await p.sync();
      // someone else removed one of our rules: the in-place delete cannot find it
      const { execFileSync } = await import('node:child_process');
      const rule = execFileSync('iptables-nft-save', ['-t', 'nat'], { encoding: 'utf8' }).split('\\n').find((l) => l.startsWith('-A KUBE-SERVICES') && l.includes('ns2/svc2:p80 cluster IP'));
      execFileSync('iptables-nft', ['-t', 'nat', '-D', ...rule.slice(3).match(/"[^"]*"|\\S+/g).map((w) => w.replace(/^"|"$/g, ''))]);
      feed(after);
      let failed = false;
      try { await p.sync(); } catch { failed = true; }
      await p.sync();
      return { failed, ok: p.lastSyncOK };`) as { failed: boolean; ok: boolean };
    expect(r).toEqual({ failed: true, ok: true });
    inProxier(nsFull, `feed(after); await p.sync(); return {};`);
    for (const table of ['nat', 'filter']) expect(kubeChains(nsPartial, table), table).toEqual(kubeChains(nsFull, table));
  });
});
