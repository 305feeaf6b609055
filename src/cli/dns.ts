import type { Command } from './command.js';

// Placeholder until the dns command lands; replaced by its owner.
export const command: Command = {
  name: 'dns',
  summary: 'dns',
  usage: 'kubeplane dns [flags]',
  flags: [],
  async run() {
    process.stderr.write('kubeplane dns: not built yet\n');
    return 1;
  },
};
