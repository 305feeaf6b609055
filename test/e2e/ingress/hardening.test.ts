// Hostile and slow peers over real HTTP through the running controller: request
// smuggling, regex paths built to backtrack, an upstream that stops reading the request
// body (proxy-send-timeout), and ssl-passthrough piping TLS to the pod undecrypted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tcpConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { EchoBackend, get, ing, ingressClass, rawRequest, rule, selfSigned, serviceObjects, startIngress, writeObjects, type RunningIngress } from './harness.js';

const N = 'nginx.ingress.kubernetes.io/';

/** A backend that reads a request head and then stops reading: its receive window fills. */
class StalledBackend {
  server: Server | undefined;
  port = 0;
  heads = 0;
  readonly sockets = new Set<Socket>();
  async start(): Promise<void> {
    this.server = createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
      let seen = '';
      const onData = (d: Buffer): void => {
        seen += d.toString('latin1');
        if (!seen.includes('\r\n\r\n')) return;
        this.heads++;
        s.off('data', onData);
        s.pause();
      };
      s.on('data', onData);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}

/** Streams a large body until the server answers; returns the status line it sent. */
function uploadUntilAnswered(port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect(port, '127.0.0.1');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let answer = '';
    let sent = 0;
    const total = 512 * 1024 * 1024;
    const pump = (): void => {
      while (sent < total && answer === '') {
        sent += chunk.length;
        if (!sock.write(chunk)) return void sock.once('drain', pump);
      }
    };
    sock.on('connect', () => {
      sock.write(`POST /upload HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${total}\r\n\r\n`);
      pump();
    });
    sock.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n')) {
        resolve(answer.slice(0, answer.indexOf('\r\n')));
        sock.destroy();
      }
    });
    sock.on('error', (err) => (answer ? undefined : reject(err)));
    sock.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
  });
}

