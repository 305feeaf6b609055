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

async function ingressPart(opts: Options, informers: import('../client/informer.js').InformerFactory, status: StatusCollector): Promise<Part> {
  const { IngressController } = await import('../ingress/setup.js');
  const { CONTROLLER_NAME } = await import('../ingress/routes.js');
  const nsName = (name: string): string | undefined => {
    const v = opts.optionalString(name);
    if (v !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v)) throw new UsageError(`invalid --${name} "${v}": want NAMESPACE/NAME`);
    return v;
  };
  const controller = new IngressController({
    informers,
    selection: { ingressClass: opts.string('ingress-class'), controllerName: CONTROLLER_NAME, watchWithoutClass: opts.bool('watch-ingress-without-class') },
    httpBind: bindFlag(opts, 'http-bind'),
    httpsBind: bindFlag(opts, 'https-bind'),
    metricsBind: bindFlag(opts, 'ingress-metrics-bind'),
    defaultCertificate: nsName('default-ssl-certificate'),
  });
  status.attachIngress(controller);
  return { name: 'ingress', start: () => controller.start(), stop: () => controller.stop() };
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
    if (opts.bool('ingress')) parts.push(await ingressPart(opts, source.factory, status));
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
