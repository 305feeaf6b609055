// A packet tracer over rendered iptables-restore text (the idea of kube-proxy's tracePacket test
// helper): walks a new connection (source, protocol, destination, port) through nat KUBE-SERVICES
// and, when nothing DNATs it, through the filter chains, and reports where it can end: the
// endpoints it may be DNATed to with their probabilities (statistic matches branch both ways),
// DROP/REJECT/ACCEPT, whether it is masqueraded and the rules that decided it. Pure: text in,
// path out, so that tests and `kubeplane trace` read the very rules the proxy installs.

export type Rules = Map<string, string[][]>;

export interface Packet {
  src: string;
  dst: string;
  /** tcp, udp or sctp */
  proto: string;
  dport: number;
  /** the node's own addresses: `--dst-type LOCAL` / `--src-type LOCAL` */
  nodeIPs: string[];
}

/** One rule a connection went through (a jump, the masquerade mark, or its final target). */
export interface TraceStep {
  table: string;
  chain: string;
  target: string;
  comment?: string;
  /** the rule's match arguments, without the comment and the target */
  match: string;
}

export interface TraceEndpoint {
  /** ip:port the connection is DNATed to */
  endpoint: string;
  probability: number;
  masquerade: boolean;
  /** the rule that set the masquerade mark, if any */
  masqueradeBy?: TraceStep;
  path: TraceStep[];
}

export interface ConnectionTrace {
  packet: Omit<Packet, 'nodeIPs'>;
  /** DNAT when it lands on endpoints; otherwise the filter verdict */
  verdict: 'DNAT' | 'DROP' | 'REJECT' | 'ACCEPT';
  endpoints: TraceEndpoint[];
  /** for DROP/REJECT: the rule that decided it */
  verdictBy?: TraceStep;
  /** the nat path (for DNAT, up to the first KUBE-SVC-/KUBE-SVL- or where endpoints diverge) */
  path: TraceStep[];
  /** `recent --rcheck` rules met on the way: sessionAffinity ClientIP */
  affinity?: { seconds: number; chain: string };
}

/** The result the packet-flow tests compare: endpoints joined, or the verdict. */
export interface TraceResult {
  /** "10.180.0.1:80, 10.180.0.2:80", or DROP / REJECT / ACCEPT */
  output: string;
  masq: boolean;
}

export class TraceError extends Error {
  override name = 'TraceError';
}

function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] ?? m[2]!);
  return out;
}

export function parseRestore(text: string): Map<string, Rules> {
  const tables = new Map<string, Rules>();
  let cur: Rules | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) tables.set(line.slice(1), (cur = new Map()));
    else if (line.startsWith(':') && cur) {
      const name = line.slice(1).split(' ')[0]!;
      cur.set(name, cur.get(name) ?? []);
    } else if (line.startsWith('-A ') && cur) {
      const t = tokenize(line);
      const chain = t[1]!;
      if (!cur.has(chain)) throw new TraceError(`rule for undeclared chain ${chain}`);
      cur.get(chain)!.push(t.slice(2));
    }
  }
  // Every jump must go to a declared chain, as kube-proxy's fake iptables checks.
  for (const rules of tables.values())
    for (const rs of rules.values())
      for (const r of rs) {
        const j = r.indexOf('-j');
        const target = j >= 0 ? r[j + 1]! : undefined;
        if (target && target.startsWith('KUBE-') && !rules.has(target)) throw new TraceError(`jump to undefined chain ${target}`);
      }
  return tables;
}

function ipNum(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}
export function isIPv4(ip: string): boolean {
  return /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(ip) && ip.split('.').every((o) => Number(o) <= 255);
}
function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.trim().split('/');
  if (!isIPv4(ip) || !isIPv4(net!)) return false;
  const b = Number(bits ?? 32);
  const d = 2 ** (32 - b);
  return Math.floor(ipNum(ip) / d) === Math.floor(ipNum(net!) / d);
}

function isLocal(ip: string, p: Packet): boolean {
  return p.nodeIPs.includes(ip) || inCidr(ip, '127.0.0.0/8');
}

interface State {
  prob: number;
  masqBy?: TraceStep;
  masq: boolean;
  path: TraceStep[];
}
interface Outcome extends State {
  /** undefined: the chain fell through */
  end?: string;
  by?: TraceStep;
}

