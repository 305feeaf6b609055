// Our own share of a sync, without the kernel: the runner is replaced by one that only records
// the transaction. Shows how much of "add one service" is kubeplane and how much is nft/iptables.
//   npx tsx bench/proxy/render-only.ts [--services 10000]
import type { EndpointSlice, Service } from '../../src/api/types.js';
import type { ProxyConfig } from '../../src/proxy/config.js';
import { ProxyMetrics } from '../../src/proxy/metrics.js';
import { Proxier } from '../../src/proxy/proxier.js';
import { NftablesRunner } from '../../src/proxy/runner/nftables.js';
import { IptablesRunner } from '../../src/proxy/runner/iptables.js';

const i = process.argv.indexOf('--services');
const sizes = (i >= 0 ? process.argv[i + 1]! : '1000,10000,20000').split(',').map(Number);

class RecordingNft extends NftablesRunner {
  override async apply(): Promise<void> {}
  override async chains(): Promise<string[] | undefined> {
    return undefined;
  }
}
class RecordingIpt extends IptablesRunner {
  override async ensureJumpsAndCanaries(): Promise<void> {}
  override async natChains(): Promise<string[]> {
    return [];
  }
  override async restore(): Promise<void> {}
}

function service(i: number): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: `ns${i % 50}`, name: `svc-${i}` }, spec: { type: 'NodePort', clusterIP: `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30000 + (i % 2000) }] } };
}
function slice(i: number): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: `ns${i % 50}`, name: `svc-${i}-abc`, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
    addressType: 'IPv4',
    endpoints: Array.from({ length: 5 }, (_, k) => ({ addresses: [`10.${128 + ((i * 5 + k) >> 16)}.${((i * 5 + k) >> 8) & 255}.${(i * 5 + k) & 255}`], nodeName: k === 0 ? 'bench-node' : 'other' })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

const base: ProxyConfig = { mode: 'nftables', nodeName: 'bench-node', nodeIPs: ['192.168.0.2'], clusterCIDRs: ['10.0.0.0/8'], serviceCIDRs: [], masqueradeAll: false, masqueradeBit: 14, nodePortAddresses: [], localhostNodePorts: true, minSyncPeriodMs: 0, syncPeriodMs: 30000, healthzBindAddress: '', metricsBindAddress: '' };
console.log('mode      services  full-render-ms  noop-ms  add-one-ms  add-one-lines  heap-MiB');
for (const mode of ['nftables', 'iptables'] as const) {
  for (const n of sizes) {
    const p = new Proxier('IPv4', { ...base, mode }, { metrics: new ProxyMetrics(), nftables: mode === 'nftables' ? new RecordingNft('ip') : undefined, iptables: mode === 'iptables' ? new RecordingIpt('IPv4', 'nft') : undefined }, () => {});
    for (let k = 0; k < n; k++) {
      p.onService(undefined, service(k));
      p.onEndpointSlice(undefined, slice(k));
    }
    let t = performance.now();
    await p.sync();
    const full = performance.now() - t;
    t = performance.now();
    await p.sync();
    const noop = performance.now() - t;
    // median of 5 adds, so one GC pause does not stand for the steady state
    const adds: number[] = [];
    for (let a = 1; a <= 5; a++) {
      t = performance.now();
      p.onService(undefined, service(n + a));
      p.onEndpointSlice(undefined, slice(n + a));
      await p.sync();
      adds.push(performance.now() - t);
    }
    const add = adds.sort((x, y) => x - y)[2]!;
    const heap = process.memoryUsage().heapUsed / 2 ** 20;
    console.log(`${mode.padEnd(9)} ${String(n).padStart(8)}  ${full.toFixed(0).padStart(14)}  ${noop.toFixed(2).padStart(7)}  ${add.toFixed(1).padStart(10)}  ${String(p.lastPayload.split('\n').filter(Boolean).length).padStart(13)}  ${heap.toFixed(0).padStart(8)}`);
  }
}
