#!/usr/bin/env node
import { commands } from './commands.js';
import { commonFlags, Options, UsageError } from './command.js';
import { FlagError, formatHelp, parseFlags } from './flags.js';
import { configureLogging } from '../observability/log.js';

function topLevelHelp(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length)) + 3;
  const lines = [
    'kubeplane: the Kubernetes service-networking data plane and the smallest control plane it needs',
    '',
    'Usage:\n  kubeplane <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}${c.summary}`),
    '',
    'Use "kubeplane <command> --help" for more information about a command.',
  ];
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topLevelHelp());
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`Error: unknown command "${name}" for "kubeplane"\nRun 'kubeplane --help' for usage.\n`);
    return 2;
  }
  const command = await entry.load();
  const specs = [...command.flags, ...commonFlags];
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(formatHelp(command.usage, command.summary, specs));
    return 0;
  }
  let parsed;
  try {
    parsed = parseFlags(specs, rest);
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`Error: ${err.message}\nRun 'kubeplane ${name} --help' for usage.\n`);
      return 2;
    }
    throw err;
  }
  const opts = new Options(parsed.values, parsed.set);
  const format = opts.string('logging-format');
  if (format !== 'text' && format !== 'json') {
    process.stderr.write(`Error: invalid argument "${format}" for "--logging-format" flag: must be text or json\n`);
    return 2;
  }
  configureLogging({ verbosity: opts.int('v'), format });
  try {
    return await command.run(opts, parsed.args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`Error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`Error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
