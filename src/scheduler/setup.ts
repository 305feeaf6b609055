// Starts the scheduler, under a kube-scheduler Lease unless told otherwise.

import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ApiInformerFactory } from '../client/api-informers.js';
import type { ClientConfig } from '../client/config.js';
import { LeaderElector } from '../client/leaderelection.js';
import { RestClient } from '../client/rest.js';
import { logger } from '../observability/log.js';
import type { LeaderElectionOptions } from '../controllers/manager.js';
import { SchedulerRuntime, type SchedulerRuntimeOptions, type SchedulerStats } from './runtime.js';

const log = logger('scheduler');

export interface SchedulerOptions extends SchedulerRuntimeOptions {
  client: RestClient | ClientConfig;
  /** default true */
  leaderElect?: boolean;
  leaderElection?: LeaderElectionOptions;
}

export interface RunningScheduler {
  isLeader(): boolean;
  stats(): SchedulerStats;
  stop(): Promise<void>;
}

export async function startScheduler(opts: SchedulerOptions): Promise<RunningScheduler> {
  const ownClient = !(opts.client instanceof RestClient);
  const client = opts.client instanceof RestClient ? opts.client : new RestClient(opts.client, { userAgent: 'kubeplane-scheduler' });
  const stopAll = new AbortController();
  let runtime: SchedulerRuntime | undefined;
  const total: SchedulerStats = { scheduled: 0, unschedulable: 0, bindErrors: 0 };

  const term = async (signal: AbortSignal) => {
    const factory = new ApiInformerFactory(client);
    const rt = new SchedulerRuntime(client, factory, opts);
    runtime = rt;
    await factory.start();
    try {
      await rt.run(signal);
    } finally {
      await factory.stop();
      total.scheduled += rt.stats.scheduled;
      total.unschedulable += rt.stats.unschedulable;
      total.bindErrors += rt.stats.bindErrors;
      runtime = undefined;
    }
  };

  let elector: LeaderElector | undefined;
  let done: Promise<void>;
  if (opts.leaderElect === false) done = term(stopAll.signal);
  else {
    const le = opts.leaderElection ?? {};
    let current: Promise<void> = Promise.resolve();
    const e = (elector = new LeaderElector(client, {
      namespace: le.namespace ?? 'kube-system',
      name: le.name ?? 'kube-scheduler',
      identity: le.identity ?? `${hostname()}_${randomUUID()}`,
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      releaseOnCancel: true,
      callbacks: {
        onStartedLeading: (signal) => {
          log.info('Started leading');
          current = term(signal).catch((err) => log.error('Scheduler stopped with an error', err));
        },
        onNewLeader: (id) => log.info('New leader elected', { identity: id }),
      },
    }));
    done = (async () => {
      while (!stopAll.signal.aborted) {
        await e.run(stopAll.signal);
        await current;
      }
    })();
  }
  return {
    isLeader: () => (elector ? elector.isLeader() : true),
    stats: () => {
      const rt = runtime?.stats;
      return rt ? { scheduled: total.scheduled + rt.scheduled, unschedulable: total.unschedulable + rt.unschedulable, bindErrors: total.bindErrors + rt.bindErrors } : { ...total };
    },
    async stop() {
      stopAll.abort();
      await done.catch((err) => log.error('Scheduler stopped with an error', err));
      if (ownClient) await client.close();
    },
  };
}
