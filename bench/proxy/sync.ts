// Sync cost of kubeplane's proxier at scale, beside the kernel's own cost for the same payload.
//   npx tsx bench/proxy/sync.ts [--services 1000,10000,20000] [--modes nftables,iptables] [--budget-s 120] [--fill-step 1000] [--no-full]
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
// timed: the proxier fills the kernel itself, --fill-step Services per sync (a full sync of the
// first step, partial syncs after), so the no-op and add numbers at that size are still real;
// the row says "skipped" and a comment line gives the reason and the fill time.
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

const ops = (payload: string): number => payload.split('\n').filter((l) => l && !l.startsWith('*') && l !== 'COMMIT').length;

async function main(): Promise<void> {
  const sizes = arg('services', '1000,10000,20000').split(',').map(Number);
  const modes = arg('modes', 'nftables,iptables').split(',') as ('nftables' | 'iptables')[];
  const budgetMs = Number(arg('budget-s', '120')) * 1000;
  const fillStep = Number(arg('fill-step', '1000'));
  // --no-full: every size is filled by partial syncs (for re-running one large size alone)
  const noFull = args.includes('--no-full');
  const load = (await execProgram('uptime', [])).stdout.trim();
  console.log(`# ${new Date().toISOString()}  ${load}`);
  console.log('mode      services   full-ms   bare-ms  overhead  render-ms  noop-ms  noop-ops   add-ms  add-path  add-ops  bare-add-ms  add-speedup  floor-ms  ours-ms  peak-rss-MiB');
  for (const mode of modes) {
    let prev: { n: number; ms: number } | undefined;
    for (const n of sizes) {
      await cleanKernel();
      const c = { ...cfg, mode };
      const nft = mode === 'nftables' ? new NftablesRunner('ip') : undefined;
      const ipt = mode === 'iptables' ? new IptablesRunner('IPv4', 'nft') : undefined;
      const proxier = new Proxier('IPv4', c, { metrics: new ProxyMetrics(), nftables: nft, iptables: ipt, keepPayload: true }, () => {});
      const estimate = noFull ? Infinity : prev ? prev.ms * (n / prev.n) ** 2 : 0;
      let fullText = '';
      let bareText = '';
      let overheadText = '';
      const feed = (from: number, to: number): void => {
        for (let i = from; i < to; i++) {
          proxier.onService(undefined, service(i));
          proxier.onEndpointSlice(undefined, slice(i));
        }
      };
      if (estimate > budgetMs) {
        // Over budget: the proxier fills the kernel in steps, as a cluster growing would.
        const [fillMs] = await time(async () => {
          for (let from = 0; from < n; from += fillStep) {
            feed(from, Math.min(n, from + fillStep));
            await proxier.sync();
          }
        });
        fullText = 'skipped';
        bareText = '-';
        overheadText = '-';
        console.log(`#   ${mode} ${n}: full sync not timed (${noFull ? '--no-full' : `estimate ${(estimate / 1000).toFixed(0)} s > budget ${budgetMs / 1000} s`}); the proxier filled the kernel ${fillStep} Services per sync in ${(fillMs / 1000).toFixed(1)} s`);
      } else {
        feed(0, n);
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
      if (ipt) {
        // the replay inserted the new Service's KUBE-SERVICES rules a second time: take the copies out
        const dup = addPayload.split('\n').filter((l) => l.startsWith('-I KUBE-SERVICES 1 '));
        if (dup.length) await bare('iptables', `*nat\n${dup.map((l) => '-D KUBE-SERVICES ' + l.slice('-I KUBE-SERVICES 1 '.length)).join('\n')}\nCOMMIT\n`);
      }
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
