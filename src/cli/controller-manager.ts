// `kubeplane controller-manager`: the controllers of src/controllers against any API server,
// with kube-controller-manager's flag names. Also the client and leader-election flags
// `kubeplane scheduler` shares.

import type { Command, Options } from './command.js';
import { UsageError } from './command.js';
import type { FlagSpec } from './flags.js';
import { ConfigError, loadClientConfig, type ClientConfig } from '../client/config.js';
import type { LeaderElectionOptions } from '../controllers/manager.js';

export function clientAndLeaderFlags(leaseName: string): FlagSpec[] {
  return [
    { name: 'kubeconfig', type: 'string', default: '', help: 'path to a kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)' },
    { name: 'master', type: 'string', default: '', help: 'the address of the API server (overrides the kubeconfig)' },
    { name: 'leader-elect', type: 'bool', default: true, help: 'run only while holding the leader Lease, so several replicas can run' },
    { name: 'leader-elect-lease-duration', type: 'duration', default: 15_000, help: 'how long non-leaders wait after the last renewal before taking over' },
    { name: 'leader-elect-renew-deadline', type: 'duration', default: 10_000, help: 'how long the leader keeps retrying a renewal before giving up' },
    { name: 'leader-elect-retry-period', type: 'duration', default: 2_000, help: 'between attempts to acquire or renew the Lease' },
    { name: 'leader-elect-resource-name', type: 'string', default: leaseName, help: 'name of the Lease' },
    { name: 'leader-elect-resource-namespace', type: 'string', default: 'kube-system', help: 'namespace of the Lease' },
  ];
}

export function clientConfigFrom(opts: Options): ClientConfig {
  try {
    return loadClientConfig({ kubeconfig: opts.optionalString('kubeconfig'), server: opts.optionalString('master') });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

export function leaderElectionFrom(opts: Options): LeaderElectionOptions {
  const lease = opts.duration('leader-elect-lease-duration');
  const renew = opts.duration('leader-elect-renew-deadline');
  const retry = opts.duration('leader-elect-retry-period');
  if (lease <= renew) throw new UsageError('--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline');
  if (renew <= retry * 1.2) throw new UsageError('--leader-elect-renew-deadline must be greater than --leader-elect-retry-period times 1.2');
  return {
    name: opts.string('leader-elect-resource-name'),
    namespace: opts.string('leader-elect-resource-namespace'),
    leaseDurationMs: lease,
    renewDeadlineMs: renew,
    retryPeriodMs: retry,
  };
}

/** Resolves on SIGTERM or SIGINT. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const on = (): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve();
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

const flags: FlagSpec[] = [
  ...clientAndLeaderFlags('kube-controller-manager'),
  { name: 'cluster-cidr', type: 'string', default: '10.244.0.0/16', help: 'CIDR range pod CIDRs are carved from (IPv4)' },
  { name: 'node-cidr-mask-size', type: 'int', default: 24, help: 'mask size of each node pod CIDR' },
  { name: 'allocate-node-cidrs', type: 'bool', default: true, help: 'give every Node a podCIDR from --cluster-cidr' },
  { name: 'controllers', type: 'list', default: ['*'], help: "controllers to run: '*' for all, or names from: endpointslice, endpoints, nodeipam, replicaset, deployment, daemonset, garbagecollector, clusterrole-aggregation; '-name' disables one" },
];

export const command: Command = {
  name: 'controller-manager',
  summary: 'Run the controllers: EndpointSlice, Endpoints, node IPAM, ReplicaSet, Deployment, DaemonSet, garbage collector',
  usage: 'kubeplane controller-manager [--kubeconfig FILE] [--cluster-cidr 10.244.0.0/16] [--leader-elect=true] [flags]',
  flags,
  async run(opts: Options, args: string[]): Promise<number> {
    if (args.length > 0) throw new UsageError(`unknown argument "${args[0]}"`);
    const { ALL_CONTROLLERS, startControllerManager } = await import('../controllers/manager.js');
    const { CIDRSet, CIDRSetError } = await import('../controllers/nodeipam/cidr-set.js');
    type Name = (typeof ALL_CONTROLLERS)[number];
    const asked = opts.list('controllers');
    const enabled = new Set<Name>(asked.includes('*') ? ALL_CONTROLLERS : []);
    for (const c of asked) {
      if (c === '*') continue;
      const name = c.replace(/^-/, '') as Name;
      if (!ALL_CONTROLLERS.includes(name)) throw new UsageError(`invalid --controllers "${c}": known controllers are ${ALL_CONTROLLERS.join(', ')}`);
      if (c.startsWith('-')) enabled.delete(name);
      else enabled.add(name);
    }
    if (!opts.bool('allocate-node-cidrs')) enabled.delete('nodeipam');
    try {
      new CIDRSet(opts.string('cluster-cidr'), opts.int('node-cidr-mask-size'));
    } catch (err) {
      if (err instanceof CIDRSetError) throw new UsageError(`invalid --cluster-cidr/--node-cidr-mask-size: ${err.message}`);
      throw err;
    }
    const running = await startControllerManager({
      client: clientConfigFrom(opts),
      clusterCIDR: opts.string('cluster-cidr'),
      nodeCIDRMaskSize: opts.int('node-cidr-mask-size'),
      controllers: ALL_CONTROLLERS.filter((c) => enabled.has(c)),
      leaderElect: opts.bool('leader-elect'),
      leaderElection: leaderElectionFrom(opts),
    });
    await untilSignal();
    await running.stop();
    return 0;
  },
};
