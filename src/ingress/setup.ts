import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { EndpointSlice, Ingress, IngressClass, KubeObject, LoadBalancerIngress, Secret, Service } from '../api/types.js';
import type { InformerFactory, Informer } from '../client/informer.js';
import { logger } from '../observability/log.js';
import { IngressMetrics } from './metrics.js';
import { Proxy } from './proxy.js';
import { ingressKey, IngressRejectedError, ownsIngress, projectIngress, type BackendTarget, type ClassSelection } from './routes.js';
import { Listeners, type Bind } from './server.js';
import { TableBuilder } from './table.js';
import { CertificateStore, generateDefaultCertificate, secretKeyPair, TLS_MIN_VERSION, type KeyPair } from './tls.js';
import { SERVICE_NAME_LABEL } from './endpoints.js';
import { Upstreams } from './upstreams.js';
import { NoStatusWriter, statusNeedsUpdate, type IngressStatusWriter } from './status.js';

const log = logger('ingress');

export interface IngressOptions {
  informers: InformerFactory;
  selection: ClassSelection;
  httpBind?: Bind;
  httpsBind?: Bind;
  /** /healthz and /metrics; undefined = not served */
  metricsBind?: Bind;
  /** `namespace/name` of a Service whose first port takes unmatched requests */
  defaultBackendService?: string;
  /** `namespace/name` of a kubernetes.io/tls Secret for unknown SNI names */
  defaultCertificate?: string;
  status?: IngressStatusWriter;
  /** addresses written to status.loadBalancer.ingress (--publish-status-address) */
  publishAddresses?: LoadBalancerIngress[];
  /** --enable-ssl-passthrough: the HTTPS listener reads SNI and pipes ssl-passthrough hosts undecrypted */
  sslPassthrough?: boolean;
  /** where rejected Ingresses are reported (an Event recorder with the API client) */
  events?: RejectionSink;
}

/** Where a rejected Ingress is reported besides the log: a Warning Event on it, with an API server. */
export interface RejectionSink {
  rejected(ingress: Ingress, reason: string): void;
}

