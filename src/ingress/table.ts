import { linearRegExp } from './regex.js';
import { buildHostRoutes, compareProjections, type HostRoutes, type IngressProjection, type PathRoute } from './routes.js';

/**
 * The compiled route table: immutable once built, swapped atomically by the server, so
 * a request always sees one whole version. Rebuilds touch only the hosts whose Ingresses
 * changed; every other host's compiled matcher is reused as is.
 */

interface TrieNode {
  children: Map<string, TrieNode>;
  route?: PathRoute;
}

export interface PathMatch {
  route: PathRoute;
  /** regex captures ($0..$n) when the host matches by regex */
  captures?: RegExpExecArray;
}

const RANK: Record<PathRoute['pathType'], number> = { Exact: 2, Prefix: 1, ImplementationSpecific: 0 };

/** One host's paths compiled for lookup: O(path depth) for Exact and Prefix. */
export class CompiledHost {
  private readonly exact = new Map<string, PathRoute>();
  private readonly trie: TrieNode = { children: new Map() };
  /** ImplementationSpecific string prefixes, longest first */
  private readonly stringPrefixes: PathRoute[] = [];
  private readonly regexes: { re: RegExp; route: PathRoute }[] | undefined;
  /** paths of this host that could not be compiled (bad regex), with the reason */
  readonly invalid: { route: PathRoute; reason: string }[] = [];

  constructor(readonly routes: HostRoutes) {
    if (routes.useRegex) {
      // ingress-nginx: every location of the host becomes `~* "^path"`, sorted by
      // descending path length, and the first regex that matches wins.
      const sorted = [...routes.paths].sort((a, b) => b.path.length - a.path.length);
      this.regexes = [];
      for (const route of sorted) {
        try {
          this.regexes.push({ re: linearRegExp('^' + route.path, true), route });
        } catch (err) {
          this.invalid.push({ route, reason: (err as Error).message });
        }
      }
      return;
    }
    for (const route of routes.paths) {
      if (route.pathType === 'Exact') {
        if (!this.exact.has(route.path)) this.exact.set(route.path, route);
      } else if (route.pathType === 'Prefix') {
        let node = this.trie;
        for (const el of prefixElements(route.path)) {
          let next = node.children.get(el);
          if (!next) node.children.set(el, (next = { children: new Map() }));
          node = next;
        }
        // `/foo` and `/foo/` share a node; the longer rule path has priority (API comment).
        if (!node.route || route.path.length > node.route.path.length) node.route = route;
      } else this.stringPrefixes.push(route);
    }
    this.stringPrefixes.sort((a, b) => b.path.length - a.path.length);
  }

  get tlsSecret(): string | undefined {
    return this.routes.tlsSecret;
  }

  /** The route for a request path (no query); undefined means "use the fallback". */
  match(path: string): PathMatch | undefined {
    if (this.regexes) {
      for (const r of this.regexes) {
        const m = r.re.exec(path);
        if (m) return { route: r.route, captures: m };
      }
      return undefined;
    }
    let best = this.exact.get(path);
    let node = this.trie;
    let prefix = node.route;
    // Walk request elements; an empty element (trailing slash) never descends.
    let start = 1;
    while (start <= path.length) {
      let end = path.indexOf('/', start);
      if (end === -1) end = path.length;
      if (end === start) break;
      const next = node.children.get(path.slice(start, end));
      if (!next) break;
      node = next;
      if (node.route) prefix = node.route;
      start = end + 1;
    }
    if (prefix) best = better(best, prefix);
    for (const r of this.stringPrefixes) {
      if (best && r.path.length < best.path.length) break;
      if (path.startsWith(r.path)) {
        best = better(best, r);
        break;
      }
    }
    return best ? { route: best } : undefined;
  }
}

function better(a: PathRoute | undefined, b: PathRoute): PathRoute {
  if (!a) return b;
  if (b.path.length !== a.path.length) return b.path.length > a.path.length ? b : a;
  return RANK[b.pathType] > RANK[a.pathType] ? b : a;
}

