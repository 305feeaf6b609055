// The DNS request path under generated input (issue 7): garbage bytes, truncated messages,
// compression-pointer loops, huge section counts, EDNS option garbage, cluster names in any
// letter case. Every query goes through the server in-process exactly as a datagram does
// (the stored-answer fast path first, then the full path) and must end in a well-formed
// reply or a drop, never a throw or a hang. Seed: DNS_FUZZ_SEED, else fixed (printed).
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileInformerFactory } from '../../../src/client/file-informers.js';
import { parseConfig } from '../../../src/dns/config.js';
import type { DnsServer } from '../../../src/dns/server.js';
import { ClusterDns } from '../../../src/dns/setup.js';
import { MalformedQuery, parseQuery, RCODE, TYPE } from '../../../src/dns/wire.js';

const FIXTURE = fileURLToPath(new URL('./fixture.yaml', import.meta.url));
const SEED = Number(process.env.DNS_FUZZ_SEED ?? 20261123);
const CALL_TIMEOUT_MS = 2000;

const CLUSTER_NAMES = [
  'svc1.testns.svc.cluster.local',
  '_http._tcp.svc1.testns.svc.cluster.local',
  '_dns._udp.svc1.testns.svc.cluster.local',
  'hdls1.testns.svc.cluster.local',
  'web-0.hdls1.testns.svc.cluster.local',
  '_http._tcp.hdls1.testns.svc.cluster.local',
  'hdls-notready.testns.svc.cluster.local',
  'ext.testns.svc.cluster.local',
  'ext-in.testns.svc.cluster.local',
  'dual.testns.svc.cluster.local',
  'six.hdls6.testns.svc.cluster.local',
  'svc-unnamed.testns.svc.cluster.local',
  'missing.testns.svc.cluster.local',
  'testns.svc.cluster.local',
  'svc.cluster.local',
  'pod.cluster.local',
  '10-0-0-1.testns.pod.cluster.local',
  'a.b.c.d.e.f.svc1.testns.svc.cluster.local',
  'dns-version.cluster.local',
  'ns.dns.cluster.local',
  'cluster.local',
  '1.0.0.10.in-addr.arpa',
  '10.in-addr.arpa',
  'www.example.org',
  '',
];
const QTYPES = [TYPE.A, TYPE.AAAA, TYPE.SRV, TYPE.PTR, TYPE.TXT, TYPE.SOA, TYPE.NS, TYPE.CNAME, TYPE.MX, TYPE.ANY, TYPE.AXFR, TYPE.IXFR, TYPE.HINFO, TYPE.OPT, 0, 65535];

let dns: ClusterDns;
let server: DnsServer;

beforeAll(async () => {
  // Every plugin on the query path except forward (which would leave the process) and log.
  const config = parseConfig(
    `cluster.local in-addr.arpa ip6.arpa:53 {\n  errors\n  kubernetes cluster.local in-addr.arpa ip6.arpa {\n    pods insecure\n    fallthrough in-addr.arpa ip6.arpa\n  }\n  cache 30\n  loadbalance\n}\n.:53 {\n  errors\n  cache 30\n}\n`,
  );
  dns = new ClusterDns({ config, informers: new FileInformerFactory(FIXTURE), bind: { host: '127.0.0.1', port: 0 }, nsAddrs: ['127.0.0.1'], healthAddr: '', readyAddr: '', metricsAddr: '' });
  await dns.opts.informers.start();
  server = dns.servers[0]!;
  console.log(`dns fuzz seed ${SEED} (set DNS_FUZZ_SEED to replay another)`);
});

afterAll(async () => {
  await dns.stop({ lameduck: false });
});

