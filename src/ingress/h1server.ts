/**
 * The plain-HTTP listener's fast path: a lean HTTP/1.1 server for the requests a reverse
 * proxy sees most (keep-alive GET/HEAD/DELETE/OPTIONS, and POST/PUT/PATCH with a
 * Content-Length body). Node's http server builds an IncomingMessage and a ServerResponse
 * (two streams), runs llhttp and emits a dozen events per request; profiles of the proxy
 * under load put it at about as much CPU as everything else together.
 *
 * It only ever takes requests it is sure about. Anything else — an Upgrade, Expect,
 * Transfer-Encoding, HTTP/1.0, a duplicate or unusual header, any byte outside the plain
 * ASCII set, an over-long head — hands the connection (from that request on, with the
 * bytes already read) to Node's http server, which applies its own rules, answers 400/431,
 * or emits 'upgrade'. So the framing rules here are never looser than llhttp's: the set
 * accepted is a strict subset, and the rest meets llhttp exactly as before.
 */
import { STATUS_CODES, type IncomingHttpHeaders, type Server } from 'node:http';
import { HOP_BY_HOP, SET_BY_PROXY } from './headers.js';
import { Readable } from 'node:stream';
import type { Socket } from 'node:net';

/** Node's default --max-http-header-size: a longer head goes to Node, which answers 431. */
const MAX_HEAD = 16 * 1024;
/** Node's default maxHeadersCount */
const MAX_HEADERS = 2000;
/** bytes read ahead (pipelined requests) before the socket is paused until the current one ends */
const MAX_BUFFERED = 64 * 1024;

export interface LeanServerOptions {
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
}

/** The methods taken here; llhttp knows more, and those go to it. */
const METHODS: Record<string, true> = { __proto__: null as never, GET: true, HEAD: true, DELETE: true, OPTIONS: true, POST: true, PUT: true, PATCH: true };

// origin-form only: "/" then RFC 3986 pchar, "/" and "?" (no "#", quotes, brackets, backslash, controls)
const TARGET = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A head may hold only visible ASCII, SP, HTAB and CRLF here; anything else is Node's to judge.
const PLAIN_HEAD = /^[\t\r\n\x20-\x7e]*$/;
// what Node's ServerResponse refuses in a response header value
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const CLOSE_TOKEN = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i;
const ONLY_CLOSE_OR_KEEP_ALIVE = /^[ \t]*(?:close|keep-alive)?[ \t]*(?:,[ \t]*(?:close|keep-alive)?[ \t]*)*$/i;
const DIGITS = /^\d{1,15}$/;

/** Response framing decided by writeHead. */
const enum Framing {
  None,
  Length,
  Chunked,
}

/** The request as the proxy reads it: the fields of IncomingMessage it uses, nothing more. */
export class LeanRequest {
  readonly httpVersion = '1.1';
  /** set for a Content-Length body; the proxy streams it like an IncomingMessage */
  body: LeanBody | undefined = undefined;
  constructor(
    readonly socket: Socket,
    readonly method: string,
    readonly url: string,
    /** lowercase names; every name occurs once (duplicates go to Node) */
    readonly headers: IncomingHttpHeaders,
    /** the header section, CRLF-separated lines */
    private readonly fields: string,
    /**
     * The client's header lines that an upstream gets as they are ("Name: value\r\n" each):
     * Host, framing, hop-by-hop and proxy-set fields left out. Undefined when Connection
     * names other fields (the proxy then filters rawHeaders itself).
     */
    readonly forwardLines: string | undefined,
  ) {}