/** Reports rejections as Warning Events (reason "Rejected") through an EventRecorder. */
export function eventSink(recorder: { record(obj: KubeObject, type: 'Warning', reason: string, message: string): void }): RejectionSink {
  return { rejected: (ing, reason) => recorder.record({ ...ing, apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' }, 'Warning', 'Rejected', reason) };
}

/**
 * Wires informers to the route table, upstreams, certificates and listeners. Any
 * InformerFactory plugs in: the file-backed one for --objects, the API-backed one later.
 */
export class IngressController {
  readonly metrics = new IngressMetrics();
  readonly builder = new TableBuilder();
  readonly rejected = new Map<string, string>();
  readonly proxy: Proxy;
  readonly upstreams: Upstreams;
  private readonly ingresses: Informer<Ingress>;
  private readonly classes: Informer<IngressClass>;
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly secrets: Informer<Secret>;
  private listeners: Listeners | undefined;
  private metricsServer: Server | undefined;
  private certs: CertificateStore | undefined;
  private rebuildScheduled = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly status: IngressStatusWriter;

  constructor(private readonly opts: IngressOptions) {
    const f = opts.informers;
    this.ingresses = f.informerFor<Ingress>('networking.k8s.io', 'ingresses');
    this.classes = f.informerFor<IngressClass>('networking.k8s.io', 'ingressclasses');
    this.services = f.informerFor<Service>('', 'services');
    this.slices = f.informerFor<EndpointSlice>('discovery.k8s.io', 'endpointslices');
    this.secrets = f.informerFor<Secret>('', 'secrets');
    this.slices.addIndexer('service', (s) => [`${s.metadata.namespace ?? ''}/${s.metadata.labels?.[SERVICE_NAME_LABEL] ?? ''}`]);
    this.upstreams = new Upstreams({
      service: (ns, name) => this.services.get(`${ns}/${name}`),
      slices: (ns, name) => this.slices.byIndex('service', `${ns}/${name}`),
    });
    this.status = opts.status ?? new NoStatusWriter();
    let defaultBackend: BackendTarget | undefined;
    if (opts.defaultBackendService) {
      const [ns, name] = opts.defaultBackendService.split('/') as [string, string];
      // The Service's first port, as ingress-nginx's --default-backend-service.
      defaultBackend = { upstreamKey: `${ns}/${name}:!first`, service: { namespace: ns, name, port: {} } };
    }
    this.proxy = new Proxy({ upstreams: this.upstreams, metrics: this.metrics, defaultBackend, httpsPort: opts.httpsBind?.port ?? 443 });
    this.proxy.setTable(this.builder.build().table);
  }

  async start(): Promise<void> {
    this.ingresses.addEventHandler({
      onAdd: (i) => this.ingressChanged(i),
      onUpdate: (_o, i) => this.ingressChanged(i),
      onDelete: (i) => this.ingressGone(ingressKey(i)),
    });
    this.classes.addEventHandler({ onAdd: () => this.classesChanged(), onUpdate: () => this.classesChanged(), onDelete: () => this.classesChanged() });
    const svcChanged = (o: KubeObject): void => void this.upstreams.refreshService(o.metadata.namespace ?? '', o.metadata.name ?? '');
    this.services.addEventHandler({ onAdd: svcChanged, onUpdate: (_o, n) => svcChanged(n), onDelete: svcChanged });
    const sliceChanged = (s: EndpointSlice): void => void this.upstreams.refreshService(s.metadata.namespace ?? '', s.metadata.labels?.[SERVICE_NAME_LABEL] ?? '');
    this.slices.addEventHandler({ onAdd: sliceChanged, onUpdate: (o, n) => (sliceChanged(o), sliceChanged(n)), onDelete: sliceChanged });
    const secretChanged = (s: Secret): void => this.certs?.invalidate(`${s.metadata.namespace ?? ''}/${s.metadata.name}`);
    this.secrets.addEventHandler({ onAdd: secretChanged, onUpdate: (_o, n) => secretChanged(n), onDelete: secretChanged });

    await this.opts.informers.start();
    await Promise.all([this.ingresses, this.classes, this.services, this.slices, this.secrets].map((i) => i.synced()));
    this.rebuild();

    // The default certificate: --default-ssl-certificate when usable, else generated
    // ("Kubernetes Ingress Controller Fake Certificate").
    let defaultPair: KeyPair | undefined;
    const defaultSecret = this.opts.defaultCertificate;
    if (defaultSecret) {
      const s = this.secrets.get(defaultSecret);
      const pair = s ? secretKeyPair(s) : 'not found';
      if (typeof pair === 'string') log.warn('--default-ssl-certificate unusable, generating a certificate', { secret: defaultSecret, reason: pair });
      else defaultPair = pair;
    }
    if (this.opts.httpsBind) defaultPair ??= generateDefaultCertificate();
    const generated = defaultPair ? createSecureContext({ ...defaultPair, minVersion: TLS_MIN_VERSION }) : createSecureContext();
    this.certs = new CertificateStore((k) => this.secrets.get(k), generated);
    const certs = this.certs;
    this.listeners = new Listeners(
      this.proxy,
      (name) => {
        const key = this.proxy.table.tlsSecretFor(name.toLowerCase());
        return certs.contextFor(key || defaultSecret);
      },
      () => defaultPair!,
      this.opts.sslPassthrough ? (name) => this.proxy.passthroughTarget(name) : undefined,
    );
    await this.listeners.listen(this.opts.httpBind, this.opts.httpsBind);
    if (this.listeners.httpsPort !== undefined) this.proxy.httpsPort = this.listeners.httpsPort;
    if (this.opts.metricsBind) this.metricsServer = await this.serveMetrics(this.opts.metricsBind);
    this.sweepTimer = setInterval(() => this.proxy.sweep(this.upstreams.origins()), 30_000).unref();
  }

  get httpPort(): number | undefined {
    return this.listeners?.httpPort;
  }
  get httpsPort(): number | undefined {
    return this.listeners?.httpsPort;
  }
  /** The plain-HTTP listener's server: tests inject in-memory connections into it. */
  get httpServer(): Server | undefined {
    return this.listeners?.http;
  }
  get metricsPort(): number | undefined {
    return (this.metricsServer?.address() as AddressInfo | null)?.port;
  }

  private ingressChanged(ing: Ingress): void {
    const key = ingressKey(ing);
    if (!ownsIngress(ing, this.classes.list(), this.opts.selection)) return this.ingressGone(key);
    try {
      this.builder.set(key, projectIngress(ing));
      if (this.rejected.delete(key)) this.metrics.rejected.set(this.rejected.size);
    } catch (err) {
      if (!(err instanceof IngressRejectedError)) throw err;
      // Like ingress-nginx's admission rejection, the invalid Ingress gets no routes;
      // every other Ingress keeps working.
      this.builder.set(key, undefined);
      this.rejected.set(key, err.message);
      this.metrics.rejected.set(this.rejected.size);
      log.warn('Rejected Ingress', { ingress: key, reason: err.message });
      this.opts.events?.rejected(ing, err.message);
    }
    this.scheduleRebuild();
  }

  private ingressGone(key: string): void {
    if (this.rejected.delete(key)) this.metrics.rejected.set(this.rejected.size);
    if (!this.builder.has(key)) return;
    this.builder.set(key, undefined);
    this.scheduleRebuild();
  }

  private classesChanged(): void {
    for (const ing of this.ingresses.list()) this.ingressChanged(ing);
  }

  /** Coalesces a burst of events (a whole file reload, a watch burst) into one build. */
  private scheduleRebuild(): void {
    if (this.rebuildScheduled) return;
    this.rebuildScheduled = true;
    setImmediate(() => {
      this.rebuildScheduled = false;
      this.rebuild();
    });
  }

  /** Compiles changed hosts and swaps the table; returns the build time in ms. */
  rebuild(): number {
    if (!this.builder.changed) return 0;
    const t0 = performance.now();
    const { table, recompiled } = this.builder.build();
    for (const h of recompiled) for (const bad of h.invalid) log.warn('Path is not a valid regular expression; skipped', { host: h.routes.host, path: bad.route.path, ingress: bad.route.ingress, reason: bad.reason });
    // Resolve upstreams now so the first request does not pay for it.
    for (const h of recompiled) for (const r of h.routes.paths) this.upstreams.get(r.backend);
    this.proxy.setTable(table);
    const ms = performance.now() - t0;
    this.metrics.reloads.inc();
    this.metrics.buildSeconds.observe(ms / 1000);
    this.metrics.hosts.set(table.hostCount);
    this.metrics.configSuccess.set(1);
    log.v(2, 'Route table swapped', { serial: table.serial, hosts: table.hostCount, recompiledHosts: recompiled.length, ms: ms.toFixed(2) });
    this.writeStatus();
    return ms;
  }

  /** Leader only, owned and accepted Ingresses only, and only when the status differs. Called on every table swap and when leadership is won. */
  writeStatus(): void {
    const addresses = this.opts.publishAddresses;
    if (!addresses || !this.status.isLeader()) return;
    for (const ing of this.ingresses.list()) {
      const key = ingressKey(ing);
      if (!this.builder.has(key) || !statusNeedsUpdate(ing, addresses)) continue;
      this.status.update(ing, addresses).catch((err: unknown) => log.error('Failed to update Ingress status', err, { ingress: key }));
    }
  }

  private serveMetrics(bind: Bind): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      } else if (req.url === '/metrics') {
        this.metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
            res.end(text);
          },
          () => {
            res.writeHead(500);
            res.end();
          },
        );
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(bind.port, bind.host, () => resolve(server));
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.opts.informers.stop();
    await this.listeners?.close();
    await new Promise<void>((r) => (this.metricsServer ? this.metricsServer.close(() => r()) : r()));
    await this.proxy.close();
  }
}
