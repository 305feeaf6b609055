// The controller-manager: the controllers of this folder on one shared informer factory,
// run only while this process holds the kube-controller-manager Lease.

import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ApiInformerFactory } from '../client/api-informers.js';
import type { ClientConfig } from '../client/config.js';
import { LeaderElector } from '../client/leaderelection.js';
import { RestClient } from '../client/rest.js';
import { logger } from '../observability/log.js';
import { ClusterRoleAggregationController } from './clusterrole-aggregation/controller.js';
import { DaemonSetController } from './daemonset/controller.js';
import { DeploymentController } from './deployment/controller.js';
import { EndpointsController } from './endpoints/controller.js';
import { EndpointSliceController } from './endpointslice/controller.js';
import { GarbageCollector } from './gc/controller.js';
import { NodeIpamController } from './nodeipam/controller.js';
import { ReplicaSetController } from './replicaset/controller.js';
import { EventRecorder, type Controller, type ControllerContext } from './runtime.js';
import { CIDRSet } from './nodeipam/cidr-set.js';

const log = logger('controller-manager');

export const ALL_CONTROLLERS = ['endpointslice', 'endpoints', 'nodeipam', 'replicaset', 'deployment', 'daemonset', 'garbagecollector', 'clusterrole-aggregation'] as const;
export type ControllerName = (typeof ALL_CONTROLLERS)[number];

export interface LeaderElectionOptions {
  namespace?: string;
  name?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ControllerManagerOptions {
  /** a client to share, or the configuration to make one from */
  client: RestClient | ClientConfig;
  /** default 10.244.0.0/16 */
  clusterCIDR?: string;
  /** default 24 */
  nodeCIDRMaskSize?: number;
  /** default every controller */
  controllers?: readonly ControllerName[];
  /** default true; false runs the controllers at once, without a Lease */
  leaderElect?: boolean;
  leaderElection?: LeaderElectionOptions;
}

export interface RunningControllerManager {
  isLeader(): boolean;
  /** the controllers of the current term (empty while not leading) */
  controllers(): readonly Controller[];
  stop(): Promise<void>;
}

function validate(opts: ControllerManagerOptions): void {
  for (const c of opts.controllers ?? []) if (!ALL_CONTROLLERS.includes(c)) throw new Error(`unknown controller "${c}"; known: ${ALL_CONTROLLERS.join(', ')}`);
  // Fails fast on a bad --cluster-cidr rather than in the first Node's sync.
  new CIDRSet(opts.clusterCIDR ?? '10.244.0.0/16', opts.nodeCIDRMaskSize ?? 24);
}

/** One term of leadership: informers and controllers, all stopped by `signal`. */
async function runControllers(client: RestClient, opts: ControllerManagerOptions, signal: AbortSignal, out: Controller[]): Promise<void> {
  // Every controller listens for the end of the term on the same signal.
  setMaxListeners(64, signal);
  const factory = new ApiInformerFactory(client);
  const ctx: ControllerContext = { client, factory, events: new EventRecorder(client, 'kube-controller-manager') };
  const enabled = new Set<ControllerName>(opts.controllers ?? ALL_CONTROLLERS);
  const make: Record<ControllerName, () => Controller> = {
    endpointslice: () => new EndpointSliceController(ctx),
    endpoints: () => new EndpointsController(ctx),
    nodeipam: () => new NodeIpamController(ctx, opts.clusterCIDR ?? '10.244.0.0/16', opts.nodeCIDRMaskSize ?? 24),
    replicaset: () => new ReplicaSetController(ctx),
    deployment: () => new DeploymentController(ctx),
    daemonset: () => new DaemonSetController(ctx),
    garbagecollector: () => new GarbageCollector(ctx),
    'clusterrole-aggregation': () => new ClusterRoleAggregationController(ctx),
  };
  const controllers = ALL_CONTROLLERS.filter((c) => enabled.has(c)).map((c) => make[c]());
  out.push(...controllers);
  await factory.start();
  try {
    await Promise.all(controllers.map((c) => c.run(signal)));
  } finally {
    out.length = 0;
    await factory.stop();
  }
}

/**
 * Starts the controller-manager. With leader election (the default) the controllers run
 * only while this process holds the Lease; losing it stops them and campaigns again.
 */
export async function startControllerManager(opts: ControllerManagerOptions): Promise<RunningControllerManager> {
  validate(opts);
  const ownClient = !(opts.client instanceof RestClient);
  const client = opts.client instanceof RestClient ? opts.client : new RestClient(opts.client, { userAgent: 'kubeplane-controller-manager' });
  const stopAll = new AbortController();
  const current: Controller[] = [];
  let elector: LeaderElector | undefined;
  let done: Promise<void>;

  if (opts.leaderElect === false) {
    done = runControllers(client, opts, stopAll.signal, current);
  } else {
    const le = opts.leaderElection ?? {};
    let term: Promise<void> = Promise.resolve();
    elector = new LeaderElector(client, {
      namespace: le.namespace ?? 'kube-system',
      name: le.name ?? 'kube-controller-manager',
      identity: le.identity ?? `${hostname()}_${randomUUID()}`,
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      releaseOnCancel: true,
      callbacks: {
        onStartedLeading: (signal) => {
          log.info('Started leading');
          term = runControllers(client, opts, signal, current).catch((err) => log.error('Controllers stopped with an error', err));
        },
        onStoppedLeading: () => log.info('Stopped leading'),
        onNewLeader: (id) => log.info('New leader elected', { identity: id }),
      },
    });
    const e = elector;
    done = (async () => {
      while (!stopAll.signal.aborted) {
        await e.run(stopAll.signal);
        await term;
      }
    })();
  }
  return {
    isLeader: () => (elector ? elector.isLeader() : true),
    controllers: () => [...current],
    async stop() {
      stopAll.abort();
      await done.catch((err) => log.error('Controller-manager stopped with an error', err));
      if (ownClient) await client.close();
    },
  };
}
