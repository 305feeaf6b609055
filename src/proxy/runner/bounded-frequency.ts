/**
 * Runs a function at most once per `minIntervalMs` (start to start, as kube-proxy's
 * BoundedFrequencyRunner) and at least once per `maxIntervalMs`; requests during a run
 * coalesce into one follow-up run.
 */
export class BoundedFrequencyRunner {
  private running = false;
  private pending = false;
  private lastStart = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private periodic: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly fn: (periodic: boolean) => Promise<void>,
    private readonly minIntervalMs: number,
    private readonly maxIntervalMs: number,
  ) {}

  start(): void {
    this.armPeriodic();
    this.run();
  }

  private armPeriodic(): void {
    clearTimeout(this.periodic);
    if (this.maxIntervalMs > 0 && !this.stopped) this.periodic = setTimeout(() => this.fire(true), this.maxIntervalMs);
  }

  /** Asks for a run as soon as the minimum interval allows. */
  run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.pending = true;
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.lastStart + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => this.fire(false), wait);
  }

  /** Schedules a run after `ms` (after a failure), unless one comes sooner. */
  retryAfter(ms: number): void {
    if (this.stopped) return;
    setTimeout(() => this.run(), ms).unref();
  }

  private fire(periodic: boolean): void {
    this.timer = undefined;
    if (this.running) {
      this.pending = true;
      return;
    }
    this.running = true;
    this.lastStart = Date.now();
    this.armPeriodic();
    this.fn(periodic)
      .catch(() => undefined)
      .finally(() => {
        this.running = false;
        if (this.pending) {
          this.pending = false;
          this.run();
        }
      });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.periodic);
  }
}
