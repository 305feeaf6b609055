// Sync cost of `kubeplane proxy` at scale, beside the kernel's own cost for the same ruleset.
//   npx tsx bench/proxy/sync.ts [--services 1000,10000] [--modes nftables,iptables]
// Runs itself inside a scratch network namespace (root), which it deletes at the end.
// For each size and mode: first full sync, a no-op sync, adding one service (event -> kernel
// programmed), the pure render time, and the bare `nft -f` / `iptables-restore` time of the
// same full payload fed directly to an empty namespace, once before and once after our sync;
// overhead = (our sync - mean bare) / mean bare.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EndpointSlice, Service } from '../../src/api/types.js';
import type { ProxyConfig } from '../../src/proxy/config.js';
import { ProxyMetrics } from '../../src/proxy/metrics.js';
import { Proxier } from '../../src/proxy/proxier.js';
import { IptablesRunner } from '../../src/proxy/runner/iptables.js';
import { NftablesRunner } from '../../src/proxy/runner/nftables.js';
import { execProgram } from '../../src/proxy/runner/exec.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};

function service(i: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: `ns${i % 50}`, name: `svc-${i}` },
    spec: { type: 'NodePort', clusterIP: `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 0 }] },
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

async function main(): Promise<void> {
  const sizes = arg('services', '1000,10000').split(',').map(Number);
  const modes = arg('modes', 'nftables,iptables').split(',') as ('nftables' | 'iptables')[];
  console.log('mode      services  full-sync-ms  bare-before/after  overhead  render-ms  noop-sync-ms  noop-ops  add-one-ms  add-one-ops  peak-rss-MiB');
  for (const mode of modes) {
    for (const n of sizes) {
      await cleanKernel();
      const c = { ...cfg, mode };
      const proxier = new Proxier('IPv4', c, { metrics: new ProxyMetrics(), nftables: mode === 'nftables' ? new NftablesRunner('ip') : undefined, iptables: mode === 'iptables' ? new IptablesRunner('IPv4', 'nft') : undefined }, () => {});
      for (let i = 0; i < n; i++) {
        const s = service(i);
        s.spec.ports![0]!.nodePort = 30000 + (i % 2000);
        proxier.onService(undefined, s);
        proxier.onEndpointSlice(undefined, slice(i));
      }
      // Reference run first: the same payload fed straight to the kernel (rendered offline here,
      // so the reference never includes our runner), then the namespace is emptied again.
      const { nftablesConfig: nc, iptablesConfig: ic } = await import('../../src/proxy/render.js');
      const { renderNftables: rn } = await import('../../src/proxy/nftables/render.js');
      const { renderIptables: ri } = await import('../../src/proxy/iptables/render.js');
      const { stateFromObjects } = await import('../../src/proxy/model/snapshot.js');
      const { nftTransaction: nt } = await import('../../src/proxy/runner/nftables.js');
      const refObjs = [];
      for (let i = 0; i < n; i++) {
        const s = service(i);
        s.spec.ports![0]!.nodePort = 30000 + (i % 2000);
        refObjs.push(s, slice(i));
      }
      const refState = stateFromObjects(refObjs, 'IPv4', 'bench-node');
      const refPayload = mode === 'nftables' ? nt(undefined, rn(refState, nc(c, 'IPv4'))) : ri(refState, ic(c, 'IPv4')).text;
      refObjs.length = 0;
      const [bareBeforeMs] = await time(() => (mode === 'nftables' ? execProgram('nft', ['-f', '-'], refPayload) : execProgram('iptables-nft-restore', ['--noflush'], refPayload)));
      await cleanKernel();
      const [fullMs] = await time(() => proxier.sync());
      const payload = proxier.lastPayload;
      const renderStart = performance.now();
      // the pure part of a full sync, without the kernel
      const { renderNftables } = await import('../../src/proxy/nftables/render.js');
      const { renderIptables } = await import('../../src/proxy/iptables/render.js');
      const { nftablesConfig, iptablesConfig } = await import('../../src/proxy/render.js');
      const { nftTransaction } = await import('../../src/proxy/runner/nftables.js');
      const input = { services: proxier.services, endpoints: proxier.endpoints, node: { name: 'bench-node', zone: undefined } };
      if (mode === 'nftables') nftTransaction(undefined, renderNftables(input, nftablesConfig(c, 'IPv4')));
      else renderIptables(input, iptablesConfig(c, 'IPv4'));
      const renderMs = performance.now() - renderStart;
      const [noopMs] = await time(() => proxier.sync());
      const noopOps = proxier.lastPayload.split('\n').filter(Boolean).length;
      const s = service(n + 1);
      const [addMs] = await time(async () => {
        proxier.onService(undefined, s);
        proxier.onEndpointSlice(undefined, slice(n + 1));
        await proxier.sync();
      });
      if (process.env.KP_BENCH_DEBUG) {
        const tx = proxier.lastPayload;
        const [txMs] = await time(() => execProgram('nft', ['-f', '-'], tx.replaceAll('add element', 'add element').replace(/^.*$/gm, (l) => l)));
        console.error('add-one: replay of the same nft transaction alone', txMs.toFixed(1), 'ms');
        const [lcMs] = await time(() => execProgram('nft', ['list', 'chains', 'ip']));
        console.error('nft list chains', lcMs.toFixed(1), 'ms');
      }
      const addOps = proxier.lastPayload.split('\n').filter(Boolean).length;
      // bare kernel cost of the same full payload, into an emptied namespace
      await cleanKernel();
      const [bareMs, r] = await time(() => (mode === 'nftables' ? execProgram('nft', ['-f', '-'], payload) : execProgram('iptables-nft-restore', ['--noflush'], payload)));
      if (r.code !== 0) console.error(`bare load failed: ${r.stderr.slice(0, 300)}`);
      const rss = process.resourceUsage().maxRSS / 1024;
      const bareRef = (bareMs + bareBeforeMs) / 2;
      const overhead = ((fullMs - bareRef) / bareRef) * 100;
      console.log(
        `${mode.padEnd(9)} ${String(n).padStart(8)}  ${fullMs.toFixed(0).padStart(12)}  ${(bareBeforeMs.toFixed(0) + '/' + bareMs.toFixed(0)).padStart(14)}  ${(overhead.toFixed(1) + '%').padStart(8)}  ${renderMs.toFixed(0).padStart(9)}  ${noopMs.toFixed(1).padStart(12)}  ${String(noopOps).padStart(8)}  ${addMs.toFixed(1).padStart(10)}  ${String(addOps).padStart(11)}  ${rss.toFixed(0).padStart(12)}`,
      );
    }
  }
  await cleanKernel();
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
