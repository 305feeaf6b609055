// `kubeplane up`: a one-process cluster for developers and CI. For now the API server, bound
// to 127.0.0.1 with its state in ./.kubeplane; controllers, scheduler and node agent join later.
import type { Command } from './command.js';
import { apiserverFlags, runUntilSignal, serverConfig, startServer } from './apiserver.js';

export const command: Command = {
  name: 'up',
  summary: 'Run a one-process cluster: API server, controllers, scheduler and node agent',
  usage: 'kubeplane up [--secure-port 6443] [--data-dir ./.kubeplane] [flags]',
  flags: apiserverFlags({ bindAddress: '127.0.0.1', dataDir: './.kubeplane' }),
  async run(opts) {
    const running = await startServer(serverConfig(opts));
    process.stdout.write(
      `kubeplane is up: API server on ${running.url}\n\nPoint kubectl at it:\n  export KUBECONFIG=${running.kubeconfigPath}\n  kubectl get ns\n\nPress Ctrl-C to stop.\n`,
    );
    return runUntilSignal(running);
  },
};
