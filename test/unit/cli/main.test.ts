import { describe, expect, it } from 'vitest';
import { runKubeplane } from '../../helpers/cli.js';
import { commands } from '../../../src/cli/commands.js';

describe('kubeplane command line', () => {
  it('lists every subcommand in --help', async () => {
    const r = await runKubeplane(['--help']);
    expect(r.code).toBe(0);
    for (const name of Object.keys(commands)) expect(r.stdout).toContain(name);
  });

  it('rejects an unknown command with exit code 2', async () => {
    const r = await runKubeplane(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  it.each(Object.keys(commands))('%s: --help works and a bad flag is one clear line with exit code 2', async (name) => {
    const help = await runKubeplane([name, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`kubeplane ${name}`);
    const bad = await runKubeplane([name, '--no-such-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe('Error: unknown flag: --no-such-flag');
  });
});