describeE2E('kubeplane ingress hardening', { commands: ['openssl'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kp-ingress-hard-'));
  const objectsPath = join(dir, 'objects.yaml');
  const web = new EchoBackend('web-pod', 'web');
  const tlsPod = new EchoBackend('tls-pod', 'tlspod');
  const stalled = new StalledBackend();
  let podCert: ReturnType<typeof selfSigned>;
  let ingress: RunningIngress | undefined;

  beforeAll(async () => {
    podCert = selfSigned(dir, 'pod', ['pass.test']);
    await web.start();
    await tlsPod.start(0, podCert);
    await stalled.start();
    const stalledService = serviceObjects({ service: 'stalled', pods: [{ pod: 'stalled-pod', port: stalled.port, address: '127.0.0.1' } as unknown as EchoBackend] });
    writeObjects(objectsPath, [
      ingressClass,
      ...serviceObjects({ service: 'web', pods: [web] }),
      ...serviceObjects({ service: 'tlspod', pods: [tlsPod] }),
      ...stalledService,
      ing('smuggle', { rules: [rule('smuggle.test', [['/', 'Prefix', 'web']])] }),
      ing('redos', { rules: [rule('redos.test', [['/(a+)+$', 'ImplementationSpecific', 'web'], ['/(b)\\1', 'ImplementationSpecific', 'web'], ['/ok', 'ImplementationSpecific', 'web']])] }, { [N + 'use-regex']: 'true' }),
      ing('send', { rules: [rule('send.test', [['/', 'Prefix', 'stalled']])] }, { [N + 'proxy-send-timeout']: '1', [N + 'proxy-body-size']: '0' }),
      ing('pass', { rules: [rule('pass.test', [['/', 'Prefix', 'tlspod']])] }, { [N + 'ssl-passthrough']: 'true' }),
      ing('terminated', { rules: [rule('terminated.test', [['/', 'Prefix', 'web']])] }),
    ]);
    ingress = await startIngress(objectsPath, ['--enable-ssl-passthrough']);
  });

  afterAll(async () => {
    await ingress?.stop();
    await Promise.all([web.stop(), tlsPod.stop(), stalled.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  const port = (): number => ingress!.httpPort;

  it('request smuggling shapes are answered 400 and never reach the backend', async () => {
    expect((await get(port(), 'smuggle.test', '/')).status).toBe(200);
    const cases: Record<string, string> = {
      'Content-Length with Transfer-Encoding': 'POST / HTTP/1.1\r\nHost: smuggle.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: smuggle.test\r\n\r\n',
      'Transfer-Encoding then Content-Length': 'POST / HTTP/1.1\r\nHost: smuggle.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n',
      'two different Content-Lengths': 'POST / HTTP/1.1\r\nHost: smuggle.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      'obs-fold header line': 'GET / HTTP/1.1\r\nHost: smuggle.test\r\nX-Folded: a\r\n  b\r\n\r\n',
      'bare LF line endings': 'GET / HTTP/1.1\nHost: smuggle.test\n\n',
      'bare LF inside the head': 'GET / HTTP/1.1\r\nHost: smuggle.test\nX-A: b\r\n\r\n',
      'invalid chunk size': 'POST / HTTP/1.1\r\nHost: smuggle.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
      'chunk size with junk': 'POST / HTTP/1.1\r\nHost: smuggle.test\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n',
      'Transfer-Encoding not ending in chunked': 'POST / HTTP/1.1\r\nHost: smuggle.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      'space before the colon': 'POST / HTTP/1.1\r\nHost: smuggle.test\r\nContent-Length : 5\r\n\r\nhello',
      'Content-Length not a number': 'POST / HTTP/1.1\r\nHost: smuggle.test\r\nContent-Length: 5, 5\r\n\r\nhello',
    };
    for (const [what, text] of Object.entries(cases)) {
      const before = web.requests;
      const answer = await rawRequest(port(), text);
      expect([what, answer.split('\r\n')[0]]).toEqual([what, 'HTTP/1.1 400 Bad Request']);
      // nothing of the smuggled request (or the one carrying it) reached the pod
      expect([what, web.requests - before]).toEqual([what, 0]);
    }
    expect((await get(port(), 'smuggle.test', '/')).status).toBe(200);
  });

  it('regex paths cannot be made to backtrack; patterns needing backtracking are refused', async () => {
    // With a backtracking matcher this request would take longer than the test's lifetime.
    expect((await get(port(), 'redos.test', '/' + 'a'.repeat(80) + '!')).status).toBe(404);
    expect((await get(port(), 'redos.test', '/aaaa')).status).toBe(200);
    // `/(b)\1` needs a backreference: refused (logged), so the path is not served
    expect((await get(port(), 'redos.test', '/bb')).status).toBe(404);
    expect((await get(port(), 'redos.test', '/ok')).status).toBe(200);
  });

  it('proxy-send-timeout: 504 when the backend stops taking the request body', async () => {
    expect(await uploadUntilAnswered(port(), 'send.test')).toBe('HTTP/1.1 504 Gateway Timeout');
    expect(stalled.heads).toBeGreaterThan(0);
  });

  it('ssl-passthrough: TLS for the host reaches the pod undecrypted; other hosts terminate here', async () => {
    const handshake = (servername: string, request: string): Promise<{ cert: PeerCertificate; reply: string }> =>
      new Promise((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: ingress!.httpsPort, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
          const cert = s.getPeerCertificate();
          s.write(request);
          let reply = '';
          s.on('data', (d: Buffer) => (reply += d.toString()));
          s.on('end', () => resolve({ cert, reply }));
        });
        s.on('error', reject);
      });
    const passed = await handshake('pass.test', 'GET /through HTTP/1.1\r\nHost: pass.test\r\nConnection: close\r\n\r\n');
    // the pod's own certificate: the ingress never terminated this connection
    expect(passed.cert.subject.CN).toBe('pass.test');
    expect(passed.reply).toMatch(/^HTTP\/1\.1 200/);
    const echo = JSON.parse(passed.reply.slice(passed.reply.indexOf('\r\n\r\n') + 4)) as { pod: string; tls: boolean; url: string; headers: Record<string, string> };
    expect(echo).toMatchObject({ pod: 'tls-pod', tls: true, url: '/through' });
    // no X-Forwarded-For: the ingress saw only encrypted bytes
    expect(echo.headers['x-forwarded-for']).toBeUndefined();

    const terminated = await handshake('terminated.test', 'GET /here HTTP/1.1\r\nHost: terminated.test\r\nConnection: close\r\n\r\n');
    expect(terminated.cert.subject.CN).toBe('Kubernetes Ingress Controller Fake Certificate');
    expect(terminated.reply).toMatch(/^HTTP\/1\.1 200/);
    expect(terminated.reply).toContain('"pod":"web-pod"');
  });
});
