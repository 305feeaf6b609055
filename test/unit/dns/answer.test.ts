import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { answer, defaultKubernetesOptions, type KubernetesOptions } from '../../../src/dns/answer.js';
import { RecordIndex } from '../../../src/dns/records.js';
import { rcodeName, rrText, TYPE } from '../../../src/dns/wire.js';
import type { EndpointSlice, KubeObject, Namespace, Pod, Service } from '../../../src/api/types.js';

const SERIAL = 1_700_000_000;
const fixture = readFileSync(fileURLToPath(new URL('./fixture.yaml', import.meta.url)), 'utf8')
  .split(/^---$/m)
  .map((d) => parse(d) as KubeObject & { kind: string });

function buildIndex(opts: Partial<KubernetesOptions> = {}): RecordIndex {
  const index = new RecordIndex({ endpointPodNames: opts.endpointPodNames, pods: opts.pods === 'verified' });
  for (const o of fixture) {
    if (o.kind === 'Namespace') index.upsertNamespace(o as Namespace);
    if (o.kind === 'Service') index.upsertService(o as Service);
    if (o.kind === 'EndpointSlice') index.upsertEndpointSlice(o as EndpointSlice);
    if (o.kind === 'Pod') index.upsertPod(o as Pod);
  }
  index.serial = SERIAL;
  return index;
}

interface DnsCase {
  qname: string;
  qtype: keyof typeof TYPE;
  rcode: string;
  answer?: string[];
  ns?: string[];
  extra?: string[];
}

const Z = 'cluster.local';
const soa = (zone = Z, ttl = 5) => `${zone}.\t${ttl}\tIN\tSOA\tns.dns.${zone}. hostmaster.${zone}. ${SERIAL} 7200 1800 86400 ${ttl}`;
const rr = (name: string, ttl: number, type: string, data: string) => `${name}.\t${ttl}\tIN\t${type}\t${data}`;

function run(opts: Partial<KubernetesOptions>, cases: DnsCase[], synced = true): void {
  const o: KubernetesOptions = { ...defaultKubernetesOptions(), zones: [Z, 'in-addr.arpa', 'ip6.arpa'], ...opts };
  const index = buildIndex(o);
  for (const c of cases) {
    it(`${c.qname} ${c.qtype} → ${c.rcode}`, () => {
      const a = answer({ opts: o, index, synced, nsAddrs: ['10.96.0.10'] }, { qname: c.qname, qtype: TYPE[c.qtype] });
      expect(a.kind).toBe('answer');
      if (a.kind !== 'answer') return;
      expect(rcodeName(a.msg.rcode)).toBe(c.rcode);
      expect(a.msg.aa).toBe(true);
      expect(a.msg.answer.map(rrText)).toEqual(c.answer ?? []);
      expect(a.msg.authority.map(rrText)).toEqual(c.ns ?? []);
      expect(a.msg.additional.map(rrText)).toEqual(c.extra ?? []);
    });
  }
}

