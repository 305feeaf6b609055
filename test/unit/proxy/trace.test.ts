// `kubeplane trace` on the proxy fixtures: the built CLI renders the iptables rules for an objects
// file and explains where a connection goes (Service port, chains, endpoints with probabilities,
// masquerade, and why).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/api/types.js';
import { renderFullSync } from '../../../src/proxy/render.js';
import { traceConnection, traceNftConnection } from '../../../src/proxy/trace.js';
import { loadObjects } from './helpers.js';
import type { TraceReport } from '../../../src/cli/trace.js';
import { runKubeplane } from '../../helpers/cli.js';
import { here, testConfig } from './helpers.js';

const NODE = '192.168.0.2';
const POD = '10.0.0.2';
const EXTERNAL = '203.0.113.10';
const NODE_FLAGS = ['--node-name=test-node', `--node-ip=${NODE}`, '--cluster-cidr=10.0.0.0/8'];

function svc(name: string, ip: string, spec: Record<string, unknown>, endpoints: { ip: string; node: string }[], nodePort?: number): KubeObject[] {
  const port = { name: 'p80', port: 80, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) };
  const objs = [{ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'ns1', name }, spec: { type: 'ClusterIP', clusterIP: ip, ports: [port], ...spec } }] as unknown as KubeObject[];
  if (endpoints.length > 0)
    objs.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'ns1', name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: endpoints.map((e) => ({ addresses: [e.ip], nodeName: e.node })),
      ports: [{ name: 'p80', port: 80, protocol: 'TCP' }],
    } as unknown as KubeObject);
  return objs;
}

const LOCAL_EP = { ip: '10.180.0.1', node: 'test-node' };
const REMOTE_EP = { ip: '10.180.1.1', node: 'remote' };
const REMOTE_EP2 = { ip: '10.180.2.1', node: 'remote2' };

const objects: KubeObject[] = [
  ...svc('cluster', '172.30.0.41', { type: 'NodePort' }, [LOCAL_EP, REMOTE_EP, REMOTE_EP2], 3001),
  ...svc('local', '172.30.0.42', { type: 'NodePort', externalTrafficPolicy: 'Local' }, [LOCAL_EP, REMOTE_EP], 3002),
  ...svc('remote-only', '172.30.0.43', { type: 'NodePort', externalTrafficPolicy: 'Local' }, [REMOTE_EP], 3003),
  ...svc('sticky', '172.30.0.44', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } }, [LOCAL_EP, REMOTE_EP]),
  ...svc('empty', '172.30.0.45', {}, []),
];

let dir: string;
let file: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), `proxy-trace-${process.pid}-`));
  file = join(dir, 'objects.json');
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function trace(dest: string, from: string, mode = 'iptables'): Promise<{ text: string; json: TraceReport }> {
  const args = ['trace', dest, `--from=${from}`, `--objects=${file}`, ...NODE_FLAGS, `--proxy-mode=${mode}`];
  const [text, json] = await Promise.all([runKubeplane(args), runKubeplane([...args, '-o', 'json'])]);
  expect(text.stderr).toBe('');
  expect(text.code).toBe(0);
  expect(json.code).toBe(0);
  return { text: text.stdout, json: JSON.parse(json.stdout) as TraceReport };
}

const eps = (r: TraceReport) => r.endpoints.map((e) => [e.endpoint, Number(e.probability.toFixed(4)), e.masquerade]);

