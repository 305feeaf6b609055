// `kubeplane up`: a one-process cluster for developers and CI: the API server (bound to
// 127.0.0.1, state in ./.kubeplane) and, talking to it through its own kubeconfig exactly as
// they would on a real cluster, the controller-manager, the scheduler, nodes (simulated: pods
// run like kwok's; --pods=netns: pods are processes in network namespaces), cluster DNS and
// the ingress controller. Each part stops in reverse order on SIGTERM/SIGINT.
import type { Command, Options } from './command.js';
import { UsageError } from './command.js';
import { bindFlag } from './bind.js';
import { apiserverFlags, serverConfig, startServer } from './apiserver.js';
import { join } from 'node:path';
import { logger } from '../observability/log.js';
import { StatusCollector } from '../observability/status-collector.js';

const log = logger('up');

interface Part {
  name: string;
  stop(): Promise<void>;
}


async function startDns(opts: Options, kubeconfig: string, status: StatusCollector): Promise<Part | undefined> {
  const bind = bindFlag(opts, 'dns-bind', false);
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
  status.useInformers(conn.informers);
  status.attachDns(dns);
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

function validateNetnsFlags(opts: Options): void {
  if (process.getuid?.() !== 0) throw new UsageError('--pods=netns needs root (it creates network namespaces)');
  const prefix = opts.string('netns-prefix');
  // Link and namespace names are built from it; keep them short and shell-safe.
  if (!/^[a-z][a-z0-9]{0,11}$/.test(prefix)) throw new UsageError(`invalid --netns-prefix "${prefix}": want 1-12 lowercase letters and digits, starting with a letter`);
  const cidr = opts.string('netns-node-cidr');
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) < 8 || Number(m[5]) > 28) throw new UsageError(`invalid --netns-node-cidr "${cidr}": want an IPv4 CIDR between /8 and /28`);
  if (2 ** (32 - Number(m[5])) - 12 < opts.int('nodes')) throw new UsageError(`--netns-node-cidr ${cidr} is too small for ${opts.int('nodes')} nodes`);
  const mode = opts.string('netns-proxy-mode');
  if (mode !== 'iptables' && mode !== 'nftables') throw new UsageError(`invalid --netns-proxy-mode "${mode}": want iptables or nftables`);
  imageCommands(opts.list('image-command'));
}

/** --image-command values: IMAGE=COMMAND WORDS -> { IMAGE: [COMMAND, WORDS] } */
function imageCommands(values: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    const words = i > 0 ? v.slice(i + 1).trim().split(/\s+/).filter(Boolean) : [];
    if (i <= 0 || !words.length) throw new UsageError(`invalid --image-command "${v}": want IMAGE=COMMAND [ARGS...]`);
    out[v.slice(0, i).trim()] = words;
  }
  return out;
}

async function startControlPlane(opts: Options, kubeconfig: string): Promise<Part[]> {
  const { loadClientConfig } = await import('../client/config.js');
  const { startControllerManager } = await import('../controllers/manager.js');
  const { startScheduler } = await import('../scheduler/setup.js');
  const client = loadClientConfig({ kubeconfig });
  const parts: Part[] = [];
  const cm = await startControllerManager({ client, clusterCIDR: opts.string('cluster-cidr'), leaderElect: false });
  parts.push({ name: 'controller-manager', stop: () => cm.stop() });
  const sched = await startScheduler({ client, leaderElect: false });
  parts.push({ name: 'scheduler', stop: () => sched.stop() });
  const n = opts.int('nodes');
  // netns with --nodes 0 still runs the agent: it adopts Nodes created later with the label.
  if (opts.string('pods') === 'netns') {
    const { startNetnsNodes } = await import('../node/netns/agent.js');
    const upstream = opts.list('upstream');
    const nodes = await startNetnsNodes({
      client,
      nodes: n,
      prefix: opts.string('netns-prefix'),
      nodeCIDR: opts.string('netns-node-cidr'),
      stateDir: opts.optionalString('netns-state-dir') ?? join(opts.string('data-dir'), 'netns'),
      clusterDomain: opts.string('cluster-domain'),
      dataPlane: opts.bool('netns-data-plane')
        ? { kubeconfig, clusterCIDR: opts.string('cluster-cidr'), proxyMode: opts.string('netns-proxy-mode') as 'iptables' | 'nftables', upstream }
        : undefined,
      imageCommands: imageCommands(opts.list('image-command')),
    });
    parts.push({ name: 'nodes', stop: () => nodes.stop() });
  } else if (n > 0) {
    const { startSimulatedNodes } = await import('../node/simulated.js');
    const nodes = await startSimulatedNodes({ client, nodes: n, namePrefix: 'kubeplane-node-' });
    parts.push({ name: 'nodes', stop: () => nodes.stop() });
  }
  return parts;
}

