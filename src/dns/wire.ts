// DNS wire format for the hot path: parsing a query's header, question and OPT without
// decoding the whole message, and encoding the few record types the server synthesizes
// (with name compression, as CoreDNS replies are compressed). Forwarded answers are never
// re-encoded here: they travel as the upstream's bytes.
import { isIPv4 } from 'node:net';

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, IXFR: 251, AXFR: 252, ANY: 255 } as const;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export const CLASS_IN = 1;

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([k, v]) => [v, k]));
export function typeName(t: number): string {
  return TYPE_NAMES.get(t) ?? `TYPE${t}`;
}
export const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
export function rcodeName(r: number): string {
  return RCODE_NAMES[r] ?? `RCODE${r}`;
}

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}
export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** A resource record the server synthesizes. Names carry no trailing dot. */
export type RR =
  | { name: string; type: 'A' | 'AAAA' | 'CNAME' | 'PTR' | 'NS'; ttl: number; data: string }
  | { name: string; type: 'SRV'; ttl: number; data: SrvData }
  | { name: string; type: 'SOA'; ttl: number; data: SoaData }
  | { name: string; type: 'TXT'; ttl: number; data: string[] };

/** What the server knows about one query after parsing its bytes once. */
export interface ParsedQuery {
  id: number;
  flags: number;
  opcode: number;
  /** the question name as asked (case kept), no trailing dot; '' for the root */
  qname: string;
  qtype: number;
  qclass: number;
  /** offset just past the question */
  questionEnd: number;
  hasOpt: boolean;
  /** client's EDNS0 UDP size, 512 without OPT */
  udpSize: number;
  ednsVersion: number;
  dnssecOk: boolean;
}

export class MalformedQuery extends Error {
  override name = 'MalformedQuery';
}

/** Reads a (compression-free) question name; throws MalformedQuery on anything else. */
function readQName(buf: Buffer, offset: number): [string, number] {
  let name = '';
  let pos = offset;
  for (let guard = 0; guard < 128; guard++) {
    if (pos >= buf.length) throw new MalformedQuery('name runs past the message');
    const len = buf[pos]!;
    if (len === 0) return [name, pos + 1];
    if (len > 63) throw new MalformedQuery('bad label length');
    if (pos + 1 + len > buf.length) throw new MalformedQuery('label runs past the message');
    const label = buf.toString('latin1', pos + 1, pos + 1 + len);
    name = name === '' ? label : name + '.' + label;
    pos += 1 + len;
    if (name.length > 253) throw new MalformedQuery('name too long');
  }
  throw new MalformedQuery('too many labels');
}

/** Skips a possibly compressed name in any record. */
export function skipName(buf: Buffer, offset: number): number {
  let pos = offset;
  for (let guard = 0; guard < 128; guard++) {
    if (pos >= buf.length) throw new MalformedQuery('name runs past the message');
    const len = buf[pos]!;
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return pos + 2;
    pos += 1 + len;
  }
  throw new MalformedQuery('too many labels');
}

/**
 * Skips a name in a query's records, following compression pointers to check it ends:
 * a pointer loop or a pointer past the message is malformed, as a strict unpacker says.
 */
function skipQueryName(buf: Buffer, offset: number): number {
  let pos = offset;
  let after = -1;
  let octets = 0;
  for (let hops = 0; hops < 128; hops++) {
    if (pos >= buf.length) throw new MalformedQuery('name runs past the message');
    const len = buf[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 2 > buf.length) throw new MalformedQuery('pointer runs past the message');
      if (after < 0) after = pos + 2;
      pos = buf.readUInt16BE(pos) & 0x3fff;
      continue;
    }
    if (len > 63) throw new MalformedQuery('bad label type');
    octets += 1 + len;
    if (octets > 255) throw new MalformedQuery('name too long');
    if (len === 0) return after < 0 ? pos + 1 : after;
    pos += 1 + len;
  }
  throw new MalformedQuery('too many compression pointers');
}

/** EDNS options must tile the OPT rdata exactly (code, length, data), as a strict unpacker requires. */
function checkOptions(buf: Buffer, start: number, end: number): void {
  if (end > buf.length) throw new MalformedQuery('rdata runs past the message');
  let pos = start;
  while (pos < end) {
    if (pos + 4 > end) throw new MalformedQuery('EDNS option header runs past the OPT record');
    pos += 4 + buf.readUInt16BE(pos + 2);
  }
  if (pos !== end) throw new MalformedQuery('EDNS option runs past the OPT record');
}

