// One IP family's sync loop: trackers -> model -> render -> runner, at a bounded rate.
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EndpointSlice, Node, Service } from '../api/types.js';
import { logger } from '../observability/log.js';
import type { ProxyConfig } from './config.js';
import { cleanStaleUDP, type ConntrackCleanupPlan } from './conntrack.js';
import { RestoreError } from './errors.js';
import { renderIptables, renderIptablesLines, type IptablesRenderResult, type PortRules, type RuleTotals } from './iptables/render.js';
import type { ProxyMetrics } from './metrics.js';
import { EndpointsChangeTracker, ServiceChangeTracker } from './model/change-tracker.js';
import { nodeTopology } from './model/snapshot.js';
import { categorizeEndpoints } from './model/topology.js';
import type { EndpointInfo, EndpointsMap, Family, NodeTopology, ServicePortInfo, ServicePortMap } from './model/types.js';
import { emptyNftState, mergeFragments, renderServicePortFragment, TABLE, type NftFragment, type NftState } from './nftables/render.js';
import { unlinkSync } from 'node:fs';
import { iptablesConfig, nftablesConfig } from './render.js';
import type { IptablesRunner } from './runner/iptables.js';
import { nftBaseLines, nftTransaction, nftTransactionLines, type NftablesRunner } from './runner/nftables.js';

const log = logger('proxier');

export interface ProxierDeps {
  iptables?: IptablesRunner;
  nftables?: NftablesRunner;
  metrics: ProxyMetrics;
  /** nftables: where the mirror of what we programmed is kept across restarts */
  stateFile?: string;
  /** called after each successful sync */
  onSynced?: () => void;
  /** keep full-sync payloads in `lastPayload` (tests, benches); off, they are streamed and dropped */
  keepPayload?: boolean;
}

export class Proxier {
  readonly services: ServicePortMap = new Map();
  readonly endpoints: EndpointsMap = new Map();
  private readonly svcTracker: ServiceChangeTracker;
  private readonly epTracker: EndpointsChangeTracker;
  private node: NodeTopology;
  private needFullSync = true;
  /** the kernel holds what `fragments` describe (false: unknown, the next full sync rewrites everything) */
  private nftProgrammed = false;
  private first = true;
  lastSyncOK = false;
  syncCount = 0;
  /** what the last sync sent (restore text or nft transaction); full syncs only with `keepPayload` */
  lastPayload = '';
  /** kernel operations (lines) the last sync sent */
  lastOps = 0;
  /** ms the last partial sync spent keeping the state file current (journal and any compaction), for benches */
  lastStateMs = 0;

  constructor(
    readonly family: Family,
    private readonly cfg: ProxyConfig,
    private readonly deps: ProxierDeps,
    private readonly requestSync: () => void,
  ) {
    this.svcTracker = new ServiceChangeTracker(family);
    this.epTracker = new EndpointsChangeTracker(family, cfg.nodeName);
    this.node = nodeTopology(cfg.nodeName, undefined);
  }

  onService(prev: Service | undefined, cur: Service | undefined): void {
    if (this.svcTracker.update(prev, cur)) this.requestSync();
    this.deps.metrics.serviceChangesTotal.inc();
    this.deps.metrics.serviceChangesPending.set(this.svcTracker.pendingCount);
  }

  onEndpointSlice(prev: EndpointSlice | undefined, cur: EndpointSlice | undefined): void {
    if (this.epTracker.update(prev, cur)) this.requestSync();
    this.deps.metrics.endpointChangesTotal.inc();
    this.deps.metrics.endpointChangesPending.set(this.epTracker.pendingCount);
  }

  onNode(node: Node | undefined): void {
    const topo = nodeTopology(this.cfg.nodeName, node);
    if (topo.zone !== this.node.zone) {
      // Topology decides which endpoints every service uses: rewrite everything.
      this.node = topo;
      this.needFullSync = true;
      this.requestSync();
    }
  }

  forceFullSync(): void {
    this.needFullSync = true;
  }

