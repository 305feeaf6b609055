// The cache plugin for forwarded answers, like CoreDNS's `cache 30`: positive and negative
// entries kept as the upstream's bytes, TTLs counted down on the way out. Answers the
// kubernetes plugin builds are never cached: cluster names are answered from the current
// index (kubeadm >= 1.32 disables the cache for the cluster zone for the same reason).
import type { DnsRequest, Handler, ResponseWriter } from './plugin.js';
import type { Message } from './wire.js';
import { skipName, TYPE } from './wire.js';
import type { DnsMetrics } from './metrics.js';

export interface CacheOptions {
  /** zones cached, lower-case; '' is the root */
  zones: string[];
  /** max TTL for positive answers, seconds */
  successTtl: number;
  successCapacity: number;
  denialTtl: number;
  denialCapacity: number;
  minTtl: number;
  /** zones excluded per kind (`disable success|denial ZONES`) */
  disableSuccess: string[];
  disableDenial: string[];
  /** `prefetch AMOUNT [DURATION] [PERCENTAGE%]`: refresh popular entries before they expire */
  prefetch?: { amount: number; durationMs: number; percentage: number };
  /** `serve_stale [DURATION] [immediate|verify]`: answer from expired entries for this long */
  serveStale?: { durationMs: number; verify: boolean };
}

export const defaultCacheOptions = (): CacheOptions => ({
  zones: [''],
  successTtl: 3600,
  successCapacity: 9984,
  denialTtl: 1800,
  denialCapacity: 9984,
  minTtl: 5,
  disableSuccess: [],
  disableDenial: [],
});

interface Entry {
  reply: Buffer;
  storedAt: number;
  ttl: number;
  /** offsets of every TTL field, to count them down */
  ttlOffsets: number[];
  /** prefetch popularity: hits with no gap longer than the prefetch duration */
  hits: number;
  lastHit: number;
  /** a refresh from the next plugin is under way */
  refreshing: boolean;
}

function inZones(name: string, zones: readonly string[]): boolean {
  return zones.some((z) => z === '' || name === z || name.endsWith('.' + z));
}

/** Walks the reply's records: TTL offsets and the TTL the entry may live for. */
export function replyTtls(reply: Buffer): { offsets: number[]; minTtl: number; soaMinimum: number | undefined } {
  const qd = reply.readUInt16BE(4);
  const total = reply.readUInt16BE(6) + reply.readUInt16BE(8) + reply.readUInt16BE(10);
  let pos = 12;
  for (let i = 0; i < qd; i++) pos = skipName(reply, pos) + 4;
  const offsets: number[] = [];
  let minTtl = Infinity;
  let soaMinimum: number | undefined;
  for (let i = 0; i < total; i++) {
    pos = skipName(reply, pos);
    const type = reply.readUInt16BE(pos);
    const ttl = reply.readUInt32BE(pos + 4);
    const rdlen = reply.readUInt16BE(pos + 8);
    if (type !== TYPE.OPT) {
      offsets.push(pos + 4);
      minTtl = Math.min(minTtl, ttl);
      if (type === TYPE.SOA) soaMinimum = Math.min(ttl, reply.readUInt32BE(pos + 10 + rdlen - 4));
    }
    pos += 10 + rdlen;
  }
  return { offsets, minTtl, soaMinimum };
}

/** Captures what the next plugin answers to a query no client is waiting on (a refresh). */
class RefreshWriter implements ResponseWriter {
  captured: Buffer | undefined;
  wrote = false;
  get written(): boolean {
    return this.wrote;
  }
  writeMessage(): void {
    this.wrote = true;
  }
  writeRaw(reply: Buffer): void {
    this.wrote = true;
    this.captured = reply;
  }
}

class CacheWriter implements ResponseWriter {
  captured: Buffer | undefined;
  constructor(private readonly inner: ResponseWriter) {}
  get written(): boolean {
    return this.inner.written;
  }
  writeMessage(msg: Message, from: string): void {
    this.inner.writeMessage(msg, from);
  }
  writeRaw(reply: Buffer, from: string): void {
    this.captured = reply;
    this.inner.writeRaw(reply, from);
  }
}

