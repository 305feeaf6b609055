// nftables restarts without churn, also after SIGKILL (issue 4). `kubeplane proxy --objects`
// (dist/, build first) in a scratch namespace: after partial syncs the saved mirror still
// matches the kernel, so a restart with unchanged objects leaves every rule handle as it was,
// and a restart after objects changed while the proxy was down converges to what a fresh
// proxy programs, rewriting only the chains that changed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { kubeplaneBin, waitFor } from '../../helpers/cli.js';

const tag = `kpnr${process.pid % 100000}`;
const nsMain = `${tag}-main`;
const nsRef = `${tag}-ref`;

/** Services s<i> (ClusterIP 10.96.1.<i>) with the given endpoint hosts (10.244.<i>.<host>); undefined: no Service. */
function objects(svcs: Record<number, number[]>): unknown {
  const items: unknown[] = [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1' } }];
  for (const [i, hosts] of Object.entries(svcs)) {
    const name = `s${i}`;
    items.push({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name }, spec: { type: 'NodePort', clusterIP: `10.96.1.${i}`, ports: [{ name: 'p80', port: 80, targetPort: 8080, nodePort: 30000 + Number(i), protocol: 'TCP' }] } });
    items.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'default', name: `${name}-x`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: hosts.map((h) => ({ addresses: [`10.244.${i}.${h}`], nodeName: 'node1', conditions: { ready: true } })),
      ports: [{ name: 'p80', port: 8080, protocol: 'TCP' }],
    });
  }
  return { apiVersion: 'v1', kind: 'List', items };
}

type Proc = ChildProcess & { output: () => string };

/** The table with handles, minus affinity timers that count down on their own. */
function listing(ns: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'nft', '-a', 'list', 'table', 'ip', 'kube-proxy'], { encoding: 'utf8' }).replace(/ expires [0-9hms]+/g, '');
}

/** chain name -> its block in `nft -a list` output (rules with their handles). */
function chainBlocks(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^\tchain (\S+) \{ # handle \d+\n([\s\S]*?)^\t\}/gm)) out.set(m[1]!, m[0]);
  return out;
}

/** What the table holds, independent of creation order and handles: chains' rules in order, sets' elements sorted. */
function contents(ns: string): unknown {
  const j = JSON.parse(execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'ip', 'kube-proxy'], { encoding: 'utf8' })) as { nftables: Record<string, Record<string, unknown>>[] };
  const chains: Record<string, string[]> = {};
  const sets: Record<string, string> = {};
  for (const o of j.nftables) {
    if (o.chain) chains[o.chain.name as string] ??= [];
    if (o.rule) (chains[o.rule.chain as string] ??= []).push(JSON.stringify(o.rule.expr));
    for (const kind of ['set', 'map'] as const) {
      const s = o[kind];
      if (s) sets[`${kind} ${s.name as string}`] = JSON.stringify({ ...s, handle: 0, elem: ((s.elem as unknown[]) ?? []).map((e) => JSON.stringify(e)).sort() });
    }
  }
  return { chains: Object.fromEntries(Object.entries(chains).sort()), sets: Object.fromEntries(Object.entries(sets).sort()) };
}

describeE2E('nftables restart after SIGKILL', { root: true, netns: true, commands: ['nft'] }, () => {
  let dir = '';
  const procs: Proc[] = [];

  const writeObjects = (file: string, svcs: Record<number, number[]>): void => {
    writeFileSync(file + '.tmp', JSON.stringify(objects(svcs)));
    // rename: the watcher never reads a half-written file
    renameSync(file + '.tmp', file);
  };
  const syncs = (p: Proc): string[] => p.output().split('\n').filter((l) => l.includes('"Synced proxy rules"'));
  const start = async (ns: string, file: string, state: string): Promise<Proc> => {
    const child = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, kubeplaneBin, 'proxy', '--proxy-mode=nftables', `--objects=${file}`, '--node-name=node1', '--node-ip=192.168.77.2', '--cluster-cidr=10.244.0.0/16', '--service-cidr=10.96.0.0/16', '--iptables-min-sync-period=50ms', '--healthz-bind-address=', '--metrics-bind-address=', `--state-dir=${state}`, '-v=2'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const p = Object.assign(child, { output: () => out });
    procs.push(p);
    await waitFor(() => syncs(p).length > 0, { timeoutMs: 20_000, what: `first sync in ${ns}: ${out}` });
    return p;
  };
  const partialSync = async (p: Proc, file: string, svcs: Record<number, number[]>): Promise<void> => {
    const n = syncs(p).length;
    writeObjects(file, svcs);
    await waitFor(() => syncs(p).length > n, { timeoutMs: 10_000, what: `partial sync: ${p.output()}` });
    expect(syncs(p).slice(n).every((l) => l.includes('full=false'))).toBe(true);
  };
  const kill = (p: Proc): Promise<void> =>
    new Promise((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      // the `ip netns exec` wrapper execs node: this is the proxy itself
      p.kill('SIGKILL');
    });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-nft-restart-'));
    for (const ns of [nsMain, nsRef]) execFileSync('ip', ['netns', 'add', ns]);
  });
  afterAll(async () => {
    for (const p of procs) await kill(p);
    for (const ns of [nsMain, nsRef]) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const file = (): string => join(dir, 'objects.json');
  const state = (): string => join(dir, 'state');
  const v1 = { 0: [1, 2], 1: [1], 2: [1, 2, 3], 3: [1], 4: [1, 2] };
  // after partial syncs: s1 gains an endpoint, s2 loses its endpoints, s4 goes, s5 comes
  const v2 = { 0: [1, 2], 1: [1, 2], 2: [], 3: [1] };
  const v3 = { ...v2, 5: [1, 2] };
  let before = '';

  it('after partial syncs and SIGKILL, a restart with unchanged objects keeps every rule handle', async () => {
    writeObjects(file(), v1);
    let p = await start(nsMain, file(), state());
    await partialSync(p, file(), v2);
    await partialSync(p, file(), v3);
    before = listing(nsMain);
    await kill(p);
    p = await start(nsMain, file(), state());
    expect(listing(nsMain)).toBe(before);
    // and once more, after a partial sync in the restarted process
    await partialSync(p, file(), { ...v3, 3: [1, 2] });
    await partialSync(p, file(), v3);
    before = listing(nsMain);
    await kill(p);
    await start(nsMain, file(), state());
    expect(listing(nsMain)).toBe(before);
  });

  it('after SIGKILL, a restart with objects changed meanwhile converges and leaves unchanged chains alone', async () => {
    await kill(procs.at(-1)!);
    // while down: s0 loses an endpoint, s3 goes, s6 comes; s1, s2 and s5 are untouched
    const v4 = { 0: [2], 1: [1, 2], 2: [], 5: [1, 2], 6: [1] };
    writeObjects(file(), v4);
    await start(nsMain, file(), state());
    const after = listing(nsMain);

    const refFile = join(dir, 'ref.json');
    writeObjects(refFile, v4);
    await start(nsRef, refFile, join(dir, 'ref-state'));
    expect(contents(nsMain)).toEqual(contents(nsRef));

    const was = chainBlocks(before);
    const now = chainBlocks(after);
    const untouched = [...was.keys()].filter((c) => /default\/s[125]\//.test(c));
    expect(untouched.length).toBeGreaterThan(0);
    for (const c of untouched) expect(now.get(c), c).toBe(was.get(c));
    expect([...now.keys()].some((c) => c.includes('default/s3/'))).toBe(false);
    expect([...now.keys()].some((c) => c.includes('default/s6/'))).toBe(true);
  });
});
