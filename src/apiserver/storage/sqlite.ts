// The embedded store: SQLite (better-sqlite3) in --data-dir, shaped as etcd's MVCC.
//
// Two tables, after kine's lesson (research/apiserver.md §d): `kv` holds the current state, one
// row per key, so get/list never scan history; `log` holds one row per change (put or delete)
// with the key's previous state next to the new one. A read at an older revision R is the
// current state with the changes after R undone (the first change after R carries the state at
// R), so its cost follows the writes since R, not the length of history; and compaction is a
// plain delete of log rows below the compacted revision, in bounded batches.
//
// Durability: WAL with synchronous=FULL syncs the WAL on every commit, and a write is
// acknowledged only after its commit returned. Concurrent writes are group-committed: the
// writes queued during one turn of the event loop share one transaction and one fsync, each
// still getting its own revision and its own compare check.

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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

export interface SqliteStoreOptions {
  /** ms between scheduled compactions (0 = never; default 5 min, as kube-apiserver's) */
  compactInterval?: number;
  /** revisions of history always kept for watchers to resume from (default 1000) */
  retainRevisions?: number;
  /** history younger than this many ms is kept (default 5 min) */
  retainAge?: number;
  /** log rows deleted per compaction transaction (default 1000) */
  compactBatch?: number;
  /** ms between progress notifications to idle watchers (0 = never; default 5 s) */
  progressInterval?: number;
  /** per-watcher queue bounds */
  watch?: Partial<DeliveryOptions>;
}

export const sqliteFileName = 'kubeplane.db';

const catchUpPage = 1000;
const maxTxnsPerCommit = 512;

interface KvRow {
  key: string;
  value: string;
  create_rev: number;
  mod_rev: number;
}

interface LogRow {
  rev: number;
  seq: number;
  key: string;
  deleted: number;
  value: string | null;
  create_rev: number;
  prev_value: string | null;
  prev_create: number | null;
  prev_mod: number | null;
}

interface PendingTxn {
  compares: Compare[];
  ops: Op[];
  resolve(r: TxnResult): void;
  reject(e: unknown): void;
}

interface WatchState {
  prefix: string;
  end: string;
  /** last (rev, seq) handed to the delivery queue */
  cursorRev: number;
  cursorSeq: number;
  live: boolean;
  delivery: WatchDelivery;
}

const schema = `
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log (
  rev INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  key TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  value TEXT,
  create_rev INTEGER NOT NULL,
  prev_value TEXT,
  prev_create INTEGER,
  prev_mod INTEGER,
  ts INTEGER NOT NULL,
  PRIMARY KEY (rev, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta(name, value) VALUES ('revision', 1), ('compacted', 0), ('schema', 1);
`;

function kvOf(r: KvRow): KeyValue {
  return { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.mod_rev };
}

/** The key's state just before the change in `r` (undefined when it did not exist). */
function prevOf(r: LogRow): KeyValue | undefined {
  if (r.prev_mod === null || r.prev_value === null) return undefined;
  return { key: r.key, value: r.prev_value, createRevision: r.prev_create ?? r.prev_mod, modRevision: r.prev_mod };
}

function eventOf(r: LogRow): WatchEvent {
  const prevKv = prevOf(r);
  if (r.deleted) {
    return {
      type: 'delete',
      kv: { key: r.key, value: r.prev_value ?? '', createRevision: r.create_rev, modRevision: r.rev },
      ...(prevKv ? { prevKv } : {}),
    };
  }
  const kv: KeyValue = { key: r.key, value: r.value ?? '', createRevision: r.create_rev, modRevision: r.rev };
  return prevKv ? { type: 'put', kv, prevKv } : { type: 'put', kv };
}

/** Maps SQLite failures to the store's error codes; disk full is the one a user can fix. */
function storageErrorOf(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err;
  const code = (err as { code?: unknown })?.code;
  const msg = (err as Error)?.message ?? String(err);
  if (code === 'SQLITE_FULL' || /ENOSPC|disk is full|database or disk is full/i.test(msg)) {
    return new StorageError('NoSpace', `${what}: no space left on the data dir's device (${msg})`);
  }
  if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN')) {
    return new StorageError('Unavailable', `${what}: ${msg}`);
  }
  return new StorageError('Internal', `${what}: ${msg}`);
}

