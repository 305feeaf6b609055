// The node helper: a small program the netns agent starts inside each node namespace with
// `ip netns exec` (Node cannot setns, so whatever must connect from the node's network runs
// here). Two jobs:
//   - probes: JSON lines on stdin ({id, kind: 'tcp'|'http', host, port, ...}) answered by JSON
//     lines on stdout ({id, ok, message}), dialled from the node's network as the kubelet does;
//   - API relay (--relay-listen HOST:PORT --relay-socket PATH): connections to the API server's
//     loopback address inside the node namespace are piped to a Unix socket the agent serves,
//     so processes there use the cluster's kubeconfig unchanged.
// It exits when stdin closes, so it never outlives the agent.
import { connect, createConnection, createServer, type Socket } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';

export interface ProbeRequest {
  id: number;
  kind: 'tcp' | 'http';
  host: string;
  port: number;
  timeoutMs: number;
  path?: string;
  scheme?: 'HTTP' | 'HTTPS';
  headers?: { name: string; value: string }[];
}

export interface ProbeReply {
  id: number;
  ok: boolean;
  message: string;
}

function tcpProbe(req: ProbeRequest): Promise<ProbeReply> {
  return new Promise((resolve) => {
    const sock = connect({ host: req.host, port: req.port });
    const done = (ok: boolean, message: string) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ id: req.id, ok, message });
    };
    const timer = setTimeout(() => done(false, `dial tcp ${req.host}:${req.port}: i/o timeout`), req.timeoutMs);
    sock.once('connect', () => done(true, ''));
    sock.once('error', (err) => done(false, `dial tcp ${req.host}:${req.port}: ${err.message}`));
  });
}

function httpProbe(req: ProbeRequest): Promise<ProbeReply> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.32', accept: '*/*' };
    for (const h of req.headers ?? []) headers[h.name.toLowerCase()] = h.value;
    const https = req.scheme === 'HTTPS';
    const r = (https ? httpsRequest : httpRequest)({ host: req.host, port: req.port, path: req.path || '/', method: 'GET', headers, timeout: req.timeoutMs, rejectUnauthorized: false });
    const url = `${https ? 'https' : 'http'}://${req.host}:${req.port}${req.path || '/'}`;
    let settled = false;
    const done = (ok: boolean, message: string) => {
      if (settled) return;
      settled = true;
      r.destroy();
      resolve({ id: req.id, ok, message });
    };
    r.on('response', (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      // The kubelet's rule: 200 <= status < 400 is a success.
      done(code >= 200 && code < 400, code >= 200 && code < 400 ? '' : `HTTP probe failed with statuscode: ${code}`);
    });
    r.on('timeout', () => done(false, `Get "${url}": context deadline exceeded`));
    r.on('error', (err) => done(false, `Get "${url}": ${err.message}`));
    r.end();
  });
}

function relay(listen: string, socketPath: string): void {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i);
  const port = Number(listen.slice(i + 1));
  const server = createServer((client: Socket) => {
    const upstream = createConnection(socketPath);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  server.on('error', (err) => {
    process.stderr.write(`relay: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(port, host);
}

function main(argv: string[]): void {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const listen = arg('--relay-listen');
  const socketPath = arg('--relay-socket');
  if (listen && socketPath) relay(listen, socketPath);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let req: ProbeRequest;
    try {
      req = JSON.parse(line) as ProbeRequest;
    } catch {
      return;
    }
    void (req.kind === 'http' ? httpProbe(req) : tcpProbe(req)).then((reply) => process.stdout.write(`${JSON.stringify(reply)}\n`));
  });
  lines.on('close', () => process.exit(0));
  process.stdout.write(`${JSON.stringify({ id: 0, ok: true, message: 'ready' })}\n`);
}

main(process.argv.slice(2));
