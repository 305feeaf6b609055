// A tiny packet tracer over rendered iptables-restore text (kube-proxy's tracePacket idea):
// walks a new connection (source, protocol, destination, port) through nat KUBE-SERVICES and
// the filter chains and reports where it ends: the endpoints it may be DNATed to (statistic
// matches branch both ways), DROP/REJECT, and whether it gets masqueraded.

type Rules = Map<string, string[][]>;

export interface TraceResult {
  /** "10.180.0.1:80, 10.180.0.2:80", or DROP / REJECT / ACCEPT */
  output: string;
  masq: boolean;
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
    else if (line.startsWith(':') && cur) cur.set(line.slice(1).split(' ')[0]!, cur.get(line.slice(1).split(' ')[0]!) ?? []);
    else if (line.startsWith('-A ') && cur) {
      const t = tokenize(line);
      const chain = t[1]!;
      if (!cur.has(chain)) throw new Error(`rule for undeclared chain ${chain}`);
      cur.get(chain)!.push(t.slice(2));
    }
  }
  // Every jump must go to a declared chain, as kube-proxy's fake iptables checks.
  for (const rules of tables.values())
    for (const rs of rules.values())
      for (const r of rs) {
        const j = r.indexOf('-j');
        const target = j >= 0 ? r[j + 1]! : undefined;
        if (target && target.startsWith('KUBE-') && !rules.has(target)) throw new Error(`jump to undefined chain ${target}`);
      }
  return tables;
}

function ipNum(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}
function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const b = Number(bits ?? 32);
  const d = 2 ** (32 - b);
  return Math.floor(ipNum(ip) / d) === Math.floor(ipNum(net!) / d);
}

interface Packet {
  src: string;
  dst: string;
  proto: string;
  dport: number;
  nodeIPs: string[];
}

interface Outcome {
  end?: string;
  masq: boolean;
}

function isLocal(ip: string, p: Packet): boolean {
  return p.nodeIPs.includes(ip) || inCidr(ip, '127.0.0.0/8');
}

/** All outcomes of walking `chain`; `undefined` end means the chain fell through. */
function walk(rules: Rules, chain: string, p: Packet, masq: boolean, depth = 0): Outcome[] {
  if (depth > 20) throw new Error('jump loop');
  let states: Outcome[] = [{ masq }];
  const done: Outcome[] = [];
  for (const r of rules.get(chain) ?? []) {
    const next: Outcome[] = [];
    for (const st of states) {
      const m = matches(r, p);
      if (m === 'no') {
        next.push(st);
        continue;
      }
      if (m === 'maybe') next.push(st);
      const j = r.indexOf('-j');
      if (j < 0) {
        next.push(st);
        continue;
      }
      const target = r[j + 1]!;
      if (target === 'KUBE-MARK-MASQ') next.push({ masq: true });
      else if (target === 'DNAT') done.push({ end: r[r.indexOf('--to-destination') + 1], masq: st.masq });
      else if (target === 'RETURN') done.push({ masq: st.masq, end: 'RETURN' });
      else if (target === 'DROP' || target === 'REJECT' || target === 'ACCEPT') done.push({ end: target, masq: st.masq });
      else {
        for (const o of walk(rules, target, p, st.masq, depth + 1)) {
          if (o.end === undefined || o.end === 'RETURN') next.push({ masq: o.masq });
          else done.push(o);
        }
      }
    }
    states = dedupe(next);
  }
  return [...done, ...states];
}

function dedupe(os: Outcome[]): Outcome[] {
  const seen = new Map<string, Outcome>();
  for (const o of os) seen.set(`${o.end}|${o.masq}`, o);
  return [...seen.values()];
}

function matches(r: string[], p: Packet): 'yes' | 'no' | 'maybe' {
  let result: 'yes' | 'maybe' = 'yes';
  for (let i = 0; i < r.length; i++) {
    const neg = r[i] === '!';
    const t = neg ? r[++i]! : r[i]!;
    const v = r[i + 1];
    let ok: boolean | 'maybe' = true;
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
        ok = 'maybe';
        i++;
        break;
      case '--rcheck':
        ok = false;
        break;
      case '-j':
        return ok === true ? result : 'no';
      default:
        continue;
    }
    if (ok === 'maybe') {
      result = 'maybe';
      continue;
    }
    if (ok === neg) return 'no';
  }
  return result;
}

/** Traces a new connection through the rendered ruleset. */
export function tracePacket(text: string, p: Packet): TraceResult {
  const tables = parseRestore(text);
  const nat = tables.get('nat')!;
  const outcomes = walk(nat, 'KUBE-SERVICES', p, false).filter((o) => o.end !== undefined && o.end !== 'RETURN');
  if (outcomes.length > 0) {
    const eps = [...new Set(outcomes.map((o) => o.end!))].sort();
    return { output: eps.join(', '), masq: outcomes.some((o) => o.masq) };
  }
  const filter = tables.get('filter')!;
  for (const chain of ['KUBE-PROXY-FIREWALL', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS']) {
    const o = walk(filter, chain, p, false).find((x) => x.end === 'DROP' || x.end === 'REJECT' || x.end === 'ACCEPT');
    if (o) return { output: o.end!, masq: false };
  }
  return { output: 'ACCEPT', masq: false };
}
