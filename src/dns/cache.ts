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
    if (hit) {
      if (this.metrics) this.metrics.cacheHits.with('dns://', hit.kind, this.zonesLabel, '').value++;
      w.writeRaw(this.render(hit.entry, req), this.name);
      return hit.entry.reply.readUInt16BE(2) & 0xf;
    }
    if (this.metrics) this.metrics.cacheMisses.with('dns://', this.zonesLabel, '').value++;
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

  private lookup(m: Map<string, Entry>, key: string): { entry: Entry; kind: string } | undefined {
    const e = m.get(key);
    if (!e) return undefined;
    if ((this.now() - e.storedAt) / 1000 >= e.ttl) {
      m.delete(key);
      return undefined;
    }
    return { entry: e, kind: m === this.success ? 'success' : 'denial' };
  }

  /** The stored reply with this query's ID, flags and question case, TTLs counted down. */
  private render(e: Entry, req: DnsRequest): Buffer {
    const out = Buffer.from(e.reply);
    out.writeUInt16BE(req.query.id, 0);
    const flags = (out.readUInt16BE(2) & ~0x0110) | (req.query.flags & 0x0110);
    out.writeUInt16BE(flags, 2);
    req.raw.copy(out, 12, 12, req.query.questionEnd);
    const age = Math.floor((this.now() - e.storedAt) / 1000);
    for (const off of e.ttlOffsets) out.writeUInt32BE(Math.max(0, out.readUInt32BE(off) - age), off);
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
    map.set(key, { reply: Buffer.from(reply), storedAt: this.now(), ttl, ttlOffsets: info.offsets });
    if (this.metrics) this.metrics.cacheEntries.with('dns://', map === this.success ? 'success' : 'denial', this.zonesLabel, '').value = map.size;
  }

  get size(): number {
    return this.success.size + this.denial.size;
  }
}

function zonesLabel(zones: string[]): string {
  return zones.map((z) => z + '.').join(',');
}
