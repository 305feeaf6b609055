// Loopback backends that echo what they received, objects files, and the kubeplane
// ingress process, for the ingress end-to-end tests. Traffic stays on 127.0.0.0/8.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import { execFileSync } from 'node:child_process';
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { request, type Agent } from 'undici';
import { stringify } from 'yaml';
import { startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';

export interface Echo {
  tls: boolean;
  pod: string;
  service: string;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
}

/** An HTTP server standing in for one pod: echoes the request as JSON; WebSocket echo too. */
export class EchoBackend {
  private server: Server | import("node:https").Server | undefined;
  readonly sockets = new Set<Socket>();
  port = 0;
  requests = 0;
  readonly held: (() => void)[] = [];
  release(): void {
    for (const f of this.held.splice(0)) f();
  }
  constructor(
    readonly pod: string,
    readonly service: string,
    readonly address = '127.0.0.1',
  ) {}

  async start(port = 0, tls?: { cert: string; key: string }): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    const server = tls ? createHttpsServer(tls, handler) : createServer(handler);
    server.keepAliveTimeout = 120_000;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('upgrade', (req, socket: Socket) => wsEcho(req, socket, this.pod));
    await new Promise<void>((r) => server.listen(port, this.address, () => r()));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/__stream') {
      // Sends `n` chunks `ms` apart: the client must see the first before the last is sent.
      const n = Number(url.searchParams.get('n') ?? 5);
      const ms = Number(url.searchParams.get('ms') ?? 100);
      res.writeHead(200, { 'content-type': 'text/plain', 'x-pod': this.pod });
      let i = 0;
      const t = setInterval(() => {
        res.write(`chunk ${i}\n`);
        if (++i >= n) {
          clearInterval(t);
          res.end();
        }
      }, ms);
      res.on('close', () => clearInterval(t));
      return;
    }
    if (url.pathname === '/__hold') {
      // Sends a first line, then waits for the test to call release(): a proxy that
      // buffered the whole body would never deliver the first line.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first\n');
      this.held.push(() => res.end('last\n'));
      return;
    }
    if (url.pathname === '/__silent') {
      // No headers until the test calls release(): for read timeouts.
      this.held.push(() => res.end('late'));
      return;
    }
    if (url.pathname === '/__status') {
      res.writeHead(Number(url.searchParams.get('code') ?? 200), { 'content-type': 'text/plain', connection: 'keep-alive, x-hop', 'x-hop': 'secret', 'keep-alive': 'timeout=5' });
      res.end('status');
      return;
    }
    let bodyBytes = 0;
    req.on('data', (d: Buffer) => (bodyBytes += d.length));
    req.on('end', () => {
      const echo: Echo = { tls: (req.socket as { encrypted?: boolean }).encrypted === true, pod: this.pod, service: this.service, method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes };
      const body = JSON.stringify(echo);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-pod': this.pod });
      res.end(body);
    });
  }

  /** A pod's graceful exit: stop accepting, close idle keep-alive connections, finish in-flight ones. */
  async drain(): Promise<void> {
    if (!this.server) return;
    const server = this.server as Server;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    await closed;
    this.server = undefined;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = undefined;
  }
}

/** A minimal RFC 6455 server: handshake, then echo text frames (prefixed with the pod name). */
function wsEcho(req: IncomingMessage, socket: Socket, pod: string): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') return void socket.destroy();
  const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nx-pod: ${pod}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  socket.on('error', () => socket.destroy());
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 2) return;
      const opcode = buf[0]! & 0x0f;
      let len = buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      }
      const masked = (buf[1]! & 0x80) !== 0;
      if (buf.length < off + (masked ? 4 : 0) + len) return;
      const mask = masked ? buf.subarray(off, off + 4) : undefined;
      off += masked ? 4 : 0;
      const payload = Buffer.from(buf.subarray(off, off + len));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
      buf = buf.subarray(off + len);
      if (opcode === 8) return void socket.end(Buffer.from([0x88, 0]));
      if (opcode !== 1) continue;
      const out = Buffer.from(`${pod}:${payload.toString()}`);
      const head = out.length < 126 ? Buffer.from([0x81, out.length]) : Buffer.from([0x81, 126, out.length >> 8, out.length & 0xff]);
      socket.write(Buffer.concat([head, out]));
    }
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

// ---- objects -------------------------------------------------------------