function step(table: string, chain: string, r: string[]): TraceStep {
  const c = r.indexOf('--comment');
  const j = r.indexOf('-j');
  const match: string[] = [];
  for (let i = 0; i < (j >= 0 ? j : r.length); i++) {
    if (r[i] === '-m' && r[i + 1] === 'comment') i++;
    else if (i === c) i++;
    else match.push(r[i]!);
  }
  return { table, chain, target: j >= 0 ? r[j + 1]! : '', comment: c >= 0 ? r[c + 1] : undefined, match: match.join(' ') };
}

interface WalkCtx {
  table: string;
  rules: Rules;
  p: Packet;
  affinity?: { seconds: number; chain: string };
}

/** All outcomes of walking `chain`, each with its probability; an undefined end means it fell through. */
function walk(ctx: WalkCtx, chain: string, st0: State, depth = 0): Outcome[] {
  if (depth > 20) throw new TraceError('jump loop');
  let states: State[] = [st0];
  const done: Outcome[] = [];
  for (const r of ctx.rules.get(chain) ?? []) {
    const next: State[] = [];
    const m = matches(r, ctx.p);
    if (r.includes('--rcheck') && !ctx.affinity) {
      const s = r.indexOf('--seconds');
      ctx.affinity = { seconds: s >= 0 ? Number(r[s + 1]) : 0, chain };
    }
    for (const st of states) {
      if (m === 0) {
        next.push(st);
        continue;
      }
      // A statistic match takes the connection with probability m and lets the rest fall through.
      const taken: State = { ...st, prob: st.prob * m };
      if (m < 1) next.push({ ...st, prob: st.prob * (1 - m) });
      const j = r.indexOf('-j');
      if (j < 0) {
        next.push(taken);
        continue;
      }
      const target = r[j + 1]!;
      const s = step(ctx.table, chain, r);
      if (target === 'KUBE-MARK-MASQ') next.push({ ...taken, masq: true, masqBy: taken.masqBy ?? s });
      else if (target === 'DNAT') done.push({ ...taken, path: [...taken.path, s], end: r[r.indexOf('--to-destination') + 1] });
      else if (target === 'RETURN') done.push({ ...taken, end: 'RETURN' });
      else if (target === 'DROP' || target === 'REJECT' || target === 'ACCEPT') done.push({ ...taken, end: target, by: s });
      else if (ctx.rules.has(target)) {
        for (const o of walk(ctx, target, { ...taken, path: [...taken.path, s] }, depth + 1)) {
          // A chain that falls through or RETURNs continues here, with the path as it was before the jump.
          if (o.end === undefined || o.end === 'RETURN') next.push({ prob: o.prob, masq: o.masq, masqBy: o.masqBy, path: taken.path });
          else done.push(o);
        }
      } else next.push(taken); // MARK, MASQUERADE and other non-terminating targets
    }
    states = next;
  }
  return [...done, ...states];
}

/** How likely the rule matches the packet: 0, 1, or a statistic probability. */
function matches(r: string[], p: Packet): number {
  let result = 1;
  for (let i = 0; i < r.length; i++) {
    const neg = r[i] === '!';
    const t = neg ? r[++i]! : r[i]!;
    const v = r[i + 1];
    let ok: boolean;
    switch (t) {
      case '-p':
        ok = v === p.proto;
        i++;
        break;
      case '-d':
        ok = inCidr(p.dst, v!);
        i++;
        break;
      case '-s':
        ok = inCidr(p.src, v!);
        i++;
        break;
      case '--dport':
        ok = Number(v) === p.dport;
        i++;
        break;
      case '--dst-type':
        ok = isLocal(p.dst, p);
        i++;
        break;
      case '--src-type':
        ok = isLocal(p.src, p);
        i++;
        break;
      case '--probability':
        result *= Number(v);
        i++;
        continue;
      case '--rcheck':
        // A new connection from a client with no affinity entry yet.
        ok = false;
        break;
      case '--ctstate':
        // Only NEW connections are traced.
        ok = v!.split(',').includes('NEW');
        i++;
        break;
      case '--mark':
        // Traced packets carry no mark before kube-proxy's own chains.
        ok = false;
        i++;
        break;
      case '-j':
        return result;
      default:
        continue;
    }
    if (ok === neg) return 0;
  }
  return result;
}

