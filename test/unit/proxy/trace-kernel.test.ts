// `kubeplane trace` against the kernel: on a 2-node netns cluster running `kubeplane proxy`, what
// the trace predicts (endpoints, masquerade, DROP/REJECT) is what real connections do.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TraceReport } from '../../../src/cli/trace.js';
import { describeE2E } from '../../helpers/e2e.js';
import { kubeplaneBin, runKubeplane, waitFor } from '../../helpers/cli.js';
import { NetnsCluster } from '../../e2e/proxy/netns-cluster.js';

const backend = new URL('../../e2e/proxy/backend-server.mjs', import.meta.url).pathname;

function objects(cluster: NetnsCluster): unknown {
  const svc = (name: string, spec: Record<string, unknown>): unknown => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name }, spec });
  const slice = (name: string, pods: string[]): unknown => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: `${name}-x`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({ addresses: [cluster.pod(p).ip], nodeName: cluster.pod(p).node, conditions: { ready: true } })),
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
  });
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      ...cluster.nodes.map((n) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name } })),
      svc('web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] }),
      slice('web', ['a1', 'b1']),
      svc('local', { type: 'NodePort', externalTrafficPolicy: 'Local', clusterIP: '10.96.0.11', ports: [{ port: 80, targetPort: 8080, nodePort: 30081, protocol: 'TCP' }] }),
      slice('local', ['a1']),
      svc('sticky', { clusterIP: '10.96.0.12', sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }),
      slice('sticky', ['a1', 'b1']),
      svc('empty', { clusterIP: '10.96.0.13', ports: [{ port: 80, protocol: 'TCP' }] }),
    ],
  };
}

