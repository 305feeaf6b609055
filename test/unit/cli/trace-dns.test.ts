// trace dns explanations over the DNS fixture (the answers themselves are cross-checked
// against a running server in test/e2e/observe/trace-dns.test.ts), and its user errors.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readObjectsFile } from '../../../src/api/objects-file.js';
import type { EndpointSlice, Namespace, Pod, Service } from '../../../src/api/types.js';
import { parseConfig } from '../../../src/dns/config.js';
import { defaultCorefile } from '../../../src/dns/corefile.js';
import { formatDnsTrace, searchCandidates, traceDns, type DnsObjects } from '../../../src/dns/trace.js';
import { TYPE } from '../../../src/dns/wire.js';
import { repoRoot, runKubeplane } from '../../helpers/cli.js';

const fixture = join(repoRoot, 'test/unit/dns/fixture.yaml');
const all = readObjectsFile(fixture);
const objects: DnsObjects = {
  services: all.filter((o) => o.kind === 'Service') as Service[],
  endpointSlices: all.filter((o) => o.kind === 'EndpointSlice') as EndpointSlice[],
  namespaces: all.filter((o) => o.kind === 'Namespace') as Namespace[],
  pods: all.filter((o) => o.kind === 'Pod') as Pod[],
};
const config = parseConfig(defaultCorefile({ port: 53, upstream: '127.0.0.1:5300' }));

async function one(name: string, qtype: number): Promise<string> {
  return formatDnsTrace(await traceDns(config, objects, { name, qtype }));
}

describe('trace dns', () => {
  it('names the Service and endpoints behind a headless answer', async () => {
    const out = await one('hdls1.testns.svc.cluster.local', TYPE.A);
    expect(out).toMatch(/parse: zone cluster.local, kind svc, namespace testns, service hdls1/);
    expect(out).toMatch(/from: Service testns\/hdls1: headless/);
    expect(out).toMatch(/from: ready endpoint web-0 /);
    expect(out).toMatch(/answer: hdls1\.testns\.svc\.cluster\.local\. 30 IN A 172\.0\.0\.2 {2}<- endpoint web-0 of Service testns\/hdls1/);
    expect(out).toMatch(/rcode: NOERROR/);
  });

  it('says why a name does not exist', async () => {
    expect(await one('svc1.nons.svc.cluster.local', TYPE.A)).toMatch(/why: namespace nons does not exist/);
    expect(await one('hdls-notready.testns.svc.cluster.local', TYPE.A)).toMatch(/why: a headless Service without ready endpoints has no records/);
    expect(await one('_nope._tcp.svc1.testns.svc.cluster.local', TYPE.SRV)).toMatch(/why: no Service port is named nope with protocol tcp/);
    expect(await one('svc1.testns.svc.cluster.local', TYPE.AAAA)).toMatch(/rcode: NOERROR[\s\S]*why: the Service has no IPv6 cluster IP/);
  });

  it('names the object behind each answer record', async () => {
    const t = await traceDns(config, objects, { name: 'ext-in.testns.svc.cluster.local', qtype: TYPE.A });
    expect(t.candidates[0]!.answerFrom).toEqual(['externalName of Service testns/ext-in', 'cluster IP of Service testns/svc1']);
  });

  it('follows an ExternalName to a target outside the zones through forward', async () => {
    const t = await traceDns(config, objects, { name: 'ext.testns.svc.cluster.local', qtype: TYPE.A });
    expect(t.candidates[0]!.answer).toEqual([{ name: 'ext.testns.svc.cluster.local', type: 'CNAME', ttl: 30, data: 'example.net' }]);
    expect(t.candidates[0]!.chasedUpstream).toBe('example.net');
  });

  it('expands the search path as a pod resolver does', () => {
    expect(searchCandidates('web', 'prod', 'cluster.local', 5)).toEqual(['web.prod.svc.cluster.local', 'web.svc.cluster.local', 'web.cluster.local', 'web']);
    expect(searchCandidates('a.b.c.d.e.f', 'prod', 'cluster.local', 5)[0]).toBe('a.b.c.d.e.f');
    expect(searchCandidates('web.', 'prod', 'cluster.local', 5)).toEqual(['web']);
  });

  const errors: [string[], RegExp][] = [
    [['trace', 'dns'], /trace dns needs a name/],
    [['trace', 'dns', 'a..b', '--objects', fixture], /invalid name/],
    [['trace', 'dns', 'a.b', '--type', 'BOGUS', '--objects', fixture], /unknown --type "BOGUS"/],
    [['trace', 'dns', 'a.b', '--objects', '/nonexistent/objects.yaml'], /nonexistent/],
    [['trace', 'dns', 'a.b', '--objects', fixture, '--corefile', '/nonexistent/Corefile'], /cannot read --corefile/],
  ];
  for (const [argv, want] of errors) {
    it(`user error: ${argv.slice(2).join(' ')}`, async () => {
      const r = await runKubeplane(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(want);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
});
