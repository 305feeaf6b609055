// One line per event: klog's text header by default, JSON with --logging-format=json.

export type LogFormat = 'text' | 'json';
type Severity = 'I' | 'W' | 'E';

interface LogConfig {
  verbosity: number;
  format: LogFormat;
  write: (line: string) => void;
}

const config: LogConfig = {
  verbosity: 0,
  format: 'text',
  write: (line) => process.stderr.write(line),
};

export function configureLogging(opts: Partial<LogConfig>): void {
  Object.assign(config, opts);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function klogHeader(sev: Severity, component: string): string {
  const d = new Date();
  const us = pad(d.getUTCMilliseconds(), 3) + '000';
  return `${sev}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${us} ${String(process.pid).padStart(7)} ${component}]`;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v) ?? 'undefined';
}

function emit(sev: Severity, level: number, component: string, msg: string, kv: Record<string, unknown>): void {
  if (config.format === 'json') {
    const rec: Record<string, unknown> = { ts: Date.now() / 1000, caller: component, msg };
    if (sev === 'E') rec.err = kv.err instanceof Error ? kv.err.message : kv.err;
    else rec.v = level;
    for (const [k, v] of Object.entries(kv)) if (!(sev === 'E' && k === 'err')) rec[k] = v instanceof Error ? v.message : v;
    config.write(JSON.stringify(rec) + '\n');
    return;
  }
  let line = `${klogHeader(sev, component)} ${JSON.stringify(msg)}`;
  for (const [k, v] of Object.entries(kv)) line += ` ${k}=${formatValue(v)}`;
  config.write(line + '\n');
}

/** A structured logger scoped to one component, in klog's `InfoS`/`ErrorS` style. */
export class Logger {
  constructor(readonly component: string) {}
  info(msg: string, kv: Record<string, unknown> = {}): void {
    emit('I', 0, this.component, msg, kv);
  }
  /** Logged only at `-v=level` or higher. */
  v(level: number, msg: string, kv: Record<string, unknown> = {}): void {
    if (config.verbosity >= level) emit('I', level, this.component, msg, kv);
  }
  enabled(level: number): boolean {
    return config.verbosity >= level;
  }
  warn(msg: string, kv: Record<string, unknown> = {}): void {
    emit('W', 0, this.component, msg, kv);
  }
  error(msg: string, err?: unknown, kv: Record<string, unknown> = {}): void {
    emit('E', 0, this.component, msg, err === undefined ? kv : { err, ...kv });
  }
}

export function logger(component: string): Logger {
  return new Logger(component);
}
