import type { Command } from './command.js';

// Placeholder until the up command lands; replaced by its owner.
export const command: Command = {
  name: 'up',
  summary: 'up',
  usage: 'kubeplane up [flags]',
  flags: [],
  async run() {
    process.stderr.write('kubeplane up: not built yet\n');
    return 1;
  },
};
