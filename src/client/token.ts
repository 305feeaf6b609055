import { readFileSync } from 'node:fs';
import { logger } from '../observability/log.js';

const log = logger('client');

/** client-go re-reads a bearer token file once a minute so rotated service account tokens are picked up. */
export const DEFAULT_TOKEN_REFRESH_MS = 60_000;

/**
 * A bearer token read from a file and re-read when it is older than the refresh period.
 * A failed re-read keeps the last good token: kubelet rewrites the file atomically, but a
 * transient error must not turn every request into a 401.
 */
export class TokenSource {
  private cached: string | undefined;
  private readAt = 0;

  constructor(
    readonly path: string,
    readonly refreshMs: number = DEFAULT_TOKEN_REFRESH_MS,
    private readonly now: () => number = Date.now,
  ) {}

  token(): string {
    const now = this.now();
    if (this.cached !== undefined && now - this.readAt < this.refreshMs) return this.cached;
    try {
      const t = readFileSync(this.path, 'utf8').trim();
      if (t === '') throw new Error('the file is empty');
      this.cached = t;
      this.readAt = now;
    } catch (err) {
      if (this.cached === undefined) throw new Error(`cannot read token file ${this.path}: ${(err as Error).message}`);
      log.warn('Failed to re-read token file, keeping the previous token', { path: this.path, err: (err as Error).message });
      // try again soon rather than after a full period
      this.readAt = now - this.refreshMs + Math.min(this.refreshMs, 5_000);
    }
    return this.cached;
  }
}
