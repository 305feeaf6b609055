// Turns validated options and any InformerFactory (API-backed or --objects file) into a
// running proxy: informers -> per-family proxiers -> one bounded-frequency sync loop,
// plus the health and metrics servers.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { EndpointSlice, Node, Service } from '../api/types.js';
import type { InformerFactory } from '../client/informer.js';
import { logger } from '../observability/log.js';
import type { ProxyConfig } from './config.js';
import { ProxyHealth, ServiceHealthServers, splitHostPort } from './healthcheck.js';
import { ProxyMetrics } from './metrics.js';
import { Proxier } from './proxier.js';
import { families } from './render.js';
import { BoundedFrequencyRunner } from './runner/bounded-frequency.js';
import { detectBackend, IptablesRunner } from './runner/iptables.js';
import { NftablesRunner } from './runner/nftables.js';
import { ensureProxySysctls } from './sysctl.js';
import { trimEndpointSlice, trimNode, trimService } from './trim.js';

const log = logger('proxy');

export interface RunningProxy {
  proxiers: Proxier[];
  metrics: ProxyMetrics;
  health: ProxyHealth;
  /** resolves after the first successful sync of every family */
  firstSync: Promise<void>;
  /** asks for a sync now (rate limits still apply) */
  requestSync(): void;
  stop(): Promise<void>;
}

export interface StartProxyOptions {
  stateDir?: string;
  /** keep only the fields the proxy reads in the informer caches (trim.ts); only for informers this proxy owns */
  trimObjects?: boolean;
}

export async function startProxy(cfg: ProxyConfig, factory: InformerFactory, opts: StartProxyOptions = {}): Promise<RunningProxy> {
  if (cfg.mode === 'ipvs') throw new Error('ipvs mode needs IPVS in the kernel; use `kubeplane proxy render --proxy-mode=ipvs` to see its rules');
  const metrics = new ProxyMetrics();
  const health = new ProxyHealth(2 * cfg.syncPeriodMs);
  const backend = cfg.mode === 'iptables' ? await detectBackend() : undefined;
  if (backend) log.info('Using iptables backend', { backend });
  ensureProxySysctls(cfg);
  let runner: BoundedFrequencyRunner | undefined;
  const requestSync = (): void => {
    health.queued();
    metrics.lastQueuedTimestamp.setToCurrentTime();
    runner?.run();
  };
  const proxiers = families(cfg).map(
    (family) =>
      new Proxier(
        family,
        cfg,
        {
          metrics,
          iptables: backend ? new IptablesRunner(family, backend) : undefined,
          nftables: cfg.mode === 'nftables' ? new NftablesRunner(family === 'IPv4' ? 'ip' : 'ip6') : undefined,
          stateFile: opts.stateDir ? join(opts.stateDir, `nftables-${family}.json`) : undefined,
        },
        requestSync,
      ),
  );
  const services = factory.informerFor<Service>('', 'services');
  const slices = factory.informerFor<EndpointSlice>('discovery.k8s.io', 'endpointslices');
  const nodes = factory.informerFor<Node>('', 'nodes');
  if (opts.trimObjects) {
    services.setTransform?.(trimService);
    slices.setTransform?.(trimEndpointSlice);
    nodes.setTransform?.(trimNode);
  }
  services.addEventHandler({
    onAdd: (s) => proxiers.forEach((p) => p.onService(undefined, s)),
    onUpdate: (a, b) => proxiers.forEach((p) => p.onService(a, b)),
    onDelete: (s) => proxiers.forEach((p) => p.onService(s, undefined)),
  });
  slices.addEventHandler({
    onAdd: (s) => proxiers.forEach((p) => p.onEndpointSlice(undefined, s)),
    onUpdate: (a, b) => proxiers.forEach((p) => p.onEndpointSlice(a, b)),
    onDelete: (s) => proxiers.forEach((p) => p.onEndpointSlice(s, undefined)),
  });
  const onNode = (n: Node | undefined): void => proxiers.forEach((p) => p.onNode(n));
  nodes.addEventHandler({
    onAdd: (n) => n.metadata.name === cfg.nodeName && onNode(n),
    onUpdate: (_a, n) => n.metadata.name === cfg.nodeName && onNode(n),
    onDelete: (n) => n.metadata.name === cfg.nodeName && onNode(undefined),
  });
  const hcServers = new ServiceHealthServers('0.0.0.0', () => health.healthy());
  let resolveFirst!: () => void;
  const firstSync = new Promise<void>((r) => (resolveFirst = r));
  const syncAll = async (periodic: boolean): Promise<void> => {
    let ok = true;
    for (const p of proxiers) {
      if (periodic) {
        // The periodic run is a full resync; for iptables, a vanished canary means someone flushed our rules.
        p.forceFullSync();
      }
      try {
        await p.sync();
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      runner?.retryAfter(Math.max(1000, cfg.minSyncPeriodMs));
      return;
    }
    health.updated();
    const hc = new Map<number, { namespace: string; name: string; localEndpoints: number }>();
    for (const p of proxiers) for (const [port, v] of p.healthCheckPorts()) hc.set(port, { ...v, localEndpoints: (hc.get(port)?.localEndpoints ?? 0) + v.localEndpoints });
    hcServers.sync(hc);
    resolveFirst();
  };
  await factory.start();
  await Promise.all([services.synced(), slices.synced(), nodes.synced()]);
  runner = new BoundedFrequencyRunner(syncAll, cfg.minSyncPeriodMs, cfg.syncPeriodMs);
  runner.start();
  const servers: Server[] = [];
  const listen = async (addr: string, handler: Parameters<typeof createServer>[1]): Promise<void> => {
    if (!addr) return;
    const { host, port } = splitHostPort(addr);
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => {
      server.once('error', (err) => {
        log.error('Failed to listen', err, { address: addr });
        resolve();
      });
      server.listen(port, host, () => resolve());
    });
  };
  await listen(cfg.healthzBindAddress, health.handler);
  await listen(cfg.metricsBindAddress, (req, res) => {
    if ((req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  return {
    proxiers,
    metrics,
    health,
    firstSync,
    requestSync,
    async stop() {
      runner?.stop();
      for (const p of proxiers) {
        p.saveState();
        p.close();
      }
      hcServers.close();
      for (const s of servers) s.close();
      await factory.stop();
    },
  };
}

/** `kubeplane proxy`: runs on the given informers until SIGTERM/SIGINT. */
export async function runProxy(cfg: ProxyConfig, factory: InformerFactory, opts: { stateDir: string; trimObjects?: boolean }): Promise<number> {
  const proxy = await startProxy(cfg, factory, opts);
  log.info('kubeplane proxy running', { mode: cfg.mode, node: cfg.nodeName, families: proxy.proxiers.map((p) => p.family) });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await proxy.stop();
  return 0;
}

/** `kubeplane proxy --cleanup`: removes iptables chains and nftables tables of every mode and family. */
export async function cleanup(): Promise<number> {
  let rc = 0;
  for (const family of ['IPv4', 'IPv6'] as const) {
    for (const backend of ['nft', 'legacy'] as const) {
      try {
        await new IptablesRunner(family, backend).cleanup();
      } catch (err) {
        log.error('Cleanup failed', err, { family, backend });
        rc = 1;
      }
    }
    try {
      await new NftablesRunner(family === 'IPv4' ? 'ip' : 'ip6').cleanup();
    } catch (err) {
      log.error('Cleanup failed', err, { family, backend: 'nftables' });
      rc = 1;
    }
  }
  return rc;
}