  async sync(): Promise<void> {
    const start = performance.now();
    const svcUpdated = this.svcTracker.apply(this.services);
    const epResult = this.epTracker.apply(this.endpoints);
    this.deps.metrics.serviceChangesPending.set(0);
    this.deps.metrics.endpointChangesPending.set(0);
    const changed = new Set([...svcUpdated, ...epResult.updatedServices]);
    const full = this.needFullSync;
    if (!full && changed.size === 0) {
      this.lastPayload = '';
      this.lastOps = 0;
      return;
    }
    try {
      if (this.deps.nftables) await this.syncNftables(full, changed);
      else await this.syncIptables(full, changed);
    } catch (err) {
      this.needFullSync = true;
      this.lastSyncOK = false;
      // Our mirror of the kernel may be ahead of it now: the next full sync rewrites everything.
      this.nftProgrammed = false;
      if (err instanceof RestoreError) {
        log.error('Failed to apply proxy rules', err, { ipFamily: this.family, line: err.line, rules: err.context });
      } else log.error('Failed to sync proxy rules', err, { ipFamily: this.family });
      if (this.deps.nftables) this.deps.metrics.nftablesSyncFailures.inc({ ip_family: this.family });
      else {
        this.deps.metrics.iptablesRestoreFailures.inc({ ip_family: this.family });
        if (!full) this.deps.metrics.iptablesPartialRestoreFailures.inc({ ip_family: this.family });
      }
      throw err;
    }
    this.needFullSync = false;
    this.lastSyncOK = true;
    this.syncCount++;
    const seconds = (performance.now() - start) / 1000;
    this.deps.metrics.syncDuration.observe(seconds);
    (full ? this.deps.metrics.syncFullDuration : this.deps.metrics.syncPartialDuration).observe(seconds);
    this.deps.metrics.lastTimestamp.setToCurrentTime({ ip_family: this.family });
    for (const t of epResult.lastChangeTriggerTimes) this.deps.metrics.networkProgramming.observe({ ip_family: this.family }, Math.max(0, (Date.now() - t) / 1000));
    log.v(2, 'Synced proxy rules', { ipFamily: this.family, full, changedServices: changed.size, seconds });
    await this.cleanConntrack(epResult.removed, epResult.updatedServices, epResult.previouslyServed);
    this.deps.onSynced?.();
  }

  private async syncIptables(full: boolean, changed: Set<string>): Promise<void> {
    const ipt = this.deps.iptables!;
    // One config object for the proxier's life: the renderer's per-service cache is keyed on it.
    const rcfg = (this.iptablesCfg ??= iptablesConfig(this.cfg, this.family));
    if (full) await ipt.ensureJumpsAndCanaries(this.family === 'IPv4' && rcfg.localhostNodePorts);
    // Partial syncs edit the shared chains in place from what the last syncs programmed there
    // (and know their stale chains from it); full syncs ask the kernel which chains exist.
    const programmed = full ? undefined : this.iptablesProgrammed;
    let existing: Iterable<string> | undefined = full || programmed ? undefined : this.prevActiveNatChains;
    if (!existing && !programmed) {
      try {
        existing = await ipt.natChains();
      } catch (err) {
        log.error('Failed to execute iptables-save: stale chains will not be deleted', err);
      }
    }
    const renderInput = {
      services: this.services,
      endpoints: this.endpoints,
      node: this.node,
      changedServices: full ? undefined : changed,
      existingNatChains: existing,
      programmed: programmed && { byService: programmed.byService, portKeysByService: this.svcTracker.portKeysByService, totals: programmed.totals },
    };
    // Unknown until the restore succeeds: a failed one is followed by a full sync.
    this.prevActiveNatChains = undefined;
    this.iptablesProgrammed = undefined;
    let r: Omit<IptablesRenderResult, 'text'>;
    if (programmed) {
      const inPlace = renderIptables(renderInput, rcfg);
      if (inPlace.text) await ipt.restore(inPlace.text);
      this.lastPayload = inPlace.text;
      this.lastOps = countOps(inPlace.text);
      r = inPlace;
    } else {
      // Streamed: the whole ruleset is never one string (unless a test or bench keeps it).
      const stream = renderIptablesLines(renderInput, rcfg);
      const text = (): string => {
        let t = '';
        for (const l of stream.lines()) t += l + '\n';
        return t;
      };
      let ops = 0;
      // Kept as sent when asked (benches, tests): a second render would be timed as the sync's.
      const kept: string[] | undefined = this.deps.keepPayload || !full ? [] : undefined;
      const counted = function* (): Generator<string> {
        for (const l of stream.lines()) {
          if (l && l[0] !== '*' && l !== 'COMMIT') ops++;
          kept?.push(l);
          yield l;
        }
      };
      await ipt.restoreLines(counted(), text);
      this.lastOps = ops;
      this.lastPayload = kept ? kept.join('\n') + '\n' : '';
      r = stream;
    }
    if (!programmed) this.prevActiveNatChains = r.activeNatChains;
    const byService = programmed?.byService ?? new Map<string, Map<string, PortRules>>();
    for (const [svcKey, ports] of r.ports) {
      if (ports.size) byService.set(svcKey, ports);
      else byService.delete(svcKey);
    }
    this.iptablesProgrammed = { byService, totals: { filterRules: r.filterRules, natRulesTotal: r.natRulesTotal, noLocalEndpointsInternal: r.noLocalEndpointsInternal, noLocalEndpointsExternal: r.noLocalEndpointsExternal } };
    const m = this.deps.metrics;
    m.iptablesRulesTotal.set({ table: 'filter', ip_family: this.family }, r.filterRules);
    m.iptablesRulesLast.set({ table: 'filter', ip_family: this.family }, r.filterRules);
    m.iptablesRulesTotal.set({ table: 'nat', ip_family: this.family }, r.natRulesTotal);
    m.iptablesRulesLast.set({ table: 'nat', ip_family: this.family }, r.natRulesWritten);
    m.noLocalEndpoints.set({ traffic_policy: 'internal', ip_family: this.family }, r.noLocalEndpointsInternal);
    m.noLocalEndpoints.set({ traffic_policy: 'external', ip_family: this.family }, r.noLocalEndpointsExternal);
  }

