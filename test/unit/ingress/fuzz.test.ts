// The HTTP front of the ingress under 100,000 generated inputs (fast-check, fixed seed):
// raw bytes, structured requests with hostile framing, and mutations of valid requests,
// injected as in-memory connections into the real listener and proxy. Nothing may throw
// or hang; every answer is well-formed HTTP; a request with conflicting framing is
// answered 400 and nothing of it reaches the backend. The ClientHello reader that
// ssl-passthrough uses gets random bytes too.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FileInformerFactory } from '../../../src/client/file-informers.js';
import { IngressController } from '../../../src/ingress/setup.js';
import { parseClientHello } from '../../../src/ingress/sni.js';

const SEED = 20261123;
const RAW = 30_000;
const STRUCTURED = 40_000;
const MUTATED = 30_000;

/** Whether `out` holds a whole response with a Content-Length body. */
function responseComplete(out: string): boolean {
  const end = out.indexOf('\r\n\r\n');
  if (end === -1) return false;
  const cl = /\r\ncontent-length: *(\d+)/i.exec(out.slice(0, end));
  return cl !== null && out.length - end - 4 >= Number(cl[1]);
}

/**
 * One in-memory connection: writes `input` and ends it once a whole response is back or
 * `endAfterMs` passed (a client's EOF aborts a request still waiting for its backend, so
 * forwarded requests get that long); resolves with what the server sent.
 */
function inject(server: Server, input: Buffer, endAfterMs = 50): Promise<string> {
  const c = open(server, input);
  c.arm(endAfterMs);
  return c.answer;
}

/** Injects now; `arm` starts the EOF fallback (after a whole batch is in, so I/O gets a turn first). */
function open(server: Server, input: Buffer): { answer: Promise<string>; arm: (ms: number) => void } {
  let arm: (ms: number) => void = () => undefined;
  const answer = new Promise<string>((resolve) => {
    let out = '';
    let done = false;
    let ended = false;
    const end = (): void => {
      if (!ended) (ended = true), d.push(null);
    };
    const finish = (): void => {
      if (!done) (done = true), clearTimeout(timer), resolve(out);
    };
    const d = new Duplex({
      read() {},
      write(chunk: Buffer, _e, cb) {
        out += chunk.toString('latin1');
        if (responseComplete(out)) setImmediate(end);
        cb();
      },
      final(cb) {
        cb();
        finish();
      },
    });
    d.on('close', finish);
    d.on('error', finish);
    let timer: NodeJS.Timeout | undefined;
    arm = (ms) => {
      if (!done) timer = setTimeout(end, ms);
    };
    server.emit('connection', d);
    d.push(input);
  });
  return { answer, arm };
}

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const anyText = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '\t', ':', ';', ',', '\r', '\n', '\0', '\x7f', '\xff', '/', '%', '"', 'chunked'), maxLength: 24 });
const eol = fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '\r', '\r\r\n');
const hostValue = fc.constantFrom('fuzz.test', 'none.test', 'FUZZ.test:80', '', 'fuzz.test.', '[::1]', 'a b');
const headerName = fc.oneof(fc.constantFrom('Content-Length', 'content-length', 'Transfer-Encoding', 'TRANSFER-ENCODING', 'Connection', 'Upgrade', 'Expect', 'X-Forwarded-For', 'X-Request-ID', 'TE', 'Trailer', 'Host'), token, anyText);
const headerValue = fc.oneof(fc.constantFrom('chunked', ' chunked', 'chunked, identity', 'gzip, chunked', 'close', 'keep-alive', 'upgrade', 'websocket', '100-continue', '0', '5', '-1', '18446744073709551616', '0x10', '5, 5'), fc.nat({ max: 100_000 }).map(String), anyText);
const chunkedBody = fc.array(fc.oneof(fc.nat({ max: 40 }).map((n) => `${n.toString(16)}\r\n${'b'.repeat(n)}\r\n`), fc.constantFrom('0\r\n\r\n', 'zz\r\n', 'ffffffffffffffffff\r\n', '5;ext=1\r\nhello\r\n', '5 \r\nhello\r\n', '3\nabc\n'), anyText), { maxLength: 4 }).map((p) => p.join(''));

