// A loopback HTTP server that answers just enough (version, discovery, OpenAPI) for the real
// kubectl to run against it, and records every request so tests can inspect what kubectl sent.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, type RunResult } from '../../helpers/cli.js';
import { openapiV3Document, openapiV3Root } from '../../../src/apiserver/openapi/index.js';
import { aggregatedDiscovery, apiGroupList, apiResourceList, apiVersions, discoveryContentType, negotiateDiscovery } from '../../../src/apiserver/discovery.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type StubHandler = (req: RecordedRequest, res: ServerResponse) => boolean;

export interface KubectlStub {
  url: string;
  requests: RecordedRequest[];
  kubectl(args: string[], opts?: { input?: string }): Promise<RunResult>;
  close(): Promise<void>;
}

function send(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  res.writeHead(code, { 'Content-Type': contentType });
  res.end(JSON.stringify(body));
}

/**
 * Starts the stub. `handler` sees each request first and returns true when it answered it;
 * discovery is served with `legacyDiscovery` forcing the per-group form, and /openapi/v3
 * unless `openapi` is false.
 */
export async function startKubectlStub(opts: { handler?: StubHandler; legacyDiscovery?: boolean; openapi?: boolean; minor?: string } = {}): Promise<KubectlStub> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(rec);
      if (opts.handler?.(rec, res)) return;
      const path = rec.url.split('?')[0]!;
      if (path === '/version') {
        // The kubectl dispatcher runs the bundled kubectl whose minor matches this one.
        const minor = opts.minor ?? '32';
        send(res, 200, { major: '1', minor, gitVersion: `v1.${minor}.0`, platform: 'linux/amd64' });
        return;
      }
      if (path === '/api' || path === '/apis') {
        const format = opts.legacyDiscovery ? 'legacy' : negotiateDiscovery(req.headers.accept);
        if (format === 'legacy') send(res, 200, path === '/api' ? apiVersions(`127.0.0.1:${port}`) : apiGroupList());
        else send(res, 200, aggregatedDiscovery(path === '/api' ? 'api' : 'apis', format), discoveryContentType(format));
        return;
      }
      if (opts.openapi !== false && path === '/openapi/v3') {
        send(res, 200, openapiV3Root());
        return;
      }
      if (opts.openapi !== false && path.startsWith('/openapi/v3/')) {
        const doc = openapiV3Document(path.slice('/openapi/v3/'.length));
        if (doc) {
          send(res, 200, doc);
          return;
        }
      }
      const gv = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
      if (gv) {
        const list = gv[1] ? apiResourceList('', 'v1') : apiResourceList(gv[2]!, gv[3]!);
        if (list) {
          send(res, 200, list);
          return;
        }
      }
      send(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'kp-apistub-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: stub, cluster: {server: "' + url + '"}}]',
      'users: [{name: stub, user: {token: stub-token}}]',
      'contexts: [{name: stub, context: {cluster: stub, user: stub, namespace: default}}]',
      'current-context: stub',
      '',
    ].join('\n'),
  );
  return {
    url,
    requests,
    kubectl: (args, o = {}) =>
      runCommand('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { input: o.input, timeoutMs: 30_000, env: { HOME: dir } }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
