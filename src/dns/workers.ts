// Serving on every core: the primary forks workers that each run the whole cluster DNS
// (informers, index, chain) and share the UDP and TCP sockets through node:cluster, so the
// kernel spreads queries over them. The primary keeps /health, /ready (every worker synced)
// and /metrics (summed over workers with prom-client's AggregatorRegistry).
import cluster from 'node:cluster';
import http from 'node:http';
import client from 'prom-client';
import type { DnsConfig } from './config.js';
import type { ClusterDns } from './setup.js';
import { parseHostPort } from './forward.js';
import { logger } from '../observability/log.js';

const log = logger('dns/workers');

interface ReadyMessage {
  kubeplaneDnsReady: boolean;
}

function isReadyMessage(m: unknown): m is ReadyMessage {
  return typeof m === 'object' && m !== null && 'kubeplaneDnsReady' in m;
}

export async function runWorkers(
  n: number,
  config: DnsConfig,
  httpAddrs: { healthAddr?: string; readyAddr?: string; metricsAddr?: string },
  make: () => ClusterDns | Promise<ClusterDns>,
): Promise<number> {
  if (cluster.isWorker) return runWorker(make);
  cluster.setupPrimary({ execArgv: workerExecArgv() });
  const ready = new Map<number, boolean>();
  let stopping = false;
  const fork = (): void => {
    const w = cluster.fork();
    ready.set(w.id, false);
    w.on('message', (m: unknown) => {
      if (isReadyMessage(m)) ready.set(w.id, m.kubeplaneDnsReady);
    });
  };
  cluster.on('exit', (w, code, signal) => {
    ready.delete(w.id);
    if (stopping) return;
    log.error('DNS worker exited, starting another', undefined, { worker: w.id, code, signal });
    fork();
  });
  for (let i = 0; i < n; i++) fork();
  const aggregator = new client.AggregatorRegistry();
  const servers: http.Server[] = [];
  const routes = new Map<string, Map<string, http.RequestListener>>();
  const add = (addr: string | undefined, path: string, fn: http.RequestListener): void => {
    if (!addr) return;
    if (!routes.has(addr)) routes.set(addr, new Map());
    routes.get(addr)!.set(path, fn);
  };
  const allReady = (): boolean => !stopping && ready.size === n && [...ready.values()].every(Boolean);
  add(httpAddrs.healthAddr ?? config.health?.addr, '/health', (_q, res) => res.writeHead(200).end('OK'));
  add(httpAddrs.readyAddr ?? config.ready?.addr, '/ready', (_q, res) => (allReady() ? res.writeHead(200).end('OK') : res.writeHead(503).end('kubernetes')));
  add(httpAddrs.metricsAddr ?? config.prometheus?.addr, '/metrics', (_q, res) => {
    aggregator.clusterMetrics().then(
      (text) => res.writeHead(200, { 'content-type': aggregator.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  for (const [addr, paths] of routes) {
    const srv = http.createServer((req, res) => {
      const fn = paths.get((req.url ?? '/').split('?')[0]!);
      if (fn) fn(req, res);
      else res.writeHead(404).end('404 page not found\n');
    });
    const { host, port } = parseHostPort(addr, 0);
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host || undefined, () => resolve());
    });
    servers.push(srv);
  }
  log.info('Serving DNS with workers', { workers: n });
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      stopping = true;
      // Each worker goes through its own lameduck and exits; stragglers are killed after that.
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      const deadline = setTimeout(() => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      }, (config.health?.lameduckMs ?? 0) + 5000);
      const check = setInterval(() => {
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          clearInterval(check);
          clearTimeout(deadline);
          resolve();
        }
      }, 50);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  for (const s of servers) s.close();
  return 0;
}

/**
 * A DNS worker allocates a few hundred short-lived bytes per query and keeps its index in
 * the old generation, so V8's default young generation (up to 3 x 16 MB, grown under load)
 * only adds RSS: each worker gets a 4 MB semi-space unless the operator chose a size.
 */
export function workerExecArgv(execArgv = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const chosen = [...execArgv, nodeOptions].some((a) => /--max-semi-space-size/.test(a));
  return chosen ? execArgv : [...execArgv, '--max-semi-space-size=4'];
}

async function runWorker(make: () => ClusterDns | Promise<ClusterDns>): Promise<number> {
  const dns = await make();
  client.AggregatorRegistry.setRegistries([dns.metrics.registry]);
  await dns.start();
  let last: boolean | undefined;
  const report = setInterval(() => {
    const r = dns.ready();
    if (r !== last) process.send?.({ kubeplaneDnsReady: r });
    last = r;
  }, 200);
  // Ctrl-C reaches the whole process group: the primary decides, and sends SIGTERM.
  process.on('SIGINT', () => undefined);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => {
      clearInterval(report);
      process.send?.({ kubeplaneDnsReady: false });
      void dns.stop().then(resolve);
    });
  });
  // The IPC channel to the primary would keep this process alive.
  process.exit(0);
}
