import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceFor } from '../../../src/api/resources.js';
import type { ConfigMap } from '../../../src/api/types.js';
import { RestClient } from '../../../src/client/rest.js';
import { ApiError, isAlreadyExists, isConflict, isNotFound, isResourceExpired } from '../../../src/client/errors.js';
import { TokenSource } from '../../../src/client/token.js';
import { describeE2E } from '../../helpers/e2e.js';

const configmaps = resourceFor('', 'configmaps')!;
const leases = resourceFor('coordination.k8s.io', 'leases')!;
const nodes = resourceFor('', 'nodes')!;

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('RestClient', () => {
  let server: Server;
  let seen: Seen[];
  let reply: (req: IncomingMessage, res: ServerResponse) => void;
  let base: string;

  beforeEach(async () => {
    seen = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        reply(req, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const send = (code: number, body: unknown) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  it('builds core, group, namespaced, cluster-scoped and subresource paths', () => {
    expect(RestClient.resourcePath(configmaps, { namespace: 'ns' })).toBe('/api/v1/namespaces/ns/configmaps');
    expect(RestClient.resourcePath(configmaps)).toBe('/api/v1/configmaps');
    expect(RestClient.resourcePath(leases, { namespace: 'kube-system', name: 'x' })).toBe('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x');
    expect(RestClient.resourcePath(nodes, { namespace: 'ignored', name: 'n1', subresource: 'status' })).toBe('/api/v1/nodes/n1/status');
    expect(() => RestClient.resourcePath(nodes, { name: '' })).toThrow(/name is required/);
  });

  it('sends the verbs with JSON bodies, patch content types, query options and the bearer token', async () => {
    const client = new RestClient({ server: base, token: 'secret', namespace: 'default', source: 't' });
    const obj: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns', resourceVersion: '5' }, data: { k: 'v' } };
    reply = send(200, obj);
    await client.get(configmaps, 'a', { namespace: 'ns' });
    await client.create(configmaps, obj, { fieldManager: 'me', dryRun: true });
    await client.update(configmaps, obj);
    await client.patch(configmaps, 'a', { data: { k: 'w' } }, 'merge', { namespace: 'ns' });
    await client.patch(configmaps, 'a', [{ op: 'remove', path: '/data/k' }], 'json', { namespace: 'ns' });
    await client.patch(configmaps, 'a', obj, 'apply', { namespace: 'ns', fieldManager: 'me', force: true });
    await client.delete(configmaps, 'a', { namespace: 'ns', propagationPolicy: 'Background', preconditions: { resourceVersion: '5' } });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /api/v1/namespaces/ns/configmaps/a',
      'POST /api/v1/namespaces/ns/configmaps?fieldManager=me&dryRun=All',
      'PUT /api/v1/namespaces/ns/configmaps/a',
      'PATCH /api/v1/namespaces/ns/configmaps/a',
      'PATCH /api/v1/namespaces/ns/configmaps/a',
      'PATCH /api/v1/namespaces/ns/configmaps/a?fieldManager=me&force=true',
      'DELETE /api/v1/namespaces/ns/configmaps/a',
    ]);
    expect(seen.map((s) => s.headers['content-type'])).toEqual([
      undefined,
      'application/json',
      'application/json',
      'application/merge-patch+json',
      'application/json-patch+json',
      'application/apply-patch+yaml',
      'application/json',
    ]);
    expect(seen.every((s) => s.headers.authorization === 'Bearer secret')).toBe(true);
    expect(JSON.parse(seen[6]!.body)).toEqual({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', preconditions: { resourceVersion: '5' } });
    await client.close();
  });

  it('turns Status answers into ApiError with code and reason, and other bodies into a generic one', async () => {
    const client = new RestClient({ server: base, namespace: 'default', source: 't' });
    const st = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message });
    const cases: [number, unknown, (e: unknown) => boolean, string][] = [
      [404, st(404, 'NotFound', 'configmaps "a" not found'), isNotFound, 'configmaps "a" not found'],
      [409, st(409, 'AlreadyExists', 'configmaps "a" already exists'), isAlreadyExists, 'configmaps "a" already exists'],
      [409, st(409, 'Conflict', 'Operation cannot be fulfilled'), isConflict, 'Operation cannot be fulfilled'],
      [410, st(410, 'Expired', 'too old resource version'), isResourceExpired, 'too old resource version'],
      [404, '<html>not here</html>', isNotFound, 'the server could not find the requested resource (<html>not here</html>)'],
    ];
    for (const [code, body, pred, message] of cases) {
      reply = send(code, body);
      const err = await client.get(configmaps, 'a', { namespace: 'ns' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(pred(err)).toBe(true);
      expect((err as ApiError).code).toBe(code);
      expect((err as ApiError).message).toBe(message);
    }
    expect(isConflict(new ApiError(409, 'AlreadyExists', st(409, 'AlreadyExists', 'x') as never))).toBe(false);
    await client.close();
  });

  it('gives up on a request that outlives its timeout', async () => {
    reply = () => undefined; // never answers
    const client = new RestClient({ server: base, namespace: 'default', source: 't' }, { timeoutMs: 300 });
    await expect(client.get(configmaps, 'a', { namespace: 'ns' })).rejects.toThrow();
    await client.close();
  });

  it('reuses keep-alive connections for sequential requests', async () => {
    const sockets = new Set<unknown>();
    server.on('connection', (s) => sockets.add(s));
    reply = send(200, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
    const client = new RestClient({ server: base, namespace: 'default', source: 't' });
    for (let i = 0; i < 20; i++) await client.list(configmaps, { namespace: 'ns' });
    // undici may open a second connection while the first is still finishing a response
    expect(sockets.size).toBeLessThanOrEqual(2);
    await client.close();
  });

  it('sends the rotated token from a token file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kp-client-rest-'));
    try {
      writeFileSync(join(dir, 'token'), 'first');
      let now = 0;
      const client = new RestClient({ server: base, tokenSource: new TokenSource(join(dir, 'token'), 60_000, () => now), namespace: 'default', source: 't' });
      reply = send(200, { metadata: {} });
      await client.get(configmaps, 'a', { namespace: 'ns' });
      writeFileSync(join(dir, 'token'), 'second');
      now += 61_000;
      await client.get(configmaps, 'a', { namespace: 'ns' });
      expect(seen.map((s) => s.headers.authorization)).toEqual(['Bearer first', 'Bearer second']);
      await client.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeE2E('RestClient over TLS', { commands: ['openssl'] }, () => {
  let dir: string;
  let server: HttpsServer;
  let base: string;
  const pem = (f: string): string => readFileSync(join(dir, f), 'utf8');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-client-tls-'));
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const leaf = (name: string, cn: string, ext: string) => {
      run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      writeFileSync(join(dir, `${name}.ext`), ext);
      run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
    };
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=kp-test-ca');
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'other.key', '-out', 'other.crt', '-days', '1', '-subj', '/CN=other-ca');
    leaf('server', 'kube-apiserver', 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default\nextendedKeyUsage=serverAuth\n');
    leaf('client', 'system:node:n1', 'extendedKeyUsage=clientAuth\n');
    server = createTlsServer({ key: pem('server.key'), cert: pem('server.crt'), ca: pem('ca.crt'), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      const user = (req.socket as TLSSocket).authorized ? peer.subject?.CN : 'anonymous';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: user } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the server against the configured CA and presents the client certificate', async () => {
    const client = new RestClient({ server: base, ca: pem('ca.crt'), clientCertificate: pem('client.crt'), clientKey: pem('client.key'), namespace: 'default', source: 't' });
    const got = await client.get(configmaps, 'x');
    expect(got.metadata.name).toBe('system:node:n1');
    await client.close();
  });

  it('refuses a server its CA did not sign, unless told to skip verification', async () => {
    const wrong = new RestClient({ server: base, ca: pem('other.crt'), namespace: 'default', source: 't' });
    await expect(wrong.get(configmaps, 'x')).rejects.toThrow();
    await wrong.close();
    const insecure = new RestClient({ server: base, insecureSkipTLSVerify: true, namespace: 'default', source: 't' });
    expect((await insecure.get(configmaps, 'x')).metadata.name).toBe('anonymous');
    await insecure.close();
  });

  it('checks the certificate against tls-server-name when set', async () => {
    const named = new RestClient({ server: base, ca: pem('ca.crt'), tlsServerName: 'kubernetes.default', namespace: 'default', source: 't' });
    expect((await named.get(configmaps, 'x')).metadata.name).toBe('anonymous');
    await named.close();
    const wrongName = new RestClient({ server: base, ca: pem('ca.crt'), tlsServerName: 'not-in-the-cert', namespace: 'default', source: 't' });
    await expect(wrongName.get(configmaps, 'x')).rejects.toThrow();
    await wrongName.close();
  });
});
