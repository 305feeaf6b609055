// `kubeplane up`: a one-process cluster for developers and CI: the API server (bound to
// 127.0.0.1, state in ./.kubeplane) and, talking to it through its own kubeconfig exactly as
// they would on a real cluster, cluster DNS. Each part stops in reverse order on SIGTERM/SIGINT.
import type { Command, Options } from './command.js';
import { UsageError } from './command.js';
import { apiserverFlags, serverConfig, startServer } from './apiserver.js';
import { logger } from '../observability/log.js';

const log = logger('up');

interface Part {
  name: string;
  stop(): Promise<void>;
}

function hostPort(opts: Options, name: string): { host: string; port: number } | undefined {
  const text = opts.string(name);
  if (text === '' || text === 'off') return undefined;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port > 0 && port < 65536)) throw new UsageError(`invalid --${name} "${text}": want HOST:PORT or "off"`);
  return { host: m[1]!, port };
}

async function startDns(opts: Options, kubeconfig: string): Promise<Part | undefined> {
  const bind = hostPort(opts, 'dns-bind');
  if (!bind) return undefined;
  const { parseConfig } = await import('../dns/config.js');
  const { defaultCorefile } = await import('../dns/corefile.js');
  const { ClusterDns } = await import('../dns/setup.js');
  const { connect } = await import('../client/connect.js');
  const upstream = opts.list('upstream');
  const config = parseConfig(defaultCorefile({ port: bind.port, upstream: upstream.length ? upstream.join(' ') : '/etc/resolv.conf', zone: opts.string('cluster-domain') }));
  const conn = connect({ kubeconfig, component: 'kubeplane-dns' });
  // No health/ready/metrics listeners: their CoreDNS ports would collide with other parts.
  const dns = new ClusterDns({ config, informers: conn.informers, bind, healthAddr: '', readyAddr: '', metricsAddr: '' });
  await dns.start();
  log.info('Cluster DNS serving', { address: `${bind.host}:${bind.port}`, zone: opts.string('cluster-domain') });
  return {
    name: 'dns',
    async stop() {
      await dns.stop({ lameduck: false });
      await conn.close();
    },
  };
}

export const command: Command = {
  name: 'up',
  summary: 'Run a one-process cluster: API server, controllers, scheduler and node agent',
  usage: 'kubeplane up [--secure-port 6443] [--data-dir ./.kubeplane] [--dns-bind 127.0.0.1:10053] [flags]',
  flags: [
    ...apiserverFlags({ bindAddress: '127.0.0.1', dataDir: './.kubeplane' }),
    { name: 'dns-bind', type: 'string', default: '127.0.0.1:10053', help: 'address of the cluster DNS server ("off" disables it)' },
    { name: 'cluster-domain', type: 'string', default: 'cluster.local', help: 'the cluster DNS zone' },
    { name: 'upstream', type: 'list', help: 'resolvers (HOST[:PORT]) for names outside the cluster zone (default: /etc/resolv.conf)' },
  ],
  async run(opts) {
    const cfg = serverConfig(opts);
    hostPort(opts, 'dns-bind'); // validate before anything starts
    const parts: Part[] = [];
    const stopAll = async (): Promise<void> => {
      for (const p of parts.reverse()) {
        try {
          await p.stop();
        } catch (err) {
          log.error('Stopping failed', err, { part: p.name });
        }
      }
    };
    const running = await startServer(cfg);
    parts.push({ name: 'apiserver', stop: () => running.stop() });
    try {
      const dns = await startDns(opts, running.kubeconfigPath);
      if (dns) parts.push(dns);
    } catch (err) {
      await stopAll();
      throw err;
    }
    const dnsBind = opts.string('dns-bind');
    process.stdout.write(
      `kubeplane is up: API server on ${running.url}${dnsBind !== 'off' ? `, cluster DNS on ${dnsBind}` : ''}\n\n` +
        `Point kubectl at it:\n  export KUBECONFIG=${running.kubeconfigPath}\n  kubectl get ns\n\nPress Ctrl-C to stop.\n`,
    );
    await new Promise<void>((resolve) => {
      const onSignal = (): void => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    log.info('shutting down');
    await stopAll();
    return 0;
  },
};