  /** As IncomingMessage's: names as sent, values trimmed; built only when asked for. */
  get rawHeaders(): string[] {
    const out: string[] = [];
    if (this.fields === '') return out;
    for (const line of this.fields.split('\r\n')) {
      const colon = line.indexOf(':');
      out.push(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    return out;
  }
}

/** A Content-Length request body, fed from the connection with backpressure. */
export class LeanBody extends Readable {
  constructor(private readonly conn: LeanConnection) {
    super();
  }
  override _read(): void {
    this.conn.bodyWanted();
  }
}

type Listener = () => void;

/** The response as the proxy writes it: the parts of ServerResponse it uses. */
export class LeanResponse {
  headersSent = false;
  writableFinished = false;
  /** the status line and headers, sent with the first body bytes (one write) */
  private head: string | undefined = undefined;
  private framing = Framing.None;
  private noBody: boolean;
  /** trailer lines, sent in the last chunk of a chunked body */
  private trailers = '';
  private closeListener: Listener | undefined = undefined;
  private drainListener: Listener | undefined = undefined;
  /** the connection closes after this response */
  last: boolean;

  constructor(
    private readonly conn: LeanConnection,
    method: string,
    clientClose: boolean,
  ) {
    this.noBody = method === 'HEAD';
    this.last = clientClose;
  }

  get destroyed(): boolean {
    return this.conn.socket.destroyed;
  }

  /** headers: an object, or a flat [name, value, ...] list as Node takes them */
  writeHead(status: number, headers?: Record<string, string | string[] | number> | readonly string[]): this {
    if (this.headersSent) throw new Error('headers already sent');
    if (!(status >= 100 && status <= 999)) throw new RangeError(`invalid status code ${status}`);
    let head = 'HTTP/1.1 ' + status + ' ' + (STATUS_CODES[status] ?? 'unknown') + '\r\n';
    let length = false;
    let chunked = false;
    let date = false;
    let connection = false;
    const add = (name: string, value: string): void => {
      if (!TOKEN.test(name) || INVALID_VALUE.test(value)) throw new TypeError(`invalid response header ${JSON.stringify(name)}`);
      head += name + ': ' + value + '\r\n';
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
      else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') chunked = true;
      else if (name.length === 4 && name.toLowerCase() === 'date') date = true;
      else if (name.length === 10 && name.toLowerCase() === 'connection') {
        connection = true;
        if (CLOSE_TOKEN.test(value)) this.last = true;
      }
    };
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) add(headers[i]!, headers[i + 1]!);
    } else if (headers) {
      const h = headers as Record<string, string | string[] | number>;
      for (const name in h) {
        const v = h[name];
        if (v === undefined) continue;
        if (Array.isArray(v)) for (const one of v) add(name, one);
        else add(name, String(v));
      }
    }
    // no body for HEAD, 204, 304 (nor 1xx): data passed to end() is dropped, as Node does
    if (status === 204 || status === 304 || status < 200) this.noBody = true;
    if (this.noBody) this.framing = Framing.None;
    else if (chunked) this.framing = Framing.None; // framed by the caller, as Node does with an explicit header
    else if (length) this.framing = Framing.Length;
    else {
      this.framing = Framing.Chunked;
      head += 'Transfer-Encoding: chunked\r\n';
    }
    if (!date) head += 'Date: ' + utcDate() + '\r\n';
    if (!connection) head += this.last ? 'Connection: close\r\n' : this.conn.keepAliveHeader;
    this.head = head + '\r\n';
    this.headersSent = true;
    return this;
  }

  /**
   * writeHead for header lines already validated and serialized ("Name: value\r\n" each,
   * no hop-by-hop fields): an upstream's, passed on without being split and rebuilt.
   */
  writeHeadLines(status: number, lines: string, hasLength: boolean, hasDate: boolean): this {
    if (this.headersSent) throw new Error('headers already sent');
    let head = 'HTTP/1.1 ' + status + ' ' + (STATUS_CODES[status] ?? 'unknown') + '\r\n' + lines;
    if (status === 204 || status === 304 || status < 200) this.noBody = true;
    if (this.noBody) this.framing = Framing.None;
    else if (hasLength) this.framing = Framing.Length;
    else {
      this.framing = Framing.Chunked;
      head += 'Transfer-Encoding: chunked\r\n';
    }
    if (!hasDate) head += 'Date: ' + utcDate() + '\r\n';
    this.head = head + (this.last ? 'Connection: close\r\n\r\n' : this.conn.keepAliveHeader + '\r\n');
    this.headersSent = true;
    return this;
  }

