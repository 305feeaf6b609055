import type { FlagSpec, FlagValue } from './flags.js';

/** The flags of one command after parsing, with typed getters. */
export class Options {
  constructor(
    private readonly values: Record<string, FlagValue | undefined>,
    readonly explicitlySet: ReadonlySet<string>,
  ) {}
  string(name: string): string {
    const v = this.values[name];
    return v === undefined ? '' : String(v);
  }
  optionalString(name: string): string | undefined {
    const v = this.values[name];
    return v === undefined || v === '' ? undefined : String(v);
  }
  int(name: string): number {
    return Number(this.values[name] ?? 0);
  }
  bool(name: string): boolean {
    return this.values[name] === true;
  }
  /** milliseconds */
  duration(name: string): number {
    return Number(this.values[name] ?? 0);
  }
  list(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v : [];
  }
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  /** Returns the process exit code; long-running commands resolve when stopped. */
  run(opts: Options, args: string[]): Promise<number>;
}

/** Flags every command accepts, as klog/component-base define them. */
export const commonFlags: FlagSpec[] = [
  { name: 'v', short: 'v', type: 'int', default: 0, help: 'number for the log level verbosity' },
  { name: 'logging-format', type: 'string', default: 'text', help: 'log format: text (klog) or json' },
];

/** Thrown by a command for a user error detected after flag parsing (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}
