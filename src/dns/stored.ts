// Encoded cluster answers reused for repeated questions: the table behind the server's fast
// path. A query is found by a numeric hash of its bytes after the ID (header counts,
// question, OPT), then compared byte for byte, so no string is made per query. The reply is
// copied out with the query's ID and RD/CD bits patched in; everything else in it (the
// question's letter case, the EDNS buffer size it was cut to) came from identical bytes.
//
// The table is open addressing over typed arrays rather than a Map: a 32-bit hash is not a
// V8 small integer, so a Map keyed by it boxes a number per lookup, and a full-hash check
// before the byte compare makes a probe that misses nearly free. Between two queries the
// kernel and Node's receive path sweep the CPU caches, so a hit is mostly memory loads: each
// entry's key and reply sit next to each other in a shared chunk and its numbers in one
// typed array, so a hit touches a handful of cache lines instead of a dozen objects. UDP
// replies are patched in place (`patched`: the ID and RD/CD are all that differ between
// queries with the same bytes) and sent at once, so a hit allocates nothing; a sender that
// could not hand the bytes to the kernel at once takes them (`detach`).
import type { RequestSeries } from './metrics.js';

/** Entries per table; a full table is emptied, it is rebuilt from hits within a moment. */
export const MAX_STORED = 65_536;
/** Slots: a power of two, at least twice the entries, so probe runs stay short. */
const SLOTS = MAX_STORED * 2;
const MASK = SLOTS - 1;
/** Bytes per chunk of keys and replies (a larger entry gets a chunk of its own). */
const CHUNK = 256 * 1024;
/** Bytes of keys and replies per table; past it the table is emptied, as when full. */
const MAX_BYTES = 32 << 20;
/** meta fields per entry: hash, key offset in its chunk, chunk index << 16 | key length, series index */
const META = 4;

/** FNV-1a over msg[2..]; the flags' RD and CD bits are left out since replies get them patched. */
function hashQuery(msg: Buffer): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ (msg[2]! & 0xfe), 0x01000193);
  h = Math.imul(h ^ (msg[3]! & 0xef), 0x01000193);
  const n = msg.length;
  for (let i = 4; i < n; i++) h = Math.imul(h ^ msg[i]!, 0x01000193);
  return h | 0;
}

/** The key at chunk[off, off + len) holds query bytes from offset 2 (flags, counts, question, additional). */
function sameQuery(chunk: Buffer, off: number, len: number, msg: Buffer): boolean {
  if (len !== msg.length - 2) return false;
  if ((chunk[off]! & 0xfe) !== (msg[2]! & 0xfe) || (chunk[off + 1]! & 0xef) !== (msg[3]! & 0xef)) return false;
  for (let i = 2; i < len; i++) if (chunk[off + i] !== msg[i + 2]) return false;
  return true;
}

function patch(out: Buffer, offset: number, reply: Buffer, msg: Buffer): void {
  out[offset] = msg[0]!;
  out[offset + 1] = msg[1]!;
  // RD and CD come from the query (masking first makes patching a patched reply exact).
  out[offset + 2] = (reply[2]! & 0xfe) | (msg[2]! & 0x01);
  out[offset + 3] = (reply[3]! & 0xef) | (msg[3]! & 0x10);
}

export class StoredAnswers {
  /** entry index + 1 per slot, 0 when empty; made on the first set (a TCP table may never get one) */
  private slots = new Int32Array(0);
  private meta = new Int32Array(0);
  private chunks: Buffer[] = [];
  /** bytes used in the last chunk, and in all of them */
  private used = 0;
  private bytes = 0;
  /** per entry: its reply, a view of the chunk bytes right after its key (or its own copy once detached) */
  private replies: Buffer[] = [];
  /** the few distinct metric series, by the index kept in meta */
  private seriesList: (RequestSeries | undefined)[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  clear(): void {
    if (this.count === 0) return;
    // Every index change empties the table: a few entries are unlinked one by one rather
    // than clearing all the slots.
    if (this.count < SLOTS >> 6) {
      for (let e = 0; e < this.count; e++) {
        let s = this.meta[e * META]! & MASK;
        while (this.slots[s] !== e + 1) s = (s + 1) & MASK;
        this.slots[s] = 0;
      }
    } else this.slots.fill(0);
    // New chunks: a reply still queued in the kernel's send path keeps its old chunk alive.
    this.chunks = [];
    this.used = 0;
    this.bytes = 0;
    this.replies = [];
    this.seriesList = [];
    this.count = 0;
  }

  /** The entry stored for exactly this query, or -1. */
  find(msg: Buffer): number {
    if (this.count === 0) return -1;
    const h = hashQuery(msg);
    const meta = this.meta;
    for (let s = h & MASK; ; s = (s + 1) & MASK) {
      const e = this.slots[s]! - 1;
      if (e < 0) return -1;
      const m = e * META;
      if (meta[m] === h) {
        const packed = meta[m + 2]!;
        if (sameQuery(this.chunks[packed >>> 16]!, meta[m + 1]!, packed & 0xffff, msg)) return e;
      }
    }
  }

  /**
   * Entry `e`'s reply patched in place for this query: valid until the next `patched` of
   * the same entry, unless the caller takes it with `detach`.
   */
  patched(e: number, msg: Buffer): Buffer {
    const r = this.replies[e]!;
    patch(r, 0, r, msg);
    return r;
  }

  /** Gives the caller the buffer `patched` returned last for entry `e`; the entry gets a copy. */
  detach(e: number): void {
    if (e < this.count) this.replies[e] = Buffer.from(this.replies[e]!);
  }

  series(e: number): RequestSeries | undefined {
    return this.seriesList[this.meta[e * META + 3]!];
  }

  /**
   * Copies the stored reply for exactly this query into a fresh buffer at `offset` (2 for a
   * TCP length prefix), patched for this query; undefined when there is none.
   */
  reply(msg: Buffer, offset: number): { out: Buffer; series: RequestSeries | undefined } | undefined {
    const e = this.find(msg);
    if (e < 0) return undefined;
    const r = this.replies[e]!;
    const out = Buffer.allocUnsafe(offset + r.length);
    r.copy(out, offset);
    patch(out, offset, r, msg);
    return { out, series: this.series(e) };
  }

  set(msg: Buffer, reply: Buffer, series: RequestSeries | undefined): void {
    const keyLen = msg.length - 2;
    if (msg.length < 12 || keyLen > 0xffff) return;
    if (this.find(msg) >= 0) return;
    const size = keyLen + reply.length;
    if (this.count >= MAX_STORED || this.bytes + size > MAX_BYTES) this.clear();
    if (this.slots.length === 0) {
      this.slots = new Int32Array(SLOTS);
      this.meta = new Int32Array(MAX_STORED * META);
    }
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || this.used + size > chunk.length) {
      chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK, size));
      this.chunks.push(chunk);
      this.used = 0;
    }
    const off = this.used;
    msg.copy(chunk, off, 2);
    reply.copy(chunk, off + keyLen);
    this.used += size;
    this.bytes += size;
    let si = this.seriesList.indexOf(series);
    if (si < 0) si = this.seriesList.push(series) - 1;
    const h = hashQuery(msg);
    const e = this.count++;
    const m = e * META;
    this.meta[m] = h;
    this.meta[m + 1] = off;
    this.meta[m + 2] = ((this.chunks.length - 1) << 16) | keyLen;
    this.meta[m + 3] = si;
    this.replies.push(chunk.subarray(off + keyLen, off + size));
    let s = h & MASK;
    while (this.slots[s] !== 0) s = (s + 1) & MASK;
    this.slots[s] = e + 1;
  }
}
