/**
 * Reads the server name (SNI) from the start of a TLS connection without terminating it,
 * for ssl-passthrough. Pure: bytes in, a verdict out; the listener feeds it what has
 * arrived so far.
 */

/** A ClientHello fits in one TLS record (at most 16 KiB + header); more is not a ClientHello. */
export const MAX_HELLO_BYTES = 5 + 16384;

export type HelloResult =
  /** more bytes are needed */
  | { kind: 'partial' }
  /** not a TLS ClientHello (or malformed): let the TLS server deal with it */
  | { kind: 'not-tls' }
  /** a ClientHello; servername undefined when it carries no SNI */
  | { kind: 'hello'; servername: string | undefined };

/** Parses the first TLS record of a connection (RFC 8446 §4.1.2, RFC 6066 §3). */
export function parseClientHello(buf: Buffer): HelloResult {
  if (buf.length === 0) return { kind: 'partial' };
  if (buf[0] !== 0x16) return { kind: 'not-tls' }; // handshake record
  if (buf.length < 5) return { kind: 'partial' };
  if (buf[1] !== 3) return { kind: 'not-tls' };
  const recordLength = buf.readUInt16BE(3);
  if (recordLength < 4 || recordLength > 16384) return { kind: 'not-tls' };
  if (buf.length < 5 + recordLength) return { kind: 'partial' };
  const rec = buf.subarray(5, 5 + recordLength);
  if (rec[0] !== 0x01) return { kind: 'not-tls' }; // ClientHello
  const helloLength = (rec[1]! << 16) | (rec[2]! << 8) | rec[3]!;
  // A ClientHello split over several records is legal but never seen in practice: give up on SNI.
  if (helloLength + 4 > rec.length) return { kind: 'not-tls' };
  const h = rec.subarray(4, 4 + helloLength);
  let i = 2 + 32; // legacy_version, random
  if (i + 1 > h.length) return { kind: 'not-tls' };
  i += 1 + h[i]!; // legacy_session_id
  if (i + 2 > h.length) return { kind: 'not-tls' };
  i += 2 + h.readUInt16BE(i); // cipher_suites
  if (i + 1 > h.length) return { kind: 'not-tls' };
  i += 1 + h[i]!; // legacy_compression_methods
  if (i === h.length) return { kind: 'hello', servername: undefined }; // no extensions
  if (i + 2 > h.length) return { kind: 'not-tls' };
  const extEnd = i + 2 + h.readUInt16BE(i);
  if (extEnd > h.length) return { kind: 'not-tls' };
  i += 2;
  while (i + 4 <= extEnd) {
    const type = h.readUInt16BE(i);
    const len = h.readUInt16BE(i + 2);
    i += 4;
    if (i + len > extEnd) return { kind: 'not-tls' };
    if (type === 0) return serverName(h.subarray(i, i + len));
    i += len;
  }
  return { kind: 'hello', servername: undefined };
}

function serverName(ext: Buffer): HelloResult {
  if (ext.length < 2) return { kind: 'not-tls' };
  const listEnd = 2 + ext.readUInt16BE(0);
  if (listEnd > ext.length) return { kind: 'not-tls' };
  let i = 2;
  while (i + 3 <= listEnd) {
    const type = ext[i]!;
    const len = ext.readUInt16BE(i + 1);
    i += 3;
    if (i + len > listEnd) return { kind: 'not-tls' };
    if (type === 0) {
      const name = ext.toString('latin1', i, i + len);
      // a DNS name (RFC 6066: no trailing dot, ASCII); anything else matches no host
      if (!/^[a-zA-Z0-9._-]{1,253}$/.test(name)) return { kind: 'hello', servername: undefined };
      return { kind: 'hello', servername: name.toLowerCase() };
    }
    i += len;
  }
  return { kind: 'hello', servername: undefined };
}
