// The only code that runs `nft`: one atomic transaction per sync, element-level diffs.
import { RestoreError, linesAround } from '../errors.js';
import { TABLE, type NftState } from '../nftables/render.js';
import { execProgram, execProgramLines } from './exec.js';
import { encodeNftBatch } from './netlink/nft-batch.js';
import { NetlinkRelay } from './netlink/relay.js';

const MAPS = ['service-ips', 'service-nodeports', 'no-endpoint-services', 'no-endpoint-nodeports', 'firewall-ips'];

function chainText(rules: readonly string[]): string {
  return rules.join('\n');
}

/**
 * The transaction that takes the kernel from `prev` (what we last programmed, or undefined
 * when unknown) to `cur`. Full: every object rewritten; stale chains in `existingChains`
 * removed. Partial: only changed chains and elements; empty string when nothing changed.
 */
export function nftTransaction(prev: NftState | undefined, cur: NftState, existingChains: readonly string[] = []): string {
  const lines = [...nftTransactionLines(prev, cur, existingChains)];
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** What only a full transaction writes: table, sets, maps and base chains, all flushed and refilled. */
export function* nftBaseLines(cur: NftState): Generator<string> {
  const p = `${cur.family} ${TABLE}`;
  yield* cur.base.filter((l) => !l.startsWith('add rule '));
  for (const c of cur.baseChains) yield `flush chain ${p} ${c}`;
  for (const m of [...MAPS, 'cluster-ips', 'nodeport-ips']) yield `flush ${m === 'cluster-ips' || m === 'nodeport-ips' ? 'set' : 'map'} ${p} ${m}`;
  yield* cur.base.filter((l) => l.startsWith('add rule '));
  for (const [set, elems] of cur.elements) for (const text of elems.values()) yield `add element ${p} ${set} { ${text} }`;
}

/** The same transaction, one line at a time: a full sync at 10,000 services is ~30 MB of text, never held whole. */
export function* nftTransactionLines(prev: NftState | undefined, cur: NftState, existingChains: readonly string[] = []): Generator<string> {
  const p = `${cur.family} ${TABLE}`;
  const full = prev === undefined;
  if (full) {
    yield* cur.base.filter((l) => !l.startsWith('add rule '));
    for (const c of cur.baseChains) yield `flush chain ${p} ${c}`;
    for (const m of [...MAPS, 'cluster-ips', 'nodeport-ips']) yield `flush ${m === 'cluster-ips' || m === 'nodeport-ips' ? 'set' : 'map'} ${p} ${m}`;
    yield* cur.base.filter((l) => l.startsWith('add rule '));
  }
  for (const [name, body] of cur.sets) if (full || !prev.sets.has(name)) yield `add set ${p} ${name} ${body}`;
  const changed: string[] = [];
  for (const [name, chain] of cur.chains) {
    const old = prev?.chains.get(name);
    if (full || !old || chainText(old.rules) !== chainText(chain.rules)) changed.push(name);
  }
  for (const name of changed) yield `add chain ${p} ${name}`;
  for (const name of changed) {
    yield `flush chain ${p} ${name}`;
    for (const r of cur.chains.get(name)!.rules) yield `add rule ${p} ${name} ${r}`;
  }
  if (prev) {
    for (const [set, old] of prev.elements) {
      const elems = cur.elements.get(set);
      for (const [key, text] of old) if (elems?.get(key) !== text) yield `delete element ${p} ${set} { ${key} }`;
    }
  }
  for (const [set, elems] of cur.elements) {
    const old = full ? undefined : prev.elements.get(set);
    for (const [key, text] of elems) if (old?.get(key) !== text) yield `add element ${p} ${set} { ${text} }`;
  }
  const known = new Set<string>([...cur.chains.keys(), ...cur.baseChains]);
  const stale = new Set<string>();
  if (prev) for (const name of prev.chains.keys()) if (!known.has(name)) stale.add(name);
  for (const name of existingChains) if (!known.has(name)) stale.add(name);
  // Flush every stale chain before deleting any: they may jump to one another.
  for (const name of stale) yield `flush chain ${p} ${name}`;
  for (const name of stale) yield `delete chain ${p} ${name}`;
  if (prev) for (const name of prev.sets.keys()) if (!cur.sets.has(name)) yield `delete set ${p} ${name}`;
}

export interface NftablesRunnerOptions {
  /**
   * Send partial-sync transactions as netlink batches through a python3 relay instead of
   * `nft -f` (default on; `KUBEPLANE_NFT_NETLINK=0` turns it off). Falls back to `nft -f`
   * when python3 is missing or a transaction uses something the encoder does not know.
   */
  netlink?: boolean;
}

export class NftablesRunner {
  private relay: Promise<NetlinkRelay | undefined> | undefined;
  private readonly netlink: boolean;
  /** how the last transaction was sent, for benches and tests */
  lastPath: 'nft' | 'netlink' | undefined;
  /**
   * Where the last partial transaction's time went (ms): encoding the batch, the kernel alone
   * (sendmsg to ack, timed inside the relay), and the whole apply(); total - kernel - encode is
   * the pipe to the relay and back.
   */
  lastTiming: { encodeMs: number; kernelMs: number; totalMs: number } | undefined;

  constructor(
    readonly family: 'ip' | 'ip6',
    opts: NftablesRunnerOptions = {},
  ) {
    this.netlink = opts.netlink ?? process.env.KUBEPLANE_NFT_NETLINK !== '0';
  }

  /**
   * Applies one transaction atomically. `partial` transactions (chains, rules and elements of
   * changed services only) may go straight to the kernel as one netlink batch.
   */
  async apply(transaction: string, opts: { partial?: boolean } = {}): Promise<void> {
    if (!transaction) return;
    this.lastTiming = undefined;
    if (opts.partial && this.netlink) {
      const t0 = performance.now();
      const batch = encodeNftBatch(transaction, this.family, TABLE);
      const encodeMs = performance.now() - t0;
      const relay = batch && (await (this.relay ??= NetlinkRelay.start()));
      if (batch && relay?.alive) {
        this.lastPath = 'netlink';
        const t1 = performance.now();
        const errors = await relay.send(batch.data);
        this.lastTiming = { encodeMs, kernelMs: relay.lastKernelMs ?? NaN, totalMs: encodeMs + performance.now() - t1 };
        if (errors.length === 0) return;
        const e = errors[0]!;
        const line = batch.lineOfSeq.get(e.seq);
        throw new RestoreError('nft', `netlink batch failed: ${e.message}${line ? ` (line ${line})` : ''}`, line, line ? linesAround(transaction, line) : undefined);
      }
      if (relay && !relay.alive) this.relay = undefined;
    }
    this.lastPath = 'nft';
    const r = await execProgram('nft', ['-f', '-'], transaction);
    if (r.code === 0) return;
    const m = /(?:\/dev\/stdin|-):(\d+):/.exec(r.stderr) ?? /line (\d+)/.exec(r.stderr);
    const line = m ? Number(m[1]) : undefined;
    throw new RestoreError('nft', `nft -f failed: ${r.stderr.trim().split('\n').slice(0, 6).join(' | ')}`, line, line ? linesAround(transaction, line) : undefined);
  }

  /**
   * Applies a (full-sync) transaction streamed line by line to one `nft -f`; `text` gives the
   * whole transaction again, only to quote the failing line. Returns the number of lines sent.
   */
  async applyLines(lines: Iterable<string>, text: () => string): Promise<number> {
    let count = 0;
    const counted = function* (): Generator<string> {
      for (const l of lines) {
        count++;
        yield l;
      }
    };
    this.lastPath = 'nft';
    const r = await execProgramLines('nft', ['-f', '-'], counted());
    // Started after the full sync, not beside it, so python's start-up does not compete with
    // nft; the first partial sync then finds it ready.
    if (this.netlink) this.relay ??= NetlinkRelay.start();
    if (r.code === 0) return count;
    const m = /(?:\/dev\/stdin|-):(\d+):/.exec(r.stderr) ?? /line (\d+)/.exec(r.stderr);
    const line = m ? Number(m[1]) : undefined;
    throw new RestoreError('nft', `nft -f failed: ${r.stderr.trim().split('\n').slice(0, 6).join(' | ')}`, line, line ? linesAround(text(), line) : undefined);
  }

  /** Chain names in our table; undefined when the table does not exist. */
  async chains(): Promise<string[] | undefined> {
    const r = await execProgram('nft', ['list', 'chains', this.family]);
    if (r.code !== 0) return undefined;
    const out: string[] = [];
    let inTable = false;
    for (const line of r.stdout.split('\n')) {
      const t = /^table (\S+) (\S+)/.exec(line);
      if (t) inTable = t[1] === this.family && t[2] === TABLE;
      const c = /^\s+chain "?([^"\s]+)"? \{/.exec(line);
      if (c && inTable) out.push(c[1]!);
    }
    return (await this.tableExists()) ? out : undefined;
  }

  async tableExists(): Promise<boolean> {
    const r = await execProgram('nft', ['list', 'tables', this.family]);
    return r.stdout.split('\n').some((l) => l.trim() === `table ${this.family} ${TABLE}`);
  }

  /** Stops the netlink relay, if one runs. */
  close(): void {
    void this.relay?.then((r) => r?.close());
    this.relay = undefined;
  }

  async cleanup(): Promise<void> {
    if (await this.tableExists()) await this.apply(`add table ${this.family} ${TABLE}\ndelete table ${this.family} ${TABLE}\n`);
  }
}