interface Case {
  bytes: Buffer;
  /** framing that must be refused: the answer is 400 and the backend sees nothing */
  conflicting: boolean;
}

let n = 0;
const structured: fc.Arbitrary<Case> = fc
  .record({
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'OPTIONS', 'DELETE', 'CONNECT', 'PRI'), token),
    path: fc.oneof(fc.constantFrom('/', '/x', '*', 'http://fuzz.test/', '/%2f..', '//'), anyText.map((s) => '/' + s)),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 ', 'http/1.1', 'HTTP/9'),
    host: hostValue,
    headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }),
    fold: fc.boolean(),
    eol,
    body: fc.oneof(chunkedBody, anyText),
    conflict: fc.constantFrom('none', 'none', 'cl+te', 'te+cl', 'cl+cl'),
  })
  .map((r) => {
    const id = `smuggle-${n++}`;
    const lines = [`${r.method} ${r.conflict === 'none' ? r.path : '/' + id} ${r.version}`, `Host: ${r.host}`];
    // with a conflict, the other headers must not end the head early (no CR/LF in them)
    for (const [k, v] of r.headers) if (r.conflict === 'none' || !(/^(content-length|transfer-encoding)$/i.test(k) || /[\r\n]/.test(k + v))) lines.push(`${k}: ${v}`);
    if (r.conflict === 'cl+te') lines.push('Content-Length: 6', 'Transfer-Encoding: chunked');
    if (r.conflict === 'te+cl') lines.push('Transfer-Encoding: chunked', 'Content-Length: 60');
    if (r.conflict === 'cl+cl') lines.push('Content-Length: 6', 'Content-Length: 60');
    if (r.fold) lines.push(' folded');
    const conflicting = r.conflict !== 'none';
    // a whole second request rides in the body: a desynchronised parser would forward it
    const body = conflicting ? `0\r\n\r\nGET /${id}-inner HTTP/1.1\r\nHost: fuzz.test\r\n\r\n` : r.body;
    const sep = conflicting ? '\r\n' : r.eol;
    return { bytes: Buffer.from(lines.join(sep) + sep + sep + body, 'latin1'), conflicting };
  });