/** Serves one datagram as the UDP listener does: stored reply first, else the full path. */
async function serve(msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
  const fast = server.tryStored(msg, transport);
  if (fast) return fast;
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CALL_TIMEOUT_MS} ms for ${msg.toString('hex')}`)), CALL_TIMEOUT_MS)));
  try {
    return await Promise.race([server.handle(msg, transport, '127.0.0.1'), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Walks a name strictly: labels <= 63, pointers only backwards, <= 255 octets. Returns the offset after it. */
function walkName(buf: Buffer, start: number): number {
  let pos = start;
  let end = -1;
  let octets = 0;
  let limit = start;
  for (let hops = 0; hops < 256; hops++) {
    if (pos >= buf.length) throw new Error(`name at ${start} runs past the message`);
    const len = buf[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 2 > buf.length) throw new Error('pointer runs past the message');
      const target = buf.readUInt16BE(pos) & 0x3fff;
      if (target >= limit) throw new Error(`pointer at ${pos} does not point backwards`);
      if (end < 0) end = pos + 2;
      limit = target;
      pos = target;
      continue;
    }
    if (len > 63) throw new Error(`bad label length ${len} at ${pos}`);
    octets += len + 1;
    if (octets > 255) throw new Error('name longer than 255 octets');
    if (len === 0) return end < 0 ? pos + 1 : end;
    pos += 1 + len;
  }
  throw new Error('name too long');
}

/** The checks every reply must pass; throws with the reason otherwise. */
function checkReply(query: Buffer, reply: Buffer, transport: 'udp' | 'tcp'): void {
  if (reply.length < 12) throw new Error('reply shorter than a header');
  if (reply.readUInt16BE(0) !== query.readUInt16BE(0)) throw new Error('reply ID differs from the query');
  const flags = reply.readUInt16BE(2);
  if ((flags & 0x8000) === 0) throw new Error('QR not set');
  if ((flags & 0x7800) !== (query.readUInt16BE(2) & 0x7800)) throw new Error('opcode not echoed');
  const rcode = flags & 0xf;
  if (rcode > RCODE.REFUSED) throw new Error(`unexpected rcode ${rcode}`);
  let parsed;
  try {
    parsed = parseQuery(query);
  } catch (err) {
    if (!(err instanceof MalformedQuery)) throw err;
  }
  // FORMERR exactly when the query does not parse.
  if ((rcode === RCODE.FORMERR) !== (parsed === undefined)) throw new Error(`rcode ${rcode} for a query that ${parsed ? 'parses' : 'does not parse'}`);
  const qd = reply.readUInt16BE(4);
  const total = qd + reply.readUInt16BE(6) + reply.readUInt16BE(8) + reply.readUInt16BE(10);
  let pos = 12;
  for (let i = 0; i < total; i++) {
    pos = walkName(reply, pos);
    if (i < qd) {
      pos += 4;
      if (pos > reply.length) throw new Error('question runs past the reply');
      continue;
    }
    if (pos + 10 > reply.length) throw new Error('record header runs past the reply');
    const rdlen = reply.readUInt16BE(pos + 8);
    pos += 10 + rdlen;
    if (pos > reply.length) throw new Error('rdata runs past the reply');
  }
  if (pos !== reply.length) throw new Error(`${reply.length - pos} stray bytes after the last record`);
  if (parsed) {
    if (qd !== 1) throw new Error('a parsed query must be echoed with its question');
    if (!reply.subarray(12, parsed.questionEnd).equals(query.subarray(12, parsed.questionEnd))) throw new Error('question not echoed byte for byte');
    const limit = transport === 'tcp' ? 65535 : parsed.hasOpt ? parsed.udpSize : 512;
    if (reply.length > limit) throw new Error(`reply of ${reply.length} bytes exceeds the client's ${limit}`);
  }
  dnsPacket.decode(reply);
}

