// The proxy's informer transforms keep everything its rules depend on: every fixture renders
// byte-identical rules from trimmed objects, in every mode, and the trimmed objects are smaller.
import { describe, expect, it } from 'vitest';
import type { EndpointSlice, KubeObject, Node, Service } from '../../../src/api/types.js';
import { renderFullSync } from '../../../src/proxy/render.js';
import { trimEndpointSlice, trimNode, trimService } from '../../../src/proxy/trim.js';
import { loadObjects, testConfig } from './helpers.js';

function trim(o: KubeObject): KubeObject {
  if (o.kind === 'Service') return trimService(o as Service);
  if (o.kind === 'EndpointSlice') return trimEndpointSlice(o as EndpointSlice);
  if (o.kind === 'Node') return trimNode(o as Node);
  return o;
}

describe('proxy informer transforms', () => {
  for (const fixture of ['overall.json', 'semantics.json']) {
    for (const mode of ['iptables', 'nftables', 'ipvs'] as const) {
      it(`${fixture} renders the same ${mode} rules from trimmed objects`, () => {
        const objs = loadObjects(fixture);
        const cfg = testConfig({ mode });
        expect(renderFullSync(objs.map(trim), cfg)).toBe(renderFullSync(objs, cfg));
      });
    }
  }
  it('drops what the proxy never reads', () => {
    const slice = trimEndpointSlice({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'ns', name: 's-1', labels: { 'kubernetes.io/service-name': 's', 'endpointslice.kubernetes.io/managed-by': 'x' }, managedFields: [{ manager: 'kcm' }] } as EndpointSlice['metadata'],
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p' } } as never],
      ports: [{ name: 'http', port: 80, protocol: 'TCP', appProtocol: 'http' } as NonNullable<EndpointSlice['ports']>[number]],
    });
    expect(slice).toEqual({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'ns', name: 's-1', labels: { 'kubernetes.io/service-name': 's' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'n1' }],
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    });
  });
});
