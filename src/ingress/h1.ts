/**
 * A lean HTTP/1.1 client for the proxy's upstream side: keep-alive sockets per endpoint,
 * the request head written as one string, the response parsed in place and streamed to a
 * handler. It exists because undici's general-purpose dispatch (header validation,
 * handler wrapping, per-request objects) cost about as much CPU per proxied request as
 * the whole client-facing HTTP server; this does only what a reverse proxy needs.
 *
 * Framing is strict (RFC 9112): a response with conflicting Content-Length values, an
 * invalid chunk size, an obs-folded or bare-LF header line is an error, never guessed at.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Readable } from 'node:stream';

/** Error codes the proxy maps to statuses (connect failures retry, timeouts are 504). */
export const H1_CONNECT_TIMEOUT = 'KP_UPSTREAM_CONNECT_TIMEOUT';
export const H1_HEADERS_TIMEOUT = 'KP_UPSTREAM_HEADERS_TIMEOUT';
export const H1_BODY_TIMEOUT = 'KP_UPSTREAM_BODY_TIMEOUT';
export const H1_SEND_TIMEOUT = 'KP_UPSTREAM_SEND_TIMEOUT';
export const H1_BAD_RESPONSE = 'KP_UPSTREAM_BAD_RESPONSE';
export const H1_CLOSED = 'KP_UPSTREAM_CLOSED';

const MAX_HEAD = 64 * 1024;
const MAX_IDLE_PER_ORIGIN = 256;
const IDLE_TIMEOUT_MS = 60_000;

/** a field name and its colon, matched in place (sticky) */
const NAME = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/y;
/** what a response head may not hold besides CRLF line ends (Node's header value rule) */
const INVALID_HEAD_CHAR = /[^\t\r\n\x20-\x7e\x80-\xff]/;

/**
 * An upstream response's header section. `forward` is what the client gets byte for byte
 * (hop-by-hop fields removed, names in their case); `list()` is every field as
 * [lowercase name, value, ...], built only when asked (HTTP/2 clients, response annotations).
 */
export class UpstreamHead {
  constructor(
    /** the header lines after the status line, CRLF-separated */
    readonly text: string,
    /** the lines to pass on, each ending in CRLF */
    readonly forward: string,
    /** the Content-Length passed on in `forward`; -1 when none */
    readonly contentLength: number,
    readonly hasDate: boolean,
    readonly hasHsts: boolean,
  ) {}

