// ClusterDns assembled from a Corefile and any InformerFactory, queried over loopback UDP.
import dnsPacket from 'dns-packet';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FileInformerFactory } from '../../../src/client/file-informers.js';
import { parseConfig } from '../../../src/dns/config.js';
import { ClusterDns } from '../../../src/dns/setup.js';
import { freePort, sendRaw, TestUpstream } from '../../e2e/dns/dig.js';

const FIXTURE = fileURLToPath(new URL('./fixture.yaml', import.meta.url));
const running: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
});

type Decoded = dnsPacket.DecodedPacket & { rcode: string; answers?: { data: unknown }[] };

async function ask(port: number, name: string, type: dnsPacket.RecordType): Promise<Decoded> {
  const reply = await sendRaw(port, dnsPacket.encode({ type: 'query', id: 3, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type }] }));
  expect(reply).toBeDefined();
  return dnsPacket.decode(reply!) as Decoded;
}

describe('ClusterDns', () => {
  it('routes each query to the server block with the longest matching zone', async () => {
    const upstream = new TestUpstream();
    await upstream.start();
    running.push(() => upstream.stop());
    const port = await freePort();
    const config = parseConfig(`cluster.local:${port} {\n  kubernetes\n}\nexample.net:${port} {\n  forward . 127.0.0.1:${upstream.port}\n}\n`);
    const dns = new ClusterDns({ config, informers: new FileInformerFactory(FIXTURE), bind: { host: '127.0.0.1' }, nsAddrs: ['127.0.0.1'] });
    await dns.start();
    running.push(() => dns.stop());
    await dns.opts.informers.start();
    expect(dns.ready()).toBe(true);
    const a = await ask(port, 'svc1.testns.svc.cluster.local', 'A');
    expect(a.answers!.map((r) => (r as unknown as { data: string }).data)).toEqual(['10.0.0.1']);
    const f = await ask(port, 'www.example.net', 'A');
    expect(f.answers!.map((r) => (r as unknown as { data: string }).data)).toEqual(['192.0.2.1']);
    // No block for this zone: REFUSED, as CoreDNS answers names no server block serves.
    expect((await ask(port, 'www.example.org', 'A')).rcode).toBe('REFUSED');
    // Class CH is not served.
    const ch = await sendRaw(port, dnsPacket.encode({ type: 'query', id: 4, questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }] }));
    expect((dnsPacket.decode(ch!) as Decoded).rcode).toBe('REFUSED');
    // EDNS version 1: BADVERS (extended rcode 16)
    const q = dnsPacket.encode({ type: 'query', id: 5, questions: [{ name: 'svc1.testns.svc.cluster.local', type: 'A' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 1, flags: 0, options: [] } as unknown as dnsPacket.Answer] });
    const bad = dnsPacket.decode((await sendRaw(port, q))!);
    expect((bad.additionals![0] as unknown as { extendedRcode: number }).extendedRcode).toBe(1);
    expect(upstream.queries).toEqual(['www.example.net A']);
  });
});
