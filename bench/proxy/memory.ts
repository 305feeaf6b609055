// Peak memory of the `kubeplane proxy` process itself (not a bench harness) at scale.
//   npx tsx bench/proxy/memory.ts [--services 10000] [--modes nftables,iptables]
// Writes N Services + N EndpointSlices (5 endpoints each) to a JSON List, runs
// `kubeplane proxy --objects FILE` (dist/cli/main.js; run `npx tsc -p tsconfig.build.json` first)
// inside a scratch network namespace, waits for its first sync (the metrics endpoint), adds one
// Service to the file and waits for that partial sync, then reads VmHWM / VmRSS from /proc.
// The reference printed beside it is the same process with no objects (the runtime's floor).
// iptables mode runs on the legacy backend (a KUBE-KUBELET-CANARY chain in legacy mangle makes the
// proxy pick it, as kube-proxy's iptables-wrapper would): iptables-nft-restore does not load a
// 10,000-Service ruleset in minutes, and the proxy's own memory does not depend on the backend.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const root = fileURLToPath(new URL('../..', import.meta.url));

function objects(n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const nodePort = i < 2000;
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: `ns${i % 50}`, name: `svc-${i}`, uid: `uid-svc-${i}`, resourceVersion: String(i + 1), labels: { app: `svc-${i}` } },
      spec: { type: nodePort ? 'NodePort' : 'ClusterIP', clusterIP: `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, clusterIPs: [`172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`], selector: { app: `svc-${i}` }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, ...(nodePort ? { nodePort: 30000 + i } : {}) }] },
    });
    out.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: `ns${i % 50}`, name: `svc-${i}-abc`, uid: `uid-eps-${i}`, resourceVersion: String(i + 1), labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: 5 }, (_, k) => {
        const m = i * 5 + k;
        return { addresses: [`10.${128 + (m >> 16)}.${(m >> 8) & 255}.${m & 255}`], nodeName: k === 0 ? 'bench-node' : 'other', conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: `ns${i % 50}`, name: `pod-${i}-${k}` } };
      }),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
  }
  return out;
}

async function metric(port: number, name: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    let total: number | undefined;
    for (const line of text.split('\n')) if (line.startsWith(name + ' ') || line.startsWith(name + '{')) total = (total ?? 0) + Number(line.split(' ').pop());
    return total;
  } catch {
    return undefined;
  }
}

function status(pid: number): { hwm: number; rss: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { hwm: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
}

async function run(mode: string, n: number, port: number): Promise<{ hwm: number; rss: number; firstSyncS: number; afterFirst: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'kpmem-'));
  const file = join(dir, 'objects.json');
  const objs = objects(n);
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }));
  execFileSync('nft', ['flush', 'ruleset']);
  if (mode === 'iptables') {
    for (const t of ['nat', 'filter', 'mangle']) {
      execFileSync('iptables-legacy', ['-t', t, '-F']);
      execFileSync('iptables-legacy', ['-t', t, '-X']);
    }
    execFileSync('iptables-legacy', ['-t', 'mangle', '-N', 'KUBE-KUBELET-CANARY']);
  }
  const child = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'proxy', '--objects', file, '--proxy-mode', mode, '--node-name', 'bench-node', '--node-ip', '192.168.0.2', '--cluster-cidr', '10.0.0.0/8', '--healthz-bind-address', '', '--metrics-bind-address', `127.0.0.1:${port}`, '--iptables-min-sync-period', '0s', '--state-dir', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const t0 = performance.now();
  try {
    const syncs = async (): Promise<number> => (await metric(port, 'kubeproxy_sync_proxy_rules_duration_seconds_count')) ?? 0;
    while ((await syncs()) < 1) await new Promise((r) => setTimeout(r, 500));
    const firstSyncS = (performance.now() - t0) / 1000;
    const afterFirst = status(child.pid!).hwm;
    // one more Service: a partial sync, as in steady state
    objs.push(...objects(n + 1).slice(-2));
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }));
    while ((await syncs()) < 2) await new Promise((r) => setTimeout(r, 200));
    return { ...status(child.pid!), firstSyncS, afterFirst };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const sizes = arg('services', '10000').split(',').map(Number);
  const modes = arg('modes', 'nftables,iptables').split(',');
  console.log(`# ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  console.log('mode      services  first-sync-s  VmHWM-after-first-sync  VmHWM-after-add  VmRSS-MiB  empty-VmHWM-MiB  ratio');
  let port = 20249;
  for (const mode of modes) {
    const floor = await run(mode, 0, port++);
    for (const n of sizes) {
      const r = await run(mode, n, port++);
      console.log(`${mode.padEnd(9)} ${String(n).padStart(8)}  ${r.firstSyncS.toFixed(1).padStart(12)}  ${r.afterFirst.toFixed(0).padStart(22)}  ${r.hwm.toFixed(0).padStart(15)}  ${r.rss.toFixed(0).padStart(9)}  ${floor.hwm.toFixed(0).padStart(15)}  ${(r.hwm / floor.hwm).toFixed(1).padStart(5)}x`);
    }
  }
  execFileSync('nft', ['flush', 'ruleset']);
}

if (!process.env.KP_BENCH_INNER) {
  const ns = `kpmem-${process.pid}`;
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