/** `/aaa/bbb/` → ['aaa','bbb']; `/` → []. */
export function prefixElements(path: string): string[] {
  return path.split('/').filter((e) => e !== '');
}

/** Lowercase, no port, no trailing dot: the form hosts are keyed by. */
export function hostFromHeader(header: string | undefined): string {
  if (!header) return '';
  let h = header;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end === -1 ? h : h.slice(0, end + 1);
  } else {
    const colon = h.lastIndexOf(':');
    if (colon !== -1) h = h.slice(0, colon);
  }
  h = h.toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

const SHARDS = 256;

function shardOf(key: string): number {
  // FNV-1a over the host name: cheap and spreads similar names (r1, r2, ...) well.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % SHARDS;
}

/**
 * Hosts → compiled hosts, split in shards so that a new table version copies only the
 * shards a change touched (about n/256 entries each), not the whole map: the rebuild
 * cost stays proportional to the change with 10,000+ hosts.
 */
export class HostMap {
  private constructor(
    private readonly shards: readonly ReadonlyMap<string, CompiledHost>[],
    readonly size: number,
  ) {}
  static empty(): HostMap {
    const empty = new Map<string, CompiledHost>();
    return new HostMap(Array.from({ length: SHARDS }, () => empty), 0);
  }
  get(key: string): CompiledHost | undefined {
    return this.shards[shardOf(key)]!.get(key);
  }
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }
  *[Symbol.iterator](): IterableIterator<[string, CompiledHost]> {
    for (const s of this.shards) yield* s;
  }
  /** A new map with the changes applied (undefined deletes); untouched shards are shared. */
  with(changes: ReadonlyMap<string, CompiledHost | undefined>): HostMap {
    if (changes.size === 0) return this;
    const shards = [...this.shards];
    const copied = new Set<number>();
    let size = this.size;
    for (const [key, value] of changes) {
      const i = shardOf(key);
      if (!copied.has(i)) {
        shards[i] = new Map(shards[i]);
        copied.add(i);
      }
      const m = shards[i] as Map<string, CompiledHost>;
      const had = m.has(key);
      if (value === undefined) {
        if (had) (m.delete(key), size--);
      } else {
        if (!had) size++;
        m.set(key, value);
      }
    }
    return new HostMap(shards, size);
  }
}

export class RouteTable {
  constructor(
    readonly exact: HostMap,
    /** keyed by the suffix after the wildcard label: `*.foo.com` → `foo.com` */
    readonly wildcard: HostMap,
    readonly noHost: CompiledHost,
    readonly serial: number,
  ) {}

  /** exact host > wildcard (one label) > the no-host server. */
  hostFor(host: string): CompiledHost {
    const e = this.exact.get(host);
    if (e) return e;
    if (this.wildcard.size > 0) {
      const dot = host.indexOf('.');
      if (dot > 0) {
        const w = this.wildcard.get(host.slice(dot + 1));
        if (w) return w;
      }
    }
    return this.noHost;
  }

  /** The TLS Secret key for an SNI name ('' = default certificate), or undefined when none. */
  tlsSecretFor(serverName: string): string | undefined {
    const h = this.exact.get(serverName) ?? (serverName.indexOf('.') > 0 ? this.wildcard.get(serverName.slice(serverName.indexOf('.') + 1)) : undefined);
    return h?.tlsSecret;
  }

  get hostCount(): number {
    return this.exact.size + this.wildcard.size;
  }
}

export const EMPTY_TABLE = new RouteTable(HostMap.empty(), HostMap.empty(), new CompiledHost({ host: '', paths: [], useRegex: false }), 0);

/**
 * Keeps Ingress projections and compiled hosts between builds, so a change to one
 * Ingress recompiles only the hosts it mentions (before and after the change).
 */