async function roundTrip(query: Uint8Array, transport: 'udp' | 'tcp'): Promise<void> {
  const msg = Buffer.from(query);
  const reply = await serve(msg, transport);
  // Dropped only when there is no header to answer, or the message is itself a response.
  const droppable = msg.length < 12 || (msg[2]! & 0x80) !== 0;
  if (!reply) {
    if (!droppable) throw new Error(`query dropped: ${msg.toString('hex')}`);
    return;
  }
  if (droppable) throw new Error('answered a message that should be dropped');
  try {
    checkReply(msg, reply, transport);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n query ${msg.toString('hex')}\n reply ${reply.toString('hex')}`);
  }
}

// ---- generators -------------------------------------------------------------

const randomCase = (name: string): fc.Arbitrary<string> => fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }).map((up) => [...name].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));

const label = fc.oneof(
  fc.constantFrom('svc1', 'testns', 'svc', 'cluster', 'local', 'pod', '_http', '_tcp', 'in-addr', 'arpa', '10', '*'),
  fc.string({ minLength: 1, maxLength: 63 }),
  fc.uint8Array({ minLength: 1, maxLength: 63 }).map((b) => Buffer.from(b).toString('latin1')),
);

/** A name as wire bytes: known names, random labels, raw length bytes, pointers (loops included). */
const nameBytes: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...CLUSTER_NAMES).chain(randomCase).map(encodeName) },
  { weight: 2, arbitrary: fc.array(label, { maxLength: 8 }).map((ls) => encodeName(ls.join('.'))) },
  // A pointer anywhere: to itself (a loop), forward, or into the header.
  { weight: 1, arbitrary: fc.tuple(fc.array(label, { maxLength: 3 }), fc.integer({ min: 0, max: 0x3fff })).map(([ls, to]) => Buffer.concat([encodeName(ls.join('.')).subarray(0, -1), Buffer.from([0xc0 | (to >> 8), to & 0xff])])) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
);

function encodeName(name: string): Buffer {
  if (name === '') return Buffer.from([0]);
  const parts = name.split('.').map((l) => Buffer.from(l, 'latin1'));
  return Buffer.concat([...parts.flatMap((p) => [Buffer.from([p.length & 0xff]), p]), Buffer.from([0])]);
}

const u16 = fc.integer({ min: 0, max: 0xffff });

const optRecord = fc
  .record({
    udpSize: fc.oneof(fc.constantFrom(0, 512, 1232, 4096), u16),
    extRcode: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
    version: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
    flags: fc.oneof(fc.constantFrom(0, 0x8000), u16),
    options: fc.array(fc.record({ code: fc.oneof(fc.constantFrom(8, 10, 12, 15), u16), data: fc.uint8Array({ maxLength: 40 }), lie: fc.option(u16, { freq: 4 }) }), { maxLength: 4 }),
    rdlenLie: fc.option(u16, { freq: 5 }),
  })
  .map((o) => {
    const opts = Buffer.concat(
      o.options.map((x) => {
        const h = Buffer.alloc(4);
        h.writeUInt16BE(x.code, 0);
        h.writeUInt16BE(x.lie ?? x.data.length, 2);
        return Buffer.concat([h, Buffer.from(x.data)]);
      }),
    );
    const rr = Buffer.alloc(11);
    rr[0] = 0;
    rr.writeUInt16BE(TYPE.OPT, 1);
    rr.writeUInt16BE(o.udpSize, 3);
    rr[5] = o.extRcode;
    rr[6] = o.version;
    rr.writeUInt16BE(o.flags, 7);
    rr.writeUInt16BE(o.rdlenLie ?? opts.length, 9);
    return Buffer.concat([rr, opts]);
  });

/** A query built field by field, then cut short and bit-flipped. */
const structured = fc
  .record({
    id: u16,
    flags: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0x0100, 0x0000, 0x0110, 0x0120) }, { weight: 1, arbitrary: u16 }),
    qd: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: u16 }),
    an: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: u16 }),
    ns: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: u16 }),
    arExtra: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: u16 }),
    name: nameBytes,
    qtype: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...QTYPES) }, { weight: 1, arbitrary: u16 }),
    qclass: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: u16 }),
    opt: fc.option(optRecord, { freq: 2 }),
    trailer: fc.option(fc.uint8Array({ maxLength: 64 }), { freq: 6 }),
    cut: fc.option(fc.nat(), { freq: 5 }),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
  })
  .map((q) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(q.id, 0);
    h.writeUInt16BE(q.flags, 2);
    h.writeUInt16BE(q.qd, 4);
    h.writeUInt16BE(q.an, 6);
    h.writeUInt16BE(q.ns, 8);
    h.writeUInt16BE(((q.opt ? 1 : 0) + q.arExtra) & 0xffff, 10);
    const tc = Buffer.alloc(4);
    tc.writeUInt16BE(q.qtype, 0);
    tc.writeUInt16BE(q.qclass, 2);
    let msg = Buffer.concat([h, q.name, tc, q.opt ?? Buffer.alloc(0), Buffer.from(q.trailer ?? [])]);
    if (q.cut !== null) msg = msg.subarray(0, q.cut % (msg.length + 1));
    for (const [at, xor] of q.flips) if (msg.length) msg[at % msg.length]! ^= xor;
    return new Uint8Array(msg);
  });

/** Well-formed queries for cluster names (any case, EDNS or not): the answer code, and the stored replies on repeats. */
const wellFormed = fc
  .record({ id: u16, name: fc.constantFrom(...CLUSTER_NAMES).chain(randomCase), qtype: fc.constantFrom(...QTYPES), edns: fc.option(fc.constantFrom(512, 1232, 4096), { freq: 2 }), cd: fc.boolean() })
  .map((q) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(q.id, 0);
    h.writeUInt16BE(0x0100 | (q.cd ? 0x10 : 0), 2);
    h.writeUInt16BE(1, 4);
    h.writeUInt16BE(q.edns ? 1 : 0, 10);
    const tc = Buffer.alloc(4);
    tc.writeUInt16BE(q.qtype, 0);
    tc.writeUInt16BE(1, 2);
    const opt = Buffer.from([0, 0, 41, 0, 0, 0, 0, 0, 0, 0, 0]);
    if (q.edns) opt.writeUInt16BE(q.edns, 3);
    return new Uint8Array(Buffer.concat([h, encodeName(q.name), tc, q.edns ? opt : Buffer.alloc(0)]));
  });

const transport = fc.constantFrom<'udp' | 'tcp'>('udp', 'udp', 'tcp');

describe('DNS request path under fuzzing (100,000 inputs)', () => {
  it('answers random bytes with a valid reply or drops them (30,000)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), transport, (b, t) => roundTrip(b, t)),
      { seed: SEED, numRuns: 30_000 },
    );
  });

  it('answers mutated queries (pointer loops, huge counts, EDNS garbage, truncation) validly (50,000)', async () => {
    await fc.assert(
      fc.asyncProperty(structured, transport, (b, t) => roundTrip(b, t)),
      { seed: SEED + 1, numRuns: 50_000 },
    );
  });

  it('answers well-formed cluster queries validly, the first time and from the stored replies (20,000)', async () => {
    await fc.assert(
      fc.asyncProperty(wellFormed, transport, async (b, t) => {
        await roundTrip(b, t);
        // The same bytes again take the fast path when the first answer was stored.
        await roundTrip(b, t);
      }),
      { seed: SEED + 2, numRuns: 20_000 },
    );
  });

  it('rejects the classic malformed shapes with FORMERR', async () => {
    const header = (qd: number, an: number, ns: number, ar: number): Buffer => {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(0x1234, 0);
      h.writeUInt16BE(0x0100, 2);
      [qd, an, ns, ar].forEach((v, i) => h.writeUInt16BE(v, 4 + i * 2));
      return h;
    };
    const q = Buffer.concat([encodeName('svc1.testns.svc.cluster.local'), Buffer.from([0, 1, 0, 1])]);
    const cases: [string, Buffer][] = [
      ['a question name pointing at itself', Buffer.concat([header(1, 0, 0, 0), Buffer.from([0xc0, 12, 0, 1, 0, 1])])],
      ['an additional name pointing at itself', Buffer.concat([header(1, 0, 0, 1), q, Buffer.from([0xc0, 12 + q.length, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0])])],
      ['65535 additional records announced', Buffer.concat([header(1, 0, 0, 65535), q])],
      ['65535 answers announced', Buffer.concat([header(1, 65535, 0, 0), q])],
      ['an EDNS option longer than its record', Buffer.concat([header(1, 0, 0, 1), q, Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 6, 0, 10, 0, 8, 1, 2])])],
      ['an EDNS option header cut short', Buffer.concat([header(1, 0, 0, 1), q, Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 2, 0, 10])])],
      ['two OPT records', Buffer.concat([header(1, 0, 0, 2), q, Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]), Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0])])],
      ['no question', header(0, 0, 0, 0)],
    ];
    for (const [what, msg] of cases) {
      const reply = await serve(msg, 'udp');
      expect(reply, what).toBeDefined();
      expect(reply!.readUInt16BE(2) & 0xf, what).toBe(RCODE.FORMERR);
      checkReply(msg, reply!, 'udp');
    }
  });
});
