import { createHash } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (Go's base32.StdEncoding), without padding. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

// Names are recomputed for every service on every iptables sync (the top-level chains are
// always rewritten), so hashes are memoised; the cap keeps churn from growing it forever.
const hashMemo = new Map<string, string>();
const HASH_MEMO_MAX = 500_000;

export function sha256Base32(s: string): string {
  let h = hashMemo.get(s);
  if (h === undefined) {
    h = base32(createHash('sha256').update(s).digest());
    if (hashMemo.size >= HASH_MEMO_MAX) hashMemo.clear();
    hashMemo.set(s, h);
  }
  return h;
}

/** kube-proxy's portProtoHash: first 16 base32 chars of sha256(spn + proto). */
export function portProtoHash(nameString: string, protocol: string): string {
  return sha256Base32(nameString + protocol.toLowerCase()).slice(0, 16);
}

export function serviceChainName(nameString: string, protocol: string): string {
  return `KUBE-SVC-${portProtoHash(nameString, protocol)}`;
}
export function localChainName(nameString: string, protocol: string): string {
  return `KUBE-SVL-${portProtoHash(nameString, protocol)}`;
}
export function externalChainName(nameString: string, protocol: string): string {
  return `KUBE-EXT-${portProtoHash(nameString, protocol)}`;
}
export function firewallChainName(nameString: string, protocol: string): string {
  return `KUBE-FW-${portProtoHash(nameString, protocol)}`;
}
export function endpointChainName(nameString: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${sha256Base32(nameString + protocol.toLowerCase() + endpoint).slice(0, 16)}`;
}

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'];
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}

const probabilityCache: string[] = [];
/**
 * `1/n` with exactly 10 decimals, as Go's `%0.10f` (round half to even on the exact binary
 * value). JS toFixed rounds exact ties up; for n <= 200,000 the only exact tie is n = 2048.
 */
export function probability(n: number): string {
  let s = probabilityCache[n];
  if (s === undefined) {
    s = n === 2048 ? '0.0004882812' : (1 / n).toFixed(10);
    if (n < 100_000) probabilityCache[n] = s;
  }
  return s;
}

/** Go `%#08x` of the mark value, as kube-proxy formats its masquerade mark. */
export function masqueradeMark(bit: number): string {
  return '0x' + (1 << bit >>> 0).toString(16).padStart(8, '0');
}
