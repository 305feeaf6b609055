// Errors of the proxy's apply step, each with a stable code.

export class RestoreError extends Error {
  override name = 'RestoreError';
  readonly code = 'KP_RESTORE_FAILED';
  constructor(
    readonly program: string,
    message: string,
    /** 1-based line of the payload the program rejected, when it said so */
    readonly line: number | undefined,
    /** the payload lines around `line` */
    readonly context: string | undefined,
  ) {
    super(message);
  }
}

/** The payload lines around `line` (1-based), numbered, for the failure log. */
export function linesAround(payload: string, line: number, radius = 3): string {
  const lines = payload.split('\n');
  const from = Math.max(1, line - radius);
  const to = Math.min(lines.length, line + radius);
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(`${i === line ? '>' : ' '}${String(i).padStart(6)}: ${lines[i - 1]}`);
  return out.join('\n');
}
