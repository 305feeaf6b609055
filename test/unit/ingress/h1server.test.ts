// The plain-HTTP fast path (h1server.ts) over real loopback sockets, in front of a real
// node:http server: what it serves itself (keep-alive, pipelining, Content-Length bodies,
// HEAD/204 framing, Connection: close), and that every request shape it is not sure about
// (smuggling framings, obs-fold, bare CR/LF, invalid bytes, duplicates, upgrades, HTTP/1.0)
// reaches Node's parser with its bytes intact, where it is refused or served as before.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LeanRequest, LeanServer, type LeanResponse } from '../../../src/ingress/h1server.js';

interface Seen {
  via: 'lean' | 'node';
  method: string;
  url: string;
  headers: Record<string, unknown>;
  body: string;
}

/** Reads until `done(text)` says the answer is whole, or the peer closes; resolves with the text. */
function exchange(port: number, input: string | Buffer, done: (text: string) => boolean, opts: { end?: boolean } = {}): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    };
    // a hang is a failure, reported with what came back
    const timer = setTimeout(() => reject(new Error(`no complete answer; got ${JSON.stringify(text)}`)), 5000);
    s.on('connect', () => {
      s.write(typeof input === 'string' ? Buffer.from(input, 'latin1') : input);
      if (opts.end) s.end();
    });
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (done(text)) {
        // give a close that follows the answer a moment to arrive
        setTimeout(() => finish(s.readableEnded), 50);
      }
    });
    s.on('end', () => finish(true));
    s.on('error', () => finish(true));
  });
}

/** The number of whole responses (with Content-Length or chunked bodies) in `text`. */
function responses(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) return out;
    const head = rest.slice(0, end);
    let len = 0;
    const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (cl) len = Number(cl[1]);
    else if (/\r\ntransfer-encoding: chunked/i.test(head)) {
      const term = rest.indexOf('0\r\n\r\n', end + 4);
      if (term === -1) return out;
      len = term + 5 - (end + 4);
    }
    if (rest.length < end + 4 + len) return out;
    out.push(rest.slice(0, end + 4 + len));
    rest = rest.slice(end + 4 + len);
  }
}
const count = (n: number) => (t: string): boolean => responses(t).length >= n;