export interface BackendSpec {
  service: string;
  namespace?: string;
  /** Service port (default 80) and its name */
  port?: number;
  portName?: string;
  pods: EchoBackend[];
  /** pods present but not ready */
  notReady?: EchoBackend[];
}

/**
 * A Service and its EndpointSlices. Each loopback pod listens on its own port, so each
 * pod gets a slice of its own (slices carry their ports; one per pod is valid).
 */
export function serviceObjects(b: BackendSpec): object[] {
  const ns = b.namespace ?? 'default';
  const portName = b.portName ?? 'http';
  const slice = (p: EchoBackend, ready: boolean): object => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${b.service}-${p.pod}`, namespace: ns, labels: { 'kubernetes.io/service-name': b.service } },
    addressType: 'IPv4',
    ports: [{ name: portName, port: p.port, protocol: 'TCP' }],
    endpoints: [{ addresses: [p.address], conditions: { ready } }],
  });
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: b.service, namespace: ns }, spec: { ports: [{ name: portName, port: b.port ?? 80, targetPort: portName }] } },
    ...b.pods.map((p) => slice(p, true)),
    ...(b.notReady ?? []).map((p) => slice(p, false)),
  ];
}

export const ingressClass = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'kubeplane' }, spec: { controller: 'kubeplane.io/ingress' } };

let tick = 0;
export function ing(name: string, spec: Record<string, unknown>, annotations?: Record<string, string>, namespace = 'default'): object {
  tick++;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace, annotations, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, tick)).toISOString() },
    spec: { ingressClassName: 'kubeplane', ...spec },
  };
}

export function rule(host: string | undefined, paths: [string, 'Exact' | 'Prefix' | 'ImplementationSpecific', string, number?][]): object {
  return { host, http: { paths: paths.map(([path, pathType, svc, port]) => ({ path, pathType, backend: { service: { name: svc, port: { number: port ?? 80 } } } })) } };
}

/** Writes the objects file atomically, so the watcher never reads half a file. */
export function writeObjects(path: string, objects: object[]): void {
  const tmp = path + '.tmp';
  writeFileSync(tmp, objects.map((o) => stringify(o)).join('---\n'));
  renameSync(tmp, path);
}

/** A self-signed certificate for the given DNS names, made with openssl. */
export function selfSigned(dir: string, name: string, hosts: string[]): { cert: string; key: string; secret: (ns: string, secretName: string) => object } {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${hosts[0]}`, '-addext', `subjectAltName=${hosts.map((h) => 'DNS:' + h).join(',')}`, '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const cert = execFileSync('cat', [certFile]).toString();
  const key = execFileSync('cat', [keyFile]).toString();
  return {
    cert,
    key,
    secret: (ns, secretName) => ({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: secretName, namespace: ns }, data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') } }),
  };
}

export interface RunningIngress {
  httpPort: number;
  httpsPort: number;
  metricsPort: number;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startIngress(objects: string, extra: string[] = []): Promise<RunningIngress> {
  const [httpPort, httpsPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const proc = startKubeplane(['ingress', '--objects', objects, '--http-bind', `127.0.0.1:${httpPort}`, '--https-bind', `127.0.0.1:${httpsPort}`, '--metrics-bind', `127.0.0.1:${metricsPort}`, ...extra]);
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`kubeplane ingress exited: ${proc.output()}`);
      try {
        return (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status === 200;
      } catch {
        return false;
      }
    },
    { what: 'kubeplane ingress /healthz' },
  );
  return { httpPort, httpsPort, metricsPort, output: proc.output, stop: () => stopProcess(proc, 10_000) };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  echo?: Echo;
}

/** Sends raw bytes and returns everything the server sent until it closed. */
export function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(text));
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
}

export async function get(port: number, host: string | undefined, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; dispatcher?: Agent } = {}): Promise<Reply> {
  const r = await request(`http://127.0.0.1:${port}${path}`, {
    method: (opts.method ?? 'GET') as 'GET',
    headers: { ...(host !== undefined ? { host } : {}), ...opts.headers },
    body: opts.body,
    dispatcher: opts.dispatcher,
  });
  const body = await r.body.text();
  let echo: Echo | undefined;
  if (String(r.headers['content-type'] ?? '').startsWith('application/json')) echo = JSON.parse(body) as Echo;
  return { status: r.statusCode, headers: r.headers, body, echo };
}

