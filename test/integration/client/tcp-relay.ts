import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  /** the request on this connection is a watch */
  watch: boolean;
}

/**
 * A loopback TCP relay between a client and an API server, for injecting faults the
 * way a network does: cut every connection, cut a watch in the middle of an event
 * (half a chunk delivered, then RST), or stall the server→client direction so the
 * client looks like a slow consumer and the server's buffers fill.
 */
export class TcpRelay {
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  private cutArmed: ((bytesDelivered: number) => void) | undefined;
  private throttleBytesPerTick = 0;
  port = 0;

  constructor(private readonly targetPort: number, private readonly targetHost = '127.0.0.1') {}

  async start(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.cutAll();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  get watchConnections(): number {
    return [...this.pairs].filter((p) => p.watch && !p.client.destroyed).length;
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
   * Resolves after the next server→client chunk on a watch that carries an event has been
   * delivered only up to its middle, and that connection reset.
   */
  cutNextWatchChunkMidway(): Promise<number> {
    return new Promise((resolve) => (this.cutArmed = resolve));
  }

  /** Deliver at most `bytes` per 10 ms server→client on watches (0: no limit). */
  throttleWatches(bytes: number): void {
    this.throttleBytesPerTick = bytes;
  }

  private accept(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost);
    const pair: Pair = { client, upstream, watch: false };
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
    client.on('data', (d: Buffer) => {
      if (/^GET [^ ]*[?&]watch=(true|1)/.test(d.toString('latin1', 0, Math.min(d.length, 2048)))) pair.watch = true;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => this.downstream(pair, d));
  }

  private downstream(pair: Pair, d: Buffer): void {
    if (pair.watch && this.cutArmed && d.includes('"type"')) {
      const at = d.indexOf('"type"') + 10;
      const resolve = this.cutArmed;
      this.cutArmed = undefined;
      pair.client.write(d.subarray(0, at), () => {
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
        resolve(at);
      });
      return;
    }
    if (pair.watch && this.throttleBytesPerTick > 0 && d.length > this.throttleBytesPerTick) {
      // stop reading from the server while we trickle this chunk out: TCP backpressure
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