describe('cluster answers (default options)', () => {
  run({}, [
    // ClusterIP with named ports
    { qname: 'svc1.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('svc1.testns.svc.cluster.local', 5, 'A', '10.0.0.1')] },
    { qname: 'SvC1.TestNS.svc.Cluster.Local', qtype: 'A', rcode: 'NOERROR', answer: [rr('SvC1.TestNS.svc.Cluster.Local', 5, 'A', '10.0.0.1')] },
    { qname: 'svc1.testns.svc.cluster.local', qtype: 'AAAA', rcode: 'NOERROR', ns: [soa()] },
    { qname: 'svc1.testns.svc.cluster.local', qtype: 'TXT', rcode: 'NOERROR', ns: [soa()] },
    { qname: 'svc1.testns.svc.cluster.local', qtype: 'HINFO', rcode: 'NOERROR', ns: [soa()] },
    {
      qname: '_http._tcp.svc1.testns.svc.cluster.local',
      qtype: 'SRV',
      rcode: 'NOERROR',
      answer: [rr('_http._tcp.svc1.testns.svc.cluster.local', 5, 'SRV', '0 100 80 svc1.testns.svc.cluster.local.')],
      extra: [rr('svc1.testns.svc.cluster.local', 5, 'A', '10.0.0.1')],
    },
    {
      qname: '_http._tcp.svc1.testns.svc.CLUSTER.local',
      qtype: 'SRV',
      rcode: 'NOERROR',
      answer: [rr('_http._tcp.svc1.testns.svc.CLUSTER.local', 5, 'SRV', '0 100 80 svc1.testns.svc.CLUSTER.local.')],
      extra: [rr('svc1.testns.svc.CLUSTER.local', 5, 'A', '10.0.0.1')],
    },
    {
      qname: 'svc1.testns.svc.cluster.local',
      qtype: 'SRV',
      rcode: 'NOERROR',
      answer: [rr('svc1.testns.svc.cluster.local', 5, 'SRV', '0 50 80 svc1.testns.svc.cluster.local.'), rr('svc1.testns.svc.cluster.local', 5, 'SRV', '0 50 53 svc1.testns.svc.cluster.local.')],
      extra: [rr('svc1.testns.svc.cluster.local', 5, 'A', '10.0.0.1')],
    },
    { qname: '_http._udp.svc1.testns.svc.cluster.local', qtype: 'SRV', rcode: 'NXDOMAIN', ns: [soa()] },
    { qname: '_nope._tcp.svc1.testns.svc.cluster.local', qtype: 'SRV', rcode: 'NXDOMAIN', ns: [soa()] },
    // ClusterIP with an unnamed port: address, and SRV only for the bare name
    { qname: 'svc-unnamed.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('svc-unnamed.testns.svc.cluster.local', 5, 'A', '10.0.0.2')] },
    { qname: 'svc-unnamed.testns.svc.cluster.local', qtype: 'SRV', rcode: 'NOERROR', answer: [rr('svc-unnamed.testns.svc.cluster.local', 5, 'SRV', '0 100 80 svc-unnamed.testns.svc.cluster.local.')], extra: [rr('svc-unnamed.testns.svc.cluster.local', 5, 'A', '10.0.0.2')] },
    { qname: '_http._tcp.svc-unnamed.testns.svc.cluster.local', qtype: 'SRV', rcode: 'NXDOMAIN', ns: [soa()] },
    // ClusterIP without endpoints still answers
    { qname: 'svc-empty.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('svc-empty.testns.svc.cluster.local', 5, 'A', '10.0.0.3')] },
    // endpoint names of a ClusterIP service
    { qname: '172-0-0-1.svc1.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('172-0-0-1.svc1.testns.svc.cluster.local', 5, 'A', '172.0.0.1')] },
    // headless: ready endpoints only; hostname, else dashed IP
    { qname: 'hdls1.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('hdls1.testns.svc.cluster.local', 5, 'A', '172.0.0.2'), rr('hdls1.testns.svc.cluster.local', 5, 'A', '172.0.0.3')] },
    { qname: 'web-0.hdls1.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('web-0.hdls1.testns.svc.cluster.local', 5, 'A', '172.0.0.2')] },
    { qname: '172-0-0-3.hdls1.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('172-0-0-3.hdls1.testns.svc.cluster.local', 5, 'A', '172.0.0.3')] },
    { qname: '172-0-0-4.hdls1.testns.svc.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    { qname: 'hdls1-pod-3.hdls1.testns.svc.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    {
      qname: '_http._tcp.hdls1.testns.svc.cluster.local',
      qtype: 'SRV',
      rcode: 'NOERROR',
      answer: [rr('_http._tcp.hdls1.testns.svc.cluster.local', 5, 'SRV', '0 50 80 web-0.hdls1.testns.svc.cluster.local.'), rr('_http._tcp.hdls1.testns.svc.cluster.local', 5, 'SRV', '0 50 80 172-0-0-3.hdls1.testns.svc.cluster.local.')],
      extra: [rr('web-0.hdls1.testns.svc.cluster.local', 5, 'A', '172.0.0.2'), rr('172-0-0-3.hdls1.testns.svc.cluster.local', 5, 'A', '172.0.0.3')],
    },
    // publishNotReadyAddresses: the controller marks the endpoint ready
    { qname: 'hdls-pub.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('hdls-pub.testns.svc.cluster.local', 5, 'A', '172.0.1.1')] },
    { qname: 'starting.hdls-pub.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('starting.hdls-pub.testns.svc.cluster.local', 5, 'A', '172.0.1.1')] },
    // headless with no ready endpoints: NXDOMAIN (spec 2.4.1)
    { qname: 'hdls-notready.testns.svc.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    // IPv6 headless: dashed v6 labels
    { qname: 'hdls6.testns.svc.cluster.local', qtype: 'AAAA', rcode: 'NOERROR', answer: [rr('hdls6.testns.svc.cluster.local', 5, 'AAAA', '2001:db8::1'), rr('hdls6.testns.svc.cluster.local', 5, 'AAAA', '2001:db8::2')] },
    { qname: 'hdls6.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', ns: [soa()] },
    { qname: '2001-db8--1.hdls6.testns.svc.cluster.local', qtype: 'AAAA', rcode: 'NOERROR', answer: [rr('2001-db8--1.hdls6.testns.svc.cluster.local', 5, 'AAAA', '2001:db8::1')] },
    { qname: 'six.hdls6.testns.svc.cluster.local', qtype: 'AAAA', rcode: 'NOERROR', answer: [rr('six.hdls6.testns.svc.cluster.local', 5, 'AAAA', '2001:db8::2')] },
    // dual-stack ClusterIP
    { qname: 'dual.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('dual.testns.svc.cluster.local', 5, 'A', '10.0.0.10')] },
    { qname: 'dual.testns.svc.cluster.local', qtype: 'AAAA', rcode: 'NOERROR', answer: [rr('dual.testns.svc.cluster.local', 5, 'AAAA', 'fd00::10')] },
    {
      qname: '_http._tcp.dual.testns.svc.cluster.local',
      qtype: 'SRV',
      rcode: 'NOERROR',
      answer: [rr('_http._tcp.dual.testns.svc.cluster.local', 5, 'SRV', '0 50 80 dual.testns.svc.cluster.local.')],
      extra: [rr('dual.testns.svc.cluster.local', 5, 'A', '10.0.0.10'), rr('dual.testns.svc.cluster.local', 5, 'AAAA', 'fd00::10')],
    },
    // ExternalName
    { qname: 'ext.testns.svc.cluster.local', qtype: 'CNAME', rcode: 'NOERROR', answer: [rr('ext.testns.svc.cluster.local', 5, 'CNAME', 'example.net.')] },
    { qname: 'ext.testns.svc.cluster.local', qtype: 'SRV', rcode: 'NOERROR', ns: [soa()] },
    { qname: 'foo.ext.testns.svc.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    // names that do not exist, and names that exist without data
    { qname: 'nope.testns.svc.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    { qname: 'svc1.nope.svc.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    { qname: 'testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', ns: [soa()] },
    { qname: 'nope.svc.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    { qname: 'svc.cluster.local', qtype: 'A', rcode: 'NOERROR', ns: [soa()] },
    { qname: 'pod.cluster.local', qtype: 'A', rcode: 'NOERROR', ns: [soa()] },
    { qname: 'cluster.local', qtype: 'A', rcode: 'NOERROR', ns: [soa()] },
    { qname: 'Cluster.Local', qtype: 'AAAA', rcode: 'NOERROR', ns: [soa('Cluster.Local')] },
    { qname: 'foo.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    { qname: 'a.b.c.svc1.testns.svc.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    { qname: 'svc1.testns.svc.cluster.local', qtype: 'SOA', rcode: 'NOERROR', ns: [soa()] },
    // apex
    { qname: 'cluster.local', qtype: 'SOA', rcode: 'NOERROR', answer: [soa()] },
    { qname: 'cluster.local', qtype: 'NS', rcode: 'NOERROR', answer: [rr('cluster.local', 5, 'NS', 'ns.dns.cluster.local.')], extra: [rr('ns.dns.cluster.local', 5, 'A', '10.96.0.10')] },
    { qname: 'ns.dns.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('ns.dns.cluster.local', 5, 'A', '10.96.0.10')] },
    // dns-version (TXT only; other types NXDOMAIN as CoreDNS)
    { qname: 'dns-version.cluster.local', qtype: 'TXT', rcode: 'NOERROR', answer: [rr('dns-version.cluster.local', 28800, 'TXT', '"1.1.0"')] },
    { qname: 'dns-version.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    // PTR: cluster IPs, then endpoint names
    { qname: '1.0.0.10.in-addr.arpa', qtype: 'PTR', rcode: 'NOERROR', answer: [rr('1.0.0.10.in-addr.arpa', 5, 'PTR', 'svc1.testns.svc.cluster.local.')] },
    { qname: '2.0.0.172.in-addr.arpa', qtype: 'PTR', rcode: 'NOERROR', answer: [rr('2.0.0.172.in-addr.arpa', 5, 'PTR', 'web-0.hdls1.testns.svc.cluster.local.')] },
    {
      qname: '0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa',
      qtype: 'PTR',
      rcode: 'NOERROR',
      answer: [rr('0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa', 5, 'PTR', 'dual.testns.svc.cluster.local.')],
    },
    { qname: '9.9.9.10.in-addr.arpa', qtype: 'PTR', rcode: 'NXDOMAIN', ns: [soa('in-addr.arpa')] },
    // pods disabled (default)
    { qname: '10-244-0-5.testns.pod.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    { qname: 'testns.pod.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    // zone transfer is refused
  ]);
  it('AXFR is REFUSED', () => {
    const o = { ...defaultKubernetesOptions(), zones: [Z] };
    const a = answer({ opts: o, index: buildIndex(), synced: true, nsAddrs: [] }, { qname: Z, qtype: TYPE.AXFR });
    expect(a.kind === 'answer' && rcodeName(a.msg.rcode)).toBe('REFUSED');
  });
  it('names outside the zones go to the next plugin', () => {
    const o = { ...defaultKubernetesOptions(), zones: [Z] };
    expect(answer({ opts: o, index: buildIndex(), synced: true, nsAddrs: [] }, { qname: 'example.com', qtype: TYPE.A }).kind).toBe('next');
  });
  it('ExternalName A asks for the target to be chased', () => {
    const o = { ...defaultKubernetesOptions(), zones: [Z] };
    const a = answer({ opts: o, index: buildIndex(), synced: true, nsAddrs: [] }, { qname: 'ext.testns.svc.cluster.local', qtype: TYPE.A });
    expect(a.kind === 'answer' && a.chase).toEqual({ target: 'example.net', qtype: TYPE.A });
  });
});

describe('ttl 30 and pods insecure', () => {
  run({ ttl: 30, pods: 'insecure' }, [
    { qname: 'svc1.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('svc1.testns.svc.cluster.local', 30, 'A', '10.0.0.1')] },
    { qname: 'nope.testns.svc.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa(Z, 30)] },
    { qname: '10-244-0-5.testns.pod.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('10-244-0-5.testns.pod.cluster.local', 30, 'A', '10.244.0.5')] },
    { qname: '10-244-0-99.testns.pod.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('10-244-0-99.testns.pod.cluster.local', 30, 'A', '10.244.0.99')] },
    { qname: '10-244-0-5.nope.pod.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa(Z, 30)] },
    { qname: 'testns.pod.cluster.local', qtype: 'A', rcode: 'NOERROR', ns: [soa(Z, 30)] },
    { qname: '10-244-0-5.testns.pod.cluster.local', qtype: 'AAAA', rcode: 'NOERROR', ns: [soa(Z, 30)] },
  ]);
});

describe('pods verified', () => {
  run({ pods: 'verified' }, [
    { qname: '10-244-0-5.testns.pod.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('10-244-0-5.testns.pod.cluster.local', 5, 'A', '10.244.0.5')] },
    { qname: '10-244-0-99.testns.pod.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
  ]);
});

describe('endpoint_pod_names', () => {
  run({ endpointPodNames: true }, [
    { qname: 'hdls1-pod-3.hdls1.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('hdls1-pod-3.hdls1.testns.svc.cluster.local', 5, 'A', '172.0.0.3')] },
    { qname: 'web-0.hdls1.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('web-0.hdls1.testns.svc.cluster.local', 5, 'A', '172.0.0.2')] },
  ]);
});

describe('ignore empty_service and namespaces', () => {
  run({ ignoreEmptyService: true, namespaces: ['testns'] }, [
    { qname: 'svc-empty.testns.svc.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
    { qname: 'svc1.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('svc1.testns.svc.cluster.local', 5, 'A', '10.0.0.1')] },
    { qname: 'kube-dns.kube-system.svc.cluster.local', qtype: 'A', rcode: 'NXDOMAIN', ns: [soa()] },
  ]);
});

describe('before the informers have synced', () => {
  run(
    {},
    [
      { qname: 'nope.testns.svc.cluster.local', qtype: 'A', rcode: 'SERVFAIL', ns: [soa()] },
      { qname: 'svc1.testns.svc.cluster.local', qtype: 'A', rcode: 'NOERROR', answer: [rr('svc1.testns.svc.cluster.local', 5, 'A', '10.0.0.1')] },
    ],
    false,
  );
});

describe('fallthrough', () => {
  it('hands NXDOMAINs in fallthrough zones to the next plugin', () => {
    const o = { ...defaultKubernetesOptions(), zones: [Z, 'in-addr.arpa'], fallthrough: ['in-addr.arpa'] };
    const ctx = { opts: o, index: buildIndex(), synced: true, nsAddrs: [] };
    expect(answer(ctx, { qname: '8.8.8.8.in-addr.arpa', qtype: TYPE.PTR }).kind).toBe('next');
    expect(answer(ctx, { qname: 'nope.testns.svc.cluster.local', qtype: TYPE.A }).kind).toBe('answer');
  });
});

describe('record index', () => {
  it('bumps generation only on DNS-visible changes', () => {
    const index = buildIndex();
    const g = index.generation;
    const svc = fixture.find((o) => o.kind === 'Service' && o.metadata.name === 'svc1') as Service;
    index.upsertService({ ...svc, metadata: { ...svc.metadata, annotations: { a: 'b' } } });
    expect(index.generation).toBe(g);
    index.upsertService({ ...svc, spec: { ...svc.spec, clusterIP: '10.0.0.99', clusterIPs: ['10.0.0.99'] } });
    expect(index.generation).toBe(g + 1);
    expect(index.clusterIPOwners('10.0.0.1')).toEqual([]);
    expect(index.clusterIPOwners('10.0.0.99').map((s) => s.name)).toEqual(['svc1']);
    index.deleteService(svc);
    expect(index.service('testns', 'svc1')).toBeUndefined();
  });

  it('keeps the reverse map current as slices change', () => {
    const index = buildIndex();
    const slice = fixture.find((o) => o.kind === 'EndpointSlice' && o.metadata.name === 'hdls1-1') as EndpointSlice;
    expect(index.endpointOwners('172.0.0.2')).toEqual([{ hostname: 'web-0', service: 'hdls1', namespace: 'testns' }]);
    const renamed = { ...slice, endpoints: slice.endpoints!.map((e) => (e.hostname === 'web-0' ? { ...e, hostname: 'web-1' } : e)) };
    index.upsertEndpointSlice(renamed);
    expect(index.endpointOwners('172.0.0.2')).toEqual([{ hostname: 'web-1', service: 'hdls1', namespace: 'testns' }]);
    index.deleteEndpointSlice(renamed);
    expect(index.endpointOwners('172.0.0.2')).toEqual([]);
    expect(index.endpoints('testns', 'hdls1')).toEqual([]);
  });
});
