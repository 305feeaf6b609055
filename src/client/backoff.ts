/**
 * Exponential backoff with jitter and a cap, as client-go's reflector uses it
 * (800ms initial, doubling, 30s cap, full jitter on top, reset after a quiet period):
 * many clients that lost the same server do not all come back in the same instant.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** each delay is d + random·jitter·d, then capped */
  jitter?: number;
  /** after this long without a failure, start again from initialMs */
  resetAfterMs?: number;
  random?: () => number;
  now?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly resetAfterMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private current: number;
  private lastFailure = -Infinity;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 800;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 1;
    this.resetAfterMs = opts.resetAfterMs ?? 120_000;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.current = this.initialMs;
  }

  /** The delay before the next attempt after a failure. */
  next(): number {
    const now = this.now();
    if (now - this.lastFailure > this.resetAfterMs) this.current = this.initialMs;
    this.lastFailure = now;
    const base = this.current;
    this.current = Math.min(this.current * this.factor, this.maxMs);
    return Math.min(base + this.random() * this.jitter * base, this.maxMs);
  }

  reset(): void {
    this.current = this.initialMs;
    this.lastFailure = -Infinity;
  }
}
