// The distributed store: etcd v3 through the `etcd3` package's raw gRPC clients (KV and Watch).
// The mapping is the one kube-apiserver uses: keys as given (`/registry/...`), resourceVersion =
// mod_revision, conditional writes as Txn(If mod_revision(key) == rev, Then ..., Else Range),
// one Watch stream per watcher with prev_kv and progress notifications, and compaction through
// Compact plus the `compact_rev_key` record that kube-apiserver's compactor also keeps, so the
// compacted revision can be reported without probing.

import etcd3 from 'etcd3';
import type { IKeyValue, IRequestOp, IWatchRequest, IWatchResponse, ITxnResponse } from 'etcd3';
import {
  StorageError,
  type Compare,
  type KeyValue,
  type Op,
  type RangeOptions,
  type RangeResult,
  type Store,
  type TxnResult,
  type WatchCallbacks,
  type WatchEvent,
  type Watcher,
} from './interface.js';
import { checkKey, prefixEnd, rangeStart } from './keys.js';
import { WatchDelivery, defaultDeliveryOptions, type DeliveryOptions } from './watch-delivery.js';
import { logger } from '../../observability/log.js';

const log = logger('storage');

export interface EtcdStoreOptions {
  /** client URLs, e.g. http://127.0.0.1:2379 */
  endpoints: string[];
  tls?: {
    /** PEM CA bundle that signed the etcd server certificates */
    ca: Buffer | string;
    /** PEM client certificate and key, for etcd's --client-cert-auth */
    cert?: Buffer | string;
    key?: Buffer | string;
  };
  /** per-request deadline in ms (default 10 s) */
  requestTimeout?: number;
  /** per-watcher queue bounds */
  watch?: Partial<DeliveryOptions>;
}

/** The key kube-apiserver's compactor keeps the last compacted revision in. */
export const compactRevKey = 'compact_rev_key';

const buf = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s) : s);

function kvOf(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}

type FaultPolicy = NonNullable<NonNullable<ConstructorParameters<typeof etcd3.Etcd3>[0]>['faultHandling']>['global'];
const passThroughPolicy = {
  execute: (fn: (ctx: { signal: AbortSignal }) => unknown) => Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
} as unknown as NonNullable<FaultPolicy>;