describe('kubeplane trace (built CLI)', () => {
  it('ClusterIP from a pod: all endpoints, equal odds, no masquerade', async () => {
    const { text, json } = await trace('172.30.0.41:80', POD);
    expect(json.service).toMatchObject({ servicePort: 'ns1/cluster:p80', via: 'ClusterIP' });
    expect(json.verdict).toBe('DNAT');
    expect(eps(json)).toEqual([
      ['10.180.0.1:80', 0.3333, false],
      ['10.180.1.1:80', 0.3333, false],
      ['10.180.2.1:80', 0.3333, false],
    ]);
    expect(json.path.map((s) => s.chain)).toEqual(['KUBE-SERVICES']);
    expect(json.path[0]!.target).toMatch(/^KUBE-SVC-/);
    expect(text).toContain('service: ns1/cluster:p80 via ClusterIP');
    expect(text).toMatch(/10\.180\.1\.1:80 {2}33\.3% {2}no masquerade {2}via KUBE-SEP-\w+ -> DNAT/);
  });

  it('ClusterIP from outside the cluster CIDR is masqueraded, and says why', async () => {
    const { json } = await trace('172.30.0.41:80', EXTERNAL);
    expect(eps(json).every(([, , m]) => m === true)).toBe(true);
    expect(json.reasons.join('\n')).toContain(`the source ${EXTERNAL} is outside the cluster CIDR 10.0.0.0/8`);
  });

  it('NodePort on the node IP (Cluster policy): KUBE-NODEPORTS -> KUBE-EXT- -> KUBE-SVC-, masqueraded', async () => {
    const { text, json } = await trace(`${NODE}:3001`, EXTERNAL);
    expect(json.service).toMatchObject({ servicePort: 'ns1/cluster:p80', via: 'NodePort', type: 'NodePort' });
    expect(json.path.map((s) => s.target.replace(/-[A-Z0-9]{16}$/, '-'))).toEqual(['KUBE-NODEPORTS', 'KUBE-EXT-', 'KUBE-SVC-']);
    expect(eps(json).map(([e, , m]) => [e, m])).toEqual([
      ['10.180.0.1:80', true],
      ['10.180.1.1:80', true],
      ['10.180.2.1:80', true],
    ]);
    expect(text).toContain('why: masquerade: external traffic to a Service with externalTrafficPolicy Cluster');
  });

  it('a NodePort on a port nothing serves is not touched', async () => {
    const { json } = await trace(`${NODE}:3999`, EXTERNAL);
    expect(json.verdict).toBe('ACCEPT');
    expect(json.service).toBeUndefined();
  });

  it('eTP Local with a local endpoint: only the local endpoint, client address kept', async () => {
    const { text, json } = await trace(`${NODE}:3002`, EXTERNAL);
    expect(json.service).toMatchObject({ servicePort: 'ns1/local:p80', via: 'NodePort', externalTrafficPolicy: 'Local' });
    expect(eps(json)).toEqual([['10.180.0.1:80', 1, false]]);
    expect(json.endpoints[0]!.path.some((s) => s.target.startsWith('KUBE-SVL-'))).toBe(true);
    expect(text).toContain('why: traffic policy Local: only endpoints on this node are used');
    expect(text).toContain('why: no masquerade: the endpoint sees the client address');
  });

  it('eTP Local from a pod is short-circuited to all endpoints', async () => {
    const { json } = await trace(`${NODE}:3002`, POD);
    expect(eps(json)).toEqual([
      ['10.180.0.1:80', 0.5, false],
      ['10.180.1.1:80', 0.5, false],
    ]);
    expect(json.reasons.join('\n')).toContain('short-circuited to all endpoints');
  });

  it('eTP Local without a local endpoint: DROP in KUBE-EXTERNAL-SERVICES', async () => {
    const { text, json } = await trace(`${NODE}:3003`, EXTERNAL);
    expect(json.verdict).toBe('DROP');
    expect(json.endpoints).toEqual([]);
    expect(json.verdictBy).toMatchObject({ table: 'filter', chain: 'KUBE-EXTERNAL-SERVICES', target: 'DROP' });
    expect(json.service).toMatchObject({ servicePort: 'ns1/remote-only:p80', via: 'NodePort' });
    expect(text).toContain('verdict: DROP');
    expect(text).toContain('why: externalTrafficPolicy Local and no endpoint on node test-node');
  });

  it('sessionAffinity ClientIP: both endpoints possible for a new client, affinity timeout reported', async () => {
    const { text, json } = await trace('172.30.0.44:80', POD);
    expect(json.service).toMatchObject({ servicePort: 'ns1/sticky:p80', sessionAffinity: 'ClientIP' });
    expect(eps(json)).toEqual([
      ['10.180.0.1:80', 0.5, false],
      ['10.180.1.1:80', 0.5, false],
    ]);
    expect(json.affinity?.seconds).toBe(600);
    expect(text).toContain(`why: sessionAffinity ClientIP: later connections from ${POD} stick to the endpoint first chosen for 600s`);
  });

  it('a Service without endpoints: REJECT', async () => {
    const { text, json } = await trace('172.30.0.45:80', POD);
    expect(json.verdict).toBe('REJECT');
    expect(json.verdictBy).toMatchObject({ table: 'filter', chain: 'KUBE-SERVICES', target: 'REJECT', comment: 'ns1/empty:p80 has no endpoints' });
    expect(text).toContain('service: ns1/empty:p80 via ClusterIP');
    expect(text).toContain('why: the Service port has no ready endpoints: REJECT');
  });

  it('explains loadBalancerSourceRanges on the overall fixture', async () => {
    const base = ['trace', '5.6.7.8:80', `--objects=${here}/testdata/overall.json`, ...NODE_FLAGS, '-o', 'json'];
    const allowed = JSON.parse((await runKubeplane([...base, '--from=203.0.113.5'])).stdout) as TraceReport;
    expect(allowed.service?.via).toBe('LoadBalancerIP');
    expect(eps(allowed)).toEqual([['10.180.0.3:80', 1, true]]);
    const blocked = JSON.parse((await runKubeplane([...base, '--from=198.51.100.7'])).stdout) as TraceReport;
    expect(blocked.verdict).toBe('DROP');
    expect(blocked.reasons[0]).toContain('outside loadBalancerSourceRanges');
  });

  it('user errors are one-line messages with exit code 2', async () => {
    const cases: [string[], string][] = [
      [['trace', `--objects=${file}`], 'trace needs a destination'],
      [['trace', '172.30.0.41', `--objects=${file}`], 'invalid destination "172.30.0.41"'],
      [['trace', '172.30.0.41:70000', `--objects=${file}`], 'port must be in [1, 65535]'],
      [['trace', '172.30.0.41:80/icmp', `--objects=${file}`], 'protocol must be tcp, udp or sctp'],
      [['trace', '172.30.0.41:80', '--from=10.0.0.300', `--objects=${file}`], 'invalid --from "10.0.0.300"'],
      [['trace', '172.30.0.41:80', '--from=10.0.0.2'], 'trace needs --objects FILE'],
      [['trace', '172.30.0.41:80', '--from=10.0.0.2', '--objects=/nonexistent/objects.yaml'], 'cannot read /nonexistent/objects.yaml'],
      [['trace', '172.30.0.41:80', '--from=10.0.0.2', `--objects=${file}`, '--proxy-mode=ipvs'], 'not supported yet'],
      [['trace', '172.30.0.41:80', '--from=10.0.0.2', `--objects=${file}`, '-o', 'yaml'], 'invalid -o "yaml"'],
    ];
    const results = await Promise.all(cases.map(([args]) => runKubeplane(args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.stderr).toContain(cases[i]![1]);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    });
  });
});