const FILTER_CHAINS = ['KUBE-PROXY-FIREWALL', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS'];

/** Traces a new connection through the rendered ruleset (one address family's iptables-restore text). */
export function traceConnection(text: string, p: Packet): ConnectionTrace {
  const tables = parseRestore(text);
  const nat = tables.get('nat');
  const filter = tables.get('filter');
  if (!nat || !filter) throw new TraceError('the rules have no nat or filter table');
  const packet = { src: p.src, dst: p.dst, proto: p.proto, dport: p.dport };
  const ctx: WalkCtx = { table: 'nat', rules: nat, p };
  const outcomes = walk(ctx, 'KUBE-SERVICES', { prob: 1, masq: false, path: [] }).filter((o) => o.end !== undefined && o.end !== 'RETURN' && o.prob > 0);
  if (outcomes.length > 0) {
    const byEp = new Map<string, TraceEndpoint>();
    for (const o of outcomes) {
      const e = byEp.get(o.end!);
      if (e) e.probability += o.prob;
      else byEp.set(o.end!, { endpoint: o.end!, probability: o.prob, masquerade: o.masq, masqueradeBy: o.masqBy, path: o.path });
    }
    const endpoints = [...byEp.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint, 'en', { numeric: true }));
    return { packet, verdict: 'DNAT', endpoints, path: commonPrefix(endpoints.map((e) => e.path)), affinity: ctx.affinity };
  }
  // Nothing DNATed it: the nat path it took (e.g. a KUBE-FW- chain that let it fall through) still explains it.
  const natPath = longestPath(ctx, p);
  for (const chain of FILTER_CHAINS) {
    const o = walk({ table: 'filter', rules: filter, p }, chain, { prob: 1, masq: false, path: [] }).find((x) => x.end === 'DROP' || x.end === 'REJECT' || x.end === 'ACCEPT');
    if (o) return { packet, verdict: o.end as ConnectionTrace['verdict'], endpoints: [], verdictBy: o.by, path: natPath };
  }
  return { packet, verdict: 'ACCEPT', endpoints: [], path: natPath };
}

/** The jumps a connection made in nat before falling out of it without DNAT. */
function longestPath(ctx: WalkCtx, p: Packet): TraceStep[] {
  const path: TraceStep[] = [];
  let chain: string | undefined = 'KUBE-SERVICES';
  for (let depth = 0; chain && depth < 20; depth++) {
    const from: string = chain;
    chain = undefined;
    for (const r of ctx.rules.get(from) ?? []) {
      const j = r.indexOf('-j');
      if (j < 0 || matches(r, p) === 0) continue;
      const target = r[j + 1]!;
      if (target === 'KUBE-MARK-MASQ' || !ctx.rules.has(target)) continue;
      path.push(step('nat', from, r));
      chain = target;
      break;
    }
  }
  return path;
}

function commonPrefix(paths: TraceStep[][]): TraceStep[] {
  if (paths.length === 0) return [];
  const first = paths[0]!;
  // Stop before the endpoint jumps, so that each endpoint shows its own KUBE-SEP- step.
  const seps = first.findIndex((s) => s.target.startsWith('KUBE-SEP-') || s.target.startsWith('endpoint-') || s.target === 'DNAT');
  const max = seps >= 0 ? seps : first.length;
  let n = 0;
  while (n < max && paths.every((q) => q[n] && q[n]!.chain === first[n]!.chain && q[n]!.target === first[n]!.target)) n++;
  return first.slice(0, n);
}

/** The short form the packet-flow tests compare. */
export function tracePacket(text: string, p: Packet): TraceResult {
  const t = traceConnection(text, p);
  if (t.verdict === 'DNAT') return { output: t.endpoints.map((e) => e.endpoint).join(', '), masq: t.endpoints.some((e) => e.masquerade) };
  return { output: t.verdict, masq: false };
}

// ---- nftables: the same walk over `nft -f` text (kube-proxy's nftables table) ----

interface NftRules {
  chains: Map<string, string[][]>;
  /** set name -> its elements; map name -> "key : verdict" elements */
  elements: Map<string, string[]>;
  /** sets that kube-proxy fills at run time (affinity): empty for a new connection */
  dynamic: Set<string>;
}