export async function openSqliteStore(dataDir: string, opts: SqliteStoreOptions = {}): Promise<Store> {
  if (fs.existsSync(dataDir) && !fs.statSync(dataDir).isDirectory()) throw new StorageError('Unavailable', `data dir ${dataDir} is not a directory`);
  try {
    fs.mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw new StorageError('Unavailable', `cannot create data dir ${dataDir}: ${(err as Error).message}`);
  }
  const file = path.join(dataDir, sqliteFileName);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 2000 });
  } catch (err) {
    throw storageErrorOf(err, `opening ${file}`);
  }
  try {
    // Exclusive locking before WAL: no shared-memory file, and a second kubeplane on the same
    // data dir fails here instead of both believing they own the revision counter.
    db.pragma('locking_mode = EXCLUSIVE');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') throw new Error(`could not enable WAL (journal_mode=${String(mode)})`);
    db.pragma('synchronous = FULL');
    // After a checkpoint, give back what a burst made the WAL grow to (kine's WAL grew without bound).
    db.pragma('journal_size_limit = 67108864');
    db.exec(schema);
  } catch (err) {
    db.close();
    const e = storageErrorOf(err, `opening ${file}`);
    if ((err as { code?: string })?.code?.startsWith('SQLITE_BUSY')) {
      throw new StorageError('Unavailable', `data dir ${dataDir} is in use by another process (${file} is locked)`);
    }
    throw e;
  }
  // The WAL file was just created: make its directory entry durable too.
  try {
    const fd = fs.openSync(dataDir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // some filesystems refuse fsync on directories; SQLite's own syncs still hold
  }
  return new SqliteStore(db, file, opts);
}

class SqliteStore implements Store {
  private revision: number;
  private compacted: number;
  private queue: PendingTxn[] = [];
  private flushScheduled = false;
  private closed = false;
  private compacting: Promise<void> | undefined;
  private readonly watchers = new Set<WatchState>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly deliveryOpts: DeliveryOptions;
  private readonly retainRevisions: number;
  private readonly retainAge: number;
  private readonly compactBatch: number;
  private noSpaceLogged = false;

