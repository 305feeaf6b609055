// `kubeplane node`: what the chart's DaemonSet runs on every node: the Service proxy, cluster
// DNS and the ingress controller in one process, sharing one set of informers (one watch
// per resource instead of three), each switchable.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Command, Options } from './command.js';
import { UsageError } from './command.js';
import { configFromOptions, proxyFlags } from './proxy.js';
import { applyKubeProxyConfiguration } from './kube-proxy-config.js';
import { openInformers } from './informers.js';
import { bindFlag } from './bind.js';
import { logger } from '../observability/log.js';
import { StatusCollector } from '../observability/status-collector.js';
import { splitHostPort } from '../proxy/healthcheck.js';

const log = logger('node');

interface Part {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}


async function dnsPart(opts: Options, informers: import('../client/informer.js').InformerFactory, status: StatusCollector): Promise<Part> {
  const { parseConfig } = await import('../dns/config.js');
  const { CorefileError, defaultCorefile } = await import('../dns/corefile.js');
  const { ClusterDns } = await import('../dns/setup.js');
  const path = opts.optionalString('corefile');
  const dnsBind = bindFlag(opts, 'dns-bind');
  let text: string;
  if (path) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --corefile ${path}: ${(err as Error).message}`);
    }
  } else {
    const upstream = opts.list('upstream');
    text = defaultCorefile({ port: dnsBind?.port ?? 53, upstream: upstream.length ? upstream.join(' ') : '/etc/resolv.conf', zone: opts.string('cluster-domain') });
  }
  let config;
  try {
    config = parseConfig(text);
  } catch (err) {
    if (err instanceof CorefileError) throw new UsageError(`${path ?? 'default Corefile'}: ${err.message}`);
    throw err;
  }
  // With a Corefile its own server blocks say where to listen, unless --dns-bind is given.
  const dns = new ClusterDns({ config, informers, bind: !path || opts.explicitlySet.has('dns-bind') ? dnsBind : undefined });
  status.attachDns(dns);
  return { name: 'dns', start: () => dns.start(), stop: () => dns.stop() };
}

/**
 * Addresses this node publishes in Ingress status: --ingress-publish-address, else the Node
 * object's ExternalIPs (InternalIPs when it has none), as ingress-nginx publishes the
 * address of the node it runs on when no publish Service is set.
 */
async function nodeAddresses(opts: Options, client: import('../client/rest.js').RestClient, nodeName: string): Promise<import('../api/types.js').LoadBalancerIngress[]> {
  const { publishAddresses } = await import('../ingress/status.js');
  const given = opts.list('ingress-publish-address');
  if (given.length > 0) return publishAddresses(given);
  const { resourceFor } = await import('../api/resources.js');
  try {
    const node = await client.get<import('../api/types.js').KubeObject & { status?: { addresses?: { type: string; address: string }[] } }>(resourceFor('', 'nodes')!, nodeName);
    const all = node.status?.addresses ?? [];
    const external = all.filter((a) => a.type === 'ExternalIP');
    return publishAddresses((external.length > 0 ? external : all.filter((a) => a.type === 'InternalIP')).map((a) => a.address));
  } catch (err) {
    log.warn('Cannot read this node\'s addresses for Ingress status', { node: nodeName, err: (err as Error).message });
    return [];
  }
}

async function ingressPart(opts: Options, source: import('./informers.js').InformerSource, status: StatusCollector, nodeName: string): Promise<Part> {
  const { IngressController, eventSink } = await import('../ingress/setup.js');
  const { CONTROLLER_NAME } = await import('../ingress/routes.js');
  const { ApiStatusWriter } = await import('../ingress/status.js');
  const { EventRecorder } = await import('../client/events.js');
  const nsName = (name: string): string | undefined => {
    const v = opts.optionalString(name);
    if (v !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v)) throw new UsageError(`invalid --${name} "${v}": want NAMESPACE/NAME`);
    return v;
  };
  const ingressClass = opts.string('ingress-class');
  const leaseMs = opts.duration('ingress-leader-elect-lease-duration');
  if (!(leaseMs >= 3000)) throw new UsageError('--ingress-leader-elect-lease-duration must be at least 3s');
  const client = source.client;
  const published = client ? await nodeAddresses(opts, client, nodeName) : [];
  if (client && published.length === 0) log.warn('No address to publish in Ingress status; give --ingress-publish-address', { node: nodeName });
  let leading = false;
  const controller = new IngressController({
    informers: source.factory,
    selection: { ingressClass, controllerName: CONTROLLER_NAME, watchWithoutClass: opts.bool('watch-ingress-without-class') },
    httpBind: bindFlag(opts, 'http-bind'),
    httpsBind: bindFlag(opts, 'https-bind'),
    metricsBind: bindFlag(opts, 'ingress-metrics-bind'),
    defaultCertificate: nsName('default-ssl-certificate'),
    events: client ? eventSink(new EventRecorder(client, 'kubeplane-ingress')) : undefined,
    // Every node serves, one writes status: the holder of the class's Lease.
    status: client && published.length > 0 ? new ApiStatusWriter(client, { isLeader: () => leading }) : undefined,
    publishAddresses: published.length > 0 ? published : undefined,
  });
  status.attachIngress(controller);
  const election = new AbortController();
  let electing: Promise<void> | undefined;
  return {
    name: 'ingress',
    start: async () => {
      await controller.start();
      if (!client || published.length === 0) return;
      const { LeaderElector } = await import('../client/leaderelection.js');
      // One Lease per ingress class, as ingress-nginx elects per election id and class.
      const elector = new LeaderElector(client, {
        namespace: opts.string('leader-election-namespace'),
        name: opts.optionalString('election-id') || `kubeplane-ingress-leader-${ingressClass}`,
        identity: `${nodeName}_${process.pid}`,
        leaseDurationMs: leaseMs,
        renewDeadlineMs: Math.round((leaseMs * 2) / 3),
        retryPeriodMs: Math.round(leaseMs / 7.5),
        releaseOnCancel: true,
        callbacks: {
          onStartedLeading: () => {
            leading = true;
            log.info('Writing Ingress status as leader', { class: ingressClass, addresses: published });
            controller.writeStatus();
          },
          onStoppedLeading: () => {
            leading = false;
          },
        },
      });
      electing = (async () => {
        while (!election.signal.aborted) {
          await elector.run(election.signal).catch((err: unknown) => log.error('Ingress leader election failed', err));
          if (!election.signal.aborted) await new Promise((r) => setTimeout(r, 1000));
        }
      })();
    },
    stop: async () => {
      election.abort();
      await electing;
      await controller.stop();
    },
  };
}

export const command: Command = {
  name: 'node',
  summary: 'Run the Service proxy, cluster DNS and the ingress controller of one node',
  usage: 'kubeplane node [--proxy=true] [--dns=true] [--ingress=true] [--config KUBE-PROXY-CONFIG] [--corefile FILE] [flags]',
  flags: [
    { name: 'proxy', type: 'bool', default: true, help: 'run the Service proxy (kube-proxy)' },
    { name: 'dns', type: 'bool', default: true, help: 'run cluster DNS (CoreDNS)' },
    { name: 'ingress', type: 'bool', default: true, help: 'run the ingress controller' },
    { name: 'config', type: 'string', help: "kube-proxy's configuration file (KubeProxyConfiguration); its settings win over the proxy flags" },
    ...proxyFlags,
    { name: 'corefile', type: 'string', help: 'CoreDNS Corefile (default: kubeadm\'s)' },
    { name: 'dns-bind', type: 'string', default: '0.0.0.0:53', help: 'DNS address ("off" disables; with --corefile only when given)' },
    { name: 'upstream', type: 'list', help: 'resolvers for names outside the cluster (default: /etc/resolv.conf)' },
    { name: 'cluster-domain', type: 'string', default: 'cluster.local', help: 'cluster zone of the default Corefile' },
    { name: 'http-bind', type: 'string', default: '0.0.0.0:80', help: 'ingress HTTP address ("off" disables)' },
    { name: 'https-bind', type: 'string', default: '0.0.0.0:443', help: 'ingress HTTPS address ("off" disables)' },
    { name: 'ingress-metrics-bind', type: 'string', default: '127.0.0.1:10254', help: 'ingress /healthz and /metrics ("off" disables)' },
    { name: 'ingress-class', type: 'string', default: 'kubeplane', help: 'IngressClass / legacy class annotation served' },
    { name: 'watch-ingress-without-class', type: 'bool', default: false, help: 'also serve Ingresses that name no class' },
    { name: 'default-ssl-certificate', type: 'string', help: 'NAMESPACE/NAME of the kubernetes.io/tls Secret for unknown SNI names' },
    { name: 'ingress-publish-address', type: 'list', help: "addresses written to status.loadBalancer.ingress (default: this Node's ExternalIPs, else InternalIPs)" },
    { name: 'election-id', type: 'string', help: 'name of the Lease electing the node that writes Ingress status (default: kubeplane-ingress-leader-<ingress-class>)' },
    { name: 'leader-election-namespace', type: 'string', default: process.env.POD_NAMESPACE ?? 'default', help: 'namespace of that Lease' },
    { name: 'ingress-leader-elect-lease-duration', type: 'duration', default: 15_000, help: 'how long other nodes wait after the last renewal before taking over status writing' },
  ],
  async run(opts) {
    if (!opts.bool('proxy') && !opts.bool('dns') && !opts.bool('ingress')) throw new UsageError('nothing to run: --proxy, --dns and --ingress are all false');
    let proxyCfg = opts.bool('proxy') ? configFromOptions(opts) : undefined;
    const configPath = opts.optionalString('config');
    if (proxyCfg && configPath) proxyCfg = applyKubeProxyConfiguration(proxyCfg, configPath);
    if (opts.bool('proxy') && opts.bool('cleanup')) {
      const { cleanup } = await import('../proxy/setup.js');
      return cleanup();
    }
    // The metrics port serves the proxy's /metrics and the node's status page (/, /status).
    const metricsAddress = proxyCfg ? proxyCfg.metricsBindAddress : opts.string('metrics-bind-address');
    let metricsBind: { host: string; port: number } | undefined;
    try {
      metricsBind = metricsAddress ? splitHostPort(metricsAddress) : undefined;
    } catch (err) {
      throw new UsageError(`invalid --metrics-bind-address: ${(err as Error).message}`);
    }
    const source = await openInformers(opts, 'kubeplane-node');
    const nodeName = proxyCfg?.nodeName ?? (opts.string('node-name') || opts.string('hostname-override') || hostname().toLowerCase());
    const status = new StatusCollector({ node: nodeName, informers: source.factory });
    for (const name of ['proxy', 'dns', 'ingress']) status.component(name, false);
    // Every component registers its informers before any starts, so one start feeds them all.
    const parts: Part[] = [];
    if (opts.bool('dns')) parts.push(await dnsPart(opts, source.factory, status));
    if (opts.bool('ingress')) parts.push(await ingressPart(opts, source, status, nodeName));
    let running: Awaited<ReturnType<typeof import('../proxy/setup.js').startProxy>> | undefined;
    if (proxyCfg) {
      const cfg = { ...proxyCfg, metricsBindAddress: '' };
      const { startProxy } = await import('../proxy/setup.js');
      parts.unshift({
        name: 'proxy',
        start: async () => {
          running = await startProxy(cfg, source.factory, { stateDir: opts.string('state-dir') });
          status.attachProxy(running, cfg.mode);
        },
        stop: async () => running?.stop(),
      });
    }
    if (metricsBind) {
      const bind = metricsBind;
      const { serveStatus } = await import('../observability/status-server.js');
      let server: Awaited<ReturnType<typeof serveStatus>> | undefined;
      parts.push({
        name: 'status',
        start: async () => {
          // As kube-proxy's metrics server: a port it cannot take is an error in the log, not a stop.
          try {
            server = await serveStatus(status, { ...bind, registry: running?.metrics.registry });
            log.info('Serving the status page and metrics', { address: `${bind.host}:${server.port}` });
          } catch (err) {
            log.error('Cannot serve the status page and metrics', err, { address: `${bind.host}:${bind.port}` });
          }
        },
        stop: async () => server?.close(),
      });
    }
    const started: Part[] = [];
    const stopAll = async (): Promise<void> => {
      for (const p of started.reverse()) await p.stop().catch((err: unknown) => log.error('Stopping failed', err, { part: p.name }));
      await source.close();
    };
    try {
      for (const p of parts) {
        await p.start();
        started.push(p);
      }
    } catch (err) {
      await stopAll();
      const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
      if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') throw new UsageError(`cannot listen on ${e.address}:${e.port}: ${e.code}`);
      throw err;
    }
    log.info('kubeplane node running', { parts: started.map((p) => p.name), node: nodeName });
    await new Promise<void>((resolve) => {
      const onSignal = (): void => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    await stopAll();
    return 0;
  },
};
