import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { encodeReply, ipv6Bytes, MalformedQuery, parseQuery, TYPE, type RR } from '../../../src/dns/wire.js';
import { replyTtls } from '../../../src/dns/cache.js';

function query(name: string, type: dnsPacket.RecordType, edns?: number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: edns, flags: dnsPacket.DNSSEC_OK, options: [] } as unknown as dnsPacket.Answer] : [],
  });
}

describe('parseQuery', () => {
  it('reads the question and EDNS0', () => {
    const q = parseQuery(query('Svc.NS.svc.cluster.local', 'SRV', 1232));
    expect(q).toMatchObject({ id: 4242, qname: 'Svc.NS.svc.cluster.local', qtype: TYPE.SRV, qclass: 1, hasOpt: true, udpSize: 1232, dnssecOk: true, ednsVersion: 0 });
    expect(parseQuery(query('a.b', 'A'))).toMatchObject({ hasOpt: false, udpSize: 512 });
  });
  const bad: [string, number[]][] = [
    ['short header', [1, 2, 3]],
    ['no question', [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['two questions', [0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 97, 0, 0, 1, 0, 1, 1, 98, 0, 0, 1, 0, 1]],
    ['label past the end', [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 97, 98]],
    ['compression pointer in question', [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]],
    ['truncated type', [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 0, 0]],
    ['a response', [0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 0, 0, 1, 0, 1]],
  ];
  for (const [name, bytes] of bad) it(`rejects ${name}`, () => expect(() => parseQuery(Buffer.from(bytes))).toThrow(MalformedQuery));
});

describe('encodeReply', () => {
  const many: RR[] = Array.from({ length: 60 }, (_, i) => ({ name: 'big.testns.svc.cluster.local', type: 'A', ttl: 5, data: `172.1.0.${i + 1}` }));
  it('echoes the question bytes, compresses names and decodes cleanly', () => {
    const raw = query('BIG.testns.svc.cluster.local', 'A');
    const out = dnsPacket.decode(encodeReply(raw, parseQuery(raw), { rcode: 0, aa: true, answer: many.slice(0, 2), authority: [], additional: [] }));
    expect(out.questions![0]!.name).toBe('BIG.testns.svc.cluster.local');
    expect(out.flag_aa).toBe(true);
    expect(out.flag_rd).toBe(true);
    expect(out.id).toBe(4242);
    expect(out.answers!.map((a) => (a as unknown as { data: string }).data)).toEqual(['172.1.0.1', '172.1.0.2']);
  });
  it('truncates to the limit with TC set, and fits in full with a larger one', () => {
    const raw = query('big.testns.svc.cluster.local', 'A');
    const small = encodeReply(raw, parseQuery(raw), { rcode: 0, aa: true, answer: many, authority: [], additional: [] }, 512);
    expect(small.length).toBeLessThanOrEqual(512);
    const d = dnsPacket.decode(small);
    expect(d.flag_tc).toBe(true);
    expect(d.answers!.length).toBeLessThan(60);
    const full = dnsPacket.decode(encodeReply(raw, parseQuery(raw), { rcode: 0, aa: true, answer: many, authority: [], additional: [] }, 65535));
    expect(full.flag_tc).toBe(false);
    expect(full.answers).toHaveLength(60);
  });
  it('drops only additional records without setting TC', () => {
    const raw = query('x.cluster.local', 'SRV');
    const d = dnsPacket.decode(encodeReply(raw, parseQuery(raw), { rcode: 0, aa: true, answer: many.slice(0, 1), authority: [], additional: many }, 512));
    expect(d.flag_tc).toBe(false);
    expect(d.answers).toHaveLength(1);
  });
  it('adds an OPT with the client size when the query had one', () => {
    const raw = query('x.cluster.local', 'A', 1232);
    const d = dnsPacket.decode(encodeReply(raw, parseQuery(raw), { rcode: 3, aa: true, answer: [], authority: [], additional: [] }));
    expect((d as unknown as { rcode: string }).rcode).toBe('NXDOMAIN');
    expect(d.additionals!.find((a) => a.type === 'OPT')).toMatchObject({ udpPayloadSize: 1232 });
  });
  it('encodes IPv6 addresses', () => {
    expect(ipv6Bytes('2001:db8::1').toString('hex')).toBe('20010db8000000000000000000000001');
    expect(ipv6Bytes('::ffff:1.2.3.4').toString('hex')).toBe('00000000000000000000ffff01020304');
  });
});

describe('replyTtls', () => {
  it('finds every TTL and the SOA minimum of a negative answer', () => {
    const reply = dnsPacket.encode({
      type: 'response',
      id: 1,
      flags: 3,
      questions: [{ name: 'nope.example.com', type: 'A' }],
      authorities: [{ name: 'example.com', type: 'SOA', ttl: 900, data: { mname: 'a', rname: 'b', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 60 } }],
    });
    const t = replyTtls(reply);
    expect(t.offsets).toHaveLength(1);
    expect(t.soaMinimum).toBe(60);
    expect(reply.readUInt32BE(t.offsets[0]!)).toBe(900);
  });
});
