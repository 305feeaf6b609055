// Corefile syntax: server blocks (`ZONE[:PORT] ... {`) holding directives, each a plugin
// name, its arguments up to the end of the line, and an optional `{ ... }` block of
// sub-directives. Only syntax lives here; what a plugin's arguments mean is setup.ts's job.

export interface Directive {
  name: string;
  args: string[];
  block: Directive[];
  line: number;
}

export interface ServerKey {
  /** lower-case zone without trailing dot; '' is the root */
  zone: string;
  port: number | undefined;
}

export interface ServerBlockSyntax {
  keys: ServerKey[];
  directives: Directive[];
  line: number;
}

export class CorefileError extends Error {
  override name = 'CorefileError';
}

interface Token {
  text: string;
  line: number;
  /** first token on its line */
  newline: boolean;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    let first = true;
    const re = /"((?:[^"\\]|\\.)*)"|([^\s"#]+)|(#.*)/g;
    for (let m = re.exec(raw); m; m = re.exec(raw)) {
      if (m[3] !== undefined) break;
      let t = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!;
      t = t.replace(/\{\$(\w+)\}/g, (_, v: string) => process.env[v] ?? '');
      out.push({ text: t, line: i + 1, newline: first });
      first = false;
    }
  });
  return out;
}

export function parseServerKey(key: string): ServerKey {
  let k = key.replace(/^dns:\/\//, '');
  if (/^[a-z]+:\/\//.test(k)) throw new CorefileError(`unsupported transport in server key "${key}": only dns:// is served`);
  let port: number | undefined;
  const m = /^(.*):(\d+)$/.exec(k);
  if (m) {
    k = m[1]!;
    port = Number(m[2]);
    if (port < 1 || port > 65535) throw new CorefileError(`invalid port in server key "${key}"`);
  }
  const zone = k.toLowerCase().replace(/\.$/, '');
  if (zone.includes(' ') || zone.includes('/')) throw new CorefileError(`invalid zone in server key "${key}"`);
  return { zone, port };
}

/** Parses a Corefile into server blocks; a syntax error names its line. */
export function parseCorefile(text: string): ServerBlockSyntax[] {
  const toks = tokenize(text);
  let i = 0;
  const blocks: ServerBlockSyntax[] = [];

  function directives(depth: number): Directive[] {
    const out: Directive[] = [];
    for (;;) {
      const t = toks[i];
      if (!t) throw new CorefileError(`unexpected end of file: missing "}"`);
      if (t.text === '}') {
        i++;
        return out;
      }
      if (t.text === '{') throw new CorefileError(`line ${t.line}: unexpected "{"`);
      const d: Directive = { name: t.text, args: [], block: [], line: t.line };
      i++;
      while (toks[i] && !toks[i]!.newline && toks[i]!.text !== '{' && toks[i]!.text !== '}') d.args.push(toks[i++]!.text);
      if (toks[i]?.text === '{' && toks[i]!.line === d.line) {
        if (depth >= 1) throw new CorefileError(`line ${t.line}: blocks nest only one level deep`);
        i++;
        d.block = directives(depth + 1);
      }
      out.push(d);
    }
  }

  while (i < toks.length) {
    const start = toks[i]!;
    const keys: string[] = [];
    while (toks[i] && toks[i]!.text !== '{') {
      if (toks[i]!.text === '}') throw new CorefileError(`line ${toks[i]!.line}: unexpected "}"`);
      keys.push(...toks[i++]!.text.split(',').filter((s) => s !== ''));
    }
    if (!toks[i]) throw new CorefileError(`line ${start.line}: server block "${keys.join(' ')}" has no "{"`);
    i++;
    blocks.push({ keys: keys.map(parseServerKey), directives: directives(0), line: start.line });
  }
  if (blocks.length === 0) throw new CorefileError('no server blocks');
  return blocks;
}

/** kubeadm's default Corefile, with the upstream and port as given. */
export function defaultCorefile(opts: { port: number; upstream: string; zone?: string }): string {
  const zone = opts.zone ?? 'cluster.local';
  return `.:${opts.port} {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes ${zone} in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . ${opts.upstream} {
       max_concurrent 1000
    }
    cache 30 {
       disable success ${zone}
       disable denial ${zone}
    }
    loop
    reload
    loadbalance
}
`;
}