for (const mode of ['iptables', 'nftables'] as const) {
  describeE2E(`kubeplane trace agrees with the kernel (${mode})`, { netns: true, commands: ['iptables-restore', 'nft', 'curl'] }, () => {
    const cluster = new NetnsCluster({
      prefix: mode === 'iptables' ? 'tri' : 'trn',
      net: 90 + (process.pid % 20) + (mode === 'iptables' ? 0 : 100),
      nodes: [
        { name: 'node1', pods: [{ name: 'a1', host: 10 }, { name: 'c1', host: 20 }] },
        { name: 'node2', pods: [{ name: 'b1', host: 10 }] },
      ],
      clients: ['ext'],
    });
    let dir = '';
    let file = '';

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `proxy-trace-kernel-${mode}-${process.pid}-`));
      file = join(dir, 'objects.json');
      cluster.create();
      writeFileSync(file, JSON.stringify(objects(cluster)));
      for (const p of ['a1', 'b1']) cluster.spawnIn(cluster.pod(p).ns, process.execPath, [backend, p, '8080', '5353']);
      for (const n of cluster.nodes) {
        const p = cluster.spawnIn(n.ns, process.execPath, [
          kubeplaneBin,
          'proxy',
          `--proxy-mode=${mode}`,
          `--objects=${file}`,
          `--node-name=${n.name}`,
          `--node-ip=${n.ip}`,
          '--cluster-cidr=10.244.0.0/16',
          '--service-cidr=10.96.0.0/16',
          '--healthz-bind-address=',
          '--metrics-bind-address=',
          `--state-dir=${join(dir, n.name)}`,
          '-v=2',
        ]);
        await waitFor(() => p.output().includes('Synced proxy rules'), { timeoutMs: 20_000, what: `${n.name} proxy first sync: ${p.output()}` });
      }
      for (const p of ['a1', 'b1']) await waitFor(() => cluster.exec(cluster.pod(p).ns, 'curl', ['-s', '--max-time', '2', 'http://127.0.0.1:8080/']).code === 0, { what: `backend ${p} up` });
    }, 60_000);

    afterAll(async () => {
      await cluster.destroy();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const trace = async (node: string, from: string, dest: string): Promise<TraceReport> => {
      const n = cluster.node(node);
      const r = await runKubeplane(['trace', dest, `--from=${from}`, `--objects=${file}`, `--node-name=${node}`, `--node-ip=${n.ip}`, '--cluster-cidr=10.244.0.0/16', '--service-cidr=10.96.0.0/16', `--proxy-mode=${mode}`, '-o', 'json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as TraceReport;
    };

    /** Sends `tries` real connections from `ns` (address `src`) and checks them against the trace. */
    const agree = async (t: TraceReport, ns: string, src: string, url: string, tries: number): Promise<void> => {
      const byIP = new Map(cluster.pods.map((p) => [p.ip, p.name]));
      const results = Array.from({ length: tries }, () => cluster.exec(ns, 'curl', ['-s', '--max-time', t.verdict === 'DROP' ? '1' : '3', url]));
      if (t.verdict === 'DROP') for (const r of results) expect(r.code, 'DROP: the connection times out').toBe(28);
      else if (t.verdict === 'REJECT') for (const r of results) expect(r.code, 'REJECT: the connection is refused').toBe(7);
      else {
        expect(t.verdict).toBe('DNAT');
        const predicted = new Set(t.endpoints.map((e) => byIP.get(e.endpoint.split(':')[0]!)));
        const masq = new Set(t.endpoints.map((e) => e.masquerade));
        for (const r of results) {
          expect(r.code, r.stderr).toBe(0);
          const [who, seenSrc] = r.stdout.trim().split(' ');
          expect(predicted.has(who)).toBe(true);
          // masqueraded: the backend sees a node address instead of the client's
          if (masq.size === 1) expect(seenSrc === src).toBe(!masq.has(true));
        }
      }
    };

    it('ClusterIP from a pod: the trace names every endpoint the kernel picks, source kept', async () => {
      const c1 = cluster.pod('c1');
      const t = await trace('node1', c1.ip, '10.96.0.10:80');
      expect(t.service).toMatchObject({ servicePort: 'default/web', via: 'ClusterIP' });
      expect(t.endpoints.map((e) => e.endpoint).sort()).toEqual([`${cluster.pod('a1').ip}:8080`, `${cluster.pod('b1').ip}:8080`]);
      await agree(t, c1.ns, c1.ip, 'http://10.96.0.10/', 10);
    });

    it('NodePort from an external client: masqueraded as traced', async () => {
      const ext = cluster.client('ext');
      const t = await trace('node1', ext.ip, `${cluster.node('node1').ip}:30080`);
      expect(t.endpoints.every((e) => e.masquerade)).toBe(true);
      await agree(t, ext.ns, ext.ip, `http://${cluster.node('node1').ip}:30080/`, 6);
    });

    it('eTP Local: the node with the endpoint keeps the source, the other drops', async () => {
      const ext = cluster.client('ext');
      const one = await trace('node1', ext.ip, `${cluster.node('node1').ip}:30081`);
      expect(one.endpoints.map((e) => [e.endpoint, e.masquerade])).toEqual([[`${cluster.pod('a1').ip}:8080`, false]]);
      await agree(one, ext.ns, ext.ip, `http://${cluster.node('node1').ip}:30081/`, 3);
      const two = await trace('node2', ext.ip, `${cluster.node('node2').ip}:30081`);
      expect(two.verdict).toBe('DROP');
      await agree(two, ext.ns, ext.ip, `http://${cluster.node('node2').ip}:30081/`, 1);
    });

    it('sessionAffinity ClientIP: one of the traced endpoints, then always the same', async () => {
      const c1 = cluster.pod('c1');
      const t = await trace('node1', c1.ip, '10.96.0.12:80');
      expect(t.affinity?.seconds).toBe(10800);
      await agree(t, c1.ns, c1.ip, 'http://10.96.0.12/', 6);
      const seen = new Set(Array.from({ length: 6 }, () => cluster.exec(c1.ns, 'curl', ['-s', '--max-time', '3', 'http://10.96.0.12/']).stdout.split(' ')[0]));
      expect(seen.size).toBe(1);
    });

    it('a Service without endpoints: REJECT, connection refused', async () => {
      const c1 = cluster.pod('c1');
      const t = await trace('node1', c1.ip, '10.96.0.13:80');
      expect(t.verdict).toBe('REJECT');
      await agree(t, c1.ns, c1.ip, 'http://10.96.0.13/', 1);
    });
  });
}
