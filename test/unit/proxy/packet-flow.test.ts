// Behaviour of the rendered iptables rules, traced packet by packet (the traffic-policy and
// masquerade matrix of kube-proxy's TestInternalExternalMasquerade, plus no-endpoint verdicts).
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/api/types.js';
import { renderFullSync } from '../../../src/proxy/render.js';
import { loadObjects, testConfig } from './helpers.js';
import { tracePacket } from '../../../src/proxy/trace.js';

const NODE = '192.168.0.2';
const POD = '10.0.0.2';
const EXTERNAL = '203.0.113.10';
const BLOCKED = '198.51.100.7';

function policySvc(name: string, ip: string, np: number, spec: Record<string, unknown>): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'ns1', name }, spec: { type: 'NodePort', clusterIP: ip, ports: [{ name: 'p80', port: 80, nodePort: np }], ...spec } } as KubeObject,
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'ns1', name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.180.0.1'], nodeName: 'test-node' },
        { addresses: ['10.180.1.1'], nodeName: 'remote' },
      ],
      ports: [{ name: 'p80', port: 80, protocol: 'TCP' }],
    } as KubeObject,
  ];
}

const objs = [
  ...policySvc('svc1', '172.30.0.41', 3001, {}),
  ...policySvc('svc2', '172.30.0.42', 3002, { externalTrafficPolicy: 'Local' }),
  ...policySvc('svc3', '172.30.0.43', 3003, { internalTrafficPolicy: 'Local' }),
];
const ALL = '10.180.0.1:80, 10.180.1.1:80';
const LOCAL = '10.180.0.1:80';

describe('packet flows through the iptables rules', () => {
  const text = renderFullSync(objs, testConfig());
  const trace = (src: string, dst: string, dport: number, proto = 'tcp') => tracePacket(text, { src, dst, dport, proto, nodeIPs: [NODE] });
  const cases: [string, string, string, number, string, boolean][] = [
    ['pod to ClusterIP (Cluster)', POD, '172.30.0.41', 80, ALL, false],
    ['pod to NodePort (Cluster)', POD, NODE, 3001, ALL, true],
    ['external to NodePort (Cluster)', EXTERNAL, NODE, 3001, ALL, true],
    ['node to ClusterIP', NODE, '172.30.0.41', 80, ALL, true],
    ['pod to ClusterIP (eTP Local)', POD, '172.30.0.42', 80, ALL, false],
    ['pod to NodePort (eTP Local) is short-circuited', POD, NODE, 3002, ALL, false],
    ['external to NodePort (eTP Local) keeps the source', EXTERNAL, NODE, 3002, LOCAL, false],
    ['node to NodePort (eTP Local)', NODE, NODE, 3002, ALL, true],
    ['pod to ClusterIP (iTP Local)', POD, '172.30.0.43', 80, LOCAL, false],
    ['external to ClusterIP (iTP Local)', EXTERNAL, '172.30.0.43', 80, LOCAL, true],
    ['external to NodePort (iTP Local)', EXTERNAL, NODE, 3003, ALL, true],
  ];
  for (const [name, src, dst, port, output, masq] of cases) {
    it(name, () => {
      expect(trace(src, dst, port)).toEqual({ output, masq });
    });
  }
  it('a protocol the service does not serve is not captured', () => {
    expect(trace(POD, '172.30.0.41', 80, 'udp').output).toBe('ACCEPT');
  });
});

describe('no-endpoint verdicts and source ranges', () => {
  const text = renderFullSync(loadObjects('overall.json'), testConfig());
  const trace = (src: string, dst: string, dport: number) => tracePacket(text, { src, dst, dport, proto: 'tcp', nodeIPs: [NODE] });
  it('REJECTs a ClusterIP with no endpoints', () => {
    expect(trace(POD, '172.30.0.46', 80).output).toBe('REJECT');
  });
  it('DROPs external traffic to an eTP Local service without local endpoints, but short-circuits pods', () => {
    expect(trace(EXTERNAL, NODE, 3001).output).toBe('DROP');
    expect(trace(EXTERNAL, '1.2.3.4', 80).output).toBe('DROP');
    expect(trace(POD, NODE, 3001)).toEqual({ output: '10.180.0.2:80', masq: false });
  });
  it('applies loadBalancerSourceRanges to the LB IP only', () => {
    expect(trace('203.0.113.5', '5.6.7.8', 80)).toEqual({ output: '10.180.0.3:80', masq: true });
    expect(trace(BLOCKED, '5.6.7.8', 80).output).toBe('DROP');
    expect(trace(BLOCKED, NODE, 3002)).toEqual({ output: '10.180.0.3:80', masq: true });
  });
  it('sends external IPs through the EXT chain', () => {
    expect(trace(EXTERNAL, '192.168.99.33', 80)).toEqual({ output: '10.180.0.4:80, 10.180.0.5:80', masq: true });
  });
});