/** Parses what the server needs from a query; MalformedQuery means FORMERR. */
export function parseQuery(buf: Buffer): ParsedQuery {
  if (buf.length < 12) throw new MalformedQuery('short header');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  if (flags & 0x8000) throw new MalformedQuery('not a query');
  if (qd !== 1) throw new MalformedQuery('question count must be 1');
  const [qname, afterName] = readQName(buf, 12);
  if (afterName + 4 > buf.length) throw new MalformedQuery('question runs past the message');
  const qtype = buf.readUInt16BE(afterName);
  const qclass = buf.readUInt16BE(afterName + 2);
  const questionEnd = afterName + 4;
  const q: ParsedQuery = { id, flags, opcode: (flags >> 11) & 0xf, qname, qtype, qclass, questionEnd, hasOpt: false, udpSize: 512, ednsVersion: 0, dnssecOk: false };
  if (an + ns + ar === 0) return q;
  let pos = questionEnd;
  for (let i = 0; i < an + ns + ar; i++) {
    pos = skipQueryName(buf, pos);
    if (pos + 10 > buf.length) throw new MalformedQuery('record runs past the message');
    const type = buf.readUInt16BE(pos);
    const rdlen = buf.readUInt16BE(pos + 8);
    if (type === TYPE.OPT && i >= an + ns) {
      if (q.hasOpt) throw new MalformedQuery('more than one OPT');
      q.hasOpt = true;
      q.udpSize = Math.max(512, buf.readUInt16BE(pos + 2));
      q.ednsVersion = buf[pos + 5]!;
      q.dnssecOk = (buf.readUInt16BE(pos + 6) & 0x8000) !== 0;
      checkOptions(buf, pos + 10, pos + 10 + rdlen);
    }
    pos += 10 + rdlen;
    if (pos > buf.length) throw new MalformedQuery('rdata runs past the message');
  }
  return q;
}

/** Encodes names with compression against earlier names in the same message. */
class Writer {
  buf: Buffer;
  pos = 0;
  private readonly names = new Map<string, number>();
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }
  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
  name(name: string): void {
    let rest = name;
    while (rest !== '') {
      const known = this.names.get(rest.toLowerCase());
      if (known !== undefined) {
        this.u16(0xc000 | known);
        return;
      }
      if (this.pos < 0x3fff) this.names.set(rest.toLowerCase(), this.pos);
      const dot = rest.indexOf('.');
      const label = dot < 0 ? rest : rest.slice(0, dot);
      const len = Buffer.byteLength(label, 'latin1');
      this.u8(len);
      this.ensure(len);
      this.pos += this.buf.write(label, this.pos, 'latin1');
      rest = dot < 0 ? '' : rest.slice(dot + 1);
    }
    this.u8(0);
  }
  /** Registers the question name already copied at `offset` for compression. */
  learn(name: string, offset: number): void {
    let rest = name;
    let pos = offset;
    while (rest !== '' && pos < 0x3fff) {
      this.names.set(rest.toLowerCase(), pos);
      const dot = rest.indexOf('.');
      const label = dot < 0 ? rest : rest.slice(0, dot);
      pos += 1 + label.length;
      rest = dot < 0 ? '' : rest.slice(dot + 1);
    }
  }
}

const TYPE_CODES: Record<RR['type'], number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33 };

function writeRR(w: Writer, rr: RR): void {
  w.name(rr.name);
  w.u16(TYPE_CODES[rr.type]);
  w.u16(CLASS_IN);
  w.u32(rr.ttl);
  w.u16(0);
  const lenAt = w.pos - 2;
  const start = w.pos;
  switch (rr.type) {
    case 'A':
      for (const part of rr.data.split('.')) w.u8(Number(part));
      break;
    case 'AAAA':
      w.bytes(ipv6Bytes(rr.data));
      break;
    case 'CNAME':
    case 'PTR':
    case 'NS':
      w.name(rr.data);
      break;
    case 'SRV':
      w.u16(rr.data.priority);
      w.u16(rr.data.weight);
      w.u16(rr.data.port);
      w.name(rr.data.target);
      break;
    case 'SOA':
      w.name(rr.data.mname);
      w.name(rr.data.rname);
      w.u32(rr.data.serial);
      w.u32(rr.data.refresh);
      w.u32(rr.data.retry);
      w.u32(rr.data.expire);
      w.u32(rr.data.minimum);
      break;
    case 'TXT':
      for (const s of rr.data) {
        const b = Buffer.from(s, 'utf8');
        w.u8(b.length);
        w.bytes(b);
      }
      break;
  }
  w.buf.writeUInt16BE(w.pos - start, lenAt);
}

