// Serving on every core: the primary forks workers that each run the whole controller
// (informers, route table, pools) and share the HTTP(S) listening sockets through
// node:cluster. Keep-alive connections stay on the worker that accepted them. The primary
// serves /healthz (ready once every worker listens) and /metrics: it asks each worker for
// its registry over the IPC channel and sums them, as prom-client's AggregatorRegistry
// does for the default registry (ours are per-controller, so the exchange is explicit).
import cluster, { type Worker } from 'node:cluster';
import { createServer, type Server } from 'node:http';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { IngressController } from './setup.js';
import type { Bind } from './server.js';
import { logger } from '../observability/log.js';

const log = logger('ingress/workers');

/** IPC messages between the primary and its workers. */
interface WorkerMessage {
  kubeplane?: 'ready' | 'metrics-request' | 'metrics';
  id?: number;
  metrics?: MetricObjectWithValues<MetricValue<string>>[];
}

const SCRAPE_TIMEOUT_MS = 5000;

/** Every live worker's registry as JSON; a worker that does not answer in time is left out. */
function scrapeWorkers(workers: Worker[]): Promise<MetricObjectWithValues<MetricValue<string>>[][]> {
  return Promise.all(
    workers.map(
      (w, i) =>
        new Promise<MetricObjectWithValues<MetricValue<string>>[] | undefined>((resolve) => {
          const id = Date.now() * 100 + i;
          const onMessage = (m: WorkerMessage): void => {
            if (m?.kubeplane !== 'metrics' || m.id !== id) return;
            done(m.metrics);
          };
          const timer = setTimeout(() => done(undefined), SCRAPE_TIMEOUT_MS);
          const done = (v: MetricObjectWithValues<MetricValue<string>>[] | undefined): void => {
            clearTimeout(timer);
            w.off('message', onMessage);
            resolve(v);
          };
          w.on('message', onMessage);
          try {
            w.send({ kubeplane: 'metrics-request', id } satisfies WorkerMessage);
          } catch {
            done(undefined);
          }
        }),
    ),
  ).then((all) => all.filter((m): m is MetricObjectWithValues<MetricValue<string>>[] => m !== undefined));
}

export async function runIngressWorkers(n: number, metricsBind: Bind | undefined, make: () => IngressController | Promise<IngressController>): Promise<number> {
  if (cluster.isWorker) return runWorker(make);
  // Let the kernel spread accepted connections over workers instead of the primary.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  let running = 0;
  const ready = new Set<number>();
  const fork = (): void => {
    const w = cluster.fork();
    w.on('message', (m: WorkerMessage) => {
      if (m?.kubeplane === 'ready') ready.add(w.id);
    });
    running++;
  };
  cluster.on('exit', (w, code, signal) => {
    running--;
    ready.delete(w.id);
    if (stopping) return;
    log.error('Ingress worker exited, starting another', undefined, { worker: w.id, code, signal });
    fork();
  });
  for (let i = 0; i < n; i++) fork();
  let server: Server | undefined;
  if (metricsBind) {
    server = createServer((req, res) => {
      if (req.url === '/healthz') return void res.writeHead(ready.size === n ? 200 : 503).end(ready.size === n ? 'ok' : `${ready.size}/${n} workers ready`);
      if (req.url === '/metrics') {
        const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && ready.has(w.id));
        void scrapeWorkers(live)
          .then((all) => AggregatorRegistry.aggregate(all).metrics())
          .then(
            (text) => res.writeHead(200, { 'content-type': AggregatorRegistry.PROMETHEUS_CONTENT_TYPE }).end(text),
            (err: Error) => res.writeHead(500).end(`aggregating worker metrics failed: ${err.message}\n`),
          );
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(metricsBind.port, metricsBind.host, () => resolve());
    });
  }
  log.info('Serving ingress with workers', { workers: n });
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      const done = (): void => {
        if (running <= 0) resolve();
      };
      cluster.on('exit', done);
      done();
      setTimeout(() => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
        resolve();
      }, 15_000).unref();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  server?.close();
  return 0;
}

async function runWorker(make: () => IngressController | Promise<IngressController>): Promise<number> {
  const controller = await make();
  await controller.start();
  process.on('message', (m: WorkerMessage) => {
    if (m?.kubeplane !== 'metrics-request') return;
    void controller.metrics.registry.getMetricsAsJSON().then((metrics) => process.send?.({ kubeplane: 'metrics', id: m.id, metrics } satisfies WorkerMessage));
  });
  process.send?.({ kubeplane: 'ready' } satisfies WorkerMessage);
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGTERM', onSignal);
      void controller.stop().then(resolve);
    };
    process.on('SIGTERM', onSignal);
    // Ctrl-C reaches the whole process group: the primary decides, and sends SIGTERM.
    process.on('SIGINT', () => undefined);
  });
  // The IPC channel to the primary would keep this process alive.
  process.exit(0);
}
