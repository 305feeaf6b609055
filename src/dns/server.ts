// The DNS server: UDP and TCP sockets on one address, the per-query work every plugin
// relies on (parse once, FORMERR for garbage, NOTIMP/REFUSED/BADVERS, exceptions into
// SERVFAIL, truncation to the client's buffer with TC), and the reuse of encoded cluster
// answers. This file is the hot path: TCP listeners are module-level functions that find
// their state on the socket, UDP datagrams come straight from the socket handle
// (udp-recv.ts), and a repeated cluster question is answered by patching the ID into stored
// bytes, without building a message.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { DnsRequest, Handler, ResponseWriter, Transport } from './plugin.js';
import { clientWrote } from './plugin.js';
import { encodeError, encodeHeaderOnly, encodeReply, MalformedQuery, parseQuery, rcodeName, RCODE, typeName, type Message, type ParsedQuery } from './wire.js';
import { matchZone } from './answer.js';
import type { DnsMetrics } from './metrics.js';
import { StoredAnswers } from './stored.js';
import { udpSender, type UdpSend } from './udp-send.js';
import { onUdpDatagrams } from './udp-recv.js';
import { logger } from '../observability/log.js';

const log = logger('dns/server');

/** One server block: the zones it is for and its handler chain. */
export interface ServerBlock {
  zones: string[];
  chain: Handler;
  /** log plugin: one line per query */
  logQueries: boolean;
}

const kServer = Symbol('dnsServer');
const TCP_IDLE_MS = 10_000;