  private prevActiveNatChains: Set<string> | undefined;
  /** what the kernel holds for each Service's ports, and the rule counts (undefined: unknown) */
  private iptablesProgrammed: { byService: Map<string, Map<string, PortRules>>; totals: RuleTotals } | undefined;
  private iptablesCfg: ReturnType<typeof iptablesConfig> | undefined;
  /**
   * What each programmed service port was rendered from. Its fragment (chains, elements) is a
   * pure function of these, so it is re-rendered when a diff needs it instead of being kept:
   * at 10,000 services the fragments are ~50 MB of text, the references a few hundred KB.
   */
  private readonly programmed = new Map<string, ProgrammedPort>();
  private programmedNode: NodeTopology | undefined;
  private readonly fragmentKeysBySvc = new Map<string, string[]>();
  private nftCounts = { objects: 0, noLocalInternal: 0, noLocalExternal: 0 };
  private stateFileFresh = false;

  private renderProgrammed(p: ProgrammedPort, ncfg: ReturnType<typeof nftablesConfig>): NftFragment {
    return renderServicePortFragment(p.svc, { endpoints: new Map(p.eps ? [[p.svc.key, p.eps]] : []), node: this.programmedNode ?? this.node }, ncfg);
  }

  private portInputs(key: string, f: NftFragment): ProgrammedPort {
    return { svc: this.services.get(key)!, eps: this.endpoints.get(key), counts: fragmentCounts(f), chains: [...f.chains.keys()] };
  }

  private programPort(key: string, f: NftFragment): void {
    const old = this.programmed.get(key);
    if (old) this.addCounts(old.counts, -1);
    if (!this.services.has(key)) {
      this.programmed.delete(key);
      return;
    }
    const p = this.portInputs(key, f);
    this.programmed.set(key, p);
    this.addCounts(p.counts, 1);
  }

  private addCounts(c: PortCounts, sign: 1 | -1): void {
    this.nftCounts.objects += sign * c.objects;
    this.nftCounts.noLocalInternal += sign * c.noLocalInternal;
    this.nftCounts.noLocalExternal += sign * c.noLocalExternal;
  }