  write(chunk: Buffer | string): boolean {
    if (!this.headersSent) this.writeHead(200);
    if (this.writableFinished) return false;
    if (this.noBody) return true;
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    return this.conn.send(this.takeHead(), data, this.framing === Framing.Chunked, false);
  }

  end(chunk?: Buffer | string): this {
    if (this.writableFinished) return this;
    let data = chunk === undefined ? undefined : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!this.headersSent) this.writeHead(200, { 'content-length': String(this.noBody ? 0 : (data?.length ?? 0)) });
    if (this.noBody) data = undefined;
    this.writableFinished = true;
    this.conn.send(this.takeHead(), data, this.framing === Framing.Chunked, true, this.trailers);
    this.drainListener = undefined;
    this.conn.responseDone(this);
    this.emitClose();
    return this;
  }

  destroy(): void {
    this.conn.socket.destroy();
  }

  /** As Node: sent only when the body is chunked. */
  addTrailers(trailers: Record<string, string>): void {
    for (const name in trailers) {
      const value = String(trailers[name]);
      if (!TOKEN.test(name) || INVALID_VALUE.test(value)) throw new TypeError(`invalid trailer ${JSON.stringify(name)}`);
      this.trailers += name + ': ' + value + '\r\n';
    }
  }

  /** 'close' (response over, or the connection gone) and 'drain', one listener each: all the proxy uses. */
  once(event: 'close' | 'drain', fn: Listener): this {
    if (event === 'close') this.closeListener = fn;
    else this.drainListener = fn;
    return this;
  }

  emitDrain(): void {
    const fn = this.drainListener;
    this.drainListener = undefined;
    fn?.call(this);
  }

  emitClose(): void {
    const fn = this.closeListener;
    this.closeListener = undefined;
    fn?.call(this);
  }

  private takeHead(): string | undefined {
    const h = this.head;
    this.head = undefined;
    return h;
  }
}

// Node's Date header is cached per second the same way.
let dateCache = '';
let dateSecond = 0;
function utcDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateCache = new Date(now).toUTCString();
  }
  return dateCache;
}

const kConn = Symbol('leanConnection');
type SocketWithConn = Socket & { [kConn]: LeanConnection };

/** One client connection, one request at a time (pipelined requests wait in the buffer). */
export class LeanConnection {
  /** unparsed bytes: the next request head (and what follows it) */
  private buf: Buffer | undefined = undefined;
  private req: LeanRequest | undefined = undefined;
  private res: LeanResponse | undefined = undefined;
  /** request body bytes still to come from the socket */
  private bodyLeft = 0;
  /** the response ended before the body was read: the rest is read and dropped */
  private discarding = false;
  private headStarted = 0;
  private paused = false;
  private handedOff = false;
  /** the last response was sent: nothing more is read */
  private over = false;
  /** parse() is on the stack: a response ended synchronously lets its loop go on */
  private parsing = false;
  closing = false;
  readonly keepAliveHeader: string;

  constructor(
    readonly socket: Socket,
    private readonly server: LeanServer,
  ) {
    this.keepAliveHeader = server.keepAliveHeader;
    (socket as SocketWithConn)[kConn] = this;
    socket.on('data', onSocketData);
    socket.on('drain', onSocketDrain);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
    socket.on('timeout', onSocketTimeout);
    socket.on('end', onSocketEnd);
    this.idleTimeout(server.options.keepAliveTimeoutMs);
  }

  /** Sockets injected as plain Duplex streams (tests) have no timeouts. */
  private idleTimeout(ms: number): void {
    if (typeof this.socket.setTimeout === 'function') this.socket.setTimeout(ms);
  }

  get idle(): boolean {
    return this.res === undefined && this.buf === undefined;
  }

