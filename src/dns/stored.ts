// Encoded cluster answers reused for repeated questions: the table behind the server's fast
// path. A query is found by a numeric hash of its bytes after the ID (header counts,
// question, OPT), then compared byte for byte, so no string is made per query. The reply is
// copied out with the query's ID and RD/CD bits patched in; everything else in it (the
// question's letter case, the EDNS buffer size it was cut to) came from identical bytes.
import type { RequestSeries } from './metrics.js';

/** Entries per table; a full table is emptied, it is rebuilt from hits within a moment. */
export const MAX_STORED = 65_536;

interface Entry {
  /** the query bytes from offset 2 (flags, counts, question, additional) */
  key: Buffer;
  reply: Buffer;
  series: RequestSeries | undefined;
  /** next entry with the same hash */
  next: Entry | undefined;
}

/** FNV-1a over msg[from..]; the flags' RD and CD bits are left out since replies get them patched. */
function hashQuery(msg: Buffer): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ (msg[2]! & 0xfe), 0x01000193);
  h = Math.imul(h ^ (msg[3]! & 0xef), 0x01000193);
  for (let i = 4; i < msg.length; i++) h = Math.imul(h ^ msg[i]!, 0x01000193);
  return h >>> 0;
}

function sameQuery(key: Buffer, msg: Buffer): boolean {
  if (key.length !== msg.length - 2) return false;
  if ((key[0]! & 0xfe) !== (msg[2]! & 0xfe) || (key[1]! & 0xef) !== (msg[3]! & 0xef)) return false;
  for (let i = 2; i < key.length; i++) if (key[i] !== msg[i + 2]) return false;
  return true;
}

export class StoredAnswers {
  private readonly table = new Map<number, Entry>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.table.clear();
    this.count = 0;
  }

  /**
   * Copies the stored reply for exactly this query into a fresh buffer at `offset` (2 for a
   * TCP length prefix), patched for this query; undefined when there is none.
   */
  reply(msg: Buffer, offset: number): { out: Buffer; series: RequestSeries | undefined } | undefined {
    let e = this.table.get(hashQuery(msg));
    while (e && !sameQuery(e.key, msg)) e = e.next;
    if (!e) return undefined;
    const r = e.reply;
    const out = Buffer.allocUnsafe(offset + r.length);
    r.copy(out, offset);
    out[offset] = msg[0]!;
    out[offset + 1] = msg[1]!;
    // RD and CD come from the query.
    out[offset + 2] = (r[2]! & 0xfe) | (msg[2]! & 0x01);
    out[offset + 3] = (r[3]! & 0xef) | (msg[3]! & 0x10);
    return { out, series: e.series };
  }

  set(msg: Buffer, reply: Buffer, series: RequestSeries | undefined): void {
    if (msg.length < 12) return;
    if (this.count >= MAX_STORED) this.clear();
    const h = hashQuery(msg);
    const head = this.table.get(h);
    for (let e = head; e; e = e.next) if (sameQuery(e.key, msg)) return;
    this.table.set(h, { key: Buffer.from(msg.subarray(2)), reply, series, next: head });
    this.count++;
  }
}
