// The runners against a real kernel, each test in its own scratch namespace.
import { execFileSync } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { RestoreError } from '../../../src/proxy/errors.js';

const created: string[] = [];
function scratch(tag: string): string {
  const ns = `kpr${process.pid % 100000}-${tag}`;
  execFileSync('ip', ['netns', 'add', ns]);
  created.push(ns);
  return ns;
}
function inNs(ns: string, cmd: string, args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', input });
}
/** Runs a snippet of the runner inside the namespace (runners spawn programs in their own netns). */
function runInNs(ns: string, code: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', code], { encoding: 'utf8', cwd: process.cwd() });
}
const dist = `${process.cwd()}/dist/proxy`;

afterEach(() => {
  for (const ns of created.splice(0)) execFileSync('ip', ['netns', 'del', ns]);
});

describeE2E('proxy runners', { netns: true, commands: ['nft', 'iptables-restore', 'iptables-legacy-save'] }, () => {
  it('a rejected nft transaction reports the failing line with the lines around it', () => {
    const ns = scratch('nft');
    const out = runInNs(
      ns,
      `import { NftablesRunner } from '${dist}/runner/nftables.js';
       try { await new NftablesRunner('ip').apply('add table ip t\\nadd chain ip t c\\nadd rule ip t c bogus stuff\\n'); console.log('no error'); }
       catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, line: e.line, context: e.context })); }`,
    );
    const err = JSON.parse(out) as { name: string; code: string; line: number; context: string };
    expect(err).toMatchObject({ name: 'RestoreError', code: 'KP_RESTORE_FAILED', line: 3 });
    expect(err.context).toContain('>     3: add rule ip t c bogus stuff');
    expect(RestoreError.name).toBe('RestoreError');
  });

  it('a rejected iptables-restore reports the failing line', () => {
    const ns = scratch('ipt');
    const out = runInNs(
      ns,
      `import { IptablesRunner } from '${dist}/runner/iptables.js';
       try { await new IptablesRunner('IPv4', 'nft').restore('*nat\\n:KUBE-X - [0:0]\\n-A KUBE-X -j KUBE-NOPE\\nCOMMIT\\n'); console.log('{}'); }
       catch (e) { console.log(JSON.stringify({ line: e.line, context: e.context })); }`,
    );
    const err = JSON.parse(out) as { line: number; context: string };
    expect(err.line).toBe(4);
    expect(err.context).toContain('KUBE-NOPE');
  });

  it('detects the iptables backend that already holds kube rules, as iptables-wrapper does', () => {
    const ns = scratch('det');
    const detect = (): string => runInNs(ns, `import { detectBackend } from '${dist}/runner/iptables.js'; console.log(await detectBackend());`).trim();
    expect(detect()).toBe('nft');
    inNs(ns, 'iptables-legacy', ['-t', 'mangle', '-N', 'KUBE-KUBELET-CANARY']);
    expect(detect()).toBe('legacy');
  });

  it('--cleanup removes iptables chains, jumps and the nftables table, leaving other rules', () => {
    const ns = scratch('cln');
    inNs(ns, 'iptables', ['-N', 'OTHER']);
    inNs(ns, 'iptables', ['-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT']);
    runInNs(
      ns,
      `import { IptablesRunner } from '${dist}/runner/iptables.js';
       const r = new IptablesRunner('IPv4', 'nft');
       await r.ensureJumpsAndCanaries(true);
       await r.restore('*nat\\n:KUBE-SERVICES - [0:0]\\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\\n-A KUBE-SERVICES -d 10.96.0.1 -j KUBE-SVC-AAAAAAAAAAAAAAAA\\nCOMMIT\\n');`,
    );
    inNs(ns, 'nft', ['-f', '-'], 'add table ip kube-proxy\nadd chain ip kube-proxy services\n');
    expect(inNs(ns, 'iptables-save', [])).toContain('KUBE-');
    execFileSync('ip', ['netns', 'exec', ns, process.execPath, `${process.cwd()}/dist/cli/main.js`, 'proxy', '--cleanup']);
    const after = inNs(ns, 'iptables-save', []);
    expect(after).not.toContain('KUBE-');
    expect(after).toContain(':OTHER');
    expect(after).toContain('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT');
    expect(inNs(ns, 'nft', ['list', 'tables'])).not.toContain('kube-proxy');
  });
  it('nftables periodic full resync sends nothing when the kernel matches, and repairs a deleted chain', () => {
    const ns = scratch('rsy');
    const out = runInNs(
      ns,
      `import { Proxier } from '${dist}/proxier.js';
       import { ProxyMetrics } from '${dist}/metrics.js';
       import { NftablesRunner } from '${dist}/runner/nftables.js';
       import { readObjectsFile } from '${process.cwd()}/dist/api/objects-file.js';
       import { execFileSync } from 'node:child_process';
       const cfg = { mode: 'nftables', nodeName: 'test-node', nodeIPs: ['192.168.0.2'], clusterCIDRs: ['10.0.0.0/8'], serviceCIDRs: [], masqueradeAll: false, masqueradeBit: 14, nodePortAddresses: [], localhostNodePorts: true, minSyncPeriodMs: 0, syncPeriodMs: 30000, healthzBindAddress: '', metricsBindAddress: '' };
       const p = new Proxier('IPv4', cfg, { metrics: new ProxyMetrics(), nftables: new NftablesRunner('ip') }, () => {});
       for (const o of readObjectsFile('${process.cwd()}/test/unit/proxy/testdata/overall.json')) {
         if (o.kind === 'Service') p.onService(undefined, o);
         if (o.kind === 'EndpointSlice') p.onEndpointSlice(undefined, o);
       }
       await p.sync();
       const first = p.lastOps;
       p.forceFullSync(); await p.sync();
       const resync = p.lastOps;
       const chain = 'endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80';
       execFileSync('nft', ['-f', '-'], { input: 'flush chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80\\ndelete element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 }\\ndelete chain ip kube-proxy ' + chain + '\\n' });
       p.forceFullSync(); await p.sync();
       const listing = execFileSync('nft', ['list', 'table', 'ip', 'kube-proxy'], { encoding: 'utf8' });
       console.log(JSON.stringify({ first, resync, repaired: listing.includes('dnat to 10.180.0.1:80') && listing.includes('172.30.0.41 . tcp . 80 : goto service-ULMVA6XW') }));`,
    );
    const r = JSON.parse(out) as { first: number; resync: number; repaired: boolean };
    expect(r.first).toBeGreaterThan(50);
    expect(r.resync).toBe(0);
    expect(r.repaired).toBe(true);
  });
});
