// Real packets through the rules `kubeplane proxy` programs, in iptables and nftables modes,
// on a 2-node netns cluster (see netns-cluster.ts for the address plan).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { kubeplaneBin, waitFor } from '../../helpers/cli.js';
import { NetnsCluster } from './netns-cluster.js';

const execFileP = promisify(execFile);
const here = new URL('.', import.meta.url).pathname;
const NET = 60 + (process.pid % 30);

interface Endpoints {
  web: string[];
  udp: string[];
}

function objects(cluster: NetnsCluster, eps: Endpoints): unknown {
  const podIP = (n: string): string => cluster.pod(n).ip;
  const nodeOf = (n: string): string => cluster.pod(n).node;
  const svc = (name: string, spec: Record<string, unknown>): unknown => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name }, spec });
  const slice = (name: string, pods: string[], port: number, protocol = 'TCP'): unknown => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: `${name}-x`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({ addresses: [podIP(p)], nodeName: nodeOf(p), conditions: { ready: true } })),
    ports: [{ name: '', port, protocol }],
  });
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      ...cluster.nodes.map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name } })),
      svc('web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] }),
      slice('web', eps.web, 8080),
      svc('local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30300, clusterIP: '10.96.0.11', ports: [{ port: 80, targetPort: 8080, nodePort: 30081, protocol: 'TCP' }] }),
      slice('local', ['a1'], 8080),
      svc('sticky', { clusterIP: '10.96.0.12', sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }),
      slice('sticky', ['a1', 'a2', 'b1'], 8080),
      svc('empty', { clusterIP: '10.96.0.13', ports: [{ port: 80, protocol: 'TCP' }] }),
      svc('dns', { clusterIP: '10.96.0.14', ports: [{ port: 53, targetPort: 5353, protocol: 'UDP' }] }),
      slice('dns', eps.udp, 5353, 'UDP'),
    ],
  };
}

