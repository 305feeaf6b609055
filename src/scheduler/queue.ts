// The scheduling queue: active pods in FIFO order, unschedulable pods parked until the
// cluster changes in a way that may let them fit (not polled), and a backoff for pods
// whose binding failed.

export class SchedulingQueue {
  private readonly active: string[] = [];
  private head = 0;
  private readonly inActive = new Set<string>();
  private readonly unschedulable = new Set<string>();
  private readonly backoff = new Map<string, NodeJS.Timeout>();
  private readonly attempts = new Map<string, number>();
  private waiter: (() => void) | undefined;
  private closed = false;

  get activeLength(): number {
    return this.active.length - this.head;
  }

  get unschedulableLength(): number {
    return this.unschedulable.size;
  }

  /** A pod that may be schedulable now. */
  add(key: string): void {
    if (this.closed || this.inActive.has(key) || this.backoff.has(key)) return;
    this.unschedulable.delete(key);
    this.inActive.add(key);
    this.active.push(key);
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Parks a pod that fits no node until moveAllToActive. */
  addUnschedulable(key: string): void {
    if (this.closed) return;
    this.unschedulable.add(key);
  }

  /** Retries a pod after an error, with per-pod exponential backoff (1s..10s as kube-scheduler). */
  addBackoff(key: string): void {
    if (this.closed || this.backoff.has(key)) return;
    const n = this.attempts.get(key) ?? 0;
    this.attempts.set(key, n + 1);
    const t = setTimeout(() => {
      this.backoff.delete(key);
      this.add(key);
    }, Math.min(10_000, 1000 * 2 ** n));
    this.backoff.set(key, t);
  }

  /** Something changed (a node, a freed pod): every parked pod gets another try. */
  moveAllToActive(): void {
    for (const k of [...this.unschedulable]) this.add(k);
  }

  isUnschedulable(key: string): boolean {
    return this.unschedulable.has(key);
  }

  /** Forgets a pod (deleted, or bound by someone else). */
  delete(key: string): void {
    this.unschedulable.delete(key);
    this.attempts.delete(key);
    const t = this.backoff.get(key);
    if (t) clearTimeout(t);
    this.backoff.delete(key);
    // Left in `active`; pop() skips keys no longer in inActive.
    this.inActive.delete(key);
  }

  /** Clears the retry history after a successful binding. */
  succeeded(key: string): void {
    this.attempts.delete(key);
  }

  /** The next active pod, or undefined once closed. */
  async pop(): Promise<string | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      while (this.head < this.active.length) {
        const k = this.active[this.head++]!;
        if (this.head > 1024 && this.head * 2 > this.active.length) {
          this.active.splice(0, this.head);
          this.head = 0;
        }
        if (this.inActive.delete(k)) return k;
      }
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.backoff.values()) clearTimeout(t);
    this.backoff.clear();
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