describe('unnamed ports and external IPs', () => {
  it('names the Service port as ServicePortName does and tells ExternalIP from ClusterIP, in both modes', async () => {
    const unnamed = join(dir, 'unnamed.json');
    const [svcObj, slice] = svc('web', '172.30.0.50', { type: 'NodePort', externalIPs: ['192.168.5.5'] }, [LOCAL_EP], 30080) as unknown as [{ spec: { ports: { name?: string }[] } }, { ports: { name?: string }[] }];
    delete svcObj.spec.ports[0]!.name;
    slice.ports[0]!.name = '';
    writeFileSync(unnamed, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [svcObj, slice] }));
    for (const mode of ['iptables', 'nftables']) {
      const run = async (dest: string) => JSON.parse((await runKubeplane(['trace', dest, `--from=${POD}`, `--objects=${unnamed}`, ...NODE_FLAGS, `--proxy-mode=${mode}`, '-o', 'json'])).stdout) as TraceReport;
      expect((await run('172.30.0.50:80')).service, mode).toMatchObject({ servicePort: 'ns1/web', via: 'ClusterIP' });
      const ext = await run('192.168.5.5:80');
      expect(ext.service, mode).toMatchObject({ servicePort: 'ns1/web', via: 'ExternalIP' });
      expect(eps(ext), mode).toEqual([['10.180.0.1:80', 1, true]]);
      expect((await run(`${NODE}:30080`)).service, mode).toMatchObject({ servicePort: 'ns1/web', via: 'NodePort' });
    }
  });
});