for (const mode of ['iptables', 'nftables'] as const) {
  describeE2E(`kubeplane proxy real packets (${mode})`, { netns: true, commands: ['iptables-restore', 'nft', 'conntrack', 'curl'] }, () => {
    const cluster = new NetnsCluster({
      prefix: mode === 'iptables' ? 'kpi' : 'kpn',
      net: NET + (mode === 'iptables' ? 0 : 100),
      nodes: [
        { name: 'node1', pods: [{ name: 'a1', host: 10 }, { name: 'a2', host: 11 }, { name: 'c1', host: 20 }] },
        { name: 'node2', pods: [{ name: 'b1', host: 10 }] },
      ],
      clients: ['ext'],
    });
    let dir = '';
    let objectsFile = '';
    const proxies = new Map<string, ReturnType<NetnsCluster['spawnIn']>>();

    const writeObjects = (eps: Endpoints): void => {
      writeFileSync(objectsFile + '.tmp', JSON.stringify(objects(cluster, eps)));
      // rename keeps the watcher from ever reading a half-written file
      execFileP('mv', [objectsFile + '.tmp', objectsFile]);
    };
    const startProxy = async (node: string): Promise<void> => {
      const n = cluster.node(node);
      const p = cluster.spawnIn(n.ns, process.execPath, [
        kubeplaneBin,
        'proxy',
        `--proxy-mode=${mode}`,
        `--objects=${objectsFile}`,
        `--node-name=${node}`,
        `--node-ip=${n.ip}`,
        '--cluster-cidr=10.244.0.0/16',
        '--service-cidr=10.96.0.0/16',
        '--iptables-min-sync-period=100ms',
        '--healthz-bind-address=127.0.0.1:10256',
        '--metrics-bind-address=127.0.0.1:10249',
        `--state-dir=${join(dir, node)}`,
        '-v=2',
      ]);
      proxies.set(node, p);
      await waitFor(() => p.output().includes('Synced proxy rules'), { timeoutMs: 20_000, what: `${node} proxy first sync: ${p.output()}` });
    };
    const curl = (ns: string, url: string, maxTime = 2): { code: number; body: string } => {
      const r = cluster.exec(ns, 'curl', ['-s', '--max-time', String(maxTime), url]);
      return { code: r.code, body: r.stdout.trim() };
    };
    const responders = (ns: string, url: string, n: number): Map<string, number> => {
      const seen = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const r = curl(ns, url);
        const who = r.code === 0 ? r.body.split(' ')[0]! : `error:${r.code}`;
        seen.set(who, (seen.get(who) ?? 0) + 1);
      }
      return seen;
    };
    const rulesText = (node: string): string =>
      mode === 'iptables' ? cluster.exec(cluster.node(node).ns, 'iptables-save', ['-t', 'nat']).stdout : cluster.exec(cluster.node(node).ns, 'nft', ['list', 'table', 'ip', 'kube-proxy']).stdout;
    const dnatTo = (ip: string, port: number): string => (mode === 'iptables' ? `--to-destination ${ip}:${port}` : `dnat to ${ip}:${port}`);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `kp-proxy-e2e-${mode}-`));
      objectsFile = join(dir, 'objects.json');
      cluster.create();
      for (const p of ['a1', 'a2', 'b1']) cluster.spawnIn(cluster.pod(p).ns, process.execPath, [join(here, 'backend-server.mjs'), p, '8080', '5353']);
      writeFileSync(objectsFile, JSON.stringify(objects(cluster, { web: ['a1', 'a2', 'b1'], udp: ['a1', 'a2', 'b1'] })));
      await Promise.all([startProxy('node1'), startProxy('node2')]);
      await waitFor(() => curl(cluster.pod('a1').ns, 'http://127.0.0.1:8080/').code === 0, { what: 'backend a1 up' });
      await waitFor(() => curl(cluster.pod('b1').ns, 'http://127.0.0.1:8080/').code === 0, { what: 'backend b1 up' });
    }, 60_000);

    afterAll(async () => {
      await cluster.destroy();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('a pod reaches a ClusterIP whose endpoints are on both nodes, spread across all of them', () => {
      const seen = responders(cluster.pod('c1').ns, 'http://10.96.0.10/', 30);
      expect([...seen.keys()].sort()).toEqual(['a1', 'a2', 'b1']);
      // pod-to-ClusterIP traffic is not masqueraded: the backend sees the pod's own address
      expect(curl(cluster.pod('c1').ns, 'http://10.96.0.10/').body.split(' ')[1]).toBe(cluster.pod('c1').ip);
    });

    it('NodePort works from an external client on both nodes', () => {
      for (const node of ['node1', 'node2']) {
        const r = curl(cluster.client('ext').ns, `http://${cluster.node(node).ip}:30080/`);
        expect(r.code, `${node}: ${r.body}`).toBe(0);
        expect(['a1', 'a2', 'b1']).toContain(r.body.split(' ')[0]);
      }
    });

    if (mode === 'iptables') {
      it('NodePort answers on 127.0.0.1 on the node, with route_localnet set as kube-proxy sets it', () => {
        const n = cluster.node('node1');
        expect(cluster.exec(n.ns, 'cat', ['/proc/sys/net/ipv4/conf/all/route_localnet']).stdout.trim()).toBe('1');
        const r = curl(n.ns, 'http://127.0.0.1:30080/');
        expect(r.code, r.body).toBe(0);
        expect(['a1', 'a2', 'b1']).toContain(r.body.split(' ')[0]);
      });
    }

    it('externalTrafficPolicy Local keeps the client source IP, and a node without local endpoints drops', () => {
      const ext = cluster.client('ext');
      const r = curl(ext.ns, `http://${cluster.node('node1').ip}:30081/`);
      expect(r.code).toBe(0);
      expect(r.body).toBe(`a1 ${ext.ip}`);
      // DROP, not REJECT: curl times out (28) rather than being refused (7)
      expect(curl(ext.ns, `http://${cluster.node('node2').ip}:30081/`, 1).code).toBe(28);
    });

    it('healthCheckNodePort answers with the local endpoint count; /healthz, /livez and metrics are served', () => {
      const ext = cluster.client('ext');
      const hc = (node: string): { code: number; out: string } => {
        const r = cluster.exec(ext.ns, 'curl', ['-s', '-i', '--max-time', '2', `http://${cluster.node(node).ip}:30300/`]);
        return { code: r.code, out: r.stdout };
      };
      const one = hc('node1');
      expect(one.out).toMatch(/^HTTP\/1.1 200/);
      expect(one.out).toMatch(/X-Load-Balancing-Endpoint-Weight: 1/i);
      expect(JSON.parse(one.out.slice(one.out.indexOf('{')))).toEqual({ service: { namespace: 'default', name: 'local' }, localEndpoints: 1, serviceProxyHealthy: true });
      const two = hc('node2');
      expect(two.out).toMatch(/^HTTP\/1.1 503/);
      expect(JSON.parse(two.out.slice(two.out.indexOf('{'))).localEndpoints).toBe(0);
      const node1 = cluster.node('node1').ns;
      for (const path of ['/healthz', '/livez']) expect(cluster.exec(node1, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:10256${path}`]).stdout).toBe('200');
      const metrics = cluster.exec(node1, 'curl', ['-s', 'http://127.0.0.1:10249/metrics']).stdout;
      for (const name of ['kubeproxy_sync_proxy_rules_duration_seconds_bucket', 'kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"}', 'kubeproxy_network_programming_duration_seconds', 'kubeproxy_sync_proxy_rules_service_changes_total', 'kubeproxy_sync_proxy_rules_endpoint_changes_total']) {
        expect(metrics).toContain(name);
      }
      expect(metrics).toContain(mode === 'iptables' ? 'kubeproxy_sync_proxy_rules_iptables_total{table="nat",ip_family="IPv4"}' : 'kubeproxy_sync_proxy_rules_nftables_objects');
    });

    it('sessionAffinity ClientIP sticks to one endpoint', () => {
      const seen = responders(cluster.pod('c1').ns, 'http://10.96.0.12/', 12);
      expect(seen.size).toBe(1);
      expect(['a1', 'a2', 'b1']).toContain([...seen.keys()][0]);
    });

    it('a service without endpoints is rejected at once (connection refused, not a timeout)', () => {
      expect(curl(cluster.pod('c1').ns, 'http://10.96.0.13/', 5).code).toBe(7);
      expect(curl(cluster.pod('b1').ns, 'http://10.96.0.13/', 5).code).toBe(7);
    });

    it('UDP works and stale UDP conntrack entries are gone after the endpoint changes', async () => {
      const c1 = cluster.pod('c1');
      const ask = (): string => cluster.exec(c1.ns, process.execPath, [join(here, 'udp-client.mjs'), '10.96.0.14', '53', '40053', '1500']).stdout.trim();
      const first = ask();
      expect(first).toMatch(/^(a1|a2|b1) /);
      const pinned = first.split(' ')[0]!;
      // the same 5-tuple stays on its backend through conntrack
      expect(ask().split(' ')[0]).toBe(pinned);
      const rest = ['a1', 'a2', 'b1'].filter((p) => p !== pinned);
      writeObjects({ web: ['a1', 'a2', 'b1'], udp: rest });
      const pinnedIP = cluster.pod(pinned).ip;
      await waitFor(() => !rulesText('node1').includes(dnatTo(pinnedIP, 5353)), { what: 'udp endpoint removed from rules' });
      await waitFor(() => !cluster.exec(cluster.node('node1').ns, 'conntrack', ['-L', '-p', 'udp', '--reply-src', pinnedIP]).stdout.includes(pinnedIP), { what: 'conntrack entry cleaned' });
      // the removed backend is still running: only the conntrack cleanup keeps the client off it
      const after = ask();
      expect(rest).toContain(after.split(' ')[0]);
    });

    it('deleting an endpoint moves traffic to the rest', async () => {
      writeObjects({ web: ['a1', 'b1'], udp: ['a1', 'b1'] });
      const a2 = cluster.pod('a2').ip;
      const webUsesA2 = (node: string): boolean => rulesText(node).split('\n').some((l) => l.includes('default/web') && l.includes(a2));
      await waitFor(() => !webUsesA2('node1') && !webUsesA2('node2'), { what: 'a2 removed from web on both nodes' });
      const seen = responders(cluster.pod('c1').ns, 'http://10.96.0.10/', 20);
      expect(seen.has('a2')).toBe(false);
      expect([...seen.keys()].sort()).toEqual(['a1', 'b1']);
    });

    it('restarting the proxy with unchanged objects loses no traffic' + (mode === 'nftables' ? ' and causes no rule churn' : ''), async () => {
      const node1 = cluster.node('node1');
      const before = nftHandles(cluster.exec(node1.ns, "nft", ["-a", "list", "table", "ip", "kube-proxy"]).stdout);
      let failures = 0;
      let requests = 0;
      let stop = false;
      const loop = (async () => {
        while (!stop && requests < 400) {
          requests++;
          try {
            await execFileP('ip', ['netns', 'exec', cluster.client('ext').ns, 'curl', '-s', '--max-time', '2', `http://${node1.ip}:30080/`]);
          } catch {
            failures++;
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      await cluster.stopProcess(proxies.get('node1')!);
      await new Promise((r) => setTimeout(r, 300));
      await startProxy('node1');
      await new Promise((r) => setTimeout(r, 500));
      stop = true;
      await loop;
      expect(requests).toBeGreaterThan(3);
      expect(failures).toBe(0);
      if (mode === 'nftables') {
        const after = nftHandles(cluster.exec(node1.ns, "nft", ["-a", "list", "table", "ip", "kube-proxy"]).stdout);
        expect(after).toBe(before);
      }
    });
  });
}

/** The listing with handles, minus affinity timers that count down on their own. */
function nftHandles(listing: string): string {
  return listing.replace(/ expires [0-9hms]+/g, '');
}
