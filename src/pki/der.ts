// Minimal DER (X.690) encoder/decoder: just the types an X.509 certificate needs.

export function tlv(tag: number, body: Uint8Array): Uint8Array {
  const len = body.length;
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  const out = new Uint8Array(header.length + len);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export const sequence = (...items: Uint8Array[]): Uint8Array => tlv(0x30, concat(items));
export const set = (...items: Uint8Array[]): Uint8Array => tlv(0x31, concat(items));
/** [n] EXPLICIT: a constructed context tag wrapping one element */
export const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 | n, inner);
/** [n] IMPLICIT primitive (e.g. GeneralName dNSName [2], iPAddress [7], keyIdentifier [0]) */
export const implicit = (n: number, body: Uint8Array): Uint8Array => tlv(0x80 | n, body);
export const octetString = (b: Uint8Array): Uint8Array => tlv(0x04, b);
export const utf8String = (s: string): Uint8Array => tlv(0x0c, new TextEncoder().encode(s));
export const boolean = (v: boolean): Uint8Array => tlv(0x01, Uint8Array.of(v ? 0xff : 0));
export const nullValue = (): Uint8Array => tlv(0x05, new Uint8Array(0));

/** an unsigned big-endian integer, with the sign byte DER needs when the top bit is set */
export function integer(value: Uint8Array | number): Uint8Array {
  let bytes: Uint8Array;
  if (typeof value === 'number') {
    const arr: number[] = [];
    for (let n = value; n > 0; n = Math.floor(n / 256)) arr.unshift(n & 0xff);
    bytes = Uint8Array.from(arr.length ? arr : [0]);
  } else {
    let i = 0;
    while (i < value.length - 1 && value[i] === 0) i++;
    bytes = value.subarray(i);
  }
  if (bytes[0]! & 0x80) bytes = concat([Uint8Array.of(0), bytes]);
  return tlv(0x02, bytes);
}

export function bitString(b: Uint8Array, unusedBits = 0): Uint8Array {
  return tlv(0x03, concat([Uint8Array.of(unusedBits), b]));
}

export function oid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let n = Math.floor(p / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift((n & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** UTCTime before 2050, GeneralizedTime from then on, as RFC 5280 requires */
export function time(d: Date): Uint8Array {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = d.getUTCFullYear();
  if (year < 2050) return tlv(0x17, new TextEncoder().encode(digits.slice(2) + 'Z'));
  return tlv(0x18, new TextEncoder().encode(digits + 'Z'));
}

export interface Element {
  tag: number;
  /** the whole TLV */
  raw: Uint8Array;
  body: Uint8Array;
}

/** the TLV elements directly inside `buf` */
export function children(buf: Uint8Array): Element[] {
  const out: Element[] = [];
  let off = 0;
  while (off < buf.length) {
    const tag = buf[off]!;
    let len = buf[off + 1]!;
    let hdr = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i]!;
      hdr += n;
    }
    if (off + hdr + len > buf.length) throw new Error('truncated DER');
    out.push({ tag, raw: buf.subarray(off, off + hdr + len), body: buf.subarray(off + hdr, off + hdr + len) });
    off += hdr + len;
  }
  return out;
}
