// Flag parsing for every subcommand. Flags follow pflag/kube-* conventions:
// `--name=value`, `--name value`, `--bool`, `--bool=false`; `-v=N` is klog's verbosity.

export type FlagType = 'string' | 'int' | 'bool' | 'duration' | 'list';
export type FlagValue = string | number | boolean | string[];

export interface FlagSpec {
  name: string;
  type: FlagType;
  help: string;
  default?: FlagValue;
  /** one-letter alias, e.g. `v` for `-v` */
  short?: string;
}

export interface ParsedFlags {
  values: Record<string, FlagValue | undefined>;
  /** names of flags the user set explicitly */
  set: Set<string>;
  args: string[];
}

/** A user error in the command line: printed as one line, exit code 2. */
export class FlagError extends Error {
  override name = 'FlagError';
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration ("1s", "1m30s", "500ms") into milliseconds. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new Error(`invalid duration "${text}"`);
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos === 0) throw new Error(`invalid duration "${text}"`);
  return total;
}

function convert(spec: FlagSpec, raw: string): FlagValue {
  switch (spec.type) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw)) throw new FlagError(`invalid argument "${raw}" for "--${spec.name}" flag: not an integer`);
      return Number(raw);
    }
    case 'bool': {
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new FlagError(`invalid argument "${raw}" for "--${spec.name}" flag: not a boolean`);
    }
    case 'duration':
      try {
        return parseDuration(raw);
      } catch {
        throw new FlagError(`invalid argument "${raw}" for "--${spec.name}" flag: invalid duration`);
      }
    case 'list':
      return raw === '' ? [] : raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }
}

export function parseFlags(specs: readonly FlagSpec[], argv: readonly string[]): ParsedFlags {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    if (s.short) byName.set(s.short, s);
  }
  const values: Record<string, FlagValue | undefined> = {};
  for (const s of specs) values[s.name] = s.default;
  const set = new Set<string>();
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = byName.get(name);
    if (!spec) throw new FlagError(`unknown flag: ${a.startsWith('--') ? '--' : '-'}${name}`);
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (spec.type === 'bool') raw = 'true';
    else {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: --${spec.name}`);
      raw = argv[++i]!;
    }
    const v = convert(spec, raw);
    // Repeated list flags accumulate, as pflag's StringSlice does.
    if (spec.type === 'list' && set.has(spec.name)) values[spec.name] = [...(values[spec.name] as string[]), ...(v as string[])];
    else values[spec.name] = v;
    set.add(spec.name);
  }
  return { values, set, args };
}

export function formatHelp(usage: string, summary: string, specs: readonly FlagSpec[]): string {
  const lines = [summary, '', `Usage:\n  ${usage}`, '', 'Flags:'];
  const rows = specs.map((s) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'bool' ? '' : ` ${s.type}`}`;
    const def =
      s.default === undefined || s.default === '' || (Array.isArray(s.default) && s.default.length === 0)
        ? ''
        : ` (default ${JSON.stringify(s.default)})`;
    return [left, s.help + def] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length), 10) + 3;
  for (const [l, r] of rows) lines.push(`  ${l.padEnd(width)}${r}`);
  lines.push(`  ${'-h, --help'.padEnd(width)}help for this command`);
  return lines.join('\n') + '\n';
}
