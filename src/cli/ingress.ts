import type { Command, Options } from './command.js';
import { UsageError } from './command.js';
import { hostname } from 'node:os';
import { apiSourceFlags, openInformers, type InformerSource } from './informers.js';
import { ApiStatusWriter, publishAddresses } from '../ingress/status.js';
import cluster from 'node:cluster';
import { ObjectsFileError, readObjectsFile } from '../api/objects-file.js';
import { runIngressWorkers } from '../ingress/workers.js';
import { eventSink, IngressController } from '../ingress/setup.js';
import { EventRecorder } from '../client/events.js';
import { CONTROLLER_NAME } from '../ingress/routes.js';
import { bindFlag } from './bind.js';
import { logger } from '../observability/log.js';

const log = logger('ingress');


function nsName(opts: Options, name: string): string | undefined {
  const v = opts.optionalString(name);
  if (v === undefined) return undefined;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v)) throw new UsageError(`invalid --${name} "${v}": want NAMESPACE/NAME`);
  return v;
}

export const command: Command = {
  name: 'ingress',
  summary: 'Route HTTP(S) by Ingress host and path to Service endpoints, as ingress-nginx does',
  usage: 'kubeplane ingress --objects FILE [--http-bind HOST:PORT] [--https-bind HOST:PORT] [flags]',
  flags: [
    { name: 'objects', type: 'string', help: 'route from a YAML/JSON file of objects instead of an API server; edits are picked up like watch events' },
    { name: 'http-bind', type: 'string', default: '0.0.0.0:80', help: 'address for plain HTTP ("off" disables)' },
    { name: 'https-bind', type: 'string', default: '0.0.0.0:443', help: 'address for HTTPS, HTTP/1.1 and HTTP/2 ("off" disables)' },
    { name: 'metrics-bind', type: 'string', default: '127.0.0.1:10254', help: 'address for /healthz and /metrics ("off" disables)' },
    { name: 'ingress-class', type: 'string', default: 'kubeplane', help: 'value of the legacy kubernetes.io/ingress.class annotation this controller owns' },
    { name: 'controller-class', type: 'string', default: CONTROLLER_NAME, help: 'IngressClass spec.controller value this controller implements' },
    { name: 'watch-ingress-without-class', type: 'bool', default: false, help: 'also own Ingresses that name no class at all' },
    { name: 'default-backend-service', type: 'string', help: 'NAMESPACE/NAME of a Service for requests no rule matches (default: 404)' },
    { name: 'default-ssl-certificate', type: 'string', help: 'NAMESPACE/NAME of a kubernetes.io/tls Secret for unknown SNI names (default: generated)' },
    { name: 'enable-ssl-passthrough', type: 'bool', default: false, help: 'honour the ssl-passthrough annotation: TLS for those hosts is piped by SNI to the backend, undecrypted' },
    { name: 'workers', type: 'int', default: 1, help: 'processes sharing the listeners (use the number of cores)' },
    { name: 'publish-status-address', type: 'list', help: 'addresses written to status.loadBalancer.ingress of the Ingresses this controller owns (leader only)' },
    { name: 'election-id', type: 'string', default: 'kubeplane-ingress-leader', help: 'name of the Lease that elects the replica writing Ingress status' },
    { name: 'leader-election-namespace', type: 'string', default: process.env.POD_NAMESPACE ?? 'default', help: 'namespace of that Lease' },
    ...apiSourceFlags,
  ],
  async run(opts) {
    const objects = opts.optionalString('objects');
    const httpBind = bindFlag(opts, 'http-bind');
    const httpsBind = bindFlag(opts, 'https-bind');
    if (!httpBind && !httpsBind) throw new UsageError('at least one of --http-bind and --https-bind must be enabled');
    const workers = opts.int('workers');
    if (!(workers >= 1 && workers <= 64)) throw new UsageError('--workers must be between 1 and 64');
    const metricsBind = bindFlag(opts, 'metrics-bind');
    const published = publishAddresses(opts.list('publish-status-address'));
    const sources: InformerSource[] = [];
    let leading = false;
    const make = async (withMetrics: boolean): Promise<IngressController> => {
      const source = await openInformers(opts, 'kubeplane-ingress');
      sources.push(source);
      return new IngressController({
        informers: source.factory,
        selection: { ingressClass: opts.string('ingress-class'), controllerName: opts.string('controller-class'), watchWithoutClass: opts.bool('watch-ingress-without-class') },
        httpBind,
        httpsBind,
        metricsBind: withMetrics ? metricsBind : undefined,
        defaultBackendService: nsName(opts, 'default-backend-service'),
        defaultCertificate: nsName(opts, 'default-ssl-certificate'),
        sslPassthrough: opts.bool('enable-ssl-passthrough'),
        events: source.client ? eventSink(new EventRecorder(source.client, 'kubeplane-ingress')) : undefined,
        // Status is written by the single-process controller only, while it holds the Lease.
        status: withMetrics && source.client && published.length > 0 ? new ApiStatusWriter(source.client, { isLeader: () => leading }) : undefined,
        publishAddresses: published.length > 0 ? published : undefined,
      });
    };
    if (workers > 1 || cluster.isWorker) {
      // Fail here, once, rather than in every worker the primary would keep re-forking.
      if (cluster.isPrimary) {
        try {
          if (objects) readObjectsFile(objects);
        } catch (err) {
          if (err instanceof ObjectsFileError) throw new UsageError(err.message);
          throw err;
        }
      }
      return runIngressWorkers(workers, metricsBind, () => make(false));
    }
    const controller = await make(true);
    try {
      await controller.start();
    } catch (err) {
      await controller.stop().catch(() => undefined);
      if (err instanceof ObjectsFileError) throw new UsageError(err.message);
      const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
      if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') throw new UsageError(`cannot listen on ${e.address}:${e.port}: ${e.code}`);
      throw err;
    }
    log.info('Serving ingress', { http: controller.httpPort, https: controller.httpsPort, metrics: controller.metricsPort, source: objects ?? 'API server' });
    const election = new AbortController();
    const client = sources[0]?.client;
    if (client && published.length > 0) {
      const { LeaderElector } = await import('../client/leaderelection.js');
      const elector = new LeaderElector(client, {
        namespace: opts.string('leader-election-namespace'),
        name: opts.string('election-id'),
        identity: `${hostname()}_${process.pid}`,
        releaseOnCancel: true,
        callbacks: {
          onStartedLeading: () => {
            leading = true;
            controller.writeStatus();
          },
          onStoppedLeading: () => {
            leading = false;
          },
        },
      });
      void (async () => {
        while (!election.signal.aborted) await elector.run(election.signal).catch((err: unknown) => log.error('Leader election failed', err));
      })();
    }
    await new Promise<void>((resolve) => {
      const onSignal = (): void => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        election.abort();
        void controller
          .stop()
          .then(() => Promise.all(sources.map((s) => s.close())))
          .then(() => resolve());
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    return 0;
  },
};
