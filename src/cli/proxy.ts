import type { Command } from './command.js';

// Placeholder until the proxy command lands; replaced by its owner.
export const command: Command = {
  name: 'proxy',
  summary: 'proxy',
  usage: 'kubeplane proxy [flags]',
  flags: [],
  async run() {
    process.stderr.write('kubeplane proxy: not built yet\n');
    return 1;
  },
};