  private async syncNftables(full: boolean, changed: Set<string>): Promise<void> {
    const nft = this.deps.nftables!;
    const ncfg = nftablesConfig(this.cfg, this.family);
    const input = { endpoints: this.endpoints, node: this.node };
    if (full || !this.nftProgrammed) {
      const existing = (await nft.chains()) ?? [];
      const base = emptyNftState(ncfg);
      const keys = [...this.services.keys()].sort();
      const programmedChains = (): string[] => [...base.baseChains, ...[...this.programmed.values()].flatMap((p) => p.chains)];
      // Per service port, what the kernel is believed to hold: the programmed inputs re-rendered
      // (or the new fragment itself when the inputs did not change).
      const useMirror = this.nftProgrammed && sameSet(existing, programmedChains());
      const saved = !useMirror && this.first && this.deps.stateFile ? loadNftState(this.deps.stateFile) : undefined;
      // Tried once: if the diff against it fails, the retry rewrites everything.
      this.first = false;
      const useSaved = saved !== undefined && sameSet(existing, [...saved.baseChains, ...saved.chains.keys()]) && saved.base.join('\n') === base.base.join('\n');
      const sameNode = this.programmedNode === this.node;
      let next = new Map<string, ProgrammedPort>();
      // One generator, run once to stream the transaction to nft and again only to quote a
      // failing line or keep the payload: each port's fragment is rendered, sent and dropped,
      // so the whole ruleset is never held (at 10,000 services it is ~50 MB of text).
      const lines = (): Generator<string> => {
        next = new Map();
        const self = this;
        return (function* (): Generator<string> {
          if (useSaved) {
            // After a restart: diff against what we programmed last time, still in the kernel.
            const state = mergeFragments(emptyNftState(ncfg), keys.map((key) => renderServicePortFragment(self.services.get(key)!, input, ncfg)));
            for (const key of keys) next.set(key, self.portInputs(key, renderServicePortFragment(self.services.get(key)!, input, ncfg)));
            yield* nftTransactionLines(saved, state, existing);
            return;
          }
          if (!useMirror) yield* nftBaseLines(base);
          const known = new Set(base.baseChains);
          for (const key of keys) {
            const f = renderServicePortFragment(self.services.get(key)!, input, ncfg);
            next.set(key, self.portInputs(key, f));
            for (const name of f.chains.keys()) known.add(name);
            const old = useMirror ? self.programmed.get(key) : undefined;
            const oldF = old ? (sameNode && old.svc === self.services.get(key) && old.eps === self.endpoints.get(key) ? f : self.renderProgrammed(old, ncfg)) : undefined;
            yield* nftTransactionLines(fragmentState(base.family, oldF), fragmentState(base.family, f));
          }
          if (useMirror) {
            for (const [key, old] of self.programmed) if (!self.services.has(key)) yield* nftTransactionLines(fragmentState(base.family, self.renderProgrammed(old, ncfg)), fragmentState(base.family, undefined));
          } else {
            // Chains the kernel has that nothing renders any more (a restart, someone else's edit).
            const stale = existing.filter((c) => !known.has(c));
            for (const c of stale) yield `flush chain ${base.family} ${TABLE} ${c}`;
            for (const c of stale) yield `delete chain ${base.family} ${TABLE} ${c}`;
          }
        })();
      };
      // Kept as sent when asked (benches, tests): a second render would be timed as the sync's.
      const kept: string[] | undefined = this.deps.keepPayload ? [] : undefined;
      const sent = kept
        ? (function* (g: Generator<string>): Generator<string> {
            for (const l of g) {
              kept.push(l);
              yield l;
            }
          })(lines())
        : lines();
      this.lastOps = await nft.applyLines(sent, () => [...lines()].join('\n') + '\n');
      const changedPorts = !useMirror || this.lastOps > 0;
      this.programmed.clear();
      this.programmedNode = this.node;
      this.nftCounts = { objects: 0, noLocalInternal: 0, noLocalExternal: 0 };
      for (const [key, p] of next) {
        this.programmed.set(key, p);
        this.addCounts(p.counts, 1);
      }
      this.fragmentKeysBySvc.clear();
      for (const [svcKey, ports] of this.svcTracker.portKeysByService) this.fragmentKeysBySvc.set(svcKey, ports);
      this.first = false;
      this.nftProgrammed = true;
      this.lastPayload = kept ? kept.join('\n') + (this.lastOps ? '\n' : '') : '';
      // A periodic resync that changed nothing leaves the saved mirror as it is.
      if (changedPorts || !this.stateFileFresh) this.saveState();
    } else {
      // Only the changed Services' ports are re-rendered and diffed: cost follows the change, not the cluster.
      const oldFrags: NftFragment[] = [];
      const newFrags: NftFragment[] = [];
      const keys = new Set<string>();
      for (const svcKey of changed) {
        for (const key of this.fragmentKeysBySvc.get(svcKey) ?? []) keys.add(key);
        for (const key of this.svcTracker.portKeysByService.get(svcKey) ?? []) keys.add(key);
      }
      const rendered = new Map<string, NftFragment>();
      for (const key of keys) {
        const old = this.programmed.get(key);
        if (old) oldFrags.push(this.renderProgrammed(old, ncfg));
        const svc = this.services.get(key);
        if (svc) {
          const f = renderServicePortFragment(svc, input, ncfg);
          newFrags.push(f);
          rendered.set(key, f);
        }
      }
      const only = (frags: NftFragment[]): NftState => mergeFragments({ ...emptyNftState(ncfg), elements: new Map() }, frags);
      const tx = nftTransaction(only(oldFrags), only(newFrags));
      // The saved mirror follows the kernel through partial syncs too (a journal: intent before
      // the transaction, commit after), so a restart after SIGKILL still diffs instead of rewriting.
      const t0 = performance.now();
      const seq = tx ? this.journalIntent([...keys].map((key) => [key, rendered.get(key)])) : undefined;
      this.lastStateMs = performance.now() - t0;
      try {
        await nft.apply(tx, { partial: true });
      } catch (err) {
        // An intent with no commit: the next start ignores the file; the next full sync rewrites it.
        this.stateFileFresh = false;
        throw err;
      }
      for (const key of keys) this.programPort(key, rendered.get(key) ?? EMPTY_FRAGMENT);
      for (const svcKey of changed) {
        const ports = this.svcTracker.portKeysByService.get(svcKey);
        if (ports) this.fragmentKeysBySvc.set(svcKey, ports);
        else this.fragmentKeysBySvc.delete(svcKey);
      }
      // After `programmed` is updated: a compaction writes it whole.
      const t1 = performance.now();
      if (seq !== undefined) this.journalCommit(seq);
      this.lastStateMs += performance.now() - t1;
      this.lastPayload = tx;
      this.lastOps = tx ? tx.split('\n').length - 1 : 0;
    }
    this.deps.metrics.nftablesTotal.set({ ip_family: this.family }, this.nftCounts.objects);
    this.deps.metrics.noLocalEndpoints.set({ traffic_policy: 'internal', ip_family: this.family }, this.nftCounts.noLocalInternal);
    this.deps.metrics.noLocalEndpoints.set({ traffic_policy: 'external', ip_family: this.family }, this.nftCounts.noLocalExternal);
  }

