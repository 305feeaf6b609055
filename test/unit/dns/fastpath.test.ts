import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_STORED, StoredAnswers } from '../../../src/dns/stored.js';
import { udpSender } from '../../../src/dns/udp-send.js';
import { onUdpDatagrams } from '../../../src/dns/udp-recv.js';

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

  it('patches an entry\'s own buffer for UDP, and hands it over on detach', () => {
    const t = new StoredAnswers();
    const q = query('svc.ns.svc.cluster.local', 1);
    t.set(q, replyTo(q, '10.0.0.1'), undefined);
    expect(t.find(query('other.ns.svc.cluster.local', 1))).toBe(-1);
    const e = t.find(query('svc.ns.svc.cluster.local', 0x1234));
    expect(e).toBeGreaterThanOrEqual(0);
    const first = t.patched(e, query('svc.ns.svc.cluster.local', 0x1234));
    expect(first.readUInt16BE(0)).toBe(0x1234);
    // Reused for the next query of the same entry...
    const again = t.patched(e, query('svc.ns.svc.cluster.local', 0x5678, { rd: false }));
    expect(again).toBe(first);
    expect(dnsPacket.decode(again)).toMatchObject({ id: 0x5678, flag_rd: false });
    // ...unless the caller took it: then its bytes stay as they were.
    t.detach(e);
    const third = t.patched(e, query('svc.ns.svc.cluster.local', 0x9abc));
    expect(third).not.toBe(first);
    expect(first.readUInt16BE(0)).toBe(0x5678);
    expect(dnsPacket.decode(third).answers![0]).toMatchObject({ type: 'A', data: '10.0.0.1' });
  });

  it('finds every entry after clears of a few and of many entries', () => {
    const t = new StoredAnswers();
    const fill = (n: number, ip: string): Buffer[] => {
      const qs = Array.from({ length: n }, (_, i) => query(`s${i}.ns${i % 7}.svc.cluster.local`, i & 0xffff));
      for (const q of qs) t.set(q, replyTo(q, ip), undefined);
      return qs;
    };
    for (const [n, ip] of [
      [10, '10.0.0.1'],
      [5000, '10.0.0.2'],
      [3, '10.0.0.3'],
    ] as const) {
      const qs = fill(n, ip);
      expect(t.size).toBe(n);
      for (const q of qs) expect(dnsPacket.decode(t.reply(q, 0)!.out).answers![0]).toMatchObject({ data: ip });
      // Setting the same question again keeps the first answer.
      t.set(qs[0]!, replyTo(qs[0]!, '10.9.9.9'), undefined);
      expect(t.size).toBe(n);
      t.clear();
      for (const q of qs) expect(t.find(q)).toBe(-1);
    }
  });

  it('stays bounded in bytes: big replies empty the table sooner', () => {
    const t = new StoredAnswers();
    const big = Buffer.alloc(40_000, 7);
    let last: Buffer | undefined;
    for (let i = 0; i < 1000; i++) {
      last = query(`big${i}.ns.svc.cluster.local`, i);
      t.set(last, Buffer.concat([last, big]), undefined);
    }
    expect(t.size).toBeLessThan(1000);
    expect(t.reply(last!, 0)!.out.length).toBe(last!.length + big.length);
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

describe('udpSender on the socket handle', () => {
  const sockets: dgram.Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  it('says the bytes are free once sent, and keeps sending after a failed send', async () => {
    const from = dgram.createSocket('udp4');
    const to = dgram.createSocket('udp4');
    sockets.push(from, to);
    await new Promise<void>((r) => from.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => to.bind(0, '127.0.0.1', r));
    const send = udpSender(from);
    expect(send.direct).toBe(true);
    const got: string[] = [];
    const all = new Promise<void>((r) =>
      to.on('message', (m: Buffer) => {
        got.push(m.toString());
        if (got.length === 200) r();
      }),
    );
    // Port 0 is refused by the kernel: dropped, as Socket#send without a callback does.
    expect(send(Buffer.from('x'), 0, '127.0.0.1')).toBe(true);
    const buf = Buffer.alloc(3);
    for (let i = 0; i < 200; i++) {
      buf.write(String(i).padStart(3, '0'));
      // true: the kernel has the bytes, so the same buffer is rewritten for the next reply.
      if (!send(buf, to.address().port, '127.0.0.1')) throw new Error('send was queued on an idle loopback socket');
    }
    await all;
    expect(got.sort()).toEqual(Array.from({ length: 200 }, (_, i) => String(i).padStart(3, '0')));
  });
});

describe('onUdpDatagrams', () => {
  const sockets: dgram.Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  for (const [type, host] of [
    ['udp4', '127.0.0.1'],
    ['udp6', '::1'],
  ] as const)
    for (const direct of [true, false])
      it(`delivers datagrams and their sender over ${type} (${direct ? 'socket handle' : "'message' event"})`, async () => {
        const server = dgram.createSocket(type);
        const client = dgram.createSocket(type);
        sockets.push(server, client);
        await new Promise<void>((r) => server.bind(0, host, r));
        await new Promise<void>((r) => client.bind(0, host, r));
        const got = new Promise<[string, string, number]>((r) => {
          expect(onUdpDatagrams(server, (msg, address, port) => r([msg.toString(), address, port]), { direct })).toBe(direct);
        });
        client.send('ping', server.address().port, host);
        expect(await got).toEqual(['ping', host, client.address().port]);
      });
});
