import type { Command } from './command.js';

/**
 * Every `kubeplane` subcommand, loaded lazily so that `kubeplane dns` does not pay for
 * the API server's modules at start-up.
 */
export const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  up: { summary: 'Run a one-process cluster: API server, controllers, scheduler and node agent', load: async () => (await import('./up.js')).command },
  apiserver: { summary: 'Run the Kubernetes-compatible API server', load: async () => (await import('./apiserver.js')).command },
};