export class CacheHandler implements Handler {
  readonly name = 'cache';
  private readonly success = new Map<string, Entry>();
  private readonly denial = new Map<string, Entry>();
  private readonly zonesLabel: string;

  constructor(
    readonly opts: CacheOptions,
    private readonly next: Handler,
    private readonly metrics: DnsMetrics | undefined,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.zonesLabel = zonesLabel(opts.zones);
  }

  private key(req: DnsRequest): string {
    const q = req.query;
    return `${req.name}|${q.qtype}|${q.qclass}|${q.dnssecOk ? 1 : 0}|${(q.flags >> 4) & 1}`;
  }

  serve(req: DnsRequest, w: ResponseWriter): Promise<number> | number {
    if (!inZones(req.name, this.opts.zones)) return this.next.serve(req, w);
    const key = this.key(req);
    if (this.metrics) this.metrics.cacheRequests.with('dns://', this.zonesLabel, '').value++;
    const hit = this.lookup(this.success, key) ?? this.lookup(this.denial, key);
    if (hit && !hit.stale) {
      if (this.metrics) this.metrics.cacheHits.with('dns://', hit.kind, this.zonesLabel, '').value++;
      if (this.shouldPrefetch(hit.entry)) {
        if (this.metrics) this.metrics.cachePrefetch.with('dns://', this.zonesLabel, '').value++;
        this.refresh(req, key, hit.entry);
      }
      w.writeRaw(this.render(hit.entry, req, false), this.name);
      return hit.entry.reply.readUInt16BE(2) & 0xf;
    }
    if (hit && !this.opts.serveStale!.verify) {
      // serve_stale immediate: the expired answer now (TTL 0), a fresh one for the next client.
      this.servedStale();
      this.refresh(req, key, hit.entry);
      w.writeRaw(this.render(hit.entry, req, true), this.name);
      return hit.entry.reply.readUInt16BE(2) & 0xf;
    }
    if (this.metrics) this.metrics.cacheMisses.with('dns://', this.zonesLabel, '').value++;
    if (hit) return this.verifyThenStale(req, key, hit.entry, w);
    const cw = new CacheWriter(w);
    const r = this.next.serve(req, cw);
    if (typeof r === 'number') {
      this.store(req, key, cw.captured);
      return r;
    }
    return r.then((rcode) => {
      this.store(req, key, cw.captured);
      return rcode;
    });
  }

  /** serve_stale verify: ask the next plugin first; only when that fails, the expired answer. */
  private async verifyThenStale(req: DnsRequest, key: string, stale: Entry, w: ResponseWriter): Promise<number> {
    const rw = new RefreshWriter();
    try {
      await this.next.serve(req, rw);
    } catch {
      // as a failed answer: the stale one below
    }
    const fresh = rw.captured;
    if (fresh && usable(fresh)) {
      this.store(req, key, fresh);
      w.writeRaw(fresh, this.name);
      return fresh.readUInt16BE(2) & 0xf;
    }
    this.servedStale();
    w.writeRaw(this.render(stale, req, true), this.name);
    return stale.reply.readUInt16BE(2) & 0xf;
  }

  private servedStale(): void {
    if (this.metrics) this.metrics.cacheServedStale.with('dns://', this.zonesLabel, '').value++;
  }

  /** Popular (AMOUNT hits without a gap longer than DURATION) and within PERCENTAGE of expiry, or its last second. */
  private shouldPrefetch(e: Entry): boolean {
    const p = this.opts.prefetch;
    if (!p) return false;
    const now = this.now();
    e.hits = now - e.lastHit > p.durationMs ? 1 : e.hits + 1;
    e.lastHit = now;
    if (e.hits < p.amount || e.refreshing) return false;
    const remainingMs = e.storedAt + e.ttl * 1000 - now;
    return remainingMs <= Math.max((e.ttl * 1000 * p.percentage) / 100, 1000);
  }

