// Netlink message and attribute (TLV) encoding: the byte layout nf_tables expects.
// Attribute headers and message headers are host-endian; nf_tables payloads are big-endian.
import { endianness } from 'node:os';

const LE = endianness() === 'LE';
const NLA_F_NESTED = 0x8000;

/** One attribute: type, and either raw bytes or nested attributes. */
export type Attr = { type: number; data: Buffer } | { type: number; nested: Attr[] };

const align = (n: number): number => (n + 3) & ~3;

export function attrSize(a: Attr): number {
  return align(4 + ('data' in a ? a.data.length : a.nested.reduce((n, x) => n + attrSize(x), 0)));
}

function writeAttr(buf: Buffer, off: number, a: Attr): number {
  const size = attrSize(a);
  const payload = 'data' in a ? a.data.length : size - 4;
  const len = 4 + payload;
  if (LE) buf.writeUInt16LE(len, off);
  else buf.writeUInt16BE(len, off);
  const type = 'data' in a ? a.type : a.type | NLA_F_NESTED;
  if (LE) buf.writeUInt16LE(type, off + 2);
  else buf.writeUInt16BE(type, off + 2);
  if ('data' in a) a.data.copy(buf, off + 4);
  else {
    let o = off + 4;
    for (const x of a.nested) o += writeAttr(buf, o, x);
  }
  return size;
}

export const str = (type: number, s: string): Attr => ({ type, data: Buffer.from(s + '\0') });
export const u32be = (type: number, v: number): Attr => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return { type, data: b };
};
export const bytes = (type: number, data: Buffer): Attr => ({ type, data });
export const nest = (type: number, nested: Attr[]): Attr => ({ type, nested });

/** A host-endian u32, as numgen results and anonymous-set keys are. */
export function hostU32(v: number): Buffer {
  const b = Buffer.alloc(4);
  if (LE) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;

/**
 * One netlink message with the nfgenmsg header (family, version 0, res_id).
 * Layout: nlmsghdr (len, type, flags, seq, pid) + nfgenmsg (4 bytes) + attributes.
 */
export function nfMessage(type: number, flags: number, seq: number, family: number, attrs: Attr[], resId = 0): Buffer {
  const size = 16 + 4 + attrs.reduce((n, a) => n + attrSize(a), 0);
  const buf = Buffer.alloc(size);
  const w32 = (v: number, o: number): number => (LE ? buf.writeUInt32LE(v, o) : buf.writeUInt32BE(v, o));
  const w16 = (v: number, o: number): number => (LE ? buf.writeUInt16LE(v, o) : buf.writeUInt16BE(v, o));
  w32(size, 0);
  w16(type, 4);
  w16(flags, 6);
  w32(seq, 8);
  w32(0, 12);
  buf.writeUInt8(family, 16);
  buf.writeUInt8(0, 17);
  buf.writeUInt16BE(resId, 18);
  let off = 20;
  for (const a of attrs) off += writeAttr(buf, off, a);
  return buf;
}
