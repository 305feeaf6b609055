import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Proxy } from './proxy.js';
import { TLS_MIN_VERSION, type KeyPair } from './tls.js';

export interface Bind {
  host: string;
  port: number;
}

/**
 * The two client-facing listeners. Neither is ever closed or re-created on a
 * configuration change: only the table behind `proxy` is swapped.
 */
export class Listeners {
  http: Server | undefined;
  https: Http2SecureServer | undefined;

  constructor(
    private readonly proxy: Proxy,
    private readonly sni: (servername: string) => SecureContext,
    /** served to clients that send no SNI (the SNI callback is not called for them) */
    private readonly defaultPair: () => KeyPair,
  ) {}

  async listen(httpBind: Bind | undefined, httpsBind: Bind | undefined): Promise<void> {
    const proxy = this.proxy;
    if (httpBind) {
      let port = httpBind.port;
      const server = createHttpServer({ keepAliveTimeout: 75_000, requestTimeout: 0, headersTimeout: 60_000 }, (req: IncomingMessage, res: ServerResponse) => proxy.handle(req, res, false, port));
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => proxy.handleUpgrade(req, socket, head, false, port));
      server.on('clientError', onClientError);
      await listenOn(server, httpBind);
      port = (server.address() as AddressInfo).port;
      this.http = server;
    }
    if (httpsBind) {
      let port = httpsBind.port;
      const server = createSecureServer(
        {
          allowHTTP1: true,
          minVersion: TLS_MIN_VERSION,
          SNICallback: (name, cb) => cb(null, this.sni(name)),
          ...this.defaultPair(),
        } as Parameters<typeof createSecureServer>[0],
        (req: Http2ServerRequest, res: Http2ServerResponse) => proxy.handle(req, res, true, port),
      );
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => proxy.handleUpgrade(req, socket, head, true, port));
      server.on('clientError', onClientError);
      server.on('sessionError', () => undefined);
      await listenOn(server, httpsBind);
      port = (server.address() as AddressInfo).port;
      this.https = server;
    }
  }

  get httpPort(): number | undefined {
    return (this.http?.address() as AddressInfo | null)?.port;
  }
  get httpsPort(): number | undefined {
    return (this.https?.address() as AddressInfo | null)?.port;
  }

  /** Stops accepting, then waits for in-flight requests (bounded by graceMs). */
  async close(graceMs = 5000): Promise<void> {
    const servers = [this.http, this.https].filter((s): s is Server | Http2SecureServer => s !== undefined);
    await Promise.race([
      Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))),
      new Promise<void>((r) => setTimeout(r, graceMs).unref()),
    ]);
    for (const s of servers) (s as Server).closeAllConnections?.();
  }
}

function onClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
}

function listenOn(server: Server | Http2SecureServer, bind: Bind): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
