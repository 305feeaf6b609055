import type { Command } from './command.js';

// Placeholder until the ingress command lands; replaced by its owner.
export const command: Command = {
  name: 'ingress',
  summary: 'ingress',
  usage: 'kubeplane ingress [flags]',
  flags: [],
  async run() {
    process.stderr.write('kubeplane ingress: not built yet\n');
    return 1;
  },
};
