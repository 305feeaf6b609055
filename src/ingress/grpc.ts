import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders as H2Headers, type OutgoingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import type { ClientRequest, ClientResponse } from './messages.js';

/**
 * backend-protocol GRPC: HTTP/2 with prior knowledge (h2c) to the pod, one multiplexed
 * session per endpoint, trailers (grpc-status) passed through. undici has no h2c, so
 * this path uses node:http2 directly.
 */
export class GrpcUpstreams {
  private readonly sessions = new Map<string, ClientHttp2Session>();

  private session(origin: string, connectTimeout: number): ClientHttp2Session {
    let s = this.sessions.get(origin);
    if (s && !s.closed && !s.destroyed) return s;
    s = connect(origin);
    const session = s;
    const timer = setTimeout(() => session.destroy(new Error('connect timeout')), connectTimeout);
    session.once('connect', () => clearTimeout(timer));
    session.on('error', () => undefined);
    session.once('close', () => {
      clearTimeout(timer);
      if (this.sessions.get(origin) === session) this.sessions.delete(origin);
    });
    this.sessions.set(origin, session);
    return session;
  }

  /** Proxies one request; `done(status)` is called once when it ends either way. */
  forward(
    req: ClientRequest,
    /** the request body (null: none) */
    body: Readable | null,
    res: ClientResponse,
    origin: string,
    path: string,
    headers: Record<string, string | string[]>,
    timeouts: { connect: number; read: number },
    done: (status: number) => void,
  ): void {
    const out: OutgoingHttpHeaders = { ...headers, [constants.HTTP2_HEADER_METHOD]: req.method ?? 'POST', [constants.HTTP2_HEADER_PATH]: path, [constants.HTTP2_HEADER_AUTHORITY]: String(headers.host ?? '') };
    delete out.host;
    // gRPC requires TE: trailers end to end; it is the one TE value HTTP/2 allows.
    if (req.headers.te === 'trailers') out.te = 'trailers';
    let stream;
    try {
      stream = this.session(origin, timeouts.connect).request(out);
    } catch {
      fail(res, 502);
      return done(502);
    }
    let status = 0;
    stream.setTimeout(timeouts.read, () => stream.close(constants.NGHTTP2_CANCEL));
    stream.on('response', (h: H2Headers) => {
      status = Number(h[':status'] ?? 502);
      const resHeaders: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(h)) if (k[0] !== ':' && v !== undefined) resHeaders[k] = v as string | string[];
      res.writeHead(status, resHeaders);
    });
    stream.on('trailers', (t: H2Headers) => {
      const trailers: Record<string, string> = {};
      for (const [k, v] of Object.entries(t)) if (k[0] !== ':' && v !== undefined) trailers[k] = String(v);
      res.addTrailers(trailers);
    });
    stream.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) {
        stream.pause();
        res.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => {
      res.end();
      done(status);
    });
    stream.on('error', () => {
      if (!res.headersSent) fail(res, 502);
      else res.destroy();
      done(status || 502);
    });
    res.once('close', () => {
      if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    });
    if (body) body.pipe(stream);
    else stream.end();
  }

  close(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}

function fail(res: ClientResponse, status: number): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': '0' });
  res.end();
}