export class DnsServer {
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly tcpConns = new Set<net.Socket>();
  /** encoded cluster answers by the query bytes after the ID, one table per transport */
  private readonly storedUdp = new StoredAnswers();
  private readonly storedTcp = new StoredAnswers();
  private fastPath: boolean;
  /** replies on the UDP socket, set once bound */
  sendUdp: UdpSend = () => true;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly blocks: ServerBlock[],
    readonly metrics: DnsMetrics | undefined,
  ) {
    this.fastPath = !blocks.some((b) => b.logQueries);
  }

  /** Drops every stored answer; called on each record-index change. */
  invalidate(): void {
    this.storedUdp.clear();
    this.storedTcp.clear();
  }

  get address(): { host: string; port: number } {
    const a = this.udp?.address();
    return { host: this.host, port: a?.port ?? this.port };
  }

  async start(): Promise<void> {
    const type = net.isIPv6(this.host) ? 'udp6' : 'udp4';
    const udp = dgram.createSocket({ type, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    udp.on('error', onUdpError);
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.port, this.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    this.udp = udp;
    this.sendUdp = udpSender(udp);
    onUdpDatagrams(udp, (msg, address, port) => this.onUdpQuery(msg, address, port));
    const tcp = net.createServer(onTcpConnection);
    (tcp as unknown as Record<symbol, DnsServer>)[kServer] = this;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(udp.address().port, this.host, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.tcp = tcp;
  }

  async stop(): Promise<void> {
    this.udp?.close();
    for (const c of this.tcpConns) c.destroy();
    await new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r()));
  }

  /**
   * A UDP query. A repeated cluster question is answered from the stored reply patched in
   * place, sent at once: no allocation, no promise, no closure.
   */
  onUdpQuery(msg: Buffer, address: string, port: number): void {
    if (this.fastPath && msg.length >= 17 && (msg[2]! & 0xf8) === 0) {
      const stored = this.storedUdp;
      const e = stored.find(msg);
      if (e >= 0) {
        if (!this.sendUdp(stored.patched(e, msg), port, address)) stored.detach(e);
        const series = stored.series(e);
        // Answered in well under the first bucket (250µs): counted there without a clock read.
        if (series && this.metrics) this.metrics.count(series, 0);
        return;
      }
    }
    this.handle(msg, 'udp', address).then(
      (reply) => {
        if (reply) this.sendUdp(reply, port, address);
      },
      (err: unknown) => log.error('Failed to answer a query', err),
    );
  }

  /**
   * The fast path: a copy of the stored reply for exactly these query bytes, with this
   * query's ID, starting at `offset` (2 leaves room for a TCP length prefix); or undefined.
   */
  tryStored(msg: Buffer, transport: Transport, offset = 0): Buffer | undefined {
    if (!this.fastPath || msg.length < 17 || (msg[2]! & 0xf8) !== 0) return undefined;
    const hit = (transport === 'udp' ? this.storedUdp : this.storedTcp).reply(msg, offset);
    if (!hit) return undefined;
    // Answered in well under the first bucket (250µs): counted there without a clock read.
    if (hit.series && this.metrics) this.metrics.count(hit.series, 0);
    return hit.out;
  }

  /** The full path: parse, checks, chain; resolves with the reply bytes (or none). */
  async handle(msg: Buffer, transport: Transport, remoteAddress: string): Promise<Buffer | undefined> {
    const started = process.hrtime.bigint();
    let q: ParsedQuery;
    try {
      q = parseQuery(msg);
    } catch (err) {
      if (!(err instanceof MalformedQuery) || msg.length < 12 || (msg[2]! & 0x80) !== 0) return undefined;
      return encodeHeaderOnly(msg.readUInt16BE(0), msg.readUInt16BE(2), RCODE.FORMERR);
    }
    if (q.opcode !== 0) return encodeError(msg, q, RCODE.NOTIMP);
    if (q.hasOpt && q.ednsVersion !== 0) return badVersion(msg, q);
    const name = q.qname.toLowerCase();
    let block: ServerBlock | undefined;
    let blockZone: string | undefined;
    for (const b of this.blocks) {
      const z = matchZone(b.zones, name);
      if (z !== undefined && (blockZone === undefined || z.length > blockZone.length)) {
        block = b;
        blockZone = z;
      }
    }
    if (!block || q.qclass !== 1) return encodeError(msg, q, RCODE.REFUSED);
    const req: DnsRequest = { raw: msg, query: q, name, transport, remoteAddress, internal: false };
    const w = new Writer(this, req);
    let rcode: number;
    try {
      rcode = await block.chain.serve(req, w);
    } catch (err) {
      if (this.metrics) this.metrics.panics.with().value++;
      log.error('Plugin failed while serving a query', err, { qname: q.qname, qtype: typeName(q.qtype) });
      rcode = RCODE.SERVFAIL;
    }
    if (!w.reply) {
      if (clientWrote(rcode)) rcode = RCODE.SERVFAIL;
      w.reply = encodeError(msg, q, rcode);
      w.from = '';
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const zone = (blockZone ?? '') + '.';
    const series = this.metrics?.seriesFor(zone, transport, remoteAddress.includes(':') ? '2' : '1', typeName(q.qtype), rcodeName(w.reply.readUInt16BE(2) & 0xf), w.from);
    if (series) this.metrics!.count(series, seconds);
    if (block.logQueries) log.info('Query', { remote: remoteAddress, proto: transport, qname: q.qname + '.', qtype: typeName(q.qtype), rcode: rcodeName(w.reply.readUInt16BE(2) & 0xf), size: w.reply.length, duration: `${seconds.toFixed(6)}s` });
    if (w.storable && this.fastPath) {
      (transport === 'udp' ? this.storedUdp : this.storedTcp).set(msg, w.reply, series);
    }
    return w.reply;
  }

  /** Resolves a name through a block's chain, for plugins that chase names (ExternalName). */
  async lookup(name: string, qtype: number): Promise<Buffer | undefined> {
    const raw = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: typeName(qtype) as 'A', name }] });
    return this.handle(raw, 'tcp', '127.0.0.1');
  }
}

