import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_STORED, StoredAnswers } from '../../../src/dns/stored.js';
import { udpSender } from '../../../src/dns/udp-send.js';

function query(name: string, id: number, opts: { rd?: boolean; cd?: boolean; edns?: number } = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: (opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED) | (opts.cd ? dnsPacket.CHECKING_DISABLED : 0),
    questions: [{ name, type: 'A' }],
    additionals: opts.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, flags: 0, options: [] } as unknown as dnsPacket.Answer] : [],
  });
}

function replyTo(q: Buffer, ip: string): Buffer {
  const d = dnsPacket.decode(q);
  return dnsPacket.encode({ type: 'response', id: d.id, flags: dnsPacket.AUTHORITATIVE_ANSWER | (d.flags ?? 0), questions: d.questions, answers: [{ name: d.questions![0]!.name, type: 'A', ttl: 5, data: ip }] });
}

describe('StoredAnswers', () => {
  it('answers the same question bytes with the stored reply, ID and RD/CD from the query', () => {
    const t = new StoredAnswers();
    const q1 = query('svc.ns.svc.cluster.local', 1);
    t.set(q1, replyTo(q1, '10.0.0.1'), undefined);
    const hit = t.reply(query('svc.ns.svc.cluster.local', 0xbeef, { rd: false, cd: true }), 0)!;
    const d = dnsPacket.decode(hit.out);
    expect(d.id).toBe(0xbeef);
    expect(d.flag_rd).toBe(false);
    expect(d.flag_cd).toBe(true);
    expect(d.flag_aa).toBe(true);
    expect(d.answers![0]).toMatchObject({ type: 'A', data: '10.0.0.1' });
  });

  it('leaves room for a TCP length prefix', () => {
    const t = new StoredAnswers();
    const q = query('a.b', 7);
    const r = replyTo(q, '10.0.0.2');
    t.set(q, r, undefined);
    const hit = t.reply(query('a.b', 9), 2)!;
    expect(hit.out.length).toBe(r.length + 2);
    expect(dnsPacket.decode(hit.out.subarray(2)).id).toBe(9);
  });

  it('tells apart names, letter case, EDNS sizes and header counts', () => {
    const t = new StoredAnswers();
    const q = query('svc.ns.svc.cluster.local', 1);
    t.set(q, replyTo(q, '10.0.0.1'), undefined);
    expect(t.reply(query('svc2.ns.svc.cluster.local', 1), 0)).toBeUndefined();
    expect(t.reply(query('SVC.ns.svc.cluster.local', 1), 0)).toBeUndefined();
    expect(t.reply(query('svc.ns.svc.cluster.local', 1, { edns: 1232 }), 0)).toBeUndefined();
    // Same bytes after the header but a different question count: never the stored reply.
    const twoQuestions = Buffer.from(q);
    twoQuestions.writeUInt16BE(2, 4);
    expect(t.reply(twoQuestions, 0)).toBeUndefined();
    const withTrailer = Buffer.concat([q, Buffer.from([0])]);
    expect(t.reply(withTrailer, 0)).toBeUndefined();
  });

  it('stays bounded and can be emptied', () => {
    const t = new StoredAnswers();
    for (let i = 0; i < MAX_STORED + 10; i++) {
      const q = query(`s${i}.ns.svc.cluster.local`, i & 0xffff);
      t.set(q, replyTo(q, '10.0.0.1'), undefined);
    }
    expect(t.size).toBeLessThanOrEqual(MAX_STORED);
    t.clear();
    expect(t.size).toBe(0);
    expect(t.reply(query(`s${MAX_STORED + 9}.ns.svc.cluster.local`, 1), 0)).toBeUndefined();
  });
});

describe('udpSender', () => {
  const sockets: dgram.Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  const bound = async (type: 'udp4' | 'udp6', host: string): Promise<dgram.Socket> => {
    const s = dgram.createSocket(type);
    sockets.push(s);
    await new Promise<void>((r) => s.bind(0, host, r));
    return s;
  };

  for (const [type, host] of [
    ['udp4', '127.0.0.1'],
    ['udp6', '::1'],
  ] as const)
    for (const direct of [true, false])
      it(`delivers replies over ${type} (${direct ? 'socket handle' : 'Socket#send'})`, async () => {
        const from = await bound(type, host);
        const to = await bound(type, host);
        const got = new Promise<Buffer>((r) => to.once('message', r));
        const send = udpSender(from, { direct });
        // On Node 20-24 the handle is found; a runtime without it falls back (and this says so).
        expect(send.direct).toBe(direct);
        send(Buffer.from('hello'), to.address().port, host);
        expect((await got).toString()).toBe('hello');
      });
});
