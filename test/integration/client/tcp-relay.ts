import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
}

/**
 * A loopback TCP relay between a client and an API server, for injecting faults the
 * way a network does: cut every connection, refuse connections for a while, cut a
 * response in the middle (part of a chunk delivered, then RST), or trickle the
 * server→client direction so the client looks like a slow consumer. It works on raw
 * bytes, so it sits in front of TLS as well as plain HTTP; route only the connections
 * under test through it (writes made by the test go to the server directly).
 */
export class TcpRelay {
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  private cutArmed: { minBytes: number; resolve: (delivered: number) => void } | undefined;
  private throttleBytesPerTick = 0;
  private blocked = false;
  port = 0;
  connectionsAccepted = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.cutAll();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  get openConnections(): number {
    return this.pairs.size;
  }

  /** Resets every connection and refuses new ones until unblock(): the server is unreachable. */
  block(): void {
    this.blocked = true;
    this.cutAll();
  }

  unblock(): void {
    this.blocked = false;
  }

  /** Resets every connection, as a dropped link or a NAT timeout would. */
  cutAll(): void {
    for (const p of this.pairs) {
      p.client.resetAndDestroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
  }

  /**
   * Resolves once the next server→client chunk of at least `minBytes` has been delivered
   * only up to its middle and its connection reset.
   */
  cutNextChunkMidway(minBytes: number): Promise<number> {
    return new Promise((resolve) => (this.cutArmed = { minBytes, resolve }));
  }

  /** Deliver at most `bytes` per 10 ms server→client (0: no limit), pausing reads from the server meanwhile. */
  throttle(bytes: number): void {
    this.throttleBytesPerTick = bytes;
  }

  private accept(client: Socket): void {
    if (this.blocked) {
      client.resetAndDestroy();
      return;
    }
    this.connectionsAccepted++;
    const upstream = connect(this.targetPort, this.targetHost);
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => this.downstream(pair, d));
  }

  private downstream(pair: Pair, d: Buffer): void {
    const armed = this.cutArmed;
    if (armed && d.length >= armed.minBytes) {
      this.cutArmed = undefined;
      const at = Math.floor(d.length / 2);
      pair.upstream.pause();
      pair.client.write(d.subarray(0, at), () => {
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
        armed.resolve(at);
      });
      return;
    }
    if (this.throttleBytesPerTick > 0 && d.length > this.throttleBytesPerTick) {
      // stop reading from the server while this chunk trickles out: TCP backpressure
      pair.upstream.pause();
      let off = 0;
      const step = () => {
        if (pair.client.destroyed) return;
        const n = this.throttleBytesPerTick > 0 ? this.throttleBytesPerTick : d.length - off;
        pair.client.write(d.subarray(off, off + n));
        off += n;
        if (off < d.length) setTimeout(step, 10);
        else pair.upstream.resume();
      };
      step();
      return;
    }
    pair.client.write(d);
  }
}
