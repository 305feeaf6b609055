// Builds a running cluster DNS from validated options and any InformerFactory: the record
// index fed by informer events, one DnsServer per listening address with a handler chain
// per server block, and the health/ready/metrics endpoints. Start and stop hooks live here;
// nothing here reads flags or Corefile text.
import http from 'node:http';
import os from 'node:os';
import type { EndpointSlice, Namespace, Pod, Service } from '../api/types.js';
import type { InformerFactory, Informer } from '../client/informer.js';
import { buildChain, type ChainPlugin } from './chain.js';
import type { DnsConfig, ServerBlockConfig } from './config.js';
import { CacheHandler } from './cache.js';
import { ForwardHandler } from './forward.js';
import { KubernetesHandler } from './kubernetes.js';
import { LoadBalanceHandler } from './loadbalance.js';
import { LoopHandler } from './loop.js';
import { DnsMetrics } from './metrics.js';
import type { PluginFactory } from './plugin.js';
import { RecordIndex } from './records.js';
import { trimEndpointSliceFor, trimNamespace, trimPod, trimService } from './trim.js';
import { DnsServer } from './server.js';
import { parseHostPort } from './forward.js';
import { logger } from '../observability/log.js';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

const log = logger('dns');

export interface DnsSetupOptions {
  config: DnsConfig;
  informers: InformerFactory;
  /** overrides every block's listen address (--dns-bind) */
  bind?: { host: string; port?: number };
  /** overrides for the HTTP endpoints; '' turns one off */
  healthAddr?: string;
  readyAddr?: string;
  metricsAddr?: string;
  /** the server's own addresses for ns.dns.<zone>; defaults from the bind address */
  nsAddrs?: string[];
  /** called when the loop plugin detects a forwarding loop */
  onFatal?: (msg: string) => void;
  /**
   * Keep only the fields DNS reads in the informer caches (trim.ts). Only for informers
   * this component owns: on informers shared with the proxy or ingress it would take
   * fields from them.
   */
  trimObjects?: boolean;
}

function localAddrs(host: string): string[] {
  if (host !== '0.0.0.0' && host !== '::') return [host];
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') out.push(a.address);
  return out.length ? out : ['127.0.0.1'];
}

/** Feeds the index from the informers, as CoreDNS's dnsController does; `trim` keeps only what DNS reads. */
export function connectInformers(factory: InformerFactory, index: RecordIndex, pods: boolean, trim = false): Informer<never>[] {
  const svc = factory.informerFor<Service>('', 'services');
  if (trim) svc.setTransform?.(trimService);
  svc.addEventHandler({ onAdd: (o) => index.upsertService(o), onUpdate: (_, o) => index.upsertService(o), onDelete: (o) => index.deleteService(o) });
  const eps = factory.informerFor<EndpointSlice>('discovery.k8s.io', 'endpointslices');
  if (trim) eps.setTransform?.(trimEndpointSliceFor(index.opts.endpointPodNames ?? false));
  eps.addEventHandler({ onAdd: (o) => index.upsertEndpointSlice(o), onUpdate: (_, o) => index.upsertEndpointSlice(o), onDelete: (o) => index.deleteEndpointSlice(o) });
  const ns = factory.informerFor<Namespace>('', 'namespaces');
  if (trim) ns.setTransform?.(trimNamespace);
  ns.addEventHandler({ onAdd: (o) => index.upsertNamespace(o), onUpdate: (_, o) => index.upsertNamespace(o), onDelete: (o) => index.deleteNamespace(o) });
  const list: Informer<never>[] = [svc, eps, ns] as unknown as Informer<never>[];
  if (pods) {
    const p = factory.informerFor<Pod>('', 'pods');
    if (trim) p.setTransform?.(trimPod);
    p.addEventHandler({ onAdd: (o) => index.upsertPod(o), onUpdate: (_, o) => index.upsertPod(o), onDelete: (o) => index.deletePod(o) });
    list.push(p as unknown as Informer<never>);
  }
  return list;
}

export class ClusterDns {
  readonly index: RecordIndex;
  readonly servers: DnsServer[] = [];
  readonly metrics: DnsMetrics;
  private readonly informerList: Informer<never>[];
  private readonly forwards: ForwardHandler[] = [];
  private readonly loops: { handler: LoopHandler; server: DnsServer }[] = [];
  private readonly httpServers: http.Server[] = [];
  private startRetry: NodeJS.Timeout | undefined;
  private shuttingDown = false;
  private stopped = false;

  constructor(readonly opts: DnsSetupOptions) {
    const k8s = opts.config.blocks.map((b) => b.kubernetes).filter((k) => k !== undefined);
    this.index = new RecordIndex({ endpointPodNames: k8s.some((k) => k.endpointPodNames), pods: k8s.some((k) => k.pods === 'verified') });
    this.informerList = k8s.length ? connectInformers(opts.informers, this.index, k8s.some((k) => k.pods === 'verified'), opts.trimObjects ?? false) : [];
    const firstPort = opts.bind?.port ?? opts.config.blocks[0]?.port ?? 53;
    this.metrics = new DnsMetrics(`dns://:${firstPort}`);
    const byAddr = new Map<string, { host: string; port: number; blocks: ServerBlockConfig[] }>();
    for (const b of opts.config.blocks) {
      const host = opts.bind?.host ?? '0.0.0.0';
      const port = opts.bind?.port ?? b.port;
      const k = `${host}|${port}`;
      if (!byAddr.has(k)) byAddr.set(k, { host, port, blocks: [] });
      byAddr.get(k)!.blocks.push(b);
    }
    for (const { host, port, blocks } of byAddr.values()) {
      const serverBlocks: { zones: string[]; chain: import('./plugin.js').Handler; logQueries: boolean }[] = [];
      const server = new DnsServer(host, port, serverBlocks, this.metrics);
      for (const b of blocks) serverBlocks.push({ zones: b.zones, chain: this.buildBlockChain(b, server, host), logQueries: b.log });
      this.servers.push(server);
    }
    this.index.onChange(() => {
      for (const s of this.servers) s.invalidate();
    });
  }