export function ipv6Bytes(ip: string): Buffer {
  const out = Buffer.alloc(16);
  let text = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (isIPv4(tail)) {
    const p = tail.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, lastColon + 1) + ((p[0] << 8) | p[1]).toString(16) + ':' + ((p[2] << 8) | p[3]).toString(16);
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = rest ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return out;
}

export interface Message {
  rcode: number;
  aa: boolean;
  ra?: boolean;
  tc?: boolean;
  answer: RR[];
  authority: RR[];
  additional: RR[];
  /** built from more than the index (a chased ExternalName target): never reuse the bytes */
  noStore?: boolean;
}

/**
 * Encodes a reply to `query`, copying its question bytes so the letter case is echoed.
 * With `limit`, records are dropped from the end (additional, then authority, then answer)
 * until the message fits, and TC is set if any answer or authority record had to go.
 */
export function encodeReply(raw: Buffer, q: ParsedQuery, msg: Message, limit = 65535): Buffer {
  const w = new Writer(512);
  let flags = 0x8000 | (q.opcode << 11) | (q.flags & 0x0100) | (q.flags & 0x0010) | msg.rcode;
  if (msg.aa) flags |= 0x0400;
  if (msg.ra) flags |= 0x0080;
  if (msg.tc) flags |= 0x0200;
  w.u16(q.id);
  w.u16(flags);
  w.u16(1);
  w.u16(0);
  w.u16(0);
  w.u16(0);
  w.bytes(raw.subarray(12, q.questionEnd));
  w.learn(q.qname, 12);
  const sections = [msg.answer, msg.authority, msg.additional];
  const counts = [0, 0, 0];
  let truncated = false;
  const optSize = q.hasOpt ? 11 : 0;
  outer: for (let s = 0; s < 3; s++) {
    for (const rr of sections[s]!) {
      const before = w.pos;
      writeRR(w, rr);
      if (w.pos + optSize > limit) {
        w.pos = before;
        if (s < 2) truncated = true;
        break outer;
      }
      counts[s]!++;
    }
  }
  if (q.hasOpt) {
    w.u8(0);
    w.u16(TYPE.OPT);
    w.u16(Math.max(512, Math.min(q.udpSize, 4096)));
    w.u32(q.dnssecOk ? 0x8000 : 0);
    w.u16(0);
  }
  w.buf.writeUInt16BE(counts[0]!, 6);
  w.buf.writeUInt16BE(counts[1]!, 8);
  w.buf.writeUInt16BE(counts[2]! + (q.hasOpt ? 1 : 0), 10);
  if (truncated) w.buf.writeUInt16BE(flags | 0x0200, 2);
  return Buffer.from(w.buf.subarray(0, w.pos));
}

/** A reply with no question, for queries too broken to echo one (FORMERR). */
export function encodeHeaderOnly(id: number, opcodeFlags: number, rcode: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(0x8000 | (opcodeFlags & 0x7900) | rcode, 2);
  return b;
}

/** An error reply that echoes the question (REFUSED, SERVFAIL, NOTIMP...). */
export function encodeError(raw: Buffer, q: ParsedQuery, rcode: number): Buffer {
  return encodeReply(raw, q, { rcode, aa: false, answer: [], authority: [], additional: [] });
}

/** Zone-file text for a record, as tests and logs show it. */
export function rrText(rr: RR): string {
  const head = `${rr.name}.\t${rr.ttl}\tIN\t${rr.type}\t`;
  switch (rr.type) {
    case 'SRV':
      return head + `${rr.data.priority} ${rr.data.weight} ${rr.data.port} ${rr.data.target}.`;
    case 'SOA':
      return head + `${rr.data.mname}. ${rr.data.rname}. ${rr.data.serial} ${rr.data.refresh} ${rr.data.retry} ${rr.data.expire} ${rr.data.minimum}`;
    case 'TXT':
      return head + rr.data.map((s) => JSON.stringify(s)).join(' ');
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return head + rr.data + '.';
    default:
      return head + rr.data;
  }
}
