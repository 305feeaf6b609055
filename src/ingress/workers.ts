// Serving on every core: the primary forks workers that each run the whole controller
// (informers, route table, pools) and share the HTTP(S) listening sockets through
// node:cluster. Keep-alive connections stay on the worker that accepted them. The primary
// serves /healthz; /metrics is not aggregated across workers yet (501).
import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { IngressController } from './setup.js';
import type { Bind } from './server.js';
import { logger } from '../observability/log.js';

const log = logger('ingress/workers');

export async function runIngressWorkers(n: number, metricsBind: Bind | undefined, make: () => IngressController | Promise<IngressController>): Promise<number> {
  if (cluster.isWorker) return runWorker(make);
  // Let the kernel spread accepted connections over workers instead of the primary.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  let running = 0;
  const fork = (): void => {
    cluster.fork();
    running++;
  };
  cluster.on('exit', (w, code, signal) => {
    running--;
    if (stopping) return;
    log.error('Ingress worker exited, starting another', undefined, { worker: w.id, code, signal });
    fork();
  });
  for (let i = 0; i < n; i++) fork();
  let server: Server | undefined;
  if (metricsBind) {
    server = createServer((req, res) => {
      if (req.url === '/healthz') return void res.writeHead(running === n ? 200 : 503).end(running === n ? 'ok' : 'workers starting');
      // TODO: sum worker registries; prom-client's AggregatorRegistry returned nothing here.
      if (req.url === '/metrics') return void res.writeHead(501).end('metrics are not aggregated across --workers yet; run one worker to scrape them\n');
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
