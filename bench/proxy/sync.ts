// Sync cost of kubeplane's proxier at scale, beside the kernel's own cost for the same payload.
//   npx tsx bench/proxy/sync.ts [--services 1000,10000,20000] [--modes nftables,iptables] [--budget-s 600]
// Runs itself inside a scratch network namespace (root), which it deletes at the end.
// For each size and mode (5 endpoints per service; the first 2,000 services are NodePorts):
//   full      our first full sync into an empty namespace (render + apply)
//   bare      the same full payload fed straight to `nft -f` / `iptables-restore --noflush`
//             after emptying the namespace again; overhead = (full - bare) / bare
//   render    the pure render of that full sync (no kernel)
//   noop      a sync with nothing changed, and how many kernel operations it sent
//   add       one Service + EndpointSlice added: event -> kernel programmed, through the
//             path the proxier uses (nftables: netlink batch; iptables: partial restore)
//   bare-add  the same add transaction replayed with `nft -f` / `iptables-restore --noflush`
//             (what a runner that shells out pays; it is idempotent, so a replay is fair)
//   floor     the least the kernel side costs for any add at this size:
//             nftables: the kernel's own time for exactly our add batch (sendmsg -> last ack,
//               timed inside the relay); a second line splits add-ms into kernel, encode, relay
//               pipe and ours, and times a batch without jump/goto/dnat (one cluster-ips
//               element), which the kernel commits without validating the table's chain graph;
//             iptables: `iptables-restore --noflush` of one new chain + one rule into the table
//               holding the whole ruleset (iptables-nft reads the ruleset before any change).
//   ours      add - floor: what is left to cut on our side.
// A full sync whose estimate (from the previous size, quadratic) exceeds --budget-s is not
// timed: the kernel is filled with the same payload in chunks instead, so the partial-sync
// numbers at that size are still real; the row says so.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EndpointSlice, Service } from '../../src/api/types.js';
import type { ProxyConfig } from '../../src/proxy/config.js';
import { renderIptables } from '../../src/proxy/iptables/render.js';
import { ProxyMetrics } from '../../src/proxy/metrics.js';
import { renderNftables } from '../../src/proxy/nftables/render.js';
import { Proxier } from '../../src/proxy/proxier.js';
import { iptablesConfig, nftablesConfig } from '../../src/proxy/render.js';
import { execProgram } from '../../src/proxy/runner/exec.js';
import { IptablesRunner } from '../../src/proxy/runner/iptables.js';
import { NftablesRunner, nftTransaction } from '../../src/proxy/runner/nftables.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};

