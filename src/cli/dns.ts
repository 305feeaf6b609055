import { readFileSync } from 'node:fs';
import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import type { Command, Options } from './command.js';
import { UsageError } from './command.js';
import { apiSourceFlags, openInformers, type InformerSource } from './informers.js';
import { parseConfig, type DnsConfig } from '../dns/config.js';
import { CorefileError, defaultCorefile } from '../dns/corefile.js';
import { parseHostPort } from '../dns/forward.js';
import { ClusterDns } from '../dns/setup.js';
import { runWorkers } from '../dns/workers.js';
import { logger } from '../observability/log.js';

const log = logger('dns');

function hashFile(path: string): string | undefined {
  try {
    return createHash('sha512').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined;
  }
}

function loadConfig(opts: Options, port: number): DnsConfig {
  const upstream = opts.list('upstream');
  let text: string;
  const path = opts.optionalString('corefile');
  if (path) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --corefile ${path}: ${(err as Error).message}`);
    }
  } else text = defaultCorefile({ port, upstream: upstream.length ? upstream.join(' ') : '/etc/resolv.conf', zone: opts.string('cluster-domain') });
  try {
    const cfg = parseConfig(text);
    // --upstream replaces the Corefile's forward targets too, so one flag works for both.
    if (path && upstream.length) for (const b of cfg.blocks) if (b.forward) b.forward.to = parseConfig(`. {\nforward . ${upstream.join(' ')}\n}`).blocks[0]!.forward!.to;
    return cfg;
  } catch (err) {
    if (err instanceof CorefileError) throw new UsageError(`${path ?? 'default Corefile'}: ${err.message}`);
    throw err;
  }
}

export const command: Command = {
  name: 'dns',
  summary: 'Serve cluster DNS, as CoreDNS with the kubernetes plugin does',
  usage: 'kubeplane dns --objects FILE [--corefile FILE] [--dns-bind HOST:PORT] [flags]',
  flags: [
    { name: 'corefile', type: 'string', help: 'CoreDNS Corefile to serve (default: kubeadm\'s default Corefile)' },
    { name: 'objects', type: 'string', help: 'serve records from a YAML/JSON file of objects instead of an API server; edits are picked up like watch events' },
    { name: 'dns-bind', type: 'string', default: '0.0.0.0:53', help: 'address for DNS over UDP and TCP; when set it overrides the Corefile\'s' },
    { name: 'upstream', type: 'list', help: 'upstream resolvers (HOST[:PORT]) for names outside the cluster zones (default: /etc/resolv.conf)' },
    { name: 'cluster-domain', type: 'string', default: 'cluster.local', help: 'cluster zone of the default Corefile' },
    { name: 'health-bind', type: 'string', help: 'address for /health (overrides the Corefile\'s health plugin; "off" disables)' },
    { name: 'ready-bind', type: 'string', help: 'address for /ready (overrides the Corefile\'s ready plugin; "off" disables)' },
    { name: 'metrics-bind', type: 'string', help: 'address for /metrics (overrides the Corefile\'s prometheus plugin; "off" disables)' },
    { name: 'workers', type: 'int', default: 1, help: 'processes sharing the DNS sockets (use the number of cores)' },
    ...apiSourceFlags,
  ],
  async run(opts) {
    const objects = opts.optionalString('objects');
    const bindText = opts.string('dns-bind');
    const bind = parseHostPort(bindText, 53);
    if (!bind.host || !(bind.port >= 0 && bind.port < 65536)) throw new UsageError(`invalid --dns-bind "${bindText}": want HOST:PORT`);
    let config = loadConfig(opts, bind.port);
    const workers = opts.int('workers');
    if (workers < 1 || workers > 64) throw new UsageError('--workers must be between 1 and 64');
    const override = (name: string): string | undefined => {
      if (!opts.explicitlySet.has(name)) return undefined;
      const v = opts.string(name);
      return v === 'off' ? '' : v;
    };
    const httpAddrs = { healthAddr: override('health-bind'), readyAddr: override('ready-bind'), metricsAddr: override('metrics-bind') };
    const explicitBind = opts.explicitlySet.has('dns-bind') || !opts.optionalString('corefile');
    // Each ClusterDns (a reload makes a new one) gets its own informer source, closed with it.
    const sources = new Map<ClusterDns, InformerSource>();
    const make = async (http: boolean): Promise<ClusterDns> => {
      const source = await openInformers(opts, 'kubeplane-dns');
      const dns = new ClusterDns({
        config,
        informers: source.factory,
        bind: explicitBind ? bind : { host: bind.host },
        // This command owns its informers: keep only what DNS reads.
        trimObjects: true,
        ...(http ? httpAddrs : { healthAddr: '', readyAddr: '', metricsAddr: '' }),
      });
      sources.set(dns, source);
      return dns;
    };
    const stop = async (dns: ClusterDns, o?: { lameduck: boolean }): Promise<void> => {
      await dns.stop(o);
      await sources.get(dns)?.close();
      sources.delete(dns);
    };
    if (workers > 1 || cluster.isWorker) return runWorkers(workers, config, httpAddrs, () => make(false));
    let dns = await make(true);
    await dns.start();
    log.info('Serving DNS', { addresses: dns.servers.map((s) => `${s.address.host}:${s.address.port}`), source: objects ?? 'API server' });
    const corefile = opts.optionalString('corefile');
    let reloadTimer: NodeJS.Timeout | undefined;
    if (corefile && config.reload) {
      // The reload plugin: re-read the Corefile on an interval and restart on a valid change.
      const { intervalMs, jitterMs } = config.reload;
      let digest = hashFile(corefile);
      const tick = (): void => {
        reloadTimer = setTimeout(() => {
          const now = hashFile(corefile);
          if (now === undefined || now === digest) return tick();
          digest = now;
          let next: DnsConfig;
          try {
            next = loadConfig(opts, bind.port);
          } catch (err) {
            log.error('Corefile changed but is not valid, keeping the running configuration', err, { corefile });
            return tick();
          }
          const old = dns;
          void stop(old, { lameduck: false })
            .then(async () => {
              config = next;
              dns = await make(true);
              await dns.start();
              log.info('Reloaded the Corefile', { corefile });
            })
            .catch((err: unknown) => log.error('Reload failed', err))
            .finally(tick);
        }, intervalMs + Math.floor((Math.random() * 2 - 1) * jitterMs));
      };
      tick();
    }
    await new Promise<void>((resolve) => {
      const onSignal = (): void => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        clearTimeout(reloadTimer);
        void stop(dns).then(resolve);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    return 0;
  },
};
