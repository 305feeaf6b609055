import type { Lease } from '../api/types.js';
import { resourceFor } from '../api/resources.js';
import { isAlreadyExists, isConflict, isNotFound } from './errors.js';
import type { RestClient } from './rest.js';
import { logger } from '../observability/log.js';

const log = logger('leaderelection');
const leases = resourceFor('coordination.k8s.io', 'leases')!;

/** client-go's JitterFactor for the retry period. */
const JITTER_FACTOR = 1.2;

export interface LeaderElectionCallbacks {
  /** Called when this process becomes leader; `signal` aborts when it stops being leader. */
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading?(): void;
  /** Called when the observed leader changes (including to ourselves). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  /** how long a non-leader waits after the last observed renewal before taking over (client-go default 15s) */
  leaseDurationMs?: number;
  /** how long the leader keeps retrying a renewal before giving up leadership (default 10s) */
  renewDeadlineMs?: number;
  /** between attempts to acquire or renew (default 2s) */
  retryPeriodMs?: number;
  /** clear the holder on stop so a successor need not wait out the lease */
  releaseOnCancel?: boolean;
  callbacks: LeaderElectionCallbacks;
}

export class LeaderElectionConfigError extends Error {
  override name = 'LeaderElectionConfigError';
}

/** metav1.MicroTime as Go marshals it: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection package
 * does it: optimistic-concurrency updates of holderIdentity/renewTime, and expiry judged
 * by our own clock from when we last saw the record change (never by comparing our clock
 * with the holder's timestamps, which may be skewed).
 */
export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observedRecord = '';
  private observedTime = 0;
  private observedLease: Lease | undefined;
  private reportedLeader = '';
  private leading = false;

  constructor(
    private readonly client: RestClient,
    private readonly config: LeaderElectionConfig,
  ) {
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new LeaderElectionConfigError('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= JITTER_FACTOR * this.retryPeriodMs) throw new LeaderElectionConfigError(`renewDeadline must be greater than retryPeriod*JitterFactor`);
    if (this.retryPeriodMs < 1) throw new LeaderElectionConfigError('retryPeriod must be greater than zero');
    if (!config.identity) throw new LeaderElectionConfigError('Lock identity is empty');
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The identity in the lease as last observed ('' when none). */
  getLeader(): string {
    return this.observedLease?.spec.holderIdentity ?? '';
  }

  /**
   * Campaigns until leader, leads until the lease cannot be renewed within renewDeadline
   * or `signal` aborts, then returns. Run it again to campaign again.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (!(await this.acquire(signal))) return;
    const leaderAbort = new AbortController();
    this.leading = true;
    try {
      this.config.callbacks.onStartedLeading(leaderAbort.signal);
    } catch (err) {
      log.error('onStartedLeading failed', err);
    }
    try {
      await this.renewLoop(signal);
    } finally {
      this.leading = false;
      leaderAbort.abort();
      if (signal.aborted && this.config.releaseOnCancel) await this.release();
      this.config.callbacks.onStoppedLeading?.();
    }
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    const lease = `${this.config.namespace}/${this.config.name}`;
    log.info('Attempting to acquire leader lease', { lease });
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) {
        log.info('Successfully acquired lease', { lease });
        return true;
      }
      await sleep(this.retryPeriodMs * (1 + Math.random() * (JITTER_FACTOR - 1)), signal);
    }
    return false;
  }

  private async renewLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.retryPeriodMs, signal);
      if (signal.aborted) return;
      const deadline = Date.now() + this.renewDeadlineMs;
      let renewed = false;
      while (!signal.aborted && Date.now() < deadline) {
        if (await this.tryAcquireOrRenew(deadline - Date.now())) {
          renewed = true;
          break;
        }
        await sleep(Math.min(this.retryPeriodMs, Math.max(0, deadline - Date.now())), signal);
      }
      if (!renewed && !signal.aborted) {
        log.info('Failed to renew lease, giving up leadership', { lease: `${this.config.namespace}/${this.config.name}` });
        return;
      }
    }
  }

  /** One attempt; false when someone else holds a live lease or the write failed. */
  private async tryAcquireOrRenew(timeoutMs = this.retryPeriodMs * 5): Promise<boolean> {
    const now = Date.now();
    const { namespace, name, identity } = this.config;
    const spec = (acquireTime: string, transitions: number): Lease['spec'] => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime,
      renewTime: microTime(now),
      leaseTransitions: transitions,
    });
    let current: Lease;
    try {
      current = await this.client.get<Lease>(leases, name, { namespace, timeoutMs });
    } catch (err) {
      if (!isNotFound(err)) {
        log.error('Error retrieving lease', err, { lease: `${namespace}/${name}` });
        return false;
      }
      try {
        const created = await this.client.create<Lease>(leases, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: spec(microTime(now), 0) }, { timeoutMs });
        this.observe(created, Date.now());
        return true;
      } catch (e) {
        if (!isAlreadyExists(e)) log.error('Error creating lease', e, { lease: `${namespace}/${name}` });
        return false;
      }
    }

    this.observe(current, now);
    const holder = current.spec?.holderIdentity ?? '';
    const iAmHolder = holder === identity;
    if (holder !== '' && !iAmHolder && this.observedTime + this.leaseDurationMs > now) return false;

    const next: Lease = {
      ...current,
      spec: iAmHolder
        ? spec(current.spec.acquireTime ?? microTime(now), current.spec.leaseTransitions ?? 0)
        : spec(microTime(now), (current.spec?.leaseTransitions ?? 0) + 1),
    };
    try {
      const updated = await this.client.update<Lease>(leases, next, { timeoutMs });
      this.observe(updated, Date.now());
      return true;
    } catch (err) {
      if (!isConflict(err)) log.error('Error updating lease', err, { lease: `${namespace}/${name}` });
      return false;
    }
  }

  private observe(lease: Lease, now: number): void {
    const record = JSON.stringify(lease.spec ?? {});
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedTime = now;
    }
    this.observedLease = lease;
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      if (holder) this.config.callbacks.onNewLeader?.(holder);
    }
  }

  /** Gives the lease up so a successor can take it at once (client-go's ReleaseOnCancel). */
  private async release(): Promise<void> {
    const lease = this.observedLease;
    if (!lease || lease.spec?.holderIdentity !== this.config.identity) return;
    const now = microTime(Date.now());
    try {
      const released = await this.client.update<Lease>(leases, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
      }, { timeoutMs: this.retryPeriodMs * 5 });
      this.observe(released, Date.now());
      log.info('Released leader lease', { lease: `${this.config.namespace}/${this.config.name}` });
    } catch (err) {
      log.error('Failed to release lease', err, { lease: `${this.config.namespace}/${this.config.name}` });
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