  list(): string[] {
    const out: string[] = [];
    if (this.text === '') return out;
    for (const line of this.text.split('\r\n')) {
      const colon = line.indexOf(':');
      out.push(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    return out;
  }
}

/** Whether the field name at `pos` is `lower`, ignoring ASCII case (the caller checked the length). */
function nameIs(text: string, pos: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((text.charCodeAt(pos + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

function connectionListed(connection: string): Set<string> | undefined {
  let out: Set<string> | undefined;
  for (const part of connection.split(',')) {
    const t = part.trim();
    if (t && t !== 'close' && t !== 'keep-alive') (out ??= new Set()).add(t);
  }
  return out;
}

/** `lines` without the fields named in `names` (lowercase). */
function dropNamed(lines: string, names: Set<string>): string {
  let out = '';
  for (let pos = 0; pos < lines.length; ) {
    const eol = lines.indexOf('\r\n', pos) + 2;
    if (!names.has(lines.slice(pos, lines.indexOf(':', pos)).toLowerCase())) out += lines.slice(pos, eol);
    pos = eol;
  }
  return out;
}

export class H1Error extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface H1Controller {
  abort(err: Error): void;
  pause(): void;
  resume(): void;
}

/** What the proxy gets back; the same shape as undici's handler so the proxy logic is shared. */
export interface H1Handler {
  onRequestStart(c: H1Controller): void;
  onResponseStart(c: H1Controller, status: number, head: UpstreamHead): void;
  onResponseData(c: H1Controller, chunk: Buffer): void;
  onResponseEnd(c: H1Controller): void;
  onResponseError(c: H1Controller, err: Error): void;
}

/** A request body: the client request itself (paused and resumed for backpressure). */
export type H1Body = Readable;

export interface H1Request {
  method: string;
  path: string;
  /** header lines, each "name: value\r\n", Host included; framing headers excluded */
  head: string;
  /** null: no body. With a body, contentLength (when known) or chunked framing. */
  body: H1Body | null;
  contentLength?: number;
  /** the body is cut with a BodyTooLarge error past this many bytes (0: no limit) */
  maxBody?: number;
  readTimeout: number;
  sendTimeout: number;
}

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  readonly code = 'KP_INGRESS_BODY_TOO_LARGE';
}

const enum Mode {
  None,
  Length,
  Chunked,
  Close,
}

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailers,
}

/**
 * The handle one exchange gets: a connection outlives its exchanges, and a late abort or
 * resume from a finished exchange must not touch the next one on the same socket.
 */
class Ctl implements H1Controller {
  constructor(
    readonly conn: Conn,
    readonly handler: H1Handler,
  ) {}
  abort(err: Error): void {
    if (this.conn.handler === this.handler) this.conn.abortExchange(err);
  }
  pause(): void {
    if (this.conn.handler === this.handler) this.conn.pauseSocket();
  }
  resume(): void {
    if (this.conn.handler === this.handler) this.conn.resumeSocket();
  }
}

/** One upstream connection; it carries one request at a time (no pipelining). */
class Conn {
  ctl: Ctl | undefined = undefined;
  readonly socket: Socket;
  idle = false;
  dead = false;
  reused = false;
  handler: H1Handler | undefined = undefined;
  req: H1Request | undefined = undefined;
  private headBuf: Buffer | undefined = undefined;
  private gotHead = false;
  private gotBytes = false;
  private mode = Mode.None;
  private remaining = 0;
  private chunkState = Chunk.Size;
  private lineBuf = '';
  private keepAlive = true;
  private sending = false;
  private bodyBytes = 0;
  private paused = false;
  private connected = false;

  constructor(
    readonly pool: H1Pool,
  ) {
    const o = pool.options;
    this.socket = o.tls
      ? tlsConnect({ host: o.host, port: o.port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], servername: o.servername })
      : netConnect({ host: o.host, port: o.port, noDelay: true });
    this.arm(o.connectTimeout);
    this.socket.on(o.tls ? 'secureConnect' : 'connect', onConnect);
    this.socket.on('data', onData);
    this.socket.on('end', onEnd);
    this.socket.on('error', onError);
    this.socket.on('close', onClose);
    this.socket.on('timeout', onTimeout);
    (this.socket as SocketWithConn)[kConn] = this;
  }

  private timeoutMs = -1;

  /**
   * The socket's inactivity timeout. Node makes a new timer (and a bound callback) on every
   * setTimeout call; with the default timeouts the value never changes between exchanges,
   * and any read or write restarts the countdown anyway.
   */
  arm(ms: number): void {
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    this.socket.setTimeout(ms);
  }

  start(req: H1Request, handler: H1Handler): void {
    this.req = req;
    this.handler = handler;
    this.idle = false;
    this.gotHead = false;
    this.gotBytes = false;
    this.headBuf = undefined;
    this.keepAlive = true;
    this.bodyBytes = 0;
    this.paused = false;
    this.pendingHead = undefined;
    this.ctl = new Ctl(this, handler);
    handler.onRequestStart(this.ctl);
    if (this.handler === undefined) return; // aborted in onRequestStart
    if (this.connected) this.write();
  }

  connectedNow(): void {
    this.connected = true;
    if (this.handler) this.write();
  }

  private write(): void {
    const req = this.req!;
    const s = this.socket;
    if (!req.body) {
      const framing = req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH' ? 'content-length: 0\r\n' : '';
      s.write(`${req.method} ${req.path} HTTP/1.1\r\n${req.head}${framing}\r\n`, 'latin1');
      this.arm(req.readTimeout);
      return;
    }
    const head = `${req.method} ${req.path} HTTP/1.1\r\n${req.head}${req.contentLength !== undefined ? `content-length: ${req.contentLength}` : 'transfer-encoding: chunked'}\r\n\r\n`;
    // A chunked body's head waits for its first chunk: a request whose chunk framing is
    // broken from the start (a smuggling attempt) then never reaches the backend at all.
    if (req.contentLength !== undefined) s.write(head, 'latin1');
    else this.pendingHead = head;
    this.sending = true;
    this.arm(req.sendTimeout);
    const body = req.body;
    body.on('data', this.onBodyData);
    body.on('end', this.onBodyEnd);
    body.on('error', this.onBodyError);
    body.on('aborted', this.onBodyError);
    body.resume();
  }

  private pendingHead: string | undefined = undefined;

  private readonly onBodyData = (chunk: Buffer): void => {
    const req = this.req;
    if (!req || !this.sending) return;
    this.bodyBytes += chunk.length;
    if (req.maxBody && this.bodyBytes > req.maxBody) {
      this.fail(new BodyTooLargeError(`request body larger than ${req.maxBody} bytes`));
      return;
    }
    let ok: boolean;
    if (req.contentLength !== undefined) ok = this.socket.write(chunk);
    else {
      if (chunk.length === 0) return; // an empty chunk would end the body
      this.socket.write(`${this.pendingHead ?? ''}${chunk.length.toString(16)}\r\n`, 'latin1');
      this.pendingHead = undefined;
      this.socket.write(chunk);
      ok = this.socket.write('\r\n', 'latin1');
    }
    if (!ok) {
      req.body!.pause();
      this.socket.once('drain', this.onDrain);
    }
  };

  private readonly onDrain = (): void => {
    if (this.sending) this.req?.body?.resume();
  };

  private readonly onBodyEnd = (): void => {
    if (!this.sending) return;
    this.stopSending();
    if (this.req!.contentLength === undefined) {
      this.socket.write(`${this.pendingHead ?? ''}0\r\n\r\n`, 'latin1');
      this.pendingHead = undefined;
    }
    if (!this.gotHead) this.arm(this.req!.readTimeout);
  };

  private readonly onBodyError = (): void => {
    if (this.sending) this.fail(new H1Error(H1_CLOSED, 'client request body aborted'));
  };

  private stopSending(): void {
    if (!this.sending) return;
    this.sending = false;
    const body = this.req!.body!;
    body.removeListener('data', this.onBodyData);
    body.removeListener('end', this.onBodyEnd);
    body.removeListener('error', this.onBodyError);
    body.removeListener('aborted', this.onBodyError);
    this.socket.removeListener('drain', this.onDrain);
  }

  /** The proxy gave up on the exchange (client gone): no callback follows. */
  abortExchange(_err: Error): void {
    this.handler = undefined;
    this.stopSending();
    this.destroy();
  }
  pauseSocket(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }
  resumeSocket(): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
  }

  /** Ends the exchange with an error; the socket is never reused after one. */
  fail(err: Error): void {
    const h = this.handler;
    this.handler = undefined;
    this.stopSending();
    this.destroy();
    if (!h) return;
    // A reused keep-alive socket the server had already closed: nothing was processed,
    // so a bodyless request goes again on a fresh connection.
    if (this.reused && !this.gotBytes && !this.req!.body && (err as { code?: string }).code !== H1_HEADERS_TIMEOUT && (err as { code?: string }).code !== H1_SEND_TIMEOUT) {
      this.pool.dispatch(this.req!, h, true);
      return;
    }
    h.onResponseError(this.ctl!, err);
  }

  data(buf: Buffer): void {
    if (!this.handler) {
      // Bytes on an idle connection (or after an abort): the stream is out of step.
      this.destroy();
      return;
    }
    this.gotBytes = true;
    if (!this.gotHead) {
      if (this.headBuf) buf = Buffer.concat([this.headBuf, buf]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buf.length > MAX_HEAD) return this.fail(new H1Error(H1_BAD_RESPONSE, 'upstream response head too large'));
        this.headBuf = buf;
        return;
      }
      this.headBuf = undefined;
      if (end > MAX_HEAD) return this.fail(new H1Error(H1_BAD_RESPONSE, 'upstream response head too large'));
      const rest = buf.subarray(end + 4);
      if (!this.parseHead(buf.toString('latin1', 0, end))) return;
      if (!this.gotHead) {
        // an interim 1xx response: the real one follows
        if (rest.length) this.data(rest);
        return;
      }
      if (!this.handler) return;
      if (this.mode === Mode.None) return this.complete(rest.length > 0);
      if (rest.length) this.body(rest);
      return;
    }
    this.body(buf);
  }

  /** Returns false when the exchange failed. Sets gotHead only for a final response. */
  private parseHead(head: string): boolean {
    const sl = head.indexOf('\r\n');
    const status = sl === -1 ? head : head.slice(0, sl);
    // "HTTP/1.1 200 OK": version, three digits, then a space or the end
    if (status.length < 12 || !status.startsWith('HTTP/1.') || status.charCodeAt(8) !== 32 || (status.length > 12 && status.charCodeAt(12) !== 32)) {
      this.fail(new H1Error(H1_BAD_RESPONSE, 'malformed upstream status line'));
      return false;
    }
    const code = Number(status.slice(9, 12));
    if (!(code >= 100 && code <= 999) || !/^\d{3}$/.test(status.slice(9, 12))) {
      this.fail(new H1Error(H1_BAD_RESPONSE, 'malformed upstream status code'));
      return false;
    }
    // Control characters (a bare CR among them) are refused here rather than passed on:
    // the header lines may reach the client byte for byte.
    if (INVALID_HEAD_CHAR.test(head)) {
      this.fail(new H1Error(H1_BAD_RESPONSE, 'invalid character in upstream response head'));
      return false;
    }
    const http10 = status.charCodeAt(7) === 48; /* '0' */
    let contentLength = -1;
    let chunked = false;
    let te = false;
    let connection = '';
    let hasDate = false;
    let hasHsts = false;
    // the header section minus hop-by-hop lines, built from runs of kept lines
    let forward = '';
    const first = sl === -1 ? head.length : sl + 2;
    let run = first;
    for (let pos = first; pos < head.length; ) {
      let eol = head.indexOf('\r\n', pos);
      if (eol === -1) eol = head.length;
      // a token, then the colon: obs-fold (leading whitespace), no name, a space before the
      // colon or a bare LF are not guessed at
      NAME.lastIndex = pos;
      const lf = head.indexOf('\n', pos);
      const cr = head.indexOf('\r', pos);
      if (!NAME.test(head) || NAME.lastIndex > eol || (lf !== -1 && lf < eol) || (cr !== -1 && cr < eol)) {
        this.fail(new H1Error(H1_BAD_RESPONSE, 'malformed upstream header line'));
        return false;
      }
      const colon = NAME.lastIndex - 1;
      let drop = false;
      // Names are compared in place: no per-field string unless its value matters.
      switch (colon - pos) {
        case 2:
          drop = nameIs(head, pos, 'te');
          break;
        case 4:
          if (nameIs(head, pos, 'date')) hasDate = true;
          else drop = nameIs(head, pos, 'host');
          break;
        case 7:
          drop = nameIs(head, pos, 'trailer') || nameIs(head, pos, 'upgrade');
          break;
        case 10:
          if (nameIs(head, pos, 'connection')) {
            connection += (connection ? ',' : '') + head.slice(colon + 1, eol).trim().toLowerCase();
            drop = true;
          } else drop = nameIs(head, pos, 'keep-alive');
          break;
        case 14:
          if (nameIs(head, pos, 'content-length')) {
            const value = head.slice(colon + 1, eol).trim();
            if (!/^\d{1,15}$/.test(value) || (contentLength !== -1 && contentLength !== Number(value))) {
              this.fail(new H1Error(H1_BAD_RESPONSE, 'invalid upstream Content-Length'));
              return false;
            }
            contentLength = Number(value);
          } else drop = nameIs(head, pos, 'http2-settings');
          break;
        case 16:
          drop = nameIs(head, pos, 'proxy-connection');
          break;
        case 17:
          if (nameIs(head, pos, 'transfer-encoding')) {
            te = true;
            chunked = /(^|,)\s*chunked\s*$/i.test(head.slice(colon + 1, eol).trim());
            drop = true;
          }
          break;
        case 25:
          if (nameIs(head, pos, 'strict-transport-security')) hasHsts = true;
          break;
      }
      if (drop) {
        if (pos > run) forward += head.slice(run, pos);
        run = eol + 2;
      }
      pos = eol + 2;
    }
    if (code < 200) {
      if (code === 101) {
        this.fail(new H1Error(H1_BAD_RESPONSE, 'unexpected 101 from upstream'));
        return false;
      }
      return true; // interim: skipped
    }
    if (run < head.length) forward += head.slice(run) + '\r\n';
    // Transfer-Encoding wins over Content-Length; the length is not passed on then.
    if (te && contentLength !== -1) forward = dropNamed(forward, new Set(['content-length']));
    // fields the Connection header lists are hop-by-hop too
    const listed = connection === '' ? undefined : connectionListed(connection);
    if (listed) forward = dropNamed(forward, listed);
    this.gotHead = true;
    this.keepAlive = http10 ? /(^|,)\s*keep-alive\s*(,|$)/.test(connection) : !/(^|,)\s*close\s*(,|$)/.test(connection);
    const req = this.req!;
    if (req.method === 'HEAD' || code === 204 || code === 304) this.mode = Mode.None;
    else if (te) {
      // Transfer-Encoding overrides Content-Length, and such a message must not be reused (RFC 9112 §6.3).
      if (contentLength !== -1) this.keepAlive = false;
      this.mode = chunked ? Mode.Chunked : Mode.Close;
      this.chunkState = Chunk.Size;
      this.lineBuf = '';
    } else if (contentLength !== -1) {
      this.mode = contentLength === 0 ? Mode.None : Mode.Length;
      this.remaining = contentLength;
    } else this.mode = Mode.Close;
    if (this.mode === Mode.Close) this.keepAlive = false;
    this.arm(req.readTimeout);
    this.handler!.onResponseStart(this.ctl!, code, new UpstreamHead(sl === -1 ? '' : head.slice(first), forward, te ? -1 : contentLength, hasDate, hasHsts));
    return true;
  }

  private body(buf: Buffer): void {
    switch (this.mode) {
      case Mode.Length: {
        if (buf.length < this.remaining) {
          this.remaining -= buf.length;
          this.handler!.onResponseData(this.ctl!, buf);
          return;
        }
        const extra = buf.length > this.remaining;
        const last = extra ? buf.subarray(0, this.remaining) : buf;
        this.remaining = 0;
        if (last.length) this.handler!.onResponseData(this.ctl!, last);
        if (this.handler) this.complete(extra);
        return;
      }
      case Mode.Close:
        this.handler!.onResponseData(this.ctl!, buf);
        return;
      case Mode.Chunked:
        this.chunks(buf);
        return;
    }
  }

  private chunks(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      if (!this.handler) return;
      switch (this.chunkState) {
        case Chunk.Size:
        case Chunk.Trailers:
        case Chunk.DataEnd: {
          const nl = buf.indexOf(10, i);
          const part = buf.toString('latin1', i, nl === -1 ? buf.length : nl + 1);
          if (this.lineBuf.length + part.length > 8192) return this.fail(new H1Error(H1_BAD_RESPONSE, 'upstream chunk line too long'));
          if (nl === -1) {
            this.lineBuf += part;
            return;
          }
          const line = this.lineBuf + part;
          this.lineBuf = '';
          i = nl + 1;
          if (!line.endsWith('\r\n')) return this.fail(new H1Error(H1_BAD_RESPONSE, 'bare LF in upstream chunked body'));
          const text = line.slice(0, -2);
          if (this.chunkState === Chunk.DataEnd) {
            if (text !== '') return this.fail(new H1Error(H1_BAD_RESPONSE, 'missing CRLF after upstream chunk'));
            this.chunkState = Chunk.Size;
            continue;
          }
          if (this.chunkState === Chunk.Trailers) {
            // Trailers are not forwarded to HTTP/1.1 clients (as nginx); the empty line ends the message.
            if (text === '') return this.complete(i < buf.length);
            continue;
          }
          const semi = text.indexOf(';');
          const hex = semi === -1 ? text : text.slice(0, semi);
          if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) return this.fail(new H1Error(H1_BAD_RESPONSE, 'invalid upstream chunk size'));
          const size = parseInt(hex, 16);
          if (size === 0) this.chunkState = Chunk.Trailers;
          else {
            this.remaining = size;
            this.chunkState = Chunk.Data;
          }
          continue;
        }
        case Chunk.Data: {
          const n = Math.min(this.remaining, buf.length - i);
          const piece = buf.subarray(i, i + n);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.chunkState = Chunk.DataEnd;
          this.handler.onResponseData(this.ctl!, piece);
          continue;
        }
      }
    }
  }

  private complete(extraBytes: boolean): void {
    const h = this.handler!;
    this.handler = undefined;
    const reusable = this.keepAlive && !extraBytes && !this.sending && !this.dead;
    this.stopSending();
    // The whole message is in: a pause the handler asked for no longer matters here.
    this.resumeSocket();
    const ctl = this.ctl!;
    if (reusable) this.pool.release(this);
    else this.destroy();
    h.onResponseEnd(ctl);
  }

  ended(): void {
    // The server closed its side: the end of a close-delimited body, or a failure.
    if (this.handler && this.gotHead && this.mode === Mode.Close) {
      this.keepAlive = false;
      this.complete(false);
      return;
    }
    if (this.handler) this.fail(new H1Error(this.gotBytes ? H1_BAD_RESPONSE : H1_CLOSED, 'upstream closed the connection before the response ended'));
    this.destroy();
  }

  timedOut(): void {
    if (!this.connected) return this.fail(new H1Error(H1_CONNECT_TIMEOUT, 'upstream connect timed out'));
    if (this.idle || !this.handler) return this.destroy();
    if (this.sending) return this.fail(new H1Error(H1_SEND_TIMEOUT, 'upstream did not take the request body in time'));
    this.fail(new H1Error(this.gotHead ? H1_BODY_TIMEOUT : H1_HEADERS_TIMEOUT, 'upstream timed out'));
  }
}