  data(chunk: Buffer): void {
    if (this.bodyLeft > 0) {
      const n = Math.min(this.bodyLeft, chunk.length);
      const part = n === chunk.length ? chunk : chunk.subarray(0, n);
      this.bodyLeft -= n;
      if (!this.discarding) {
        const body = this.req!.body!;
        if (!body.push(part)) this.pause();
        if (this.bodyLeft === 0) body.push(null);
      } else if (this.bodyLeft === 0) {
        this.discarding = false;
        this.req = undefined;
      }
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    this.buf = this.buf === undefined ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.res === undefined && this.bodyLeft === 0) this.parse();
    else if (this.buf.length > MAX_BUFFERED) this.pause();
  }

  /** Parses and dispatches buffered requests until one is in flight or the buffer runs dry. */
  private parse(): void {
    if (this.parsing) return;
    this.parsing = true;
    try {
      this.parseLoop();
    } finally {
      this.parsing = false;
    }
  }

  private parseLoop(): void {
    while (this.buf !== undefined && this.res === undefined && this.bodyLeft === 0 && !this.handedOff) {
      const buf = this.buf;
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        // A head not yet complete; a bare LF (or an over-long head) is Node's to judge now,
        // since no CRLF CRLF may ever come.
        if (buf.length > MAX_HEAD || !plainPartialHead(buf)) return this.handOff();
        if (this.headStarted === 0) this.headStarted = Date.now();
        else if (Date.now() - this.headStarted > this.server.options.headersTimeoutMs) return this.handOff();
        return;
      }
      if (end + 4 > MAX_HEAD) return this.handOff();
      this.headStarted = 0;
      if (!this.dispatch(buf.toString('latin1', 0, end), buf, end + 4)) return this.handOff();
    }
  }

  /** Parses one head; false: not ours, the connection goes to Node with the head unread. */
  private dispatch(head: string, buf: Buffer, bodyStart: number): boolean {
    if (!PLAIN_HEAD.test(head)) return false;
    const eol = head.indexOf('\r\n');
    const line = eol === -1 ? head : head.slice(0, eol);
    const sp1 = line.indexOf(' ');
    const sp2 = line.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 === -1 || line.length - sp2 !== 9 || !line.endsWith(' HTTP/1.1')) return false;
    const method = line.slice(0, sp1);
    if (METHODS[method] === undefined) return false;
    const url = line.slice(sp1 + 1, sp2);
    if (!TARGET.test(url)) return false;
    const headers: IncomingHttpHeaders = {};
    let count = 0;
    let contentLength = 0;
    let close = false;
    let listsOthers = false;
    let host = false;
    const first = eol === -1 ? head.length : eol + 2;
    let pos = first;
    // the lines an upstream gets unchanged, built from runs of kept lines
    let forward = '';
    let run = first;
    while (pos < head.length) {
      let next = head.indexOf('\r\n', pos);
      if (next === -1) next = head.length;
      const colon = head.indexOf(':', pos);
      if (colon <= pos || colon >= next) return false;
      const name = head.slice(pos, colon);
      if (!TOKEN.test(name)) return false;
      let vs = colon + 1;
      let ve = next;
      while (vs < ve && (head.charCodeAt(vs) === 32 || head.charCodeAt(vs) === 9)) vs++;
      while (ve > vs && (head.charCodeAt(ve - 1) === 32 || head.charCodeAt(ve - 1) === 9)) ve--;
      const value = head.slice(vs, ve);
      // CR or LF anywhere but line ends (a bare one, or obs-fold's leading whitespace is caught by TOKEN)
      if (value.includes('\r') || value.includes('\n')) return false;
      const lower = name.toLowerCase();
      if (headers[lower] !== undefined || lower === '__proto__') return false; // duplicates: Node's merging rules
      switch (lower) {
        case 'host':
          host = true;
          break;
        case 'content-length':
          if (!DIGITS.test(value)) return false;
          contentLength = Number(value);
          break;
        case 'transfer-encoding':
        case 'upgrade':
        case 'expect':
        case 'set-cookie':
        case 'http2-settings':
          return false;
        case 'connection':
          if (/upgrade/i.test(value)) return false;
          close = CLOSE_TOKEN.test(value);
          listsOthers = !ONLY_CLOSE_OR_KEEP_ALIVE.test(value);
          break;
      }
      headers[lower] = value;
      count++;
      if (lower === 'host' || lower === 'content-length' || HOP_BY_HOP.has(lower) || SET_BY_PROXY.has(lower)) {
        if (pos > run) forward += head.slice(run, pos);
        run = next + 2;
      }
      pos = next + 2;
    }
    if (!host || count > MAX_HEADERS) return false;
    if (run < head.length) forward += head.slice(run) + '\r\n';

    this.buf = bodyStart < buf.length ? buf.subarray(bodyStart) : undefined;
    const req = new LeanRequest(this.socket, method, url, headers, head.slice(first), listsOthers ? undefined : forward);
    const res = new LeanResponse(this, method, close || this.closing);
    this.req = req;
    this.res = res;
    if (contentLength > 0) {
      req.body = new LeanBody(this);
      this.bodyLeft = contentLength;
      const rest = this.buf;
      this.buf = undefined;
      if (rest !== undefined) this.data(rest);
    }
    this.server.handler(req, res);
    return true;
  }

  /** Writes the response head (if still pending) and data as one socket write. */
  send(head: string | undefined, data: Buffer | undefined, chunked: boolean, last: boolean, trailers = ''): boolean {
    const s = this.socket;
    if (s.destroyed) return false;
    const dlen = data?.length ?? 0;
    if (chunked && (dlen > 0 || last)) {
      const hex = dlen > 0 ? dlen.toString(16) + '\r\n' : '';
      const trail = (dlen > 0 ? '\r\n' : '') + (last ? '0\r\n' + trailers + '\r\n' : '');
      const pre = (head ?? '') + hex;
      if (dlen === 0) return s.write(pre + trail, 'latin1');
      const out = Buffer.allocUnsafe(pre.length + dlen + trail.length);
      out.write(pre, 0, 'latin1');
      data!.copy(out, pre.length);
      out.write(trail, pre.length + dlen, 'latin1');
      return s.write(out);
    }
    if (head === undefined) return dlen > 0 ? s.write(data!) : true;
    if (dlen === 0) return s.write(head, 'latin1');
    if (dlen > 16 * 1024) {
      s.cork();
      s.write(head, 'latin1');
      const ok = s.write(data!);
      s.uncork();
      return ok;
    }
    const out = Buffer.allocUnsafe(head.length + dlen);
    out.write(head, 0, 'latin1');
    data!.copy(out, head.length);
    return s.write(out);
  }

  /** The current response ended: close, or go on with the next request. */
  responseDone(res: LeanResponse): void {
    if (res !== this.res) return;
    this.res = undefined;
    if (res.last || this.closing) {
      // what the client sent after this request is never read
      this.over = true;
      this.buf = undefined;
      this.socket.removeListener('data', onSocketData);
      this.socket.end();
      return;
    }
    if (this.bodyLeft > 0) {
      // Keep-alive after an unread body: drop the rest as it arrives (as Node's _dump).
      this.discarding = true;
      this.req!.body!.destroy();
    } else this.req = undefined;
    this.resume();
    this.parse();
  }

  bodyWanted(): void {
    if (this.bodyLeft > 0) this.resume();
  }

  drained(): void {
    this.res?.emitDrain();
  }

  closed(): void {
    this.server.forget(this);
    const res = this.res;
    this.res = undefined;
    const body = this.req?.body;
    if (body && this.bodyLeft > 0 && !this.discarding) {
      body.emit('aborted');
      body.destroy();
    }
    res?.emitClose();
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private resume(): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Closes now when idle, else after the response in flight. */
  close(): void {
    this.closing = true;
    if (this.idle) this.socket.destroy();
  }

  /**
   * Gives the connection to Node's http server from the unparsed request on: the bytes
   * read so far are fed to its parser first, then the socket's own.
   */
  private handOff(ended = false): void {
    if (this.handedOff) return;
    this.handedOff = true;
    const s = this.socket;
    s.removeListener('data', onSocketData);
    s.removeListener('drain', onSocketDrain);
    s.removeListener('close', onSocketClose);
    s.removeListener('error', onSocketError);
    s.removeListener('timeout', onSocketTimeout);
    s.removeListener('end', onSocketEnd);
    this.idleTimeout(0);
    this.server.forget(this);
    let pending = this.buf;
    this.buf = undefined;
    // whatever the paused stream holds comes after the bytes already taken out of it
    for (let d: Buffer | null; (d = s.read() as Buffer | null) !== null; ) pending = pending === undefined ? d : Buffer.concat([pending, d]);
    this.server.handOff(s);
    if (pending !== undefined) s.emit('data', pending);
    // the client's EOF already came: Node's parser gets it too (an incomplete head is a 400)
    if (ended) s.emit('end');
    this.paused = false;
    s.resume();
  }

  /**
   * The client's EOF. As Node's server (httpAllowHalfOpen off): a request still in flight
   * is aborted, an idle connection is closed, a partial head is Node's to answer.
   */
  ended(): void {
    if (this.over) return;
    if (this.res !== undefined || this.bodyLeft > 0) {
      this.socket.destroy();
      return;
    }
    if (this.buf !== undefined) return this.handOff(true);
    this.socket.end();
  }

  /**
   * The keep-alive timeout, armed once per connection: Node makes a new timer on every
   * setTimeout call, so it is not switched off and on around each request. Any read or
   * write restarts it; while a response is pending (requestTimeout is off) it is ignored,
   * and the response's own writes start the idle countdown again.
   */
  timedOut(): void {
    if (this.res === undefined) this.socket.destroy();
  }
}

