import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { MAX_HELLO_BYTES, parseClientHello } from './sni.js';
import type { SecureContext } from 'node:tls';
import type { Proxy } from './proxy.js';
import { TLS_MIN_VERSION, type KeyPair } from './tls.js';
import { LeanServer } from './h1server.js';
import type { ClientResponse } from './messages.js';

export interface Bind {
  host: string;
  port: number;
}

/** Where an ssl-passthrough connection for a server name goes; undefined: terminate TLS here. */
export type PassthroughLookup = (servername: string) => { address: string; port: number } | 'unavailable' | undefined;

/** How long a new HTTPS connection may take to send its ClientHello when passthrough peeks at it. */
const HELLO_TIMEOUT_MS = 10_000;
const PASSTHROUGH_CONNECT_TIMEOUT_MS = 5_000;
const KEEP_ALIVE_TIMEOUT_MS = 75_000;
const HEADERS_TIMEOUT_MS = 60_000;

/**
 * The two client-facing listeners. Neither is ever closed or re-created on a
 * configuration change: only the table behind `proxy` is swapped.
 */
export class Listeners {
  http: Server | undefined;
  /** the plain-HTTP fast path in front of `http` (which keeps upgrades and anything unusual) */
  private lean: LeanServer | undefined;
  https: Http2SecureServer | undefined;
  /** with ssl-passthrough: the TCP listener that reads SNI before choosing pipe or TLS */
  front: TcpServer | undefined;

  constructor(
    private readonly proxy: Proxy,
    private readonly sni: (servername: string) => SecureContext,
    /** served to clients that send no SNI (the SNI callback is not called for them) */
    private readonly defaultPair: () => KeyPair,
    /** set with --enable-ssl-passthrough */
    private readonly passthrough?: PassthroughLookup,
  ) {}

  async listen(httpBind: Bind | undefined, httpsBind: Bind | undefined): Promise<void> {
    const proxy = this.proxy;
    if (httpBind) {
      let port = httpBind.port;
      const server = createHttpServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS }, (req: IncomingMessage, res: ServerResponse) => proxy.handle(req, res, false, port));
      this.lean = new LeanServer(server, (req, res) => proxy.handle(req, res, false, port), { keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS, headersTimeoutMs: HEADERS_TIMEOUT_MS });
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => proxy.handleUpgrade(req, socket, head, false, port));
      server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => onClientError(err, socket, proxy));
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
        // Http2ServerResponse takes a flat header list too, which its typings do not say.
        (req: Http2ServerRequest, res: Http2ServerResponse) => proxy.handle(req, res as unknown as ClientResponse, true, port),
      );
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => proxy.handleUpgrade(req, socket, head, true, port));
      server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => onClientError(err, socket, proxy));
      server.on('sessionError', () => undefined);
      if (this.passthrough) {
        const lookup = this.passthrough;
        const front = createTcpServer((sock) => peek(sock, server, lookup));
        await listenOn(front, httpsBind);
        port = (front.address() as AddressInfo).port;
        this.front = front;
      } else {
        await listenOn(server, httpsBind);
        port = (server.address() as AddressInfo).port;
      }
      this.https = server;
    }
  }

  get httpPort(): number | undefined {
    return (this.http?.address() as AddressInfo | null)?.port;
  }
  get httpsPort(): number | undefined {
    return ((this.front ?? this.https)?.address() as AddressInfo | null)?.port;
  }

  /** Stops accepting, then waits for in-flight requests (bounded by graceMs). */
  async close(graceMs = 5000): Promise<void> {
    const servers = [this.http, this.front ?? this.https].filter((s): s is Server | Http2SecureServer => s !== undefined);
    this.lean?.closeIdle();
    await Promise.race([
      Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))),
      new Promise<void>((r) => setTimeout(r, graceMs).unref()),
    ]);
    for (const s of servers) (s as Server).closeAllConnections?.();
    this.lean?.destroyAll();
  }
}

function onClientError(err: Error & { code?: string }, socket: Duplex, proxy: Proxy): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  // Answered like any request, so it is counted (no route, no method: it never parsed).
  proxy.count({ route: undefined, req: {}, status: 400, canary: false }, performance.now(), 0);
}

/**
 * ssl-passthrough: reads the ClientHello's server name; a passthrough host's connection is
 * piped, bytes untouched, to its backend; any other goes on to the TLS server here.
 */
function peek(sock: Socket, tlsServer: Http2SecureServer, lookup: PassthroughLookup): void {
  let buf: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => sock.destroy(), HELLO_TIMEOUT_MS);
  const onError = (): void => {
    clearTimeout(timer);
    sock.destroy();
  };
  const onData = (d: Buffer): void => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    const hello = parseClientHello(buf);
    if (hello.kind === 'partial' && buf.length < MAX_HELLO_BYTES) return;
    clearTimeout(timer);
    sock.off('data', onData);
    sock.off('error', onError);
    sock.pause();
    const target = hello.kind === 'hello' && hello.servername !== undefined ? lookup(hello.servername) : undefined;
    if (target === undefined) {
      sock.unshift(buf);
      tlsServer.emit('connection', sock);
      return;
    }
    if (target === 'unavailable') return void sock.destroy();
    pipeTo(sock, buf, target);
  };
  sock.on('data', onData);
  sock.on('error', onError);
}

function pipeTo(sock: Socket, first: Buffer, target: { address: string; port: number }): void {
  const up = connect({ host: target.address, port: target.port, noDelay: true });
  up.setTimeout(PASSTHROUGH_CONNECT_TIMEOUT_MS, () => up.destroy());
  up.once('connect', () => {
    up.setTimeout(0);
    up.write(first);
    up.pipe(sock);
    sock.pipe(up);
    sock.resume();
  });
  up.on('error', () => sock.destroy());
  sock.on('error', () => up.destroy());
  up.on('close', () => sock.destroy());
  sock.on('close', () => up.destroy());
}

function listenOn(server: Server | Http2SecureServer | TcpServer, bind: Bind): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