export class TableBuilder {
  private readonly projections = new Map<string, IngressProjection>();
  private readonly hostsOf = new Map<string, string[]>();
  private readonly ingressesOf = new Map<string, Set<string>>();
  private exact = HostMap.empty();
  private wildcard = HostMap.empty();
  private noHost = EMPTY_TABLE.noHost;
  private readonly dirty = new Set<string>();
  private serial = 0;
  private current: RouteTable = EMPTY_TABLE;

  /** Sets (or with undefined, removes) one Ingress's projection. */
  set(key: string, projection: IngressProjection | undefined): void {
    for (const h of this.hostsOf.get(key) ?? []) {
      this.dirty.add(h);
      this.ingressesOf.get(h)?.delete(key);
    }
    this.hostsOf.delete(key);
    if (!projection) {
      this.projections.delete(key);
      return;
    }
    this.projections.set(key, projection);
    const hosts = new Set(projection.rules.map((r) => r.host));
    if (projection.defaultBackend && projection.rules.length === 0) hosts.add('');
    const list = [...hosts];
    this.hostsOf.set(key, list);
    for (const h of list) {
      this.dirty.add(h);
      let s = this.ingressesOf.get(h);
      if (!s) this.ingressesOf.set(h, (s = new Set()));
      s.add(key);
    }
  }

  has(key: string): boolean {
    return this.projections.has(key);
  }

  get changed(): boolean {
    return this.dirty.size > 0;
  }

  /** Returns the current table, recompiling dirty hosts into a new one first. */
  build(): { table: RouteTable; recompiled: CompiledHost[] } {
    if (this.dirty.size === 0) return { table: this.current, recompiled: [] };
    const exact = new Map<string, CompiledHost | undefined>();
    const wildcard = new Map<string, CompiledHost | undefined>();
    const recompiled: CompiledHost[] = [];
    for (const host of this.dirty) {
      const keys = this.ingressesOf.get(host);
      const target = host.startsWith('*.') ? wildcard : exact;
      const mapKey = host.startsWith('*.') ? host.slice(2) : host;
      if ((!keys || keys.size === 0) && host !== '') {
        target.set(mapKey, undefined);
        this.ingressesOf.delete(host);
        continue;
      }
      const sorted = [...(keys ?? [])].map((k) => this.projections.get(k)!).sort(compareProjections);
      const compiled = new CompiledHost(buildHostRoutes(host, sorted));
      recompiled.push(compiled);
      if (host === '') this.noHost = compiled;
      else target.set(mapKey, compiled);
    }
    this.dirty.clear();
    this.exact = this.exact.with(exact);
    this.wildcard = this.wildcard.with(wildcard);
    this.current = new RouteTable(this.exact, this.wildcard, this.noHost, ++this.serial);
    return { table: this.current, recompiled };
  }
}

/** A stable text form of a table, for golden tests and `-v` dumps. */
export function renderTable(table: RouteTable): string {
  const lines: string[] = [];
  const hosts: [string, CompiledHost][] = [
    ...[...table.exact].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ...[...table.wildcard].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]): [string, CompiledHost] => ['*.' + k, v]),
    ['_', table.noHost],
  ];
  for (const [name, h] of hosts) {
    const r = h.routes;
    lines.push(`server ${name}${r.useRegex ? ' regex' : ''}${r.tlsSecret !== undefined ? ` tls=${r.tlsSecret || '(default)'}` : ''}`);
    for (const p of r.paths) {
      lines.push(`  ${p.pathType} ${p.path} -> ${p.backend.upstreamKey} (${p.ingress})`);
      for (const c of p.canaries) lines.push(`    canary -> ${c.backend.upstreamKey} (${c.ingress})`);
    }
    if (r.fallback) lines.push(`  fallback -> ${r.fallback.backend.upstreamKey} (${r.fallback.ingress})`);
    for (const bad of h.invalid) lines.push(`  invalid ${bad.route.path}: ${bad.reason}`);
  }
  return lines.join('\n') + '\n';
}
