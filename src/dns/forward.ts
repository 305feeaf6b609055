// The forward plugin: names we are not authoritative for go to upstream resolvers over UDP
// (TCP when the reply is truncated or force_tcp), with a bound on in-flight queries
// (REFUSED past it) and in-band health checks so a dead upstream costs no waiting.
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import type { DnsRequest, Handler, ResponseWriter } from './plugin.js';
import { RCODE } from './wire.js';
import { logger } from '../observability/log.js';
import type { DnsMetrics } from './metrics.js';

const log = logger('dns/forward');

export interface ForwardOptions {
  /** zone this forward block covers, lower-case; '' is the root */
  from: string;
  /** host:port (IPv6 as [::1]:53) */
  to: string[];
  maxConcurrent: number;
  forceTcp: boolean;
  /** per-attempt read timeout, ms */
  timeoutMs: number;
  maxFails: number;
  healthCheckMs: number;
  except: string[];
}

export const defaultForwardOptions = (): ForwardOptions => ({
  from: '',
  to: [],
  maxConcurrent: 0,
  forceTcp: false,
  timeoutMs: 2000,
  maxFails: 2,
  healthCheckMs: 500,
  except: [],
});

/** Nameservers of a resolv.conf, as host:53. */
export function readResolvConf(path: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push(m[1]!.includes(':') ? `[${m[1]}]:53` : `${m[1]}:53`);
  }
  return out;
}

export function parseHostPort(text: string, defaultPort = 53): { host: string; port: number } {
  const t = text.replace(/^dns:\/\//, '');
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : defaultPort };
  if (net.isIPv6(t)) return { host: t, port: defaultPort };
  const i = t.lastIndexOf(':');
  if (i < 0) return { host: t, port: defaultPort };
  return { host: t.slice(0, i), port: Number(t.slice(i + 1)) };
}

interface Pending {
  resolve: (reply: Buffer | undefined) => void;
  timer: NodeJS.Timeout;
  id: number;
}

/** One upstream: a connected UDP socket (so ICMP unreachable fails queries at once). */
export class Upstream {
  readonly host: string;
  readonly port: number;
  fails = 0;
  private socket: dgram.Socket | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = Math.floor(Math.random() * 0xffff);
  private healthTimer: NodeJS.Timeout | undefined;
  private connected = false;
  private readonly queued: Buffer[] = [];

  constructor(
    readonly addr: string,
    private readonly opts: ForwardOptions,
  ) {
    const hp = parseHostPort(addr);
    this.host = hp.host;
    this.port = hp.port;
  }

  get down(): boolean {
    return this.fails > this.opts.maxFails;
  }

  private open(): dgram.Socket {
    if (this.socket) return this.socket;
    const s = dgram.createSocket(net.isIPv6(this.host) ? 'udp6' : 'udp4');
    s.on('message', (msg) => this.onMessage(msg));
    s.on('error', () => this.failAll());
    // Connected, so an unreachable upstream reports ECONNREFUSED instead of silence.
    s.connect(this.port, this.host, () => {
      this.connected = true;
      for (const b of this.queued.splice(0)) s.send(b, 0, b.length, (err) => err && this.failAll());
    });
    this.socket = s;
    return s;
  }

  private onMessage(msg: Buffer): void {
    if (msg.length < 12) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (!p) return;
    this.pending.delete(p.id);
    clearTimeout(p.timer);
    this.fails = 0;
    p.resolve(msg);
  }

