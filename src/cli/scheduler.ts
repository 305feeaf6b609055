// `kubeplane scheduler`: schedules pods without a node, with kube-scheduler's default
// plugins and flag names; optionally registers simulated nodes (like kwok) for pods to run on.

import type { Command, Options } from './command.js';
import { UsageError } from './command.js';
import type { FlagSpec } from './flags.js';
import { clientAndLeaderFlags, clientConfigFrom, leaderElectionFrom, untilSignal } from './controller-manager.js';

const flags: FlagSpec[] = [
  ...clientAndLeaderFlags('kube-scheduler'),
  { name: 'scheduler-name', type: 'string', default: 'default-scheduler', help: 'schedule pods whose spec.schedulerName is this' },
  { name: 'simulated-nodes', type: 'int', default: 0, help: 'also register this many simulated nodes and run the pods bound to them (as kwok does)' },
  { name: 'simulated-node-prefix', type: 'string', default: 'kubeplane-sim-', help: 'name prefix of the simulated nodes' },
  { name: 'simulated-node-capacity', type: 'list', default: ['cpu=32', 'memory=256Gi', 'pods=110'], help: 'capacity of each simulated node, as resource=quantity pairs' },
];

function capacityFrom(opts: Options): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of opts.list('simulated-node-capacity')) {
    const [k, v, extra] = pair.split('=');
    if (!k || !v || extra !== undefined || !/^[0-9.]+([numkMGTPE]i?|[eE]\d+)?$/.test(v)) throw new UsageError(`invalid --simulated-node-capacity "${pair}": want resource=quantity, e.g. cpu=4`);
    out[k] = v;
  }
  return out;
}

export const command: Command = {
  name: 'scheduler',
  summary: 'Assign pods to nodes, as kube-scheduler does with its default plugins',
  usage: 'kubeplane scheduler [--kubeconfig FILE] [--leader-elect=true] [--simulated-nodes N] [flags]',
  flags,
  async run(opts: Options, args: string[]): Promise<number> {
    if (args.length > 0) throw new UsageError(`unknown argument "${args[0]}"`);
    const n = opts.int('simulated-nodes');
    if (n < 0) throw new UsageError(`invalid --simulated-nodes ${n}: must be 0 or more`);
    const capacity = capacityFrom(opts);
    const client = clientConfigFrom(opts);
    const leaderElection = leaderElectionFrom(opts);
    const { startScheduler } = await import('../scheduler/setup.js');
    const scheduler = await startScheduler({ client, schedulerName: opts.string('scheduler-name'), leaderElect: opts.bool('leader-elect'), leaderElection });
    let nodes: { stop(): Promise<void> } | undefined;
    if (n > 0) {
      const { startSimulatedNodes } = await import('../node/simulated.js');
      nodes = await startSimulatedNodes({ client, nodes: n, namePrefix: opts.string('simulated-node-prefix'), capacity });
    }
    await untilSignal();
    await nodes?.stop();
    await scheduler.stop();
    return 0;
  },
};