function nftTokens(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|([{},:.])(?=\s|$)|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? `"${m[1]}"` : (m[2] ?? m[3]!));
  return out;
}

export function parseNft(text: string): NftRules {
  const r: NftRules = { chains: new Map(), elements: new Map(), dynamic: new Set() };
  for (const line of text.split('\n')) {
    const m = /^add (chain|rule|set|map|element) (?:ip|ip6|inet) kube-proxy (\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, kind, name, rest] = m as unknown as [string, string, string, string];
    if (kind === 'chain') r.chains.set(name, r.chains.get(name) ?? []);
    else if (kind === 'rule') {
      if (!r.chains.has(name)) throw new TraceError(`rule for undeclared chain ${name}`);
      r.chains.get(name)!.push(nftTokens(rest));
    } else if (kind === 'set' || kind === 'map') {
      r.elements.set(name, r.elements.get(name) ?? []);
      if (/flags [^;]*dynamic/.test(rest)) r.dynamic.add(name);
    } else {
      const body = /^\{ (.*) \}$/.exec(rest.trim())?.[1];
      if (body === undefined) continue;
      (r.elements.get(name) ?? r.elements.set(name, []).get(name)!).push(body);
    }
  }
  return r;
}

function selectorValue(sel: string, p: Packet): string {
  if (sel === 'ip daddr' || sel === 'ip6 daddr') return p.dst;
  if (sel === 'ip saddr' || sel === 'ip6 saddr') return p.src;
  if (sel === 'meta l4proto') return p.proto;
  if (sel === 'th dport') return String(p.dport);
  throw new TraceError(`cannot trace nft selector "${sel}"`);
}

function valueMatches(v: string, pattern: string): boolean {
  if (pattern.includes('/') || isIPv4(pattern)) return inCidr(v, pattern.includes('/') ? pattern : `${pattern}/32`);
  return v === pattern;
}

/** The verdict an element of a vmap gives for a key, with its comment. */
function lookup(rules: NftRules, map: string, key: string[]): { verdict: string; comment?: string } | undefined {
  for (const el of rules.elements.get(map) ?? []) {
    const [k, verdict] = el.split(' : ') as [string, string | undefined];
    const comment = /comment "([^"]*)"/.exec(k)?.[1];
    const parts = k.replace(/\s*comment "[^"]*"/, '').split(' . ');
    if (verdict !== undefined && parts.length === key.length && parts.every((pt, i) => valueMatches(key[i]!, pt.trim()))) return { verdict: verdict.trim(), comment };
  }
  return undefined;
}

interface NftRuleEval {
  /** probability-weighted verdicts; an empty list means the rule does not match */
  branches: { prob: number; verdict?: string; comment?: string }[];
}