export async function openEtcdStore(opts: EtcdStoreOptions): Promise<Store> {
  if (opts.endpoints.length === 0) throw new StorageError('Internal', 'no etcd endpoints given');
  for (const e of opts.endpoints) {
    if (!/^https?:\/\//.test(e)) throw new StorageError('Internal', `etcd endpoint ${JSON.stringify(e)} must start with http:// or https://`);
  }
  const timeout = opts.requestTimeout ?? 10_000;
  const client = new etcd3.Etcd3({
    hosts: opts.endpoints,
    dialTimeout: timeout,
    ...(opts.tls
      ? {
          credentials: {
            rootCertificate: buf(opts.tls.ca),
            ...(opts.tls.key ? { privateKey: buf(opts.tls.key) } : {}),
            ...(opts.tls.cert ? { certChain: buf(opts.tls.cert) } : {}),
          },
        }
      : {}),
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    // No client-side retries or circuit breakers: a retried txn whose first attempt did commit
    // would report a false Conflict, and a breaker opened by NoSpace answers would turn reads
    // into errors too. Callers see every failure as it is and decide (as kube-apiserver does).
    faultHandling: { global: passThroughPolicy, host: () => passThroughPolicy },
  });
  const store = new EtcdStore(client, { ...defaultDeliveryOptions, ...opts.watch });
  try {
    await store.currentRevision();
  } catch (err) {
    client.close();
    throw err;
  }
  return store;
}

class EtcdStore implements Store {
  private closed = false;
  private readonly watchers = new Set<(err: StorageError) => void>();

  constructor(
    private readonly client: InstanceType<typeof etcd3.Etcd3>,
    private readonly deliveryOpts: DeliveryOptions,
  ) {}

  /** Maps etcd and gRPC failures onto the store's codes. */
  private async fail(err: unknown, what: string): Promise<never> {
    if (err instanceof StorageError) throw err;
    const msg = (err as Error)?.message ?? String(err);
    if (/required revision has been compacted/.test(msg)) {
      const compactedRevision = await this.compactedRevision().catch(() => undefined);
      throw new StorageError('Compacted', `${what}: ${msg}`, compactedRevision !== undefined ? { compactedRevision } : undefined);
    }
    if (/required revision is a future revision/.test(msg)) throw new StorageError('FutureRevision', `${what}: ${msg}`);
    if (/database space exceeded|no space/i.test(msg)) {
      log.error('etcd refuses writes: database space exceeded (raise --quota-backend-bytes, compact and defragment, then disarm the NOSPACE alarm)', err);
      throw new StorageError('NoSpace', `${what}: ${msg}`);
    }
    if (
      err instanceof etcd3.GRPCUnavailableError ||
      err instanceof etcd3.GRPCDeadlineExceededError ||
      err instanceof etcd3.GRPCCancelledError ||
      err instanceof etcd3.ClientClosedError ||
      /unavailable|deadline|connect|no connection|leader|circuit breaker|ECONNREFUSED|closed/i.test(msg)
    ) {
      throw new StorageError('Unavailable', `${what}: ${msg}`);
    }
    throw new StorageError('Internal', `${what}: ${msg}`);
  }

  private ensureOpen(): void {
    if (this.closed) throw new StorageError('Unavailable', 'store is closed');
  }

  async currentRevision(): Promise<number> {
    this.ensureOpen();
    try {
      const r = await this.client.kv.range({ key: Buffer.from(compactRevKey), count_only: true });
      return Number(r.header.revision);
    } catch (err) {
      return this.fail(err, 'current revision');
    }
  }

  async compactedRevision(): Promise<number> {
    this.ensureOpen();
    try {
      const r = await this.client.kv.range({ key: Buffer.from(compactRevKey) });
      const kv = r.kvs[0];
      return kv ? Number(kv.value.toString()) || 0 : 0;
    } catch (err) {
      return this.fail(err, 'compacted revision');
    }
  }

  async get(key: string, opts: { revision?: number } = {}): Promise<{ kv: KeyValue | undefined; revision: number }> {
    this.ensureOpen();
    checkKey(key);
    try {
      const r = await this.client.kv.range({ key: Buffer.from(key), ...(opts.revision ? { revision: opts.revision } : {}) });
      const revision = opts.revision && opts.revision > 0 ? opts.revision : Number(r.header.revision);
      return { kv: r.kvs[0] ? kvOf(r.kvs[0]) : undefined, revision };
    } catch (err) {
      return this.fail(err, `get ${key}`);
    }
  }

  async range(prefix: string, opts: RangeOptions = {}): Promise<RangeResult> {
    this.ensureOpen();
    const end = prefixEnd(prefix);
    const start = rangeStart(prefix, opts.startKey);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    try {
      const r = await this.client.kv.range({
        key: Buffer.from(start),
        range_end: Buffer.from(end),
        ...(limit ? { limit } : {}),
        ...(opts.revision && opts.revision > 0 ? { revision: opts.revision } : {}),
      });
      const kvs = r.kvs.map(kvOf);
      const revision = opts.revision && opts.revision > 0 ? opts.revision : Number(r.header.revision);
      // etcd's count is every key in [start, end), returned or not
      return { kvs, revision, more: r.more, remaining: Number(r.count) - kvs.length };
    } catch (err) {
      return this.fail(err, `range ${prefix}`);
    }
  }

  async count(prefix: string): Promise<number> {
    this.ensureOpen();
    try {
      const r = await this.client.kv.range({ key: Buffer.from(prefix), range_end: Buffer.from(prefixEnd(prefix)), count_only: true });
      return Number(r.count);
    } catch (err) {
      return this.fail(err, `count ${prefix}`);
    }
  }

  private async rawTxn(compares: Compare[], success: IRequestOp[], failure: IRequestOp[], what: string): Promise<ITxnResponse> {
    this.ensureOpen();
    try {
      return await this.client.kv.txn({
        compare: compares.map((c) => ({ key: Buffer.from(c.key), target: 'Mod', result: 'Equal', mod_revision: c.modRevision })),
        success,
        failure,
      });
    } catch (err) {
      return this.fail(err, what);
    }
  }

  /** The failure branch of a conditional write reads the key, to tell NotFound from Conflict. */
  private conditionFailed(key: string, expected: number, r: ITxnResponse): StorageError {
    const current = r.responses[0]?.response_range?.kvs[0];
    const currentRevision = Number(r.header.revision);
    if (!current) return new StorageError('NotFound', `key ${key} not found`, { currentRevision });
    const kv = kvOf(current);
    return new StorageError('Conflict', `key ${key} was modified: modRevision is ${kv.modRevision}, expected ${expected}`, { current: kv, currentRevision });
  }

  async create(key: string, value: string): Promise<KeyValue> {
    checkKey(key);
    const r = await this.rawTxn([{ key, modRevision: 0 }], [{ request_put: { key: Buffer.from(key), value: Buffer.from(value) } }], [], `create ${key}`);
    const rev = Number(r.header.revision);
    if (!r.succeeded) throw new StorageError('KeyExists', `key ${key} already exists`, { currentRevision: rev });
    return { key, value, createRevision: rev, modRevision: rev };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    checkKey(key);
    if (!(expectedModRevision > 0)) throw new StorageError('Internal', `update of ${key} needs the object's modRevision`);
    const r = await this.rawTxn(
      [{ key, modRevision: expectedModRevision }],
      [{ request_put: { key: Buffer.from(key), value: Buffer.from(value), prev_kv: true } }],
      [{ request_range: { key: Buffer.from(key) } }],
      `update ${key}`,
    );
    if (!r.succeeded) throw this.conditionFailed(key, expectedModRevision, r);
    const rev = Number(r.header.revision);
    const prev = r.responses[0]?.response_put?.prev_kv;
    return { key, value, createRevision: prev ? Number(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    checkKey(key);
    const del: IRequestOp = { request_delete_range: { key: Buffer.from(key), prev_kv: true } };
    const read: IRequestOp = { request_range: { key: Buffer.from(key) } };
    // unconditional still needs the key to exist: compare its create_revision against 0
    const r =
      expectedModRevision === undefined
        ? await this.rawTxnCreated(key, del, read)
        : await this.rawTxn([{ key, modRevision: expectedModRevision }], [del], [read], `delete ${key}`);
    if (!r.succeeded) throw this.conditionFailed(key, expectedModRevision ?? 0, r);
    const prev = r.responses[0]?.response_delete_range?.prev_kvs[0];
    if (!prev) throw new StorageError('NotFound', `key ${key} not found`, { currentRevision: Number(r.header.revision) });
    return kvOf(prev);
  }

  private async rawTxnCreated(key: string, success: IRequestOp, failure: IRequestOp): Promise<ITxnResponse> {
    this.ensureOpen();
    try {
      return await this.client.kv.txn({
        compare: [{ key: Buffer.from(key), target: 'Create', result: 'Greater', create_revision: 0 }],
        success: [success],
        failure: [failure],
      });
    } catch (err) {
      return this.fail(err, `delete ${key}`);
    }
  }

  async txn(compares: Compare[], ops: Op[]): Promise<TxnResult> {
    const success: IRequestOp[] = ops.map((op) => {
      checkKey(op.key);
      return op.type === 'put'
        ? { request_put: { key: Buffer.from(op.key), value: Buffer.from(op.value), prev_kv: true } }
        : { request_delete_range: { key: Buffer.from(op.key), prev_kv: true } };
    });
    const r = await this.rawTxn(compares, success, [], 'txn');
    const revision = Number(r.header.revision);
    if (!r.succeeded) return { succeeded: false, revision, results: [] };
    const results = ops.map((op, i): KeyValue | undefined => {
      const resp = r.responses[i];
      if (op.type === 'put') {
        const prev = resp?.response_put?.prev_kv;
        return { key: op.key, value: op.value, createRevision: prev ? Number(prev.create_revision) : revision, modRevision: revision };
      }
      const prev = resp?.response_delete_range?.prev_kvs[0];
      return prev ? kvOf(prev) : undefined;
    });
    return { succeeded: true, revision, results };
  }

  watch(prefix: string, afterRevision: number, cb: WatchCallbacks): Watcher {
    const delivery = new WatchDelivery(cb, this.deliveryOpts);
    let stream: Awaited<ReturnType<typeof this.client.watchClient.watch>> | undefined;
    let cancelled = false;
    const stop = (): void => {
      if (!stream) return;
      const s = stream;
      stream = undefined;
      try {
        s.end();
        (s as unknown as { cancel?: () => void }).cancel?.();
      } catch {
        // already gone
      }
    };
    const failWith = (err: StorageError): void => {
      if (cancelled) return;
      cancelled = true;
      stop();
      this.watchers.delete(failWith);
      delivery.fail(err);
    };
    const cancel = (): void => {
      cancelled = true;
      delivery.cancel();
      stop();
      this.watchers.delete(failWith);
    };
    if (this.closed) {
      delivery.fail(new StorageError('Unavailable', 'store is closed'));
      return { cancel };
    }
    this.watchers.add(failWith);
    let end: string;
    try {
      end = prefixEnd(prefix);
    } catch (err) {
      failWith(err as StorageError);
      return { cancel };
    }

    // pause the gRPC stream while the consumer is behind: etcd then holds the events, not us
    delivery.onDrain = () => (stream as unknown as { resume?: () => void })?.resume?.();

    const onResponse = (res: IWatchResponse): void => {
      if (cancelled) return;
      if (res.canceled) {
        const compact = Number(res.compact_revision);
        if (compact > 0) {
          failWith(
            new StorageError('Compacted', `watch from revision ${afterRevision + 1}: history before ${compact} has been compacted`, {
              compactedRevision: compact,
              currentRevision: Number(res.header?.revision ?? 0),
            }),
          );
        } else {
          failWith(new StorageError('Unavailable', `etcd cancelled the watch: ${res.cancel_reason || 'no reason given'}`));
        }
        return;
      }
      if (res.created) return;
      if (res.events.length === 0) {
        delivery.progress(Number(res.header.revision));
        return;
      }
      const events: WatchEvent[] = res.events.map((e) => {
        const prevKv = e.prev_kv ? kvOf(e.prev_kv) : undefined;
        if (e.type === 'Delete') {
          const rev = Number(e.kv.mod_revision);
          const kv: KeyValue = prevKv ? { ...prevKv, modRevision: rev } : { key: e.kv.key.toString(), value: '', createRevision: 0, modRevision: rev };
          return prevKv ? { type: 'delete', kv, prevKv } : { type: 'delete', kv };
        }
        return prevKv ? { type: 'put', kv: kvOf(e.kv), prevKv } : { type: 'put', kv: kvOf(e.kv) };
      });
      if (!delivery.push(events)) {
        failWith(new StorageError('Unavailable', 'watch consumer too slow'));
        return;
      }
      if (delivery.pending > this.deliveryOpts.maxBuffered / 2) (stream as unknown as { pause?: () => void })?.pause?.();
    };

    this.client.watchClient
      .watch()
      .then((s) => {
        if (cancelled) {
          s.end();
          return;
        }
        stream = s;
        s.on('data', (res: IWatchResponse) => onResponse(res));
        s.on('error', (err: Error) => failWith(new StorageError('Unavailable', `etcd watch stream failed: ${err.message}`)));
        s.on('end', () => failWith(new StorageError('Unavailable', 'etcd watch stream ended')));
        const req: IWatchRequest = {
          create_request: {
            key: Buffer.from(prefix),
            range_end: Buffer.from(end),
            start_revision: afterRevision + 1,
            prev_kv: true,
            progress_notify: true,
          },
        };
        s.write(req);
      })
      .catch((err: unknown) => failWith(new StorageError('Unavailable', `etcd watch failed: ${(err as Error)?.message ?? String(err)}`)));
    return { cancel };
  }

  async compact(revision: number): Promise<void> {
    this.ensureOpen();
    const [compacted, current] = await Promise.all([this.compactedRevision(), this.currentRevision()]);
    if (revision > current) {
      throw new StorageError('FutureRevision', `compaction revision ${revision} is a future revision (current ${current})`, { currentRevision: current });
    }
    if (revision <= compacted) {
      throw new StorageError('Compacted', `revision ${revision} is already compacted (compacted revision ${compacted})`, {
        compactedRevision: compacted,
      });
    }
    try {
      // record first (as kube-apiserver's compactor does), so readers learn the new floor
      await this.client.kv.put({ key: Buffer.from(compactRevKey), value: Buffer.from(String(revision)) });
      await this.client.kv.compact({ revision, physical: true });
    } catch (err) {
      return this.fail(err, `compact to ${revision}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const failWith of [...this.watchers]) failWith(new StorageError('Unavailable', 'store closed'));
    this.client.close();
  }
}