function service(i: number): Service {
  const nodePort = i < 2000;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: `ns${i % 50}`, name: `svc-${i}` },
    spec: { type: nodePort ? 'NodePort' : 'ClusterIP', clusterIP: `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'http', port: 80, protocol: 'TCP', ...(nodePort ? { nodePort: 30000 + i } : {}) }] },
  };
}

function slice(i: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: `ns${i % 50}`, name: `svc-${i}-abc`, labels: { 'kubernetes.io/service-name': `svc-${i}` }, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': new Date().toISOString() } },
    addressType: 'IPv4',
    endpoints: Array.from({ length: 5 }, (_, k) => {
      const n = i * 5 + k;
      return { addresses: [`10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`], nodeName: k === 0 ? 'bench-node' : 'other', conditions: { ready: true } };
    }),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

const cfg: ProxyConfig = {
  mode: 'nftables',
  nodeName: 'bench-node',
  nodeIPs: ['192.168.0.2'],
  clusterCIDRs: ['10.0.0.0/8'],
  serviceCIDRs: ['172.16.0.0/12'],
  masqueradeAll: false,
  masqueradeBit: 14,
  nodePortAddresses: [],
  localhostNodePorts: true,
  minSyncPeriodMs: 0,
  syncPeriodMs: 30000,
  healthzBindAddress: '',
  metricsBindAddress: '',
};

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const v = await fn();
  return [performance.now() - t, v];
}

async function cleanKernel(): Promise<void> {
  await execProgram('nft', ['flush', 'ruleset']);
}

async function bare(mode: 'nftables' | 'iptables', payload: string): Promise<number> {
  const [ms, r] = await time(() => (mode === 'nftables' ? execProgram('nft', ['-f', '-'], payload) : execProgram('iptables-nft-restore', ['-w', '--noflush'], payload)));
  if (r.code !== 0) throw new Error(`bare ${mode} load failed: ${r.stderr.slice(0, 300)}`);
  return ms;
}

/** Loads a full-sync payload in several smaller transactions (bench set-up only, never timed). */
async function loadInChunks(mode: 'nftables' | 'iptables', payload: string, linesPerChunk = 20000): Promise<void> {
  const lines = payload.split('\n').filter(Boolean);
  if (mode === 'nftables') {
    // Everything up to the last `add chain` declares objects; the rest (chain bodies, elements) can go in pieces.
    let head = 0;
    lines.forEach((l, i) => {
      if (l.startsWith('add chain ')) head = i + 1;
    });
    const chunks = [lines.slice(0, head)];
    for (let i = head; i < lines.length; ) {
      let j = Math.min(lines.length, i + linesPerChunk);
      while (j < lines.length && lines[j]!.startsWith('add rule ')) j++; // keep a chain's flush and rules together
      chunks.push(lines.slice(i, j));
      i = j;
    }
    for (const c of chunks) await bare('nftables', c.join('\n') + '\n');
    return;
  }
  // iptables-restore: per table, every chain declaration first, then the rules in slices, in order.
  let table = '';
  const decl = new Map<string, string[]>();
  const rules = new Map<string, string[]>();
  for (const l of lines) {
    if (l.startsWith('*')) {
      table = l;
      decl.set(table, []);
      rules.set(table, []);
    } else if (l.startsWith(':')) decl.get(table)!.push(l);
    else if (l !== 'COMMIT') rules.get(table)!.push(l);
  }
  for (const [t, d] of decl) {
    const r = rules.get(t)!;
    await bare('iptables', `${t}\n${d.join('\n')}\n${r.slice(0, linesPerChunk).join('\n')}\nCOMMIT\n`);
    for (let i = linesPerChunk; i < r.length; i += linesPerChunk) await bare('iptables', `${t}\n${r.slice(i, i + linesPerChunk).join('\n')}\nCOMMIT\n`);
  }
}

/** Runners that hand the first full payload to the bench instead of the kernel (for the over-budget case). */
class DeferredNft extends NftablesRunner {
  deferred: string | undefined;
  defer = false;
  override async apply(tx: string, opts: { partial?: boolean } = {}): Promise<void> {
    if (this.defer) {
      this.deferred = tx;
      return;
    }
    return super.apply(tx, opts);
  }
  override async applyLines(lines: Iterable<string>, text: () => string): Promise<number> {
    if (this.defer) {
      this.deferred = text();
      return this.deferred.split('\n').length - 1;
    }
    return super.applyLines(lines, text);
  }
}
class DeferredIpt extends IptablesRunner {
  deferred: string | undefined;
  defer = false;
  override async restore(payload: string): Promise<void> {
    if (this.defer && payload.includes('\n-A KUBE-SERVICES ')) {
      this.deferred = payload;
      return;
    }
    return super.restore(payload);
  }
}

const ops = (payload: string): number => payload.split('\n').filter((l) => l && !l.startsWith('*') && l !== 'COMMIT').length;

async function main(): Promise<void> {
  const sizes = arg('services', '1000,10000,20000').split(',').map(Number);
  const modes = arg('modes', 'nftables,iptables').split(',') as ('nftables' | 'iptables')[];
  const budgetMs = Number(arg('budget-s', '600')) * 1000;
  const load = (await execProgram('uptime', [])).stdout.trim();
  console.log(`# ${new Date().toISOString()}  ${load}`);
  console.log('mode      services   full-ms   bare-ms  overhead  render-ms  noop-ms  noop-ops   add-ms  add-path  add-ops  bare-add-ms  add-speedup  floor-ms  ours-ms  peak-rss-MiB');
  for (const mode of modes) {
    let prev: { n: number; ms: number } | undefined;
    for (const n of sizes) {
      await cleanKernel();
      const c = { ...cfg, mode };
      const nft = mode === 'nftables' ? new DeferredNft('ip') : undefined;
      const ipt = mode === 'iptables' ? new DeferredIpt('IPv4', 'nft') : undefined;
      const proxier = new Proxier('IPv4', c, { metrics: new ProxyMetrics(), nftables: nft, iptables: ipt, keepPayload: true }, () => {});
      for (let i = 0; i < n; i++) {
        proxier.onService(undefined, service(i));
        proxier.onEndpointSlice(undefined, slice(i));
      }
      const estimate = prev ? prev.ms * (n / prev.n) ** 2 : 0;
      let fullText = '';
      let bareText = '';
      let overheadText = '';
      if (estimate > budgetMs) {
        // Over budget: the proxier renders its full sync as usual, the kernel gets it in chunks.
        if (nft) nft.defer = true;
        if (ipt) ipt.defer = true;
        await proxier.sync();
        if (nft) nft.defer = false;
        if (ipt) ipt.defer = false;
        const deferred = nft?.deferred ?? ipt?.deferred;
        if (!deferred) throw new Error('no deferred payload');
        const [prepMs] = await time(() => loadInChunks(mode, deferred));
        fullText = `skipped`;
        bareText = '-';
        overheadText = '-';
        console.error(`# ${mode} ${n}: full sync not timed (estimate ${(estimate / 1000).toFixed(0)} s > budget ${budgetMs / 1000} s); kernel filled with the same payload in chunks in ${(prepMs / 1000).toFixed(0)} s`);
      } else {
        const [fullMs] = await time(() => proxier.sync());
        const payload = proxier.lastPayload;
        await cleanKernel();
        if (ipt) await ipt.ensureJumpsAndCanaries(true);
        const bareMs = await bare(mode, payload);
        prev = { n, ms: Math.max(fullMs, bareMs) };
        fullText = fullMs.toFixed(0);
        bareText = bareMs.toFixed(0);
        overheadText = (((fullMs - bareMs) / bareMs) * 100).toFixed(1) + '%';
      }
      const renderStart = performance.now();
      const input = { services: proxier.services, endpoints: proxier.endpoints, node: { name: 'bench-node', zone: undefined } };
      if (mode === 'nftables') nftTransaction(undefined, renderNftables(input, nftablesConfig(c, 'IPv4')));
      else renderIptables(input, iptablesConfig(c, 'IPv4'));
      const renderMs = performance.now() - renderStart;
      const [noopMs] = await time(() => proxier.sync());
      const noopOps = ops(proxier.lastPayload);
      const [addMs] = await time(async () => {
        proxier.onService(undefined, service(n + 1));
        proxier.onEndpointSlice(undefined, slice(n + 1));
        await proxier.sync();
      });
      const addPayload = proxier.lastPayload;
      const addPath = mode === 'nftables' ? (nft!.lastPath ?? '-') : 'restore';
      const timing = nft?.lastTiming;
      const bareAddMs = await bare(mode, addPayload);
      let floorMs: number;
      let detail = '';
      if (nft) {
        floorMs = timing?.kernelMs ?? NaN;
        // A batch with no jump/goto/dnat: the kernel commits it without walking the chain graph.
        await nft.apply('add element ip kube-proxy cluster-ips { 172.31.255.254 }\n', { partial: true });
        const plainMs = nft.lastTiming?.kernelMs ?? NaN;
        await nft.apply('delete element ip kube-proxy cluster-ips { 172.31.255.254 }\n', { partial: true });
        if (timing) {
          const relayMs = timing.totalMs - timing.encodeMs - timing.kernelMs;
          detail = `#   nftables ${n} add ${addMs.toFixed(1)} ms = kernel ${timing.kernelMs.toFixed(1)} + encode ${timing.encodeMs.toFixed(2)} + relay pipe ${relayMs.toFixed(2)} + proxier (trackers, render, diff) ${(addMs - timing.totalMs).toFixed(1)};  kernel for a batch without jump/goto/dnat: ${plainMs.toFixed(2)} ms`;
        }
      } else {
        // The smallest restore that changes anything: one chain, one rule, removed again after.
        floorMs = await bare('iptables', '*nat\n:KUBE-BENCH-FLOOR - [0:0]\n-A KUBE-BENCH-FLOOR -j RETURN\nCOMMIT\n');
        await bare('iptables', '*nat\n:KUBE-BENCH-FLOOR - [0:0]\n-X KUBE-BENCH-FLOOR\nCOMMIT\n');
      }
      const rss = process.resourceUsage().maxRSS / 1024;
      console.log(
        `${mode.padEnd(9)} ${String(n).padStart(8)}  ${fullText.padStart(8)}  ${bareText.padStart(8)}  ${overheadText.padStart(8)}  ${renderMs.toFixed(0).padStart(9)}  ${noopMs.toFixed(1).padStart(7)}  ${String(noopOps).padStart(8)}  ${addMs.toFixed(1).padStart(7)}  ${addPath.padStart(8)}  ${String(ops(addPayload)).padStart(7)}  ${bareAddMs.toFixed(1).padStart(11)}  ${(bareAddMs / addMs).toFixed(2).padStart(10)}x  ${floorMs.toFixed(1).padStart(8)}  ${(addMs - floorMs).toFixed(1).padStart(7)}  ${rss.toFixed(0).padStart(12)}`,
      );
      if (detail) console.log(detail);
      nft?.close();
    }
  }
  await cleanKernel();
  console.log(`# ${(await execProgram('uptime', [])).stdout.trim()}`);
}

if (!process.env.KP_BENCH_INNER) {
  const ns = `kpbench-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: 'inherit', env: { ...process.env, KP_BENCH_INNER: '1' } });
    process.exitCode = r.status ?? 1;
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
} else {
  await main();
}