describe('lean HTTP/1.1 server in front of node:http', () => {
  let http: Server;
  let port = 0;
  const seen: Seen[] = [];
  const upgrades: string[] = [];
  let hold: ((res: LeanResponse) => void) | undefined;
  let closes = 0;
  const requests: LeanRequest[] = [];

  const answer = (via: 'lean' | 'node', req: { method?: string; url?: string; headers: Record<string, unknown> }, body: string, res: ServerResponse | LeanResponse): void => {
    seen.push({ via, method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, body });
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/hold' && hold && res instanceof Object && via === 'lean') return hold(res as LeanResponse);
    if (u.pathname === '/chunked') {
      res.writeHead(200, ['content-type', 'text/plain']);
      (res as ServerResponse).write(Buffer.from('part1,'));
      (res as ServerResponse).end(Buffer.from('part2'));
      return;
    }
    if (u.pathname === '/204') return void (res as ServerResponse).writeHead(204, { 'x-a': 'b' }).end();
    if (u.pathname === '/close') return void (res as ServerResponse).writeHead(200, { 'content-length': '2', connection: 'close' }).end('ok');
    if (u.pathname === '/badheader') {
      try {
        res.writeHead(200, ['x-bad', 'a\u0000b', 'content-length', '0']);
      } catch {
        return void (res as ServerResponse).writeHead(500, { 'content-length': '7' }).end('refused');
      }
    }
    const out = `${via} ${req.method} ${req.url} ${body.length}`;
    (res as ServerResponse).writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(out)) }).end(out);
  };

  beforeAll(async () => {
    http = createHttpServer({ keepAliveTimeout: 5000 }, (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('latin1')));
      req.on('end', () => answer('node', req, body, res));
    });
    http.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      upgrades.push(req.url ?? '');
      socket.end('HTTP/1.1 101 Switching Protocols\r\nupgrade: test\r\nconnection: upgrade\r\n\r\n');
    });
    new LeanServer(
      http,
      (req: LeanRequest, res: LeanResponse) => {
        requests.push(req);
        res.once('close', () => closes++);
        if (!req.body) return answer('lean', req, '', res);
        let body = '';
        req.body.on('data', (d: Buffer) => (body += d.toString('latin1')));
        req.body.on('end', () => answer('lean', req, body, res));
      },
      { keepAliveTimeoutMs: 5000, headersTimeoutMs: 5000 },
    );
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    port = (http.address() as AddressInfo).port;
  });
  afterAll(async () => {
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  });
  beforeEach(() => {
    seen.length = 0;
    requests.length = 0;
    upgrades.length = 0;
    hold = undefined;
  });

  it('serves keep-alive and pipelined requests itself, in order, on one connection', async () => {
    const r = await exchange(port, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b?q=1 HTTP/1.1\r\nHost: x\r\nX-Thing:  spaced value \t\r\n\r\nHEAD /c HTTP/1.1\r\nHost: x\r\n\r\n', (t) => t.split('HTTP/1.1 ').length === 4 && t.endsWith('\r\n\r\n'));
    // the HEAD answer carries the GET's length but no body, so it is split off by hand
    const last = r.text.lastIndexOf('HTTP/1.1 ');
    const rs = [...responses(r.text.slice(0, last)), r.text.slice(last)];
    expect(rs.map((x) => x.split('\r\n')[0])).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(rs[0]).toContain('\r\n\r\nlean GET /a 0');
    expect(rs[1]).toContain('\r\n\r\nlean GET /b?q=1 0');
    // HEAD: the head (with the length the GET would have) and no body
    expect(rs[2]!.endsWith('\r\n\r\n')).toBe(true);
    expect(rs[0]).toMatch(/\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n/);
    expect(rs[0]).toMatch(/\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} /);
    expect(r.closed).toBe(false);
    expect(seen.map((s) => [s.via, s.url])).toEqual([['lean', '/a'], ['lean', '/b?q=1'], ['lean', '/c']]);
    expect(seen[1]!.headers['x-thing']).toBe('spaced value');
  });

  it('keeps the client header lines an upstream may get as they came, and the raw list as Node gives it', async () => {
    hold = (res) => {
      res.writeHead(200, { 'content-length': '0' }).end();
    };
    const r = await exchange(port, 'GET /hold HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nX-Forwarded-For: 6.6.6.6\r\nTE: trailers\r\nKeep-Alive: 5\r\nX-Request-ID: abc\r\nContent-Length: 0\r\nX-B:  2\r\n\r\nGET /hold HTTP/1.1\r\nHost: x\r\nConnection: x-private\r\nX-Private: s\r\n\r\n', count(2));
    expect(responses(r.text)).toHaveLength(2);
    const got = requests[0];
    expect(got!.forwardLines).toBe('X-A: 1\r\nX-B:  2\r\n');
    expect(got!.rawHeaders).toEqual(['Host', 'x', 'X-A', '1', 'X-Forwarded-For', '6.6.6.6', 'TE', 'trailers', 'Keep-Alive', '5', 'X-Request-ID', 'abc', 'Content-Length', '0', 'X-B', '2']);
    expect(got!.headers).toMatchObject({ host: 'x', 'x-forwarded-for': '6.6.6.6', 'x-request-id': 'abc', 'x-b': '2' });
    // Connection naming other fields: the proxy filters the raw list itself
    expect(requests[1]!.forwardLines).toBeUndefined();
  });

  it('streams a Content-Length body, drops an unread one, and keeps the connection', async () => {
    const big = 'z'.repeat(200_000);
    const r = await exchange(port, `POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\n\r\n${big}PUT /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n`, count(3));
    expect(responses(r.text).map((x) => x.slice(x.indexOf('\r\n\r\n') + 4))).toEqual([`lean POST /up ${big.length}`, 'lean PUT /p 0', 'lean GET /after 0']);
  });

  it('chunks a response without a length, omits the body of 204, closes after Connection: close', async () => {
    const r = await exchange(port, 'GET /chunked HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\n', count(2));
    const [chunked, empty] = responses(r.text);
    expect(chunked).toMatch(/\r\nTransfer-Encoding: chunked\r\n/);
    expect(chunked!.endsWith('\r\n\r\n6\r\npart1,\r\n5\r\npart2\r\n0\r\n\r\n')).toBe(true);
    expect(empty).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
    expect(empty).not.toMatch(/transfer-encoding|content-length/i);
    const c = await exchange(port, 'GET /close HTTP/1.1\r\nHost: x\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n', count(1));
    expect(c.closed).toBe(true);
    expect(responses(c.text)).toHaveLength(1);
    const asked = await exchange(port, 'GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', count(1));
    expect(asked.text).toMatch(/\r\nConnection: close\r\n/);
    expect(asked.closed).toBe(true);
    expect(seen.map((s) => s.url)).not.toContain('/never');
  });

  it('refuses a response header with invalid characters (the caller answers instead)', async () => {
    const r = await exchange(port, 'GET /badheader HTTP/1.1\r\nHost: x\r\n\r\n', count(1));
    expect(r.text).toMatch(/^HTTP\/1\.1 500 /);
    expect(r.text).not.toContain('x-bad');
  });

  it('tells the handler when the client goes away mid-request', async () => {
    const before = closes;
    let got: LeanResponse | undefined;
    hold = (res) => (got = res);
    const s = connect(port, '127.0.0.1');
    await new Promise<void>((r) => s.on('connect', () => r()));
    s.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => got !== undefined);
    s.destroy();
    await waitFor(() => closes === before + 1);
    expect(got!.destroyed).toBe(true);
  });

  const smuggling: Record<string, string> = {
    'Content-Length with Transfer-Encoding': 'POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
    'Transfer-Encoding then Content-Length': 'POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n',
    'two different Content-Lengths': 'POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    'Content-Length list': 'POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello',
    'negative Content-Length': 'POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'space before the colon': 'POST /s HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello',
    'obs-fold header line': 'GET /s HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n',
    'obs-fold with a tab': 'GET /s HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n\tb\r\n\r\n',
    'bare LF line endings': 'GET /s HTTP/1.1\nHost: x\n\n',
    'bare LF inside the head': 'GET /s HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n',
    'bare CR inside the head': 'GET /s HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n',
    'NUL in a header value': 'GET /s HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n',
    'DEL in a header value': 'GET /s HTTP/1.1\r\nHost: x\r\nX-A: a\u007fb\r\n\r\n',
    'control character in a header name': 'GET /s HTTP/1.1\r\nHost: x\r\nX\u0001A: b\r\n\r\n',
    'space inside the request target': 'GET /s x HTTP/1.1\r\nHost: x\r\n\r\n',
    'chunked not last': 'POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    'invalid chunk size': 'POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    'HTTP/1.1 without Host': 'GET /s HTTP/1.1\r\nX-A: b\r\n\r\n',
  };
  for (const [what, text] of Object.entries(smuggling)) {
    it(`${what}: Node's parser answers 400, nothing is served`, async () => {
      const r = await exchange(port, text, (t) => t.includes('\r\n\r\n'));
      expect(r.text.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect(seen).toEqual([]);
    });
    it(`${what}, after a request served here on the same connection: still 400, nothing else served`, async () => {
      const r = await exchange(port, 'GET /first HTTP/1.1\r\nHost: x\r\n\r\n' + text, (t) => responses(t).length >= 1 && t.includes('400 Bad Request'));
      expect(r.text.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
      expect(r.text).toContain('HTTP/1.1 400 Bad Request');
      expect(seen.map((s) => [s.via, s.url])).toEqual([['lean', '/first']]);
    });
  }

  it('hands unusual but valid requests to Node with their bytes intact, after serving the ones before', async () => {
    const chunkedPost = 'POST /te HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
    const r = await exchange(port, 'GET /one HTTP/1.1\r\nHost: x\r\n\r\n' + chunkedPost + 'GET /three HTTP/1.1\r\nHost: x\r\n\r\n', count(3));
    expect(responses(r.text).map((x) => x.slice(x.indexOf('\r\n\r\n') + 4))).toEqual(['lean GET /one 0', 'node POST /te 11', 'node GET /three 0']);
    const shapes: [string, string][] = [
      ['HTTP/1.0', 'GET /ten HTTP/1.0\r\nHost: x\r\n\r\n'],
      ['Expect: 100-continue', 'POST /exp HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi'],
      ['a duplicate header', 'GET /dup HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\n\r\n'],
      ['an obs-text byte', 'GET /obs HTTP/1.1\r\nHost: x\r\nX-A: caf\u00e9\r\n\r\n'],
      ['an unusual method', 'PROPFIND /m HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['an absolute-form target', 'GET http://x/abs HTTP/1.1\r\nHost: x\r\n\r\n'],
    ];
    for (const [what, text] of shapes) {
      seen.length = 0;
      const a = await exchange(port, text, (t) => responses(t).length >= 1);
      expect([what, seen.map((s) => s.via)]).toEqual([what, ['node']]);
      expect([what, a.text.split('\r\n')[0]]).toEqual([what, a.text.startsWith('HTTP/1.1 100') ? 'HTTP/1.1 100 Continue' : 'HTTP/1.1 200 OK']);
      if (what === 'an obs-text byte') expect(seen[0]!.headers['x-a']).toBe('caf\u00e9');
    }
  });

  it('gives upgrades to Node, which emits upgrade', async () => {
    const r = await exchange(port, 'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n', (t) => t.includes('101 Switching'));
    expect(r.text).toContain('HTTP/1.1 101 Switching Protocols');
    expect(upgrades).toEqual(['/ws']);
    expect(seen.map((s) => s.via)).toEqual(['lean']);
  });

  it('a head split across many writes is still served here; an over-long one goes to Node (431)', async () => {
    const s = connect(port, '127.0.0.1');
    await new Promise<void>((r) => s.on('connect', () => r()));
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    for (const part of ['GET /sp', 'lit HTTP/1.1\r', '\nHost: x\r\nX-A:', ' b\r\n', '\r\n']) {
      s.write(part);
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitFor(() => responses(text).length === 1);
    s.destroy();
    expect(seen.map((x) => [x.via, x.url])).toEqual([['lean', '/split']]);
    const long = await exchange(port, `GET /long HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, (t) => t.includes('\r\n\r\n'));
    expect(long.text.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  });

  it('a client EOF after a partial head is answered by Node (400), as before', async () => {
    const r = await exchange(port, 'GET /partial HTTP/1.1\r\nHost: x\r\n', (t) => t.includes('\r\n\r\n'), { end: true });
    expect(r.text.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(seen).toEqual([]);
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error('condition never held');
}
