// Encoded cluster answers reused for repeated questions: the table behind the server's fast
// path. A query is found by a numeric hash of its bytes after the ID (header counts,
// question, OPT), then compared byte for byte, so no string is made per query. The reply is
// copied out with the query's ID and RD/CD bits patched in; everything else in it (the
// question's letter case, the EDNS buffer size it was cut to) came from identical bytes.
//
// The table is open addressing over typed arrays rather than a Map: a 32-bit hash is not a
// V8 small integer, so a Map keyed by it boxes a number per lookup, and a full-hash check
// before the byte compare makes a probe that misses nearly free. UDP replies are patched in
// a buffer the entry keeps for that purpose (`patched`), so a hit allocates nothing; a
// sender that could not hand the bytes to the kernel at once takes that buffer (`detach`).
import type { RequestSeries } from './metrics.js';

/** Entries per table; a full table is emptied, it is rebuilt from hits within a moment. */
export const MAX_STORED = 65_536;
/** Slots: a power of two, at least twice the entries, so probe runs stay short. */
const SLOTS = MAX_STORED * 2;
const MASK = SLOTS - 1;

/** FNV-1a over msg[2..]; the flags' RD and CD bits are left out since replies get them patched. */
function hashQuery(msg: Buffer): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ (msg[2]! & 0xfe), 0x01000193);
  h = Math.imul(h ^ (msg[3]! & 0xef), 0x01000193);
  const n = msg.length;
  for (let i = 4; i < n; i++) h = Math.imul(h ^ msg[i]!, 0x01000193);
  return h | 0;
}

/** key holds the query bytes from offset 2 (flags, counts, question, additional). */
function sameQuery(key: Buffer, msg: Buffer): boolean {
  const n = key.length;
  if (n !== msg.length - 2) return false;
  if ((key[0]! & 0xfe) !== (msg[2]! & 0xfe) || (key[1]! & 0xef) !== (msg[3]! & 0xef)) return false;
  for (let i = 2; i < n; i++) if (key[i] !== msg[i + 2]) return false;
  return true;
}

function patch(out: Buffer, offset: number, reply: Buffer, msg: Buffer): void {
  out[offset] = msg[0]!;
  out[offset + 1] = msg[1]!;
  // RD and CD come from the query.
  out[offset + 2] = (reply[2]! & 0xfe) | (msg[2]! & 0x01);
  out[offset + 3] = (reply[3]! & 0xef) | (msg[3]! & 0x10);
}

export class StoredAnswers {
  /** entry index + 1 per slot, 0 when empty; made on the first set (a TCP table may never get one) */
  private slots = new Int32Array(0);
  private hashes = new Int32Array(0);
  private keys: Buffer[] = [];
  private replies: Buffer[] = [];
  /** per entry: a copy of the reply that `patched` rewrites for each query */
  private outs: Buffer[] = [];
  private seriesOf: (RequestSeries | undefined)[] = [];
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
        let s = this.hashes[e]! & MASK;
        while (this.slots[s] !== e + 1) s = (s + 1) & MASK;
        this.slots[s] = 0;
      }
    } else this.slots.fill(0);
    this.keys = [];
    this.replies = [];
    this.outs = [];
    this.seriesOf = [];
    this.count = 0;
  }

  /** The entry stored for exactly this query, or -1. */
  find(msg: Buffer): number {
    if (this.count === 0) return -1;
    const h = hashQuery(msg);
    for (let s = h & MASK; ; s = (s + 1) & MASK) {
      const e = this.slots[s]! - 1;
      if (e < 0) return -1;
      if (this.hashes[e] === h && sameQuery(this.keys[e]!, msg)) return e;
    }
  }

  /**
   * Entry `e`'s reply patched for this query, in the entry's own buffer: valid until the
   * next `patched` of the same entry, unless the caller takes it with `detach`.
   */
  patched(e: number, msg: Buffer): Buffer {
    const out = this.outs[e]!;
    patch(out, 0, this.replies[e]!, msg);
    return out;
  }

  /** Gives the caller the buffer `patched` returned last for entry `e`; the entry gets a new one. */
  detach(e: number): void {
    if (e < this.outs.length) this.outs[e] = Buffer.from(this.replies[e]!);
  }

  series(e: number): RequestSeries | undefined {
    return this.seriesOf[e];
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
    return { out, series: this.seriesOf[e] };
  }

  set(msg: Buffer, reply: Buffer, series: RequestSeries | undefined): void {
    if (msg.length < 12) return;
    if (this.find(msg) >= 0) return;
    if (this.count >= MAX_STORED) this.clear();
    if (this.slots.length === 0) {
      this.slots = new Int32Array(SLOTS);
      this.hashes = new Int32Array(MAX_STORED);
    }
    const h = hashQuery(msg);
    let s = h & MASK;
    while (this.slots[s] !== 0) s = (s + 1) & MASK;
    const e = this.count++;
    this.slots[s] = e + 1;
    this.hashes[e] = h;
    this.keys.push(Buffer.from(msg.subarray(2)));
    this.replies.push(reply);
    this.outs.push(Buffer.from(reply));
    this.seriesOf.push(series);
  }
}