/** Evaluates one rule's matches for a new connection; verdict undefined means "matched, no verdict". */
function evalNftRule(rules: NftRules, t: string[], p: Packet): NftRuleEval {
  let verdict: string | undefined;
  let comment: string | undefined;
  let i = 0;
  const none: NftRuleEval = { branches: [] };
  const readSet = (): string[] => {
    if (t[i] !== '{') return [t[i++]!];
    const out: string[] = [];
    for (i++; i < t.length && t[i] !== '}'; i++) if (t[i] !== ',') out.push(t[i]!);
    i++;
    return out;
  };
  while (i < t.length) {
    const a = t[i]!;
    if (a === 'comment') {
      comment = t[i + 1]!.replace(/^"|"$/g, '');
      i += 2;
    } else if (a === 'ct' && t[i + 1] === 'state') {
      if (!t[i + 2]!.split(',').includes('new')) return none;
      i += 3;
    } else if (a === 'fib') {
      const local = isLocal(t[i + 1] === 'saddr' ? p.src : p.dst, p);
      if (t[i + 2] !== 'type' || t[i + 3] !== 'local' || !local) return none;
      i += 4;
    } else if (a === 'numgen') {
      // numgen random mod N vmap { 0 : goto X , 1 : goto Y }: each endpoint with probability 1/N.
      const n = Number(t[i + 3]);
      i += 5;
      const branches: NftRuleEval['branches'] = [];
      for (i++; i < t.length && t[i] !== '}'; i++) {
        if (t[i] === ',') continue;
        const v: string[] = [];
        i += 2; // "<n> :"
        while (i < t.length && t[i] !== ',' && t[i] !== '}') v.push(t[i++]!);
        i--;
        branches.push({ prob: 1 / n, verdict: v.join(' '), comment });
      }
      return { branches };
    } else if (['ip', 'ip6', 'meta', 'th'].includes(a)) {
      const sels = [`${a} ${t[i + 1]}`];
      i += 2;
      while (t[i] === '.') {
        sels.push(`${t[i + 1]} ${t[i + 2]}`);
        i += 3;
      }
      const key = sels.map((s) => selectorValue(s, p));
      if (t[i] === 'vmap') {
        const map = t[i + 1]!.slice(1);
        const hit = lookup(rules, map, key);
        if (!hit) return none;
        verdict = hit.verdict;
        comment = hit.comment ? `${hit.comment} (@${map})` : `@${map}`;
        i += 2;
        continue;
      }
      let neg = false;
      if (t[i] === '!=') {
        neg = true;
        i++;
      } else if (t[i] === '==') i++;
      const vals = readSet();
      const v = key[0]!;
      const ok = vals.some((x) => (x.startsWith('@') ? !rules.dynamic.has(x.slice(1)) && (rules.elements.get(x.slice(1)) ?? []).some((e) => valueMatches(v, e)) : valueMatches(v, x)));
      if (ok === neg) return none;
    } else if (a === 'mark' && t[i + 1] === 'and') {
      return none; // traced packets carry no mark before kube-proxy's own chains
    } else if (a === 'update') {
      i += 2;
      readSet();
    } else if (a === 'jump' || a === 'goto') {
      verdict = `${a} ${t[i + 1]}`;
      i += 2;
    } else if (a === 'dnat' && t[i + 1] === 'to') {
      verdict = `dnat ${t[i + 2]}`;
      i += 3;
    } else if (['drop', 'reject', 'accept', 'return', 'masquerade'].includes(a)) {
      verdict = a;
      i++;
      while (i < t.length && t[i] !== 'comment') i++;
    } else if (a === 'mark' && t[i + 1] === 'set') {
      i = t.length;
    } else throw new TraceError(`cannot trace nft rule "${t.join(' ')}"`);
  }
  return { branches: [{ prob: 1, verdict, comment }] };
}

function nftStep(chain: string, t: string[], target: string, comment?: string): TraceStep {
  const c = t.indexOf('comment');
  return { table: 'nft', chain, target, comment, match: (c >= 0 ? [...t.slice(0, c), ...t.slice(c + 2)] : t).join(' ') };
}

interface NftCtx {
  affinity?: { seconds: number; chain: string };
  affinitySet?: string;
}

function walkNft(rules: NftRules, p: Packet, chain: string, st0: State, ctx: NftCtx, depth = 0): Outcome[] {
  if (depth > 20) throw new TraceError('jump loop');
  let states: State[] = [st0];
  const done: Outcome[] = [];
  for (const r of rules.chains.get(chain) ?? []) {
    const at = r.findIndex((x) => x.startsWith('@affinity-'));
    if (at >= 0 && r[at - 1] === 'saddr' && !ctx.affinity) {
      ctx.affinity = { seconds: 0, chain };
      ctx.affinitySet = r[at]!.slice(1);
    }
    const ev = evalNftRule(rules, r, p);
    const next: State[] = [];
    for (const st of states) {
      const matched = ev.branches.reduce((a, b) => a + b.prob, 0);
      if (matched < 1) next.push({ ...st, prob: st.prob * (1 - matched) });
      for (const b of ev.branches) {
        const taken: State = { ...st, prob: st.prob * b.prob };
        const v = b.verdict;
        if (!v) {
          next.push(taken);
          continue;
        }
        const [verb, arg] = v.split(' ') as [string, string | undefined];
        const s = nftStep(chain, r, verb === 'jump' || verb === 'goto' ? arg! : verb === 'dnat' ? 'DNAT' : verb.toUpperCase(), b.comment);
        if (verb === 'jump' && arg === 'mark-for-masquerade') next.push({ ...taken, masq: true, masqBy: taken.masqBy ?? s });
        else if (verb === 'dnat') done.push({ ...taken, path: [...taken.path, s], end: arg });
        else if (verb === 'return') done.push({ ...taken, end: 'RETURN' });
        else if (verb === 'drop' || verb === 'reject' || verb === 'accept') done.push({ ...taken, end: verb.toUpperCase(), by: s });
        else if (verb === 'masquerade') next.push(taken);
        else if ((verb === 'jump' || verb === 'goto') && rules.chains.has(arg!)) {
          for (const o of walkNft(rules, p, arg!, { ...taken, path: [...taken.path, s] }, ctx, depth + 1)) {
            // reject-chain is kube-proxy's helper for a REJECT verdict: report the rule that sent it there.
            if (o.end === 'REJECT' && arg === 'reject-chain') done.push({ ...o, path: taken.path, by: { ...s, target: 'REJECT' } });
            else if (o.end !== undefined && o.end !== 'RETURN') done.push(o);
            // goto does not come back to this chain: it ends here, falling through to our caller.
            else if (verb === 'goto') done.push({ prob: o.prob, masq: o.masq, masqBy: o.masqBy, path: taken.path });
            else next.push({ prob: o.prob, masq: o.masq, masqBy: o.masqBy, path: taken.path });
          }
        } else throw new TraceError(`jump to undefined chain ${arg ?? v}`);
      }
    }
    states = next;
  }
  return [...done, ...states];
}