class Writer implements ResponseWriter {
  reply: Buffer | undefined = undefined;
  from = '';
  storable = false;
  constructor(
    private readonly server: DnsServer,
    private readonly req: DnsRequest,
  ) {}
  get written(): boolean {
    return this.reply !== undefined;
  }
  private limit(): number {
    return this.req.transport === 'tcp' ? 65535 : this.req.query.hasOpt ? this.req.query.udpSize : 512;
  }
  writeMessage(msg: Message, from: string): void {
    this.reply = encodeReply(this.req.raw, this.req.query, msg, this.limit());
    this.from = from;
    // Only complete answers from the index are reused; SERVFAIL before sync is not.
    this.storable = from === 'kubernetes' && !msg.noStore && msg.rcode !== RCODE.SERVFAIL && !this.req.internal;
  }
  writeRaw(reply: Buffer, from: string): void {
    this.from = from;
    if (reply.length <= this.limit()) {
      this.reply = reply;
      return;
    }
    // Too big for the client's buffer: header and question only, TC set, so it retries over TCP.
    const q = this.req.query;
    const out = Buffer.alloc(q.questionEnd);
    reply.copy(out, 0, 0, 4);
    out.writeUInt16BE(1, 4);
    this.req.raw.copy(out, 12, 12, q.questionEnd);
    out.writeUInt16BE(out.readUInt16BE(2) | 0x0200, 2);
    this.reply = out;
  }
}

function badVersion(msg: Buffer, q: ParsedQuery): Buffer {
  const reply = encodeReply(msg, q, { rcode: 0, aa: false, answer: [], authority: [], additional: [] });
  // BADVERS is extended rcode 16: upper 8 bits in the OPT TTL field.
  reply[reply.length - 11 + 5] = 1;
  return reply;
}

function onUdpError(this: dgram.Socket, err: Error): void {
  log.error('UDP socket error', err);
}

interface TcpState {
  server: DnsServer;
  buf: Buffer;
}
const kTcp = Symbol('tcpState');

function onTcpConnection(this: net.Server, sock: net.Socket): void {
  const server = (this as unknown as Record<symbol, DnsServer>)[kServer]!;
  (sock as unknown as Record<symbol, TcpState>)[kTcp] = { server, buf: Buffer.alloc(0) };
  server['tcpConns'].add(sock);
  sock.setTimeout(TCP_IDLE_MS);
  sock.on('timeout', onTcpTimeout);
  sock.on('data', onTcpData);
  sock.on('error', onTcpError);
  sock.on('close', onTcpClose);
}

function onTcpTimeout(this: net.Socket): void {
  this.destroy();
}
function onTcpError(this: net.Socket): void {
  this.destroy();
}
function onTcpClose(this: net.Socket): void {
  (this as unknown as Record<symbol, TcpState>)[kTcp]!.server['tcpConns'].delete(this);
}

function onTcpData(this: net.Socket, chunk: Buffer): void {
  const st = (this as unknown as Record<symbol, TcpState>)[kTcp]!;
  st.buf = st.buf.length ? Buffer.concat([st.buf, chunk]) : chunk;
  while (st.buf.length >= 2) {
    const len = st.buf.readUInt16BE(0);
    if (st.buf.length < 2 + len) break;
    const msg = Buffer.from(st.buf.subarray(2, 2 + len));
    st.buf = st.buf.subarray(2 + len);
    const fast = st.server.tryStored(msg, 'tcp', 2);
    if (fast) {
      fast.writeUInt16BE(fast.length - 2, 0);
      if (!this.destroyed) this.write(fast);
    } else
      st.server.handle(msg, 'tcp', this.remoteAddress ?? '').then(
        (reply) => {
          if (reply) writeTcp(this, reply);
          else this.destroy();
        },
        () => this.destroy(),
      );
  }
}

function writeTcp(sock: net.Socket, reply: Buffer): void {
  if (sock.destroyed) return;
  const out = Buffer.allocUnsafe(2 + reply.length);
  out.writeUInt16BE(reply.length, 0);
  reply.copy(out, 2);
  sock.write(out);
}
