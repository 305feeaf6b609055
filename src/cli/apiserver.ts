import type { Command } from './command.js';

// Placeholder until the apiserver command lands; replaced by its owner.
export const command: Command = {
  name: 'apiserver',
  summary: 'apiserver',
  usage: 'kubeplane apiserver [flags]',
  flags: [],
  async run() {
    process.stderr.write('kubeplane apiserver: not built yet\n');
    return 1;
  },
};
