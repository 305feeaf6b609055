// The only code that runs iptables programs: backend detection, jump rules, canaries, restore.
import { RestoreError, linesAround } from '../errors.js';
import type { Family } from '../model/types.js';
import { execProgram, execProgramEachLine, execProgramLines } from './exec.js';
import { readFileSync } from 'node:fs';

/** Whether this network namespace has legacy iptables tables; running iptables-legacy-save would create them. */
export function legacyTablesPresent(family: Family = 'IPv4'): boolean {
  try {
    return readFileSync(family === 'IPv6' ? '/proc/net/ip6_tables_names' : '/proc/net/ip_tables_names', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

export type IptablesBackend = 'nft' | 'legacy';

/**
 * Picks the iptables backend as kube-proxy's image does (iptables-wrapper): whichever of
 * legacy and nft already holds kubelet/kube-proxy rules; nft when neither does. Mixing them
 * makes rules invisible to one another.
 */
export async function detectBackend(): Promise<IptablesBackend> {
  const count = async (prog: string): Promise<number> => {
    try {
      const r = await execProgram(prog, []);
      if (r.code !== 0) return 0;
      return r.stdout.split('\n').filter((l) => /KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY|KUBE-PROXY-CANARY|^-A KUBE-|^:KUBE-/.test(l)).length;
    } catch {
      return 0;
    }
  };
  const [legacy, nft] = await Promise.all([legacyTablesPresent() ? count('iptables-legacy-save') : 0, count('iptables-nft-save')]);
  return legacy > nft ? 'legacy' : 'nft';
}

interface JumpRule {
  table: 'filter' | 'nat';
  chain: string;
  args: string[];
  target: string;
}

// Listed as kube-proxy lists them; each is inserted at position 1, so the last one ends up first.
const JUMPS: JumpRule[] = [
  { table: 'filter', chain: 'INPUT', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes externally-visible service portals'], target: 'KUBE-EXTERNAL-SERVICES' },
  { table: 'filter', chain: 'FORWARD', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes externally-visible service portals'], target: 'KUBE-EXTERNAL-SERVICES' },
  { table: 'filter', chain: 'INPUT', args: ['-m', 'comment', '--comment', 'kubernetes health check service ports'], target: 'KUBE-NODEPORTS' },
  { table: 'filter', chain: 'FORWARD', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals'], target: 'KUBE-SERVICES' },
  { table: 'filter', chain: 'OUTPUT', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals'], target: 'KUBE-SERVICES' },
  { table: 'filter', chain: 'FORWARD', args: ['-m', 'comment', '--comment', 'kubernetes forwarding rules'], target: 'KUBE-FORWARD' },
  { table: 'filter', chain: 'INPUT', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes load balancer firewall'], target: 'KUBE-PROXY-FIREWALL' },
  { table: 'filter', chain: 'OUTPUT', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes load balancer firewall'], target: 'KUBE-PROXY-FIREWALL' },
  { table: 'filter', chain: 'FORWARD', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes load balancer firewall'], target: 'KUBE-PROXY-FIREWALL' },
  { table: 'nat', chain: 'OUTPUT', args: ['-m', 'comment', '--comment', 'kubernetes service portals'], target: 'KUBE-SERVICES' },
  { table: 'nat', chain: 'PREROUTING', args: ['-m', 'comment', '--comment', 'kubernetes service portals'], target: 'KUBE-SERVICES' },
  { table: 'nat', chain: 'POSTROUTING', args: ['-m', 'comment', '--comment', 'kubernetes postrouting rules'], target: 'KUBE-POSTROUTING' },
];

export const CANARY = 'KUBE-PROXY-CANARY';
const BUILTIN_RULE = /^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) /;

export class IptablesRunner {
  constructor(
    readonly family: Family,
    readonly backend: IptablesBackend,
  ) {}

  private prog(kind: '' | '-save' | '-restore'): string {
    return `${this.family === 'IPv6' ? 'ip6tables' : 'iptables'}-${this.backend}${kind}`;
  }

  private async iptables(args: string[]): Promise<boolean> {
    return (await execProgram(this.prog(''), ['-w', ...args])).code === 0;
  }

  /**
   * Creates the top-level chains, the jumps into them and the canaries (full syncs only): one
   * iptables-save to see what exists and one restore for what is missing, because every
   * separate iptables call re-reads the whole ruleset.
   */
  async ensureJumpsAndCanaries(localhostFirewall: boolean): Promise<void> {
    const jumps = [...JUMPS];
    if (localhostFirewall) {
      jumps.push({ table: 'filter', chain: 'INPUT', args: [], target: 'KUBE-FIREWALL' }, { table: 'filter', chain: 'OUTPUT', args: [], target: 'KUBE-FIREWALL' });
    }
    const chains = new Map<string, Set<string>>();
    const rules = new Map<string, Set<string>>();
    let table = '';
    // Only chain names and the built-in chains' rules matter here: the rest of a large ruleset
    // streams past without being kept.
    const saved = await execProgramEachLine(this.prog('-save'), [], (line) => {
      if (line.startsWith('*')) {
        table = line.slice(1);
        chains.set(table, new Set());
        rules.set(table, new Set());
      } else if (line.startsWith(':')) chains.get(table)?.add(line.slice(1, line.indexOf(' ')));
      else if (BUILTIN_RULE.test(line)) rules.get(table)?.add(line);
    });
    if (saved.code !== 0) throw new Error(`${this.prog('-save')} failed: ${saved.stderr.trim()}`);
    const quote = (a: string): string => (a.includes(' ') ? `"${a}"` : a);
    let payload = '';
    for (const t of ['filter', 'nat', 'mangle']) {
      const have = chains.get(t) ?? new Set<string>();
      const lines: string[] = [];
      for (const c of new Set(jumps.filter((j) => j.table === t).map((j) => j.target))) if (!have.has(c)) lines.push(`:${c} - [0:0]`);
      if (!have.has(CANARY)) lines.push(`:${CANARY} - [0:0]`);
      for (const j of jumps.filter((x) => x.table === t)) {
        const rule = [...j.args.map(quote), '-j', j.target].join(' ');
        if (!rules.get(t)?.has(`-A ${j.chain} ${rule}`)) lines.push(`-I ${j.chain} 1 ${rule}`);
      }
      if (lines.length) payload += `*${t}\n${lines.join('\n')}\nCOMMIT\n`;
    }
    if (payload) await this.restore(payload);
  }

  async canaryPresent(): Promise<boolean> {
    return this.iptables(['-t', 'mangle', '-S', CANARY]);
  }

  /** Chain names in the nat table, from iptables-save. */
  async natChains(): Promise<string[]> {
    const out: string[] = [];
    const r = await execProgramEachLine(this.prog('-save'), ['-t', 'nat'], (line) => {
      if (line.startsWith(':')) out.push(line.slice(1, line.indexOf(' ')));
    });
    if (r.code !== 0) throw new Error(`${this.prog('-save')} failed: ${r.stderr.trim()}`);
    return out;
  }

  async restore(payload: string): Promise<void> {
    const prog = this.prog('-restore');
    const r = await execProgram(prog, ['-w', '--noflush', '--counters'], payload);
    if (r.code === 0) return;
    this.fail(r.stderr, () => payload);
  }

  /**
   * restore() of a payload given as lines, streamed to iptables-restore as they are produced;
   * `text` gives the whole payload again, only to quote a failing line.
   */
  async restoreLines(lines: Iterable<string>, text: () => string): Promise<void> {
    const r = await execProgramLines(this.prog('-restore'), ['-w', '--noflush', '--counters'], lines);
    if (r.code === 0) return;
    this.fail(r.stderr, text);
  }

  private fail(stderr: string, text: () => string): never {
    const prog = this.prog('-restore');
    const m = /line (\d+) failed|line:? (\d+)/i.exec(stderr);
    const line = m ? Number(m[1] ?? m[2]) : undefined;
    throw new RestoreError(prog, `${prog} failed: ${stderr.trim()}`, line, line ? linesAround(text(), line) : undefined);
  }

  /** Removes every chain kube-proxy's iptables (and ipvs) modes install, and the jumps to them. */
  async cleanup(): Promise<void> {
    if (this.backend === 'legacy' && !legacyTablesPresent(this.family)) return;
    for (const table of ['filter', 'nat', 'mangle']) {
      const r = await execProgram(this.prog('-save'), ['-t', table]);
      if (r.code !== 0) continue;
      const lines = r.stdout.split('\n');
      const kubeChains = lines.filter((l) => l.startsWith(':KUBE-')).map((l) => l.slice(1, l.indexOf(' ')));
      if (kubeChains.length === 0) continue;
      let payload = `*${table}\n`;
      for (const l of lines) if (l.startsWith(':') && !l.startsWith(':KUBE-')) payload += l.replace(/\[\d+:\d+\]$/, '[0:0]') + '\n';
      // Re-adding the built-in chains' rules minus jumps into KUBE-* keeps other components' rules.
      for (const l of lines) if (l.startsWith('-A ') && !/^-A KUBE-/.test(l) && !/ -j KUBE-/.test(l)) payload += l + '\n';
      for (const c of kubeChains) payload += `:${c} - [0:0]\n`;
      for (const c of kubeChains) payload += `-X ${c}\n`;
      payload += 'COMMIT\n';
      const builtins = lines.filter((l) => l.startsWith(':') && !l.startsWith(':KUBE-')).map((l) => l.slice(1, l.indexOf(' ')));
      // Built-in chains must be flushed before re-adding their rules.
      const flushed = payload.replace(`*${table}\n`, `*${table}\n` + builtins.map((c) => `-F ${c}\n`).join(''));
      const res = await execProgram(this.prog('-restore'), ['-w', '--noflush'], flushed);
      if (res.code !== 0) throw new Error(`cleanup of ${table} failed: ${res.stderr.trim()}`);
    }
  }
}