  private readonly st: ReturnType<SqliteStore['prepare']>;

  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    opts: SqliteStoreOptions,
  ) {
    this.st = this.prepare();
    this.revision = this.st.getMeta.get('revision') as number;
    this.compacted = this.st.getMeta.get('compacted') as number;
    this.deliveryOpts = { ...defaultDeliveryOptions, ...opts.watch };
    this.retainRevisions = opts.retainRevisions ?? 1000;
    this.retainAge = opts.retainAge ?? 5 * 60_000;
    this.compactBatch = Math.max(1, opts.compactBatch ?? 1000);
    const compactInterval = opts.compactInterval ?? 5 * 60_000;
    if (compactInterval > 0) {
      const t = setInterval(() => void this.scheduledCompaction(), compactInterval);
      t.unref();
      this.timers.push(t);
    }
    // a compaction cut short by a crash left rows below the compacted revision: finish it
    const leftover = this.db.prepare('SELECT 1 FROM log WHERE rev < ? LIMIT 1').pluck().get(this.compacted);
    if (leftover !== undefined) {
      this.compacting = this.deleteHistory()
        .catch((err: unknown) => log.error('finishing an interrupted compaction failed', err))
        .finally(() => (this.compacting = undefined));
    }
    const progressInterval = opts.progressInterval ?? 5000;
    if (progressInterval > 0) {
      const t = setInterval(() => this.notifyProgress(), progressInterval);
      t.unref();
      this.timers.push(t);
    }
  }

  private prepare() {
    const db = this.db;
    return {
      getMeta: db.prepare<[string], number>('SELECT value FROM meta WHERE name = ?').pluck(),
      setMeta: db.prepare('UPDATE meta SET value = ? WHERE name = ?'),
      getKv: db.prepare<[string], KvRow>('SELECT key, value, create_rev, mod_rev FROM kv WHERE key = ?'),
      putKv: db.prepare('INSERT OR REPLACE INTO kv(key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?)'),
      delKv: db.prepare('DELETE FROM kv WHERE key = ?'),
      rangeKv: db.prepare<[string, string, number], KvRow>(
        'SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?',
      ),
      iterKv: db.prepare<[string, string], KvRow>('SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ? AND key < ? ORDER BY key'),
      countKv: db.prepare<[string, string], number>('SELECT count(*) FROM kv WHERE key >= ? AND key < ?').pluck(),
      countAfter: db.prepare<[string, string], number>('SELECT count(*) FROM kv WHERE key > ? AND key < ?').pluck(),
      insertLog: db.prepare(
        'INSERT INTO log(rev, seq, key, deleted, value, create_rev, prev_value, prev_create, prev_mod, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      // `+key` keeps the planner on the (rev, seq) primary key: the rows after a recent revision
      // are few, the rows of a prefix are not.
      changesAfter: db.prepare<[number, string, string], LogRow>(
        'SELECT rev, seq, key, deleted, value, create_rev, prev_value, prev_create, prev_mod FROM log WHERE rev > ? AND +key >= ? AND +key < ? ORDER BY rev, seq',
      ),
      keyChangeAfter: db.prepare<[number, string], LogRow>(
        'SELECT rev, seq, key, deleted, value, create_rev, prev_value, prev_create, prev_mod FROM log WHERE rev > ? AND +key = ? ORDER BY rev, seq LIMIT 1',
      ),
      eventsPage: db.prepare<[number, number, number, string, string, number], LogRow>(
        'SELECT rev, seq, key, deleted, value, create_rev, prev_value, prev_create, prev_mod FROM log WHERE (rev > ? OR (rev = ? AND seq > ?)) AND +key >= ? AND +key < ? ORDER BY rev, seq LIMIT ?',
      ),
      newestOlderThan: db.prepare<[number, number], number | null>('SELECT max(rev) FROM log WHERE rev <= ? AND ts <= ?').pluck(),
      deleteLogBatch: db.prepare('DELETE FROM log WHERE rev IN (SELECT rev FROM log WHERE rev < ? ORDER BY rev LIMIT ?)'),
    };
  }

  // ---- reads -------------------------------------------------------------------------------

  private ensureOpen(): void {
    if (this.closed) throw new StorageError('Unavailable', 'store is closed');
  }

  /** Validates a read revision; 0/undefined means current. */
  private readRevision(rev: number | undefined): number {
    if (rev === undefined || rev <= 0) return this.revision;
    if (rev > this.revision) {
      throw new StorageError('FutureRevision', `required revision ${rev} is a future revision (current ${this.revision})`, {
        currentRevision: this.revision,
      });
    }
    if (rev < this.compacted) {
      throw new StorageError('Compacted', `required revision ${rev} has been compacted (compacted revision ${this.compacted})`, {
        compactedRevision: this.compacted,
        currentRevision: this.revision,
      });
    }
    return rev;
  }

  async currentRevision(): Promise<number> {
    this.ensureOpen();
    return this.revision;
  }

  async compactedRevision(): Promise<number> {
    this.ensureOpen();
    return this.compacted;
  }

  async get(key: string, opts: { revision?: number } = {}): Promise<{ kv: KeyValue | undefined; revision: number }> {
    this.ensureOpen();
    checkKey(key);
    try {
      const rev = this.readRevision(opts.revision);
      if (rev < this.revision) {
        const change = this.st.keyChangeAfter.get(rev, key);
        if (change) return { kv: prevOf(change), revision: rev };
      }
      const row = this.st.getKv.get(key);
      return { kv: row ? kvOf(row) : undefined, revision: rev };
    } catch (err) {
      throw storageErrorOf(err, `get ${key}`);
    }
  }

  async range(prefix: string, opts: RangeOptions = {}): Promise<RangeResult> {
    this.ensureOpen();
    try {
      const rev = this.readRevision(opts.revision);
      const end = prefixEnd(prefix);
      const start = rangeStart(prefix, opts.startKey);
      const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
      if (rev === this.revision) return this.rangeCurrent(start, end, limit, rev);
      return this.rangeAt(start, end, limit, rev);
    } catch (err) {
      throw storageErrorOf(err, `range ${prefix}`);
    }
  }

  private rangeCurrent(start: string, end: string, limit: number, rev: number): RangeResult {
    const rows = this.st.rangeKv.all(start, end, limit > 0 ? limit + 1 : -1);
    const more = limit > 0 && rows.length > limit;
    if (more) rows.length = limit;
    const kvs = rows.map(kvOf);
    const remaining = more ? this.st.countAfter.get(kvs[kvs.length - 1]!.key, end)! : 0;
    return { kvs, revision: rev, more, remaining };
  }

  /** The state at `rev`: current rows, with keys changed since replaced by their state at `rev`. */
  private rangeAt(start: string, end: string, limit: number, rev: number): RangeResult {
    const atRev = new Map<string, KeyValue | undefined>();
    for (const change of this.st.changesAfter.iterate(rev, start, end)) {
      if (!atRev.has(change.key)) atRev.set(change.key, prevOf(change));
    }
    const changed = [...atRev.keys()].sort();
    const kvs: KeyValue[] = [];
    let more = false;
    let ci = 0;
    const take = (kv: KeyValue | undefined): boolean => {
      if (!kv) return true;
      if (limit > 0 && kvs.length === limit) {
        more = true;
        return false;
      }
      kvs.push(kv);
      return true;
    };
    let go = true;
    for (const row of this.st.iterKv.iterate(start, end)) {
      while (go && ci < changed.length && changed[ci]! < row.key) go = take(atRev.get(changed[ci++]!));
      if (!go) break;
      if (atRev.has(row.key)) {
        if (changed[ci] === row.key) ci++;
        go = take(atRev.get(row.key));
      } else {
        go = take(kvOf(row));
      }
      if (!go) break;
    }
    while (go && ci < changed.length) go = take(atRev.get(changed[ci++]!));
    let remaining = 0;
    if (more) {
      const last = kvs[kvs.length - 1]!.key;
      remaining = this.st.countAfter.get(last, end)!;
      for (const [k, kv] of atRev) {
        if (k <= last) continue;
        const now = this.st.getKv.get(k) !== undefined;
        remaining += (kv ? 1 : 0) - (now ? 1 : 0);
      }
    }
    return { kvs, revision: rev, more, remaining };
  }

  async count(prefix: string): Promise<number> {
    this.ensureOpen();
    try {
      return this.st.countKv.get(prefix, prefixEnd(prefix))!;
    } catch (err) {
      throw storageErrorOf(err, `count ${prefix}`);
    }
  }

  // ---- writes ------------------------------------------------------------------------------

  async create(key: string, value: string): Promise<KeyValue> {
    checkKey(key);
    const r = await this.txn([{ key, modRevision: 0 }], [{ type: 'put', key, value }]);
    if (!r.succeeded) throw new StorageError('KeyExists', `key ${key} already exists`, { currentRevision: r.revision });
    return r.results[0]!;
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    checkKey(key);
    // 0 would mean "must not exist" to the compare, turning an update into a create
    if (!(expectedModRevision > 0)) throw new StorageError('Internal', `update of ${key} needs the object's modRevision`);
    const r = await this.txn([{ key, modRevision: expectedModRevision }], [{ type: 'put', key, value }]);
    if (!r.succeeded) throw this.compareFailure(key, expectedModRevision);
    return r.results[0]!;
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    checkKey(key);
    if (expectedModRevision === undefined) {
      // unconditional: the key only has to exist, checked inside the commit
      const r = await this.txn([{ key, modRevision: -1 }], [{ type: 'delete', key }]);
      if (!r.succeeded) throw new StorageError('NotFound', `key ${key} not found`, { currentRevision: r.revision });
      return r.results[0]!;
    }
    const r = await this.txn([{ key, modRevision: expectedModRevision }], [{ type: 'delete', key }]);
    if (!r.succeeded) throw this.compareFailure(key, expectedModRevision);
    return r.results[0]!;
  }

  private compareFailure(key: string, expected: number): StorageError {
    const row = this.st.getKv.get(key);
    if (!row) return new StorageError('NotFound', `key ${key} not found`, { currentRevision: this.revision });
    return new StorageError('Conflict', `key ${key} was modified: modRevision is ${row.mod_rev}, expected ${expected}`, {
      current: kvOf(row),
      currentRevision: this.revision,
    });
  }

  txn(compares: Compare[], ops: Op[]): Promise<TxnResult> {
    if (this.closed) return Promise.reject(new StorageError('Unavailable', 'store is closed'));
    const seen = new Set<string>();
    // checked here, not in the commit: one malformed txn must not fail the others sharing it
    for (const c of compares) {
      if (typeof c.key !== 'string' || !Number.isSafeInteger(c.modRevision)) return Promise.reject(new StorageError('Internal', 'malformed compare in transaction'));
    }
    for (const op of ops) {
      if (typeof op.key !== 'string' || (op.type === 'put' ? typeof op.value !== 'string' : op.type !== 'delete')) {
        return Promise.reject(new StorageError('Internal', 'malformed operation in transaction'));
      }
      if (op.key === '') return Promise.reject(new StorageError('Internal', 'empty key'));
      if (seen.has(op.key)) return Promise.reject(new StorageError('Internal', `duplicate key ${op.key} in one transaction`));
      seen.add(op.key);
    }
    return new Promise<TxnResult>((resolve, reject) => {
      this.queue.push({ compares, ops, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** One SQLite transaction (one fsync) for every txn queued since the last flush. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue.splice(0, maxTxnsPerCommit);
    if (this.queue.length > 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    if (batch.length === 0) return;
    if (this.closed) {
      for (const t of batch) t.reject(new StorageError('Unavailable', 'store is closed'));
      return;
    }
    const startRevision = this.revision;
    let rev = startRevision;
    const outcomes: TxnResult[] = [];
    const events: { rev: number; event: WatchEvent; key: string }[] = [];
    const now = Date.now();
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const t of batch) {
        const ok = t.compares.every((c) => {
          const row = this.st.getKv.get(c.key);
          if (c.modRevision === -1) return row !== undefined; // internal: "exists"
          return (row?.mod_rev ?? 0) === c.modRevision;
        });
        if (!ok) {
          outcomes.push({ succeeded: false, revision: rev, results: [] });
          continue;
        }
        const results: (KeyValue | undefined)[] = [];
        let seq = 0;
        const next = rev + 1;
        for (const op of t.ops) {
          const prev = this.st.getKv.get(op.key);
          if (op.type === 'put') {
            const createRev = prev ? prev.create_rev : next;
            this.st.putKv.run(op.key, op.value, createRev, next);
            this.st.insertLog.run(next, seq++, op.key, 0, op.value, createRev, prev?.value ?? null, prev?.create_rev ?? null, prev?.mod_rev ?? null, now);
            const kv: KeyValue = { key: op.key, value: op.value, createRevision: createRev, modRevision: next };
            results.push(kv);
            events.push({ rev: next, key: op.key, event: prev ? { type: 'put', kv, prevKv: kvOf(prev) } : { type: 'put', kv } });
          } else if (prev) {
            this.st.delKv.run(op.key);
            this.st.insertLog.run(next, seq++, op.key, 1, null, prev.create_rev, prev.value, prev.create_rev, prev.mod_rev, now);
            const prevKv = kvOf(prev);
            results.push(prevKv);
            events.push({
              rev: next,
              key: op.key,
              event: { type: 'delete', kv: { ...prevKv, modRevision: next }, prevKv },
            });
          } else {
            results.push(undefined); // deleting an absent key changes nothing, as in etcd
          }
        }
        if (seq > 0) rev = next;
        outcomes.push({ succeeded: true, revision: rev, results });
      }
      if (rev !== startRevision) this.st.setMeta.run(rev, 'revision');
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // SQLite may already have rolled back (it does on SQLITE_FULL)
        }
      }
      const e = storageErrorOf(err, 'write');
      if (e.code === 'NoSpace') {
        if (!this.noSpaceLogged) log.error('storage write failed: no space left on device; writes are refused until space is freed', e, { file: this.file });
        this.noSpaceLogged = true;
      } else {
        log.error('storage write failed', e, { file: this.file });
      }
      for (const t of batch) t.reject(e);
      return;
    }
    if (this.noSpaceLogged) {
      log.info('storage writes succeed again', { file: this.file });
      this.noSpaceLogged = false;
    }
    this.revision = rev;
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(outcomes[i]!);
    if (events.length > 0) this.broadcast(events);
  }

  // ---- watch -------------------------------------------------------------------------------

  watch(prefix: string, afterRevision: number, cb: WatchCallbacks): Watcher {
    const delivery = new WatchDelivery(cb, this.deliveryOpts);
    const w: WatchState = { prefix, end: '', cursorRev: afterRevision, cursorSeq: Number.MAX_SAFE_INTEGER, live: false, delivery };
    const cancel = (): void => {
      delivery.cancel();
      this.watchers.delete(w);
    };
    try {
      this.ensureOpen();
      w.end = prefixEnd(prefix);
    } catch (err) {
      delivery.fail(storageErrorOf(err, 'watch'));
      return { cancel };
    }
    delivery.onDrain = () => {
      if (!w.live) setImmediate(() => this.catchUp(w));
    };
    this.watchers.add(w);
    if (afterRevision >= this.revision) {
      w.live = true;
    } else {
      this.catchUp(w);
    }
    return { cancel };
  }

  /** Feeds history to a watcher one page at a time, as fast as it consumes; then goes live. */
  private catchUp(w: WatchState): void {
    if (w.live || w.delivery.closed || !this.watchers.has(w) || w.delivery.pending > 0) return;
    if (w.cursorRev + 1 < this.compacted) {
      this.watchers.delete(w);
      w.delivery.fail(
        new StorageError('Compacted', `watch from revision ${w.cursorRev + 1}: history before ${this.compacted} has been compacted`, {
          compactedRevision: this.compacted,
          currentRevision: this.revision,
        }),
      );
      return;
    }
    const page = Math.max(1, Math.min(catchUpPage, w.delivery.maxBuffered));
    let rows: LogRow[];
    try {
      rows = this.st.eventsPage.all(w.cursorRev, w.cursorRev, w.cursorSeq, w.prefix, w.end, page);
    } catch (err) {
      this.watchers.delete(w);
      w.delivery.fail(storageErrorOf(err, 'watch'));
      return;
    }
    if (rows.length < page) {
      // Nothing can be written between this read and here: the watcher is now current.
      w.live = true;
      w.cursorRev = this.revision;
      w.cursorSeq = Number.MAX_SAFE_INTEGER;
    } else {
      const last = rows[rows.length - 1]!;
      w.cursorRev = last.rev;
      w.cursorSeq = last.seq;
    }
    if (rows.length > 0) {
      if (!w.delivery.push(rows.map(eventOf))) this.watchers.delete(w);
    }
  }

  private broadcast(events: { rev: number; key: string; event: WatchEvent }[]): void {
    const lastRev = events[events.length - 1]!.rev;
    for (const w of this.watchers) {
      if (!w.live) continue;
      const mine: WatchEvent[] = [];
      for (const e of events) {
        if (e.rev > w.cursorRev && e.key >= w.prefix && e.key < w.end) mine.push(e.event);
      }
      if (lastRev > w.cursorRev) w.cursorRev = lastRev;
      if (mine.length > 0 && !w.delivery.push(mine)) this.watchers.delete(w);
    }
  }

  private notifyProgress(): void {
    for (const w of this.watchers) if (w.live && w.cursorRev <= this.revision) w.delivery.progress(this.revision);
  }

  // ---- compaction --------------------------------------------------------------------------

  async compact(revision: number): Promise<void> {
    this.ensureOpen();
    if (revision > this.revision) {
      throw new StorageError('FutureRevision', `compaction revision ${revision} is a future revision (current ${this.revision})`, {
        currentRevision: this.revision,
      });
    }
    if (revision <= this.compacted) {
      throw new StorageError('Compacted', `revision ${revision} is already compacted (compacted revision ${this.compacted})`, {
        compactedRevision: this.compacted,
      });
    }
    // Mark first: from this moment reads and watches below `revision` fail, so deleting the
    // rows in later batches cannot be observed half-done.
    try {
      this.st.setMeta.run(revision, 'compacted');
    } catch (err) {
      throw storageErrorOf(err, 'compact');
    }
    this.compacted = revision;
    for (const w of this.watchers) if (!w.live) this.catchUp(w);
    const previous = (this.compacting ?? Promise.resolve()).catch(() => undefined);
    const run = previous.then(() => this.deleteHistory());
    this.compacting = run;
    try {
      await run;
    } finally {
      if (this.compacting === run) this.compacting = undefined;
    }
  }

  /** Deletes log rows below the compacted revision, one bounded transaction per event-loop turn. */
  private async deleteHistory(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      let deleted: number;
      try {
        deleted = this.st.deleteLogBatch.run(this.compacted, this.compactBatch).changes;
      } catch (err) {
        throw storageErrorOf(err, 'compact');
      }
      if (deleted < this.compactBatch) break;
      await new Promise<void>((r) => setImmediate(r));
    }
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // a later automatic checkpoint will do it
    }
  }

  /** Compacts history that is both older than retainAge and more than retainRevisions behind. */
  private async scheduledCompaction(): Promise<void> {
    if (this.closed || this.compacting) return;
    const byCount = this.revision - this.retainRevisions;
    if (byCount <= this.compacted) return;
    const target = this.st.newestOlderThan.get(byCount, Date.now() - this.retainAge);
    if (target === null || target === undefined || target <= this.compacted) return;
    try {
      await this.compact(target);
      log.v(2, 'compacted storage history', { revision: target });
    } catch (err) {
      log.error('scheduled compaction failed', err, { revision: target });
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    // let queued writes commit first: they may already be on their way to being acknowledged
    while (this.queue.length > 0) this.flush();
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const w of this.watchers) w.delivery.fail(new StorageError('Unavailable', 'store closed'));
    this.watchers.clear();
    await this.compacting?.catch(() => undefined);
    this.db.close();
  }
}