const VALID = ['GET / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n', 'POST /up HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 5\r\n\r\nhello', 'POST /c HTTP/1.1\r\nHost: fuzz.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'GET /ws HTTP/1.1\r\nHost: fuzz.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 'GET /a HTTP/1.1\r\nHost: none.test\r\n\r\nGET /b HTTP/1.1\r\nHost: fuzz.test\r\n\r\n'];
const mutated: fc.Arbitrary<Case> = fc
  .tuple(fc.constantFrom(...VALID), fc.array(fc.tuple(fc.nat(), fc.constantFrom('flip', 'insert', 'delete', 'dup'), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
  .map(([base, edits]) => {
    const b = [...Buffer.from(base, 'latin1')];
    for (const [pos, op, byte] of edits) {
      const i = pos % (b.length + 1);
      if (op === 'flip') b[i % b.length] = byte;
      else if (op === 'insert') b.splice(i, 0, byte);
      else if (op === 'delete') b.splice(i % b.length, 1);
      else b.splice(i, 0, ...b.slice(i, i + 8));
    }
    return { bytes: Buffer.from(b), conflicting: false };
  });

const raw: fc.Arbitrary<Case> = fc.uint8Array({ maxLength: 200 }).map((a) => ({ bytes: Buffer.from(a), conflicting: false }));

describe('ingress HTTP front under generated input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kp-ingress-fuzz-'));
  const seen: string[] = [];
  let backend: Server;
  let controller: IngressController;

  beforeAll(async () => {
    backend = createServer((req, res) => {
      seen.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    backend.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n'));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    const port = (backend.address() as AddressInfo).port;
    const file = join(dir, 'objects.yaml');
    const objs = [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'kubeplane' }, spec: { controller: 'kubeplane.io/ingress' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'b-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'b' } }, addressType: 'IPv4', ports: [{ name: 'http', port }], endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }] },
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'fuzz', namespace: 'default' }, spec: { ingressClassName: 'kubeplane', rules: [{ host: 'fuzz.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'b', port: { number: 80 } } } }] } }] } },
    ];
    writeFileSync(file, objs.map((o) => stringify(o)).join('---\n'));
    controller = new IngressController({
      informers: new FileInformerFactory(file),
      selection: { ingressClass: 'kubeplane', controllerName: 'kubeplane.io/ingress', watchWithoutClass: false },
      httpBind: { host: '127.0.0.1', port: 0 },
    });
    await controller.start();
  });

  afterAll(async () => {
    await controller?.stop();
    await new Promise<void>((r) => backend?.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it(`survives ${(RAW + STRUCTURED + MUTATED).toLocaleString('en')} inputs; conflicting framing is refused and never forwarded`, async () => {
    const server = controller.httpServer!;
    // sanity: the route works, so "the backend saw nothing" below means something
    expect(await inject(server, Buffer.from('GET /sanity HTTP/1.1\r\nHost: fuzz.test\r\nConnection: close\r\n\r\n'), 5000)).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen).toContain('/sanity');
    const cases = [...fc.sample(raw, { numRuns: RAW, seed: SEED }), ...fc.sample(structured, { numRuns: STRUCTURED, seed: SEED + 1 }), ...fc.sample(mutated, { numRuns: MUTATED, seed: SEED + 2 })];
    let conflicting = 0;
    const statuses = new Map<string, number>();
    const BATCH = 1024;
    for (let i = 0; i < cases.length; i += BATCH) {
      const batch = cases.slice(i, i + BATCH);
      const conns = batch.map((c) => open(server, c.bytes));
      for (const c of conns) c.arm(200);
      const answers = await Promise.all(conns.map((c) => c.answer));
      for (let j = 0; j < batch.length; j++) {
        const answer = answers[j]!;
        const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1];
        // every answer is either nothing (the peer closed first) or a well-formed status line
        if (answer !== '' && status === undefined) expect.fail(`malformed answer ${JSON.stringify(answer.slice(0, 80))} to ${JSON.stringify(batch[j]!.bytes.toString('latin1'))}`);
        statuses.set(status ?? 'none', (statuses.get(status ?? 'none') ?? 0) + 1);
        if (batch[j]!.conflicting) {
          conflicting++;
          if (status !== '400') expect.fail(`status ${status} for conflicting framing: ${JSON.stringify(batch[j]!.bytes.toString('latin1'))}`);
        }
      }
    }
    expect(conflicting).toBeGreaterThan(10_000);
    console.log('fuzz answers by status:', JSON.stringify(Object.fromEntries(statuses)), 'backend requests:', seen.length);
    // nothing carried by a conflicting request, outer or smuggled, reached the backend
    expect(seen.filter((u) => u.includes('smuggle'))).toEqual([]);
    // the generators reach the parser's refusals and the proxy (how many forwarded requests
    // finish before their connection's EOF depends on the machine's load)
    expect(statuses.get('400') ?? 0).toBeGreaterThan(1000);
    expect(seen.length).toBeGreaterThan(1);
    // and the listener still serves, many at once
    const after = await Promise.all(Array.from({ length: 50 }, (_, i) => inject(server, Buffer.from(`GET /after-${i} HTTP/1.1\r\nHost: fuzz.test\r\nConnection: close\r\n\r\n`), 10_000)));
    for (const a of after) expect(a).toMatch(/^HTTP\/1\.1 200 /);
  }, 120_000);

  it('the ClientHello reader never throws on 30,000 random or truncated inputs', () => {
    // a real-looking hello prefix, truncated and mutated, plus pure noise
    const hello = Buffer.from('16030100c4010000c00303' + '00'.repeat(32) + '00' + '0002c02f' + '0100' + '0095' + '0000000e000c0000096675' + '7a7a2e74657374', 'hex');
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), fc.tuple(fc.nat({ max: hello.length }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 })).map(([cut, edits]) => {
        const b = Buffer.from(hello.subarray(0, cut));
        for (const [pos, byte] of edits) if (b.length) b[pos % b.length] = byte;
        return b;
      })), (buf) => {
        const r = parseClientHello(buf);
        expect(['partial', 'not-tls', 'hello']).toContain(r.kind);
      }),
      { numRuns: 30_000, seed: SEED },
    );
  });
});