  /** Asks the next plugin again in the background and stores a usable answer. */
  private refresh(req: DnsRequest, key: string, e: Entry): void {
    if (e.refreshing) return;
    e.refreshing = true;
    const rw = new RefreshWriter();
    const done = (): void => {
      e.refreshing = false;
      // A failed refresh keeps the old entry (serve_stale keeps answering from it).
      if (rw.captured && usable(rw.captured)) this.store(req, key, rw.captured);
    };
    try {
      Promise.resolve(this.next.serve(req, rw)).then(done, done);
    } catch {
      done();
    }
  }

  private lookup(m: Map<string, Entry>, key: string): { entry: Entry; kind: string; stale: boolean } | undefined {
    const e = m.get(key);
    if (!e) return undefined;
    const ageMs = this.now() - e.storedAt;
    let stale = false;
    if (ageMs >= e.ttl * 1000) {
      const s = this.opts.serveStale;
      if (!s || ageMs >= e.ttl * 1000 + s.durationMs) {
        m.delete(key);
        return undefined;
      }
      stale = true;
    }
    return { entry: e, kind: m === this.success ? 'success' : 'denial', stale };
  }

  /** The stored reply with this query's ID, flags and question case, TTLs counted down. */
  private render(e: Entry, req: DnsRequest, stale: boolean): Buffer {
    const out = Buffer.from(e.reply);
    out.writeUInt16BE(req.query.id, 0);
    const flags = (out.readUInt16BE(2) & ~0x0110) | (req.query.flags & 0x0110);
    out.writeUInt16BE(flags, 2);
    req.raw.copy(out, 12, 12, req.query.questionEnd);
    const age = Math.floor((this.now() - e.storedAt) / 1000);
    // A stale answer goes out with TTL 0, so nobody caches it further.
    for (const off of e.ttlOffsets) out.writeUInt32BE(stale ? 0 : Math.max(0, out.readUInt32BE(off) - age), off);
    return out;
  }

  private store(req: DnsRequest, key: string, reply: Buffer | undefined): void {
    if (!reply || reply.length < 12 || (reply.readUInt16BE(2) & 0x0200) !== 0) return;
    const rcode = reply.readUInt16BE(2) & 0xf;
    let info;
    try {
      info = replyTtls(reply);
    } catch {
      return;
    }
    const answers = reply.readUInt16BE(6);
    let map: Map<string, Entry>;
    let ttl: number;
    if (rcode === 0 && answers > 0) {
      if (inZones(req.name, this.opts.disableSuccess)) return;
      map = this.success;
      ttl = Math.min(info.minTtl, this.opts.successTtl);
    } else if (rcode === 3 || (rcode === 0 && answers === 0)) {
      if (inZones(req.name, this.opts.disableDenial)) return;
      map = this.denial;
      ttl = Math.min(info.soaMinimum ?? this.opts.minTtl, this.opts.denialTtl);
    } else return;
    ttl = Math.max(ttl, this.opts.minTtl);
    const cap = map === this.success ? this.opts.successCapacity : this.opts.denialCapacity;
    if (map.size >= cap) map.delete(map.keys().next().value!);
    const old = map.get(key);
    map.delete(key);
    map.set(key, { reply: Buffer.from(reply), storedAt: this.now(), ttl, ttlOffsets: info.offsets, hits: old?.hits ?? 0, lastHit: old?.lastHit ?? 0, refreshing: false });
    if (this.metrics) this.metrics.cacheEntries.with('dns://', map === this.success ? 'success' : 'denial', this.zonesLabel, '').value = map.size;
  }

  get size(): number {
    return this.success.size + this.denial.size;
  }
}

function zonesLabel(zones: string[]): string {
  return zones.map((z) => z + '.').join(',');
}

/** An answer worth caching in place of an older one: NOERROR or NXDOMAIN, not truncated. */
function usable(reply: Buffer): boolean {
  if (reply.length < 12 || (reply.readUInt16BE(2) & 0x0200) !== 0) return false;
  const rcode = reply.readUInt16BE(2) & 0xf;
  return rcode === 0 || rcode === 3;
}