  /** ECONNREFUSED and friends: every in-flight query to this upstream has failed. */
  private failAll(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve(undefined);
    }
    this.pending.clear();
    this.markFailed();
  }

  private markFailed(): void {
    this.fails++;
    if (this.down && !this.healthTimer) this.startHealthCheck();
  }

  /** While down, probe `. NS` until it answers (CoreDNS's in-band health check). */
  private startHealthCheck(): void {
    this.healthTimer = setInterval(() => {
      const probe = Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1]);
      void this.exchangeUdp(probe).then((r) => {
        if (r) {
          this.fails = 0;
          clearInterval(this.healthTimer);
          this.healthTimer = undefined;
          log.info('Upstream is healthy again', { upstream: this.addr });
        }
      });
    }, this.opts.healthCheckMs);
    this.healthTimer.unref();
    log.warn('Upstream marked down', { upstream: this.addr, fails: this.fails });
  }

  /** Sends a query; resolves with the reply (original ID restored) or undefined. */
  exchangeUdp(query: Buffer): Promise<Buffer | undefined> {
    const s = this.open();
    const origId = query.readUInt16BE(0);
    let id = this.nextId;
    while (this.pending.has(id)) id = (id + 1) & 0xffff;
    this.nextId = (id + 1) & 0xffff;
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.markFailed();
        resolve(undefined);
      }, this.opts.timeoutMs);
      this.pending.set(id, {
        id,
        timer,
        resolve: (r) => {
          if (r) r.writeUInt16BE(origId, 0);
          resolve(r);
        },
      });
      if (!this.connected) this.queued.push(out);
      else
        s.send(out, 0, out.length, (err) => {
          if (err) this.failAll();
        });
    });
  }

  exchangeTcp(query: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = net.connect({ host: this.host, port: this.port });
      let buf = Buffer.alloc(0);
      const finish = (r: Buffer | undefined): void => {
        clearTimeout(timer);
        sock.destroy();
        if (!r) this.markFailed();
        else this.fails = 0;
        resolve(r);
      };
      const timer = setTimeout(() => finish(undefined), this.opts.timeoutMs);
      sock.on('error', () => finish(undefined));
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length, 0);
        sock.write(Buffer.concat([len, query]));
      });
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      });
    });
  }

  close(): void {
    clearInterval(this.healthTimer);
    this.failAll();
    this.socket?.close();
    this.socket = undefined;
    this.connected = false;
  }
}

export class ForwardHandler implements Handler {
  readonly name = 'forward';
  readonly upstreams: Upstream[];
  private inflight = 0;

  constructor(
    readonly opts: ForwardOptions,
    private readonly next: Handler,
    private readonly metrics: DnsMetrics | undefined,
  ) {
    this.upstreams = opts.to.map((a) => new Upstream(a, opts));
  }

  private matches(name: string): boolean {
    const f = this.opts.from;
    if (!(f === '' || name === f || name.endsWith('.' + f))) return false;
    return !this.opts.except.some((e) => name === e || name.endsWith('.' + e));
  }

  serve(req: DnsRequest, w: ResponseWriter): Promise<number> | number {
    if (!this.matches(req.name)) return this.next.serve(req, w);
    if (this.opts.maxConcurrent > 0 && this.inflight >= this.opts.maxConcurrent) {
      if (this.metrics) this.metrics.maxConcurrentRejects.with().value++;
      return RCODE.REFUSED;
    }
    const healthy = this.upstreams.filter((u) => !u.down);
    // All upstreams down: answer SERVFAIL now instead of making the client wait out timeouts.
    if (healthy.length === 0) return RCODE.SERVFAIL;
    return this.forward(req, w, healthy);
  }

  private async forward(req: DnsRequest, w: ResponseWriter, healthy: Upstream[]): Promise<number> {
    this.inflight++;
    try {
      // Random order, as CoreDNS's default policy; try each healthy upstream once.
      const order = healthy.length > 1 ? [...healthy].sort(() => Math.random() - 0.5) : healthy;
      for (const u of order) {
        const started = process.hrtime.bigint();
        let reply = this.opts.forceTcp ? await u.exchangeTcp(req.raw) : await u.exchangeUdp(req.raw);
        if (reply && !this.opts.forceTcp && (reply.readUInt16BE(2) & 0x0200) !== 0) reply = await u.exchangeTcp(req.raw);
        const rcode = reply ? reply.readUInt16BE(2) & 0xf : -1;
        this.metrics?.observeForward(u.addr, rcode, Number(process.hrtime.bigint() - started) / 1e9);
        if (!reply) continue;
        w.writeRaw(reply, this.name);
        return rcode;
      }
      return RCODE.SERVFAIL;
    } finally {
      this.inflight--;
    }
  }

  close(): void {
    for (const u of this.upstreams) u.close();
  }
}
