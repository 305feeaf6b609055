// What keeping the nftables state file current costs a partial sync (issue 4: a restart after
// SIGKILL must not rewrite every chain, so the mirror follows every sync, not only full ones).
//   npx tsx bench/proxy/state-journal.ts [--services 10000] [--syncs 200]
// Runs itself inside a scratch network namespace (root), which it deletes at the end.
// One Proxier (nftables, IPv4, with a state file) is filled by one full sync, then --syncs
// partial syncs each move one Service's endpoints. For each: the whole sync (event -> kernel
// programmed) and the part spent on the state file (journal append, or a compaction when the
// journal has outgrown the snapshot). Prints median and mean of both, their ratio, the largest
// state-file time (a compaction) and the cost of one whole snapshot for comparison.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EndpointSlice, Service } from '../../src/api/types.js';
import type { ProxyConfig } from '../../src/proxy/config.js';
import { ProxyMetrics } from '../../src/proxy/metrics.js';
import { Proxier } from '../../src/proxy/proxier.js';
import { execProgram } from '../../src/proxy/runner/exec.js';
import { NftablesRunner } from '../../src/proxy/runner/nftables.js';

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
    spec: { type: 'ClusterIP', clusterIP: `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  };
}

function slice(i: number, gen = 0): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: `ns${i % 50}`, name: `svc-${i}-abc`, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
    addressType: 'IPv4',
    endpoints: Array.from({ length: 5 }, (_, k) => {
      const n = i * 5 + ((k + gen) % 7);
      return { addresses: [`10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`], nodeName: 'other', conditions: { ready: true } };
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

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const n = Number(arg('services', '10000'));
  const syncs = Number(arg('syncs', '200'));
  console.log(`# ${new Date().toISOString()}  ${(await execProgram('uptime', [])).stdout.trim()}`);
  const dir = mkdtempSync(join(tmpdir(), 'kp-bench-state-'));
  const stateFile = join(dir, 'nftables-IPv4.json');
  const nft = new NftablesRunner('ip');
  const p = new Proxier('IPv4', cfg, { metrics: new ProxyMetrics(), nftables: nft, stateFile }, () => {});
  try {
    for (let i = 0; i < n; i++) {
      p.onService(undefined, service(i));
      p.onEndpointSlice(undefined, slice(i));
    }
    let t = performance.now();
    await p.sync();
    const fullMs = performance.now() - t;
    t = performance.now();
    p.saveState();
    const snapshotMs = performance.now() - t;
    const snapshotBytes = statSync(stateFile).size;
    const syncMs: number[] = [];
    const stateMs: number[] = [];
    for (let k = 0; k < syncs; k++) {
      const i = (k * 37) % n;
      p.onEndpointSlice(slice(i, k), slice(i, k + 1));
      t = performance.now();
      await p.sync();
      syncMs.push(performance.now() - t);
      stateMs.push(p.lastStateMs);
    }
    console.log(`services ${n}: full sync ${fullMs.toFixed(0)} ms; one whole snapshot ${snapshotMs.toFixed(1)} ms, ${(snapshotBytes / 1048576).toFixed(1)} MiB; state file now ${(statSync(stateFile).size / 1048576).toFixed(1)} MiB`);
    console.log(`partial syncs ${syncs}: sync median ${median(syncMs).toFixed(2)} ms mean ${mean(syncMs).toFixed(2)} ms; state-file median ${median(stateMs).toFixed(3)} ms mean ${mean(stateMs).toFixed(3)} ms max ${Math.max(...stateMs).toFixed(1)} ms`);
    console.log(`summary: state-file share of a partial sync: median ${((median(stateMs) / median(syncMs)) * 100).toFixed(2)}%, mean ${((mean(stateMs) / mean(syncMs)) * 100).toFixed(2)}% (snapshot per sync instead: ${(snapshotMs / median(syncMs)).toFixed(1)}x the sync)`);
  } finally {
    p.close();
    rmSync(dir, { recursive: true, force: true });
    await execProgram('nft', ['flush', 'ruleset']);
  }
  console.log(`# ${(await execProgram('uptime', [])).stdout.trim()}`);
}

if (!process.env.KP_BENCH_INNER) {
  const ns = `kpbench-state-${process.pid}`;
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