  private buildBlockChain(b: ServerBlockConfig, server: DnsServer, host: string): import('./plugin.js').Handler {
    const f: Partial<Record<ChainPlugin, PluginFactory>> = {};
    const nsAddrs = this.opts.nsAddrs ?? localAddrs(host);
    if (b.kubernetes) {
      const k = b.kubernetes;
      f.kubernetes = (next) => new KubernetesHandler(k, this.index, () => this.hasSynced(), nsAddrs, next, (name, qtype) => server.lookup(name, qtype));
    }
    if (b.forward) {
      const fo = b.forward;
      f.forward = (next) => {
        const h = new ForwardHandler(fo, next, this.metrics);
        this.forwards.push(h);
        return h;
      };
    }
    if (b.cache) {
      const co = b.cache;
      f.cache = (next) => new CacheHandler(co, next, this.metrics);
    }
    if (b.loadbalance) f.loadbalance = (next) => new LoadBalanceHandler(next);
    if (b.loop && b.forward) {
      const zone = b.zones[0] ?? '';
      f.loop = (next) => {
        const h = new LoopHandler(zone, next, (msg) => (this.opts.onFatal ?? defaultFatal)(msg));
        this.loops.push({ handler: h, server });
        return h;
      };
    }
    return buildChain(f);
  }

  hasSynced(): boolean {
    return this.informerList.every((i) => i.hasSynced());
  }

  /** Ready as CoreDNS's ready plugin: informers synced and not shutting down. */
  ready(): boolean {
    return !this.shuttingDown && this.hasSynced();
  }

  async start(): Promise<void> {
    for (const s of this.servers) await s.start();
    await this.startHttp();
    this.startInformers();
    for (const { handler, server } of this.loops) void this.probeLoop(handler, server);
  }

  /** Starts the informers; a source that is not there yet is retried, serving SERVFAIL meanwhile. */
  private startInformers(): void {
    this.opts.informers.start().then(
      () => log.info('Informers started', { synced: this.hasSynced() }),
      (err: unknown) => {
        if (this.stopped) return;
        log.warn('Cannot start informers yet, retrying', { err: err instanceof Error ? err.message : String(err) });
        this.startRetry = setTimeout(() => this.startInformers(), 500);
      },
    );
  }

  private async probeLoop(h: LoopHandler, server: DnsServer): Promise<void> {
    const { host, port } = server.address;
    const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    const sock = dgram.createSocket(target.includes(':') ? 'udp6' : 'udp4');
    const q = dnsPacket.encode({ type: 'query', id: 1, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'HINFO', name: h.probeName }] });
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2500);
      sock.once('message', () => {
        clearTimeout(t);
        resolve();
      });
      sock.on('error', () => resolve());
      sock.send(q, port, target);
    });
    sock.close();
    h.settle();
  }

  private async startHttp(): Promise<void> {
    const c = this.opts.config;
    const health = this.opts.healthAddr ?? c.health?.addr;
    const ready = this.opts.readyAddr ?? c.ready?.addr;
    const metrics = this.opts.metricsAddr ?? c.prometheus?.addr;
    const routes = new Map<string, Map<string, http.RequestListener>>();
    const add = (addr: string | undefined, path: string, fn: http.RequestListener): void => {
      if (!addr) return;
      if (!routes.has(addr)) routes.set(addr, new Map());
      routes.get(addr)!.set(path, fn);
    };
    add(health, '/health', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    });
    add(ready, '/ready', (_req, res) => {
      if (this.ready()) res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      else res.writeHead(503, { 'content-type': 'text/plain' }).end('kubernetes');
    });
    add(metrics, '/metrics', (_req, res) => {
      this.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
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
      this.httpServers.push(srv);
    }
  }

  /** Lameduck as CoreDNS's health plugin: not ready, keep serving for the lameduck period, then stop. */
  async stop(opts: { lameduck?: boolean } = {}): Promise<void> {
    this.shuttingDown = true;
    const lameduck = opts.lameduck === false ? 0 : (this.opts.config.health?.lameduckMs ?? 0);
    if (lameduck > 0 && !this.stopped) {
      log.info('Going into lameduck mode', { duration: `${lameduck / 1000}s` });
      await new Promise((r) => setTimeout(r, lameduck));
    }
    this.stopped = true;
    clearTimeout(this.startRetry);
    for (const f of this.forwards) f.close();
    for (const s of this.servers) await s.stop();
    for (const h of this.httpServers) h.close();
    await this.opts.informers.stop();
  }
}

function defaultFatal(msg: string): void {
  process.stderr.write(`[FATAL] plugin/loop: ${msg}\n`);
  process.exit(1);
}