  /** Stops helper processes (the nftables netlink relay). */
  close(): void {
    this.deps.nftables?.close();
  }

  /** Writes the nftables mirror for the next start (full syncs, shutdown, journal compaction). */
  saveState(): void {
    if (!this.deps.stateFile || !this.deps.nftables || !this.lastSyncOKOrFirst()) return;
    const ncfg = nftablesConfig(this.cfg, this.family);
    // Written one fragment at a time (JSON lines), like the transaction: never the whole ruleset in memory.
    const size = saveNftState(this.deps.stateFile, emptyNftState(ncfg), (function* (self: Proxier) {
      for (const [key, p] of self.programmed) yield [key, self.renderProgrammed(p, ncfg)] as const;
    })(this));
    this.stateFileFresh = size !== undefined;
    this.snapshotBytes = size ?? 0;
    this.journalBytes = 0;
    this.journalSeq = 0;
  }

  private snapshotBytes = 0;
  private journalBytes = 0;
  private journalSeq = 0;

  /**
   * Appends the ports a partial sync is about to change (fragment, or none when removed).
   * Appending needs no fsync: the file and the kernel's tables both live until a reboot, and a
   * killed process's writes are already in the page cache. Returns the entry's number, or
   * undefined when the file is not being kept (it is then removed, so no start trusts it).
   */
  private journalIntent(ports: [string, NftFragment | undefined][]): number | undefined {
    if (!this.stateFileFresh || !this.deps.stateFile) return undefined;
    const seq = ++this.journalSeq;
    const line = JSON.stringify({ intent: seq, ports: ports.map(([key, f]) => [key, f ? fragmentJSON(f) : null]) }) + '\n';
    if (!this.journalAppend(line)) return undefined;
    return seq;
  }