/** An incomplete head that could still become one this server takes: plain bytes, CR only before LF. */
function plainPartialHead(buf: Buffer): boolean {
  const text = buf.toString('latin1');
  if (!PLAIN_HEAD.test(text)) return false;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) if (i === 0 || text.charCodeAt(i - 1) !== 13) return false;
  for (let i = text.indexOf('\r'); i !== -1; i = text.indexOf('\r', i + 1)) if (i + 1 < text.length && text.charCodeAt(i + 1) !== 10) return false;
  return true;
}

function onSocketData(this: SocketWithConn, chunk: Buffer): void {
  this[kConn].data(chunk);
}
function onSocketDrain(this: SocketWithConn): void {
  this[kConn].drained();
}
function onSocketClose(this: SocketWithConn): void {
  this[kConn].closed();
}
function onSocketError(this: SocketWithConn): void {
  this.destroy();
}
function onSocketEnd(this: SocketWithConn): void {
  this[kConn].ended();
}
function onSocketTimeout(this: SocketWithConn): void {
  this[kConn].timedOut();
}

/**
 * Takes over a Node http.Server's accepted connections: they are served here until a
 * request this server does not take, then given to the http.Server's own connection
 * handling (which still owns upgrades, timeouts of those connections, clientError).
 */
export class LeanServer {
  readonly handler: (req: LeanRequest, res: LeanResponse) => void;
  readonly keepAliveHeader: string;
  private readonly nodeListeners: ((socket: Socket) => void)[];
  private readonly conns = new Set<LeanConnection>();

  constructor(
    private readonly http: Server,
    handler: (req: LeanRequest, res: LeanResponse) => void,
    readonly options: LeanServerOptions,
  ) {
    this.handler = handler;
    this.keepAliveHeader = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(options.keepAliveTimeoutMs / 1000)}\r\n`;
    this.nodeListeners = http.listeners('connection') as ((socket: Socket) => void)[];
    http.removeAllListeners('connection');
    http.on('connection', (socket: Socket) => this.conns.add(new LeanConnection(socket, this)));
  }

  handOff(socket: Socket): void {
    for (const l of this.nodeListeners) l.call(this.http, socket);
  }

  forget(c: LeanConnection): void {
    this.conns.delete(c);
  }

  /** Closes idle connections now and the others once their response is done. */
  closeIdle(): void {
    for (const c of this.conns) c.close();
  }

  destroyAll(): void {
    for (const c of this.conns) c.socket.destroy();
  }
}
