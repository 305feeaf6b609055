import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeObject } from '../../../src/api/types.js';

/**
 * A single-collection HTTP server that speaks the documented list/watch protocol
 * (paging with continue, resourceVersion history, 410 Expired in the stream, bookmarks)
 * and records every request, so reflector behaviour can be checked request by request.
 * The real-server fault tests are in test/integration/client.
 */
export class ScriptedApiServer {
  rv = 1;
  objects = new Map<string, KubeObject>();
  history: { rv: number; type: string; obj: KubeObject }[] = [];
  /** watches from an RV below this get 410 */
  compactedRV = 0;
  requests: URL[] = [];
  /** status to answer the next N list requests with (front first) */
  failLists: number[] = [];
  failWatches: number[] = [];
  private watchers = new Set<{ res: ServerResponse; from: number }>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.cutWatches();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  write(type: 'ADDED' | 'MODIFIED' | 'DELETED', name: string, data: Record<string, string> = {}): void {
    const rv = ++this.rv;
    const obj: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', resourceVersion: String(rv) }, ...{ data } };
    if (type === 'DELETED') this.objects.delete(name);
    else this.objects.set(name, obj);
    this.history.push({ rv, type, obj });
    for (const w of this.watchers) w.res.write(JSON.stringify({ type, object: obj }) + '\n');
  }

  bookmark(): void {
    for (const w of this.watchers) w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } }) + '\n');
  }

  /** Drops history up to the current RV, so older watches get 410. */
  compact(): void {
    this.compactedRV = this.rv;
    this.history = [];
  }

  expireWatches(): void {
    for (const w of this.watchers) {
      w.res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${w.from} (${this.compactedRV})`) }) + '\n');
    }
    this.watchers.clear();
  }

  cutWatches(): void {
    for (const w of this.watchers) w.res.socket?.destroy();
    this.watchers.clear();
  }

  get watchCount(): number {
    return this.watchers.size;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(url);
    if (url.pathname !== '/api/v1/namespaces/default/configmaps' && url.pathname !== '/api/v1/configmaps') {
      return json(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    }
    const q = url.searchParams;
    if (q.get('watch') === 'true') {
      const code = this.failWatches.shift();
      if (code === 504) {
        const st = status(504, 'Timeout', `Too large resource version: ${q.get('resourceVersion')}, current: ${this.rv}`);
        return json(res, 504, { ...st, details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 } });
      }
      if (code) return json(res, code, status(code, code === 410 ? 'Expired' : 'InternalError', 'scripted failure'));
      const from = Number(q.get('resourceVersion') || this.rv);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      if (from < this.compactedRV) {
        res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.compactedRV})`) }) + '\n');
        return;
      }
      for (const h of this.history) if (h.rv > from) res.write(JSON.stringify({ type: h.type, object: h.obj }) + '\n');
      const w = { res, from };
      this.watchers.add(w);
      res.on('close', () => this.watchers.delete(w));
      return;
    }
    const code = this.failLists.shift();
    if (code) return json(res, code, status(code, code === 410 ? 'Expired' : 'InternalError', 'scripted failure'));
    const all = [...this.objects.values()].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
    const limit = Number(q.get('limit') || 0);
    let start = 0;
    let listRV = this.rv;
    const cont = q.get('continue');
    if (cont) {
      const tok = JSON.parse(Buffer.from(cont, 'base64url').toString()) as { rv: number; start: number };
      if (tok.rv < this.compactedRV) return json(res, 410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.'));
      start = tok.start;
      listRV = tok.rv;
    }
    // not a consistent snapshot across pages: good enough for the tests that use paging
    const items = limit ? all.slice(start, start + limit) : all.slice(start);
    const next = limit && start + limit < all.length ? Buffer.from(JSON.stringify({ rv: listRV, start: start + limit })).toString('base64url') : undefined;
    // kube-apiserver leaves TypeMeta off list items
    const bare = items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    json(res, 200, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: String(listRV), continue: next }, items: bare });
  }
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