async function startIngress(opts: Options, kubeconfig: string, status: StatusCollector): Promise<Part | undefined> {
  const httpBind = bindFlag(opts, 'http-bind', false);
  const httpsBind = bindFlag(opts, 'https-bind', false);
  if (!httpBind && !httpsBind) return undefined;
  const { eventSink, IngressController } = await import('../ingress/setup.js');
  const { EventRecorder } = await import('../client/events.js');
  const { CONTROLLER_NAME } = await import('../ingress/routes.js');
  const { ApiStatusWriter } = await import('../ingress/status.js');
  const { connect } = await import('../client/connect.js');
  const { resourceFor } = await import('../api/resources.js');
  const { isAlreadyExists } = await import('../client/errors.js');
  const conn = connect({ kubeconfig, component: 'kubeplane-ingress' });
  // The cluster's default IngressClass, as the chart installs it, so `--class=kubeplane` and
  // Ingresses without a class both land here.
  try {
    await conn.client.create(resourceFor('networking.k8s.io', 'ingressclasses')!, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'kubeplane', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: CONTROLLER_NAME },
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const address = (httpBind ?? httpsBind)!.host;
  // One process, one controller: it is always the status writer.
  const controller = new IngressController({
    informers: conn.informers,
    selection: { ingressClass: 'kubeplane', controllerName: CONTROLLER_NAME, watchWithoutClass: false },
    httpBind,
    httpsBind,
    status: new ApiStatusWriter(conn.client, { isLeader: () => true }),
    events: eventSink(new EventRecorder(conn.client, 'kubeplane-ingress')),
    publishAddresses: [/^[0-9.:]+$/.test(address) ? { ip: address } : { hostname: address }],
  });
  status.useInformers(conn.informers);
  status.attachIngress(controller);
  await controller.start();
  log.info('Ingress controller serving', { http: controller.httpPort, https: controller.httpsPort });
  return {
    name: 'ingress',
    async stop() {
      await controller.stop();
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
    { name: 'http-bind', type: 'string', default: '127.0.0.1:8080', help: 'address of the ingress controller\'s HTTP listener ("off" disables it)' },
    { name: 'https-bind', type: 'string', default: '127.0.0.1:8443', help: 'address of the ingress controller\'s HTTPS listener ("off" disables it)' },
    { name: 'status-bind', type: 'string', default: '127.0.0.1:10249', help: 'address of the status page (/, /status, /status.json) ("off" disables it)' },
    { name: 'cluster-cidr', type: 'string', default: '10.244.0.0/16', help: 'pod network; each node gets a /24 of it' },
    { name: 'nodes', type: 'int', default: 1, help: 'simulated nodes to register (pods on them are marked Running and Ready, like kwok)' },
    { name: 'pods', type: 'string', default: 'simulated', help: 'how bound pods run: simulated (marked Running, like kwok) or netns (root: network namespaces and real processes)' },
    { name: 'netns-prefix', type: 'string', default: 'kp', help: '(--pods=netns) prefix of every namespace made; leftovers with it are removed at start' },
    { name: 'netns-node-cidr', type: 'string', default: '192.168.100.0/24', help: '(--pods=netns) the node network; node K gets host address 10+K' },
    { name: 'netns-state-dir', type: 'string', help: '(--pods=netns) container logs, API relay socket, proxy state (default <data-dir>/netns)' },
    { name: 'netns-data-plane', type: 'bool', default: true, help: '(--pods=netns) run `kubeplane node` (Service proxy and DNS on :53) in every node namespace' },
    { name: 'netns-proxy-mode', type: 'string', default: 'iptables', help: '(--pods=netns) proxy mode of the node data plane: iptables or nftables' },
    { name: 'image-command', type: 'list', default: '', help: '(--pods=netns) IMAGE=COMMAND: containers of this image (repository, no tag) run COMMAND (words split on spaces) as its ENTRYPOINT, their args after it; repeatable' },
  ],
  async run(opts) {
    const cfg = serverConfig(opts);
    // Validate before anything starts.
    for (const f of ['dns-bind', 'http-bind', 'https-bind', 'status-bind']) bindFlag(opts, f, false);
    const podsMode = opts.string('pods');
    if (podsMode !== 'simulated' && podsMode !== 'netns') throw new UsageError(`invalid --pods "${podsMode}": want simulated or netns`);
    if (podsMode === 'netns') validateNetnsFlags(opts);
    if (opts.int('nodes') < 0 || opts.int('nodes') > 5000) throw new UsageError('--nodes must be between 0 and 5000');
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
      parts.push(...(await startControlPlane(opts, running.kubeconfigPath)));
      const status = new StatusCollector({ node: 'kubeplane-up' });
      status.component('dns', false);
      status.component('ingress', false);
      const dns = await startDns(opts, running.kubeconfigPath, status);
      if (dns) parts.push(dns);
      const ingress = await startIngress(opts, running.kubeconfigPath, status);
      if (ingress) parts.push(ingress);
      const statusBind = bindFlag(opts, 'status-bind', false);
      if (statusBind) {
        const { serveStatus } = await import('../observability/status-server.js');
        // A taken status port is not worth refusing to run a cluster over.
        try {
          const server = await serveStatus(status, statusBind);
          parts.push({ name: 'status', stop: () => server.close() });
        } catch (err) {
          log.error('Status page not served', err, { address: opts.string('status-bind') });
        }
      }
    } catch (err) {
      await stopAll();
      throw err;
    }
    const serving = [`API server on ${running.url}`];
    for (const [flag, what] of [['dns-bind', 'cluster DNS'], ['http-bind', 'ingress HTTP'], ['https-bind', 'ingress HTTPS'], ['status-bind', 'status page']] as const)
      if (bindFlag(opts, flag, false)) serving.push(`${what} on ${opts.string(flag)}`);
    process.stdout.write(
      `kubeplane is up: ${serving.join(', ')}\n\n` +
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
