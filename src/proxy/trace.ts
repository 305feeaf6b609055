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
  const seps = first.findIndex((s) => s.target.startsWith('KUBE-SEP-') || s.target === 'DNAT');
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
