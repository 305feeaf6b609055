// The upstream HTTP/1.1 client against a loopback server that answers with crafted bytes:
// framing it must decode, responses it must refuse (502 upstream), keep-alive reuse.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H1_BAD_RESPONSE, H1Pool, type H1Controller, type H1Handler } from '../../../src/ingress/h1.js';

interface Outcome {
  status?: number;
  headers?: string[];
  forward?: string;
  body: string;
  error?: string;
}

describe('upstream HTTP/1.1 client', () => {
  let server: Server;
  let port = 0;
  let answer = '';
  let connections = 0;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((s) => {
      connections++;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        while (buf.includes('\r\n\r\n')) {
          buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
          s.write(answer);
          if (answer.includes('Connection: close')) s.end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const pool = (): H1Pool => new H1Pool({ host: '127.0.0.1', port, tls: false, connectTimeout: 2000 });
  const send = (p: H1Pool, response: string, method = 'GET'): Promise<Outcome> =>
    new Promise((resolve) => {
      answer = response;
      const out: Outcome = { body: '' };
      const h: H1Handler = {
        onRequestStart: () => undefined,
        onResponseStart: (_c: H1Controller, status, head) => Object.assign(out, { status, headers: head.list(), forward: head.forward }),
        onResponseData: (_c, chunk) => void (out.body += chunk.toString('latin1')),
        onResponseEnd: () => resolve(out),
        onResponseError: (_c, err) => resolve({ ...out, error: (err as { code?: string }).code }),
      };
      p.dispatch({ method, path: '/', head: 'host: x\r\n', body: null, readTimeout: 2000, sendTimeout: 2000 }, h);
    });

  it('decodes Content-Length, chunked (with extensions and trailers) and close-delimited bodies, skipping 1xx', async () => {
    const p = pool();
    expect(await send(p, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello')).toMatchObject({ status: 200, body: 'hello', headers: ['content-length', '5', 'x-a', 'b'] });
    expect(await send(p, 'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nTrailer-A: 1\r\n\r\n')).toMatchObject({ status: 200, body: 'hello world', headers: ['transfer-encoding', 'chunked'] });
    expect(await send(p, 'HTTP/1.1 204 No Content\r\n\r\n')).toMatchObject({ status: 204, body: '', headers: [] });
    expect(await send(p, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HEAD')).toMatchObject({ status: 200, body: '', headers: ['content-length', '5'] });
    // all of the above on one kept-alive connection
    expect(connections).toBe(1);
    const closed = await send(p, 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close');
    expect(closed).toMatchObject({ status: 200, body: 'until close' });
    expect(closed.error).toBeUndefined();
    p.destroy();
  });

  it('passes header lines on as they came, without hop-by-hop fields or those Connection lists', async () => {
    const p = pool();
    const r = await send(p, 'HTTP/1.1 200 OK\r\nServer: t\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok');
    expect(r.forward).toBe('Server: t\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n');
    // Transfer-Encoding wins over Content-Length, which is then not passed on
    const te = await send(p, 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    expect(te).toMatchObject({ status: 200, body: 'ok', forward: 'X-A: b\r\n' });
    p.destroy();
  });

  it('refuses malformed responses instead of guessing', async () => {
    const bad: Record<string, string> = {
      'two Content-Lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      'Content-Length not a number': 'HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello',
      'invalid chunk size': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
      'bare LF in a chunk line': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n',
      'obs-fold': 'HTTP/1.1 200 OK\r\nX-A: a\r\n  b\r\nContent-Length: 0\r\n\r\n',
      'bare LF in the head': 'HTTP/1.1 200 OK\r\nX-A: a\nContent-Length: 0\r\n\r\n',
      'bare CR in a value': 'HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: x=1\r\nContent-Length: 0\r\n\r\n',
      'NUL in a value': 'HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n',
      'space in a field name': 'HTTP/1.1 200 OK\r\nX A: b\r\nContent-Length: 0\r\n\r\n',
      'space before the colon': 'HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 0\r\n\r\n',
      'bad status line': 'HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n',
      'not HTTP': 'SSH-2.0-OpenSSH\r\n\r\n',
    };
    for (const [what, text] of Object.entries(bad)) {
      const p = pool();
      expect([what, (await send(p, text)).error]).toEqual([what, H1_BAD_RESPONSE]);
      p.destroy();
    }
  });
});