const kConn = Symbol('conn');
type SocketWithConn = Socket & { [kConn]: Conn };

function onConnect(this: SocketWithConn): void {
  this[kConn].connectedNow();
}
function onData(this: SocketWithConn, buf: Buffer): void {
  this[kConn].data(buf);
}
function onEnd(this: SocketWithConn): void {
  this[kConn].ended();
}
function onError(this: SocketWithConn, err: Error): void {
  const c = this[kConn];
  if (c.handler) c.fail(err);
  c.destroy();
}
function onClose(this: SocketWithConn): void {
  const c = this[kConn];
  c.dead = true;
  if (c.handler) c.ended();
  c.pool.forget(c);
}
function onTimeout(this: SocketWithConn): void {
  this[kConn].timedOut();
}

export interface H1PoolOptions {
  host: string;
  port: number;
  tls: boolean;
  servername?: string;
  connectTimeout: number;
}

/** Keep-alive connections to one endpoint. Connections are opened as needed (as nginx). */
export class H1Pool {
  private readonly idle: Conn[] = [];
  private readonly all = new Set<Conn>();
  private closing = false;

  constructor(readonly options: H1PoolOptions) {}

  dispatch(req: H1Request, handler: H1Handler, fresh = false): void {
    let c: Conn | undefined;
    if (!fresh) {
      while ((c = this.idle.pop()) !== undefined && c.dead);
    }
    if (c) c.reused = true;
    else {
      c = new Conn(this);
      this.all.add(c);
    }
    c.start(req, handler);
  }

  release(c: Conn): void {
    if (this.closing || this.idle.length >= MAX_IDLE_PER_ORIGIN) {
      c.destroy();
      return;
    }
    c.idle = true;
    c.arm(IDLE_TIMEOUT_MS);
    this.idle.push(c);
  }

  forget(c: Conn): void {
    this.all.delete(c);
    if (c.idle) {
      const i = this.idle.indexOf(c);
      if (i !== -1) this.idle.splice(i, 1);
    }
  }

  /** Closes idle connections now and busy ones as their exchanges end. */
  close(): void {
    this.closing = true;
    for (const c of this.idle) c.destroy();
    this.idle.length = 0;
  }

  destroy(): void {
    this.closing = true;
    for (const c of this.all) c.destroy();
  }
}