  private journalCommit(seq: number): void {
    if (!this.stateFileFresh || !this.journalAppend(JSON.stringify({ commit: seq }) + '\n')) return;
    // Compacted once the journal outgrows the snapshot: amortized, each partial sync pays for its own change.
    if (this.journalBytes > Math.max(1 << 20, this.snapshotBytes)) this.saveState();
  }

  private journalAppend(line: string): boolean {
    try {
      appendFileSync(this.deps.stateFile!, line);
      this.journalBytes += line.length;
      return true;
    } catch (err) {
      log.error('Failed to append to nftables state; the next start rewrites every chain', err, { path: this.deps.stateFile });
      this.stateFileFresh = false;
      try {
        unlinkSync(this.deps.stateFile!);
      } catch {
        // not there
      }
      return false;
    }
  }

  private lastSyncOKOrFirst(): boolean {
    return this.nftProgrammed;
  }

  private async cleanConntrack(removed: Map<string, import('./model/types.js').EndpointInfo[]>, endpointsChanged: Set<string>, previouslyServed: Set<string>): Promise<void> {
    const plan: ConntrackCleanupPlan = { removedEndpoints: [], newlyServed: [] };
    for (const [key, eps] of removed) {
      if (!key.endsWith('/UDP')) continue;
      for (const endpoint of eps) plan.removedEndpoints.push({ service: this.services.get(key), endpoint });
    }
    // 0 -> N endpoints: flows sent before there was a DNAT rule are pinned to "no DNAT".
    for (const svcKey of endpointsChanged) {
      for (const key of this.svcTracker.portKeysByService.get(svcKey) ?? []) {
        const svc = this.services.get(key);
        if (!svc || svc.protocol !== 'UDP' || previouslyServed.has(key)) continue;
        if (categorizeEndpoints(this.endpoints.get(key) ?? [], svc, this.node).hasAnyEndpoints) plan.newlyServed.push(svc);
      }
    }
    if (plan.removedEndpoints.length === 0 && plan.newlyServed.length === 0) return;
    try {
      const n = await cleanStaleUDP(this.family, plan);
      this.deps.metrics.conntrackDeleted.inc({ ip_family: this.family }, n);
    } catch (err) {
      log.error('Failed to clean stale UDP conntrack entries', err);
    }
  }

  /** healthCheckNodePort -> service and local ready endpoints, for the service health servers. */
  healthCheckPorts(): Map<number, { namespace: string; name: string; localEndpoints: number }> {
    const out = new Map<number, { namespace: string; name: string; localEndpoints: number }>();
    for (const [key, svc] of this.services) {
      if (!svc.healthCheckNodePort) continue;
      const local = (this.endpoints.get(key) ?? []).filter((e) => e.isLocal && e.ready).length;
      const cur = out.get(svc.healthCheckNodePort);
      out.set(svc.healthCheckNodePort, { namespace: svc.namespace, name: svc.name, localEndpoints: (cur?.localEndpoints ?? 0) + local });
    }
    return out;
  }
}

interface PortCounts {
  objects: number;
  noLocalInternal: number;
  noLocalExternal: number;
}

interface ProgrammedPort {
  svc: ServicePortInfo;
  eps: EndpointInfo[] | undefined;
  counts: PortCounts;
  /** names of the chains its fragment declares, to compare with the kernel's chain list */
  chains: string[];
}

/** One fragment as a state with no base objects, for per-port transactions. */
function fragmentState(family: 'ip' | 'ip6', f: NftFragment | undefined): NftState {
  return { family, base: [], baseChains: [], chains: f?.chains ?? new Map(), sets: f?.sets ?? new Map(), elements: f?.elements ?? new Map(), counts: { noLocalInternal: 0, noLocalExternal: 0 } };
}

const EMPTY_FRAGMENT: NftFragment = { chains: new Map(), sets: new Map(), elements: new Map(), counts: { noLocalInternal: 0, noLocalExternal: 0 } };