describe('kubeplane trace --proxy-mode=nftables (built CLI)', () => {
  const nft = (dest: string, from: string) => trace(dest, from, 'nftables');
  it('ClusterIP from a pod: numgen spreads evenly over all endpoints', async () => {
    const { text, json } = await nft('172.30.0.41:80', POD);
    expect(json.mode).toBe('nftables');
    expect(json.service).toMatchObject({ servicePort: 'ns1/cluster:p80', via: 'ClusterIP' });
    expect(eps(json)).toEqual([
      ['10.180.0.1:80', 0.3333, false],
      ['10.180.1.1:80', 0.3333, false],
      ['10.180.2.1:80', 0.3333, false],
    ]);
    expect(text).toMatch(/nft services -> service-\w+-ns1\/cluster\/tcp\/p80 {2}"@service-ips"/);
  });
  it('NodePort (Cluster policy) from outside: external- chain, masqueraded', async () => {
    const { json } = await nft(`${NODE}:3001`, EXTERNAL);
    expect(json.service).toMatchObject({ servicePort: 'ns1/cluster:p80', via: 'NodePort' });
    expect(eps(json).every(([, , m]) => m === true)).toBe(true);
    expect(json.reasons.join('\n')).toContain('external traffic to a Service with externalTrafficPolicy Cluster');
  });
  it('eTP Local with and without a local endpoint', async () => {
    const withLocal = (await nft(`${NODE}:3002`, EXTERNAL)).json;
    expect(eps(withLocal)).toEqual([['10.180.0.1:80', 1, false]]);
    expect(withLocal.reasons.join('\n')).toMatch(/traffic policy Local: only endpoints on this node are used \(local-/);
    const without = (await nft(`${NODE}:3003`, EXTERNAL)).json;
    expect(without.verdict).toBe('DROP');
    expect(without.verdictBy).toMatchObject({ chain: 'nodeport-endpoints-check', comment: 'ns1/remote-only:p80 (@no-endpoint-nodeports)' });
    expect(without.service).toMatchObject({ servicePort: 'ns1/remote-only:p80', via: 'NodePort' });
    expect(without.reasons[0]).toContain('externalTrafficPolicy Local and no endpoint on node test-node');
  });
  it('sessionAffinity ClientIP and a Service without endpoints', async () => {
    const sticky = (await nft('172.30.0.44:80', POD)).json;
    expect(eps(sticky)).toEqual([
      ['10.180.0.1:80', 0.5, false],
      ['10.180.1.1:80', 0.5, false],
    ]);
    expect(sticky.affinity?.seconds).toBe(600);
    const empty = (await nft('172.30.0.45:80', POD)).json;
    expect(empty.verdict).toBe('REJECT');
    expect(empty.verdictBy).toMatchObject({ chain: 'service-endpoints-check', target: 'REJECT' });
    expect(empty.reasons[0]).toContain('no ready endpoints');
  });
  it('a port a ClusterIP does not serve is rejected (unlike iptables mode, which lets it through)', async () => {
    expect((await nft('172.30.0.41:81', POD)).json).toMatchObject({ verdict: 'REJECT', verdictBy: { chain: 'cluster-ips-check' } });
    expect((await trace('172.30.0.41:81', POD)).json.verdict).toBe('ACCEPT');
  });
});

describe('traceConnection', () => {
  it('gives statistic branches their probabilities and the shared path once', () => {
    const t = traceConnection(renderFullSync(objects, testConfig()), { src: POD, dst: '172.30.0.41', proto: 'tcp', dport: 80, nodeIPs: [NODE] });
    expect(t.endpoints.reduce((a, e) => a + e.probability, 0)).toBeCloseTo(1, 9);
    for (const e of t.endpoints) {
      expect(e.path.slice(0, t.path.length)).toEqual(t.path);
      expect(e.path.at(-1)).toMatchObject({ target: 'DNAT' });
      expect(e.path.at(-2)!.target).toMatch(/^KUBE-SEP-/);
    }
  });
  it('traces hairpin traffic (an endpoint to its own Service) as masqueraded by its KUBE-SEP- chain', () => {
    const t = traceConnection(renderFullSync(objects, testConfig()), { src: '10.180.0.1', dst: '172.30.0.41', proto: 'tcp', dport: 80, nodeIPs: [NODE] });
    const self = t.endpoints.find((e) => e.endpoint === '10.180.0.1:80')!;
    expect(self.masquerade).toBe(true);
    expect(self.masqueradeBy!.chain).toMatch(/^KUBE-SEP-/);
    expect(t.endpoints.find((e) => e.endpoint === '10.180.1.1:80')!.masquerade).toBe(false);
  });
});

describe('the iptables and nftables tracers agree on every served address', () => {
  for (const [name, objs] of [['trace fixture', objects], ['overall.json', loadObjects('overall.json')]] as const) {
    it(name, () => {
      const ipt = renderFullSync(objs, testConfig());
      const nft = renderFullSync(objs, testConfig({ mode: 'nftables' }));
      const dests: [string, number][] = [[NODE, 3001], [NODE, 3002], [NODE, 3003]];
      for (const o of objs as { kind?: string; spec?: { clusterIP?: string; externalIPs?: string[] } }[])
        if (o.kind === 'Service') for (const ip of [o.spec!.clusterIP!, ...(o.spec!.externalIPs ?? [])]) dests.push([ip, 80]);
      dests.push(['1.2.3.4', 80], ['5.6.7.8', 80]);
      const short = (t: ReturnType<typeof traceConnection>) => (t.verdict === 'DNAT' ? t.endpoints.map((e) => `${e.endpoint}@${e.probability.toFixed(4)}${e.masquerade ? '+masq' : ''}`).join(',') : t.verdict);
      let compared = 0;
      for (const src of [POD, EXTERNAL, NODE, '10.180.0.1', '203.0.113.5', '198.51.100.7'])
        for (const [dst, dport] of dests) {
          const p = { src, dst, dport, proto: 'tcp', nodeIPs: [NODE] };
          expect(short(traceNftConnection(nft, p)), `${src} -> ${dst}:${dport}`).toBe(short(traceConnection(ipt, p)));
          compared++;
        }
      expect(compared).toBeGreaterThan(40);
    });
  }
});
