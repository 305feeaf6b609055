import type { Options } from './command.js';
import { UsageError } from './command.js';

export interface Bind {
  host: string;
  port: number;
}

/** A listener flag: HOST:PORT or [V6]:PORT; "off" or "" disables it. Port 0 picks a free one unless `allowZero` is false. */
export function bindFlag(opts: Options, name: string, allowZero = true): Bind | undefined {
  const text = opts.string(name);
  if (text === '' || text === 'off') return undefined;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= (allowZero ? 0 : 1) && port < 65536)) throw new UsageError(`invalid --${name} "${text}": want HOST:PORT or "off"`);
  return { host: m[1]!, port };
}