function fragmentCounts(f: NftFragment): PortCounts {
  let objects = f.chains.size;
  for (const e of f.elements.values()) objects += e.size;
  return { objects, noLocalInternal: f.counts.noLocalInternal, noLocalExternal: f.counts.noLocalExternal };
}

/** Lines of a restore payload that change something (not `*table`, `COMMIT` or blank), counted without splitting it. */
function countOps(text: string): number {
  let n = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start && text.charCodeAt(start) !== 42 /* * */ && !(end - start === 6 && text.startsWith('COMMIT', start))) n++;
    start = end + 1;
  }
  return n;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  if (sa.size !== sb.size) return false;
  for (const x of sa) if (!sb.has(x)) return false;
  return true;
}

type ElementsJSON = [string, [string, string][]][];
interface FragmentJSON {
  chains: [string, { rules: string[] }][];
  sets: [string, string][];
  elements: ElementsJSON;
}

function fragmentJSON(f: NftFragment): FragmentJSON {
  return { chains: [...f.chains], sets: [...f.sets], elements: [...f.elements].map(([k, v]) => [k, [...v]]) };
}

function fragmentFromJSON(j: FragmentJSON): NftFragment {
  return { chains: new Map(j.chains), sets: new Map(j.sets), elements: new Map(j.elements.map(([k, v]) => [k, new Map(v)])), counts: { noLocalInternal: 0, noLocalExternal: 0 } };
}

// Format: first line {family, base, baseChains, elements}; then one line per service port
// {key, chains, sets, elements} (the snapshot, written to a temp file and renamed); then the
// journal of partial syncs: {intent: n, ports: [[key, fragment | null]]} followed by {commit: n}.
// Returns the bytes written, undefined when it failed.
function saveNftState(path: string, base: NftState, fragments: Iterable<readonly [string, NftFragment]>): number | undefined {
  let fd: number | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(path + '.tmp', 'w');
    let bytes = writeSync(fd, JSON.stringify({ family: base.family, base: base.base, baseChains: base.baseChains, elements: [...base.elements].map(([k, v]) => [k, [...v]]) }) + '\n');
    for (const [key, f] of fragments) bytes += writeSync(fd, JSON.stringify({ key, ...fragmentJSON(f) }) + '\n');
    closeSync(fd);
    fd = undefined;
    renameSync(path + '.tmp', path);
    return bytes;
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    log.error('Failed to save nftables state', err, { path });
    return undefined;
  }
}

/**
 * The mirror as of the last committed sync, undefined when unusable: missing, torn, or ending in
 * a partial sync whose outcome is unknown (killed between intent and commit; the kernel may hold
 * either side, so only a full rewrite is safe).
 */
export function loadNftState(path: string): NftState | undefined {
  try {
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    const head = JSON.parse(lines[0]!) as { family: 'ip' | 'ip6'; base: string[]; baseChains: string[]; elements: ElementsJSON };
    if (!Array.isArray(head.base) || !Array.isArray(head.baseChains) || !Array.isArray(head.elements)) return undefined;
    const state: NftState = { family: head.family, base: head.base, baseChains: head.baseChains, chains: new Map(), sets: new Map(), elements: new Map(head.elements.map(([k, v]) => [k, new Map(v)])), counts: { noLocalInternal: 0, noLocalExternal: 0 } };
    const ports = new Map<string, NftFragment>();
    let pending: { seq: number; ports: [string, FragmentJSON | null][] } | undefined;
    for (let i = 1; i < lines.length; i++) {
      const j = JSON.parse(lines[i]!) as Partial<FragmentJSON> & { key?: string; intent?: number; ports?: [string, FragmentJSON | null][]; commit?: number };
      if (j.intent !== undefined) {
        if (pending || !Array.isArray(j.ports)) return undefined;
        pending = { seq: j.intent, ports: j.ports };
      } else if (j.commit !== undefined) {
        if (!pending || pending.seq !== j.commit) return undefined;
        for (const [key, f] of pending.ports) {
          if (f) ports.set(key, fragmentFromJSON(f));
          else ports.delete(key);
        }
        pending = undefined;
      } else {
        if (pending) return undefined;
        ports.set(j.key ?? `#${i}`, fragmentFromJSON(j as FragmentJSON));
      }
    }
    if (pending) return undefined;
    return mergeFragments(state, ports.values());
  } catch {
    return undefined;
  }
}