/** Traces a new connection through kube-proxy's nftables table (`nft -f` text of one family). */
export function traceNftConnection(text: string, p: Packet): ConnectionTrace {
  const rules = parseNft(text);
  const packet = { src: p.src, dst: p.dst, proto: p.proto, dport: p.dport };
  const ctx: NftCtx = {};
  const fromNode = isLocal(p.src, p);
  const start: State = { prob: 1, masq: false, path: [] };
  const terminal = (os: Outcome[]) => os.filter((o) => o.end !== undefined && o.end !== 'RETURN' && o.prob > 0);
  // Hooks in the kernel's order: the pre-DNAT filter (source ranges), nat, then filter on the original destination.
  const pre = terminal(walkNft(rules, p, fromNode ? 'filter-output-pre-dnat' : 'filter-prerouting-pre-dnat', start, ctx)).find((o) => o.end === 'DROP' || o.end === 'REJECT');
  if (pre) return { packet, verdict: pre.end as ConnectionTrace['verdict'], endpoints: [], verdictBy: pre.by, path: pre.path };
  const nat = terminal(walkNft(rules, p, fromNode ? 'nat-output' : 'nat-prerouting', start, ctx)).filter((o) => o.end !== 'ACCEPT');
  const dnat = nat.filter((o) => o.end !== 'DROP' && o.end !== 'REJECT');
  if (dnat.length > 0) {
    const byEp = new Map<string, TraceEndpoint>();
    for (const o of dnat) {
      const e = byEp.get(o.end!);
      if (e) e.probability += o.prob;
      else byEp.set(o.end!, { endpoint: o.end!, probability: o.prob, masquerade: o.masq, masqueradeBy: o.masqBy, path: o.path });
    }
    const endpoints = [...byEp.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint, 'en', { numeric: true }));
    if (ctx.affinity) {
      const decl = text.split('\n').find((l) => / (?:ip|ip6|inet) kube-proxy (\S+) /.exec(l)?.[1] === ctx.affinitySet && l.startsWith('add set'));
      const m = decl && /timeout (\d+)s/.exec(decl);
      ctx.affinity.seconds = m ? Number(m[1]) : 0;
    }
    return { packet, verdict: 'DNAT', endpoints, path: commonPrefix(endpoints.map((e) => e.path)), affinity: ctx.affinity };
  }
  const filterChain = fromNode ? 'filter-output' : isLocal(p.dst, p) ? 'filter-input' : 'filter-forward';
  const f = terminal(walkNft(rules, p, filterChain, start, ctx)).find((o) => o.end === 'DROP' || o.end === 'REJECT');
  if (f) return { packet, verdict: f.end as ConnectionTrace['verdict'], endpoints: [], verdictBy: f.by, path: f.path };
  return { packet, verdict: 'ACCEPT', endpoints: [], path: [] };
}
