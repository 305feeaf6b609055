// TLS by SNI from kubernetes.io/tls Secrets, checked with real TLS clients (node:tls, curl).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { connect as h2connect, createServer as createH2cServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Agent, WebSocket } from 'undici';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, waitFor } from '../../helpers/cli.js';
import { EchoBackend, get, ing, ingressClass, rule, selfSigned, serviceObjects, startIngress, writeObjects, type RunningIngress } from './harness.js';

function peer(port: number, servername: string | undefined, opts: { minVersion?: 'TLSv1' | 'TLSv1.2'; maxVersion?: 'TLSv1.1' | 'TLSv1.3' } = {}): Promise<{ cert: PeerCertificate; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ...opts }, () => {
      const out = { cert: s.getPeerCertificate(), protocol: s.getProtocol() };
      s.end();
      resolve(out);
    });
    s.on('error', reject);
  });
}

describeE2E('kubeplane ingress TLS', { commands: ['openssl', 'curl'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kp-ingress-tls-'));
  const objectsPath = join(dir, 'objects.yaml');
  const web = new EchoBackend('web-pod', 'web');
  let ingress: RunningIngress | undefined;
  let objects: object[] = [];
  const a = selfSigned(dir, 'a', ['a.tls.test']);
  const b = selfSigned(dir, 'b', ['b.tls.test', '*.wild.tls.test']);

  // A gRPC-shaped backend over h2c: echoes the request body, ends with grpc-status trailers.
  let grpcServer: Http2Server | undefined;
  let grpcPort = 0;

  beforeAll(async () => {
    await web.start();
    grpcServer = createH2cServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/grpc', 'x-seen-te': String(req.headers.te), 'x-seen-authority': String(req.headers[':authority']) });
        res.addTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' });
        res.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((r) => grpcServer!.listen(0, '127.0.0.1', () => r()));
    grpcPort = (grpcServer.address() as AddressInfo).port;
    const grpcPod = new EchoBackend('grpc-pod', 'grpc');
    grpcPod.port = grpcPort;
    objects = [
      ingressClass,
      ...serviceObjects({ service: 'web', pods: [web] }),
      a.secret('default', 'a-tls'),
      b.secret('default', 'b-tls'),
      ing('a', { tls: [{ hosts: ['a.tls.test'], secretName: 'a-tls' }], rules: [rule('a.tls.test', [['/', 'Prefix', 'web']])] }),
      ing('b', { tls: [{ hosts: ['b.tls.test', '*.wild.tls.test'], secretName: 'b-tls' }], rules: [rule('b.tls.test', [['/', 'Prefix', 'web']]), rule('*.wild.tls.test', [['/', 'Prefix', 'web']])] }),
      ing('no-redirect', { tls: [{ hosts: ['nr.tls.test'], secretName: 'a-tls' }], rules: [rule('nr.tls.test', [['/', 'Prefix', 'web']])] }, { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' }),
      ing('force', { rules: [rule('force.tls.test', [['/', 'Prefix', 'web']])] }, { 'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true' }),
      ing('plain', { rules: [rule('plain.tls.test', [['/', 'Prefix', 'web']]), rule(undefined, [['/ws', 'Prefix', 'web']])] }),
      ...serviceObjects({ service: 'grpc', pods: [grpcPod] }),
      ing('grpc', { tls: [{ hosts: ['grpc.tls.test'], secretName: 'a-tls' }], rules: [rule('grpc.tls.test', [['/', 'Prefix', 'grpc']])] }, { 'nginx.ingress.kubernetes.io/backend-protocol': 'GRPC' }),
    ];
    writeObjects(objectsPath, objects);
    ingress = await startIngress(objectsPath);
  });

  afterAll(async () => {
    await ingress?.stop();
    await new Promise<void>((r) => (grpcServer ? grpcServer.close(() => r()) : r()));
    await web.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('chooses the certificate by SNI from two Secrets (wildcard too)', async () => {
    expect((await peer(ingress!.httpsPort, 'a.tls.test')).cert.subject.CN).toBe('a.tls.test');
    expect((await peer(ingress!.httpsPort, 'b.tls.test')).cert.subject.CN).toBe('b.tls.test');
    expect((await peer(ingress!.httpsPort, 'x.wild.tls.test')).cert.subject.CN).toBe('b.tls.test');
  });

  it('serves the generated default certificate for unknown or missing SNI', async () => {
    expect((await peer(ingress!.httpsPort, 'unknown.test')).cert.subject.CN).toBe('Kubernetes Ingress Controller Fake Certificate');
    expect((await peer(ingress!.httpsPort, undefined)).cert.subject.CN).toBe('Kubernetes Ingress Controller Fake Certificate');
  });

  it('speaks TLS 1.2 and 1.3 only', async () => {
    expect((await peer(ingress!.httpsPort, 'a.tls.test')).protocol).toBe('TLSv1.3');
    expect((await peer(ingress!.httpsPort, 'a.tls.test', { maxVersion: 'TLSv1.3', minVersion: 'TLSv1.2' })).protocol).toMatch(/TLSv1\.[23]/);
    await expect(peer(ingress!.httpsPort, 'a.tls.test', { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' })).rejects.toThrow();
  });

  it('verifies with curl against the Secret as CA, and the Host header picks the route', async () => {
    const caFile = join(dir, 'a-ca.crt');
    writeFileSync(caFile, a.cert);
    const r = await runCommand('curl', ['-sS', '--cacert', caFile, '--resolve', `a.tls.test:${ingress!.httpsPort}:127.0.0.1`, `https://a.tls.test:${ingress!.httpsPort}/hello`]);
    expect(r.stderr).toBe('');
    const echo = JSON.parse(r.stdout) as { headers: Record<string, string>; url: string };
    expect(echo.url).toBe('/hello');
    expect(echo.headers['x-forwarded-proto']).toBe('https');
    const head = await runCommand('curl', ['-sS', '-o', '/dev/null', '-D', '-', '--cacert', caFile, '--resolve', `a.tls.test:${ingress!.httpsPort}:127.0.0.1`, `https://a.tls.test:${ingress!.httpsPort}/hello`]);
    expect(head.stdout.toLowerCase()).toContain('strict-transport-security: max-age=31536000; includesubdomains');
    const plain = await get(ingress!.httpPort, 'plain.tls.test', '/');
    expect(plain.headers['strict-transport-security']).toBeUndefined();
  });

  it('serves HTTP/2 over TLS', async () => {
    const client = h2connect(`https://127.0.0.1:${ingress!.httpsPort}`, { servername: 'a.tls.test', rejectUnauthorized: false });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = client.request({ ':path': '/h2', ':authority': 'a.tls.test' });
        let data = '';
        req.on('data', (d: Buffer) => (data += d.toString()));
        req.on('end', () => resolve(data));
        req.on('error', reject);
      });
      const echo = JSON.parse(body) as { url: string; headers: Record<string, string> };
      expect(echo.url).toBe('/h2');
      expect(echo.headers.host).toBe('a.tls.test');
    } finally {
      client.close();
    }
  });

  it('backend-protocol GRPC: HTTP/2 to the pod, body and grpc-status trailers passed through', async () => {
    const client = h2connect(`https://127.0.0.1:${ingress!.httpsPort}`, { servername: 'grpc.tls.test', rejectUnauthorized: false });
    try {
      const got = await new Promise<{ headers: Record<string, unknown>; trailers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const req = client.request({ ':method': 'POST', ':path': '/helloworld.Greeter/SayHello', ':authority': 'grpc.tls.test', 'content-type': 'application/grpc', te: 'trailers' });
        let headers: Record<string, unknown> = {};
        let trailers: Record<string, unknown> = {};
        let body = '';
        req.on('response', (h) => (headers = h));
        req.on('trailers', (t) => (trailers = t));
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => resolve({ headers, trailers, body }));
        req.on('error', reject);
        req.end('\x00\x00\x00\x00\x05hello');
      });
      expect(got.headers[':status']).toBe(200);
      expect(got.headers['x-seen-te']).toBe('trailers');
      expect(got.headers['x-seen-authority']).toBe('grpc.tls.test');
      expect(got.body).toBe('\x00\x00\x00\x00\x05hello');
      expect(got.trailers['grpc-status']).toBe('0');
    } finally {
      client.close();
    }
  });

  it('upgrades WebSockets over TLS (wss)', async () => {
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    const ws = new WebSocket(`wss://127.0.0.1:${ingress!.httpsPort}/ws`, { dispatcher } as never);
    try {
      const msg = await new Promise<string>((resolve, reject) => {
        ws.addEventListener('open', () => ws.send('secure'));
        ws.addEventListener('message', (ev) => resolve(String(ev.data)));
        ws.addEventListener('error', () => reject(new Error('websocket error')));
      });
      expect(msg).toBe('web-pod:secure');
    } finally {
      ws.close();
      await dispatcher.close();
    }
  });

  it('redirects HTTP to HTTPS with 308 when the host has TLS; not with ssl-redirect=false; always with force-ssl-redirect', async () => {
    const r = await get(ingress!.httpPort, 'a.tls.test', '/path?q=1');
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe(`https://a.tls.test:${ingress!.httpsPort}/path?q=1`);
    expect((await get(ingress!.httpPort, 'nr.tls.test', '/')).status).toBe(200);
    expect((await get(ingress!.httpPort, 'force.tls.test', '/')).status).toBe(308);
    expect((await get(ingress!.httpPort, 'plain.tls.test', '/')).status).toBe(200);
  });

  it('serves an updated Secret without a restart', async () => {
    const renewed = selfSigned(dir, 'a2', ['a.tls.test', 'renewed.a.tls.test']);
    const before = (await peer(ingress!.httpsPort, 'a.tls.test')).cert.fingerprint256;
    objects = objects.map((o) => ((o as { metadata: { name: string } }).metadata.name === 'a-tls' ? renewed.secret('default', 'a-tls') : o));
    writeObjects(objectsPath, objects);
    const after = await waitFor(async () => {
      const fp = (await peer(ingress!.httpsPort, 'a.tls.test')).cert.fingerprint256;
      return fp !== before ? fp : undefined;
    }, { what: 'renewed certificate' });
    expect(after).toBe((await peer(ingress!.httpsPort, 'a.tls.test')).cert.fingerprint256);
    expect((await peer(ingress!.httpsPort, 'a.tls.test')).cert.subjectaltname).toContain('renewed.a.tls.test');
  });
});
