// The node's metrics port: `/` and `/status` (the HTML status page), `/status.json` (the
// same data), and `/metrics` when a registry is given. A failure to gather the data answers
// 500 and is logged; it never stops the process.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logger } from './log.js';
import type { StatusCollector } from './status-collector.js';
import { renderStatusPage } from './status-page.js';

const log = logger('status');

export interface MetricsRegistry {
  contentType: string;
  metrics(): Promise<string>;
}

export interface StatusServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface StatusServerOptions {
  host: string;
  port: number;
  /** served at /metrics */
  registry?: MetricsRegistry;
  /** meta refresh of the HTML page, seconds; 0 turns it off */
  refreshSeconds?: number;
}

export async function serveStatus(collector: StatusCollector, opts: StatusServerOptions): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics' && opts.registry) {
      const reg = opts.registry;
      reg.metrics().then(
        (text) => res.writeHead(200, { 'content-type': reg.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (path !== '/' && path !== '/status' && path !== '/status.json') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    collector.collect().then(
      (data) => {
        if (path === '/status.json') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(data));
        else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(renderStatusPage(data, opts.refreshSeconds ?? 10));
      },
      (err: unknown) => {
        log.error('Cannot gather the status page', err);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('cannot gather status\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  collector.start();
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        collector.stop();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
