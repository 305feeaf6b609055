// Encodes a partial-sync nft transaction (the text nftTransaction() writes) as one nf_tables
// netlink batch, byte for byte the messages `nft -f` sends for the same lines. `nft` 1.0.x
// dumps every chain of the ruleset before each transaction (its cache), which at 10,000
// services costs more than the change itself; a batch sent directly skips that, and stays one
// atomic kernel transaction. Only the vocabulary partial syncs use is encoded: anything else
// returns undefined and the caller falls back to `nft -f`.
import { isIP } from 'node:net';
import { bytes, hostU32, nest, nfMessage, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REQUEST, str, u32be, type Attr } from './attrs.js';

const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG_BATCH_BEGIN = 16;
const NFNL_MSG_BATCH_END = 17;
const MSG = { NEWCHAIN: 3, DELCHAIN: 5, NEWRULE: 6, DELRULE: 8, NEWSET: 9, NEWSETELEM: 12, DELSETELEM: 14 } as const;
const FAMILY = { ip: 2, ip6: 10 } as const;

const VERDICT = { drop: 0, accept: 1, jump: -3, goto: -4, return: -5 } as const;
const PROTO: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };
const NFT_REG_VERDICT = 0;
const NFT_REG_1 = 1;
const NFT_REG_2 = 2;
const NFT_PAYLOAD_NETWORK_HEADER = 1;
const NFT_META_L4PROTO = 16;
const NFT_CMP_EQ = 0;
const NFT_CMP_NEQ = 1;
const NFT_NAT_DNAT = 1;
const NF_NAT_RANGE_PROTO_SPECIFIED = 2;
const NFT_NG_RANDOM = 1;
const NFT_DATA_VERDICT = 0xffffff00;
const TYPE_INTEGER = 4;
const NFT_SET_ANONYMOUS = 0x1;
const NFT_SET_CONSTANT = 0x2;
const NFT_SET_MAP = 0x8;
// The set userdata nft attaches to a `numgen ... vmap { }` map: key byte order host, data
// byte order, the data's typeof (verdict) and "data is not an interval"; nft reads it back
// when listing, so it must be the same bytes.
const NUMGEN_VMAP_UDATA = Buffer.from([0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x04, 0x08, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00]);

type Fam = keyof typeof FAMILY;

class Unsupported extends Error {}
const unsupported = (what: string): never => {
  throw new Unsupported(what);
};

function addrBytes(ip: string, fam: Fam): Buffer {
  const v = isIP(ip);
  if ((fam === 'ip' && v !== 4) || (fam === 'ip6' && v !== 6)) unsupported(`address ${ip}`);
  if (v === 4) return Buffer.from(ip.split('.').map(Number));
  return ipv6Bytes(ip);
}

function ipv6Bytes(ip: string): Buffer {
  let text = ip;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = text.slice(lastColon + 1).split('.').map(Number);
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tail.length === 4) Buffer.from(tail).copy(b, 12);
  return b;
}

function port16(p: string): Buffer {
  const n = Number(p);
  if (!Number.isInteger(n) || n < 0 || n > 65535) unsupported(`port ${p}`);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A concatenation component, padded to nf_tables' 4-byte register granularity. */
function pad4(b: Buffer): Buffer {
  const out = Buffer.alloc((b.length + 3) & ~3);
  b.copy(out);
  return out;
}

const expr = (name: string, data: Attr[]): Attr => nest(1, [str(1, name), nest(2, data)]);
const dataValue = (type: number, b: Buffer): Attr => nest(type, [bytes(1, b)]);
const verdictData = (type: number, code: number, chain?: string): Attr => nest(type, [nest(2, [u32be(1, code), ...(chain !== undefined ? [str(2, chain)] : [])])]);

function payload(offset: number, len: number): Attr {
  return expr('payload', [u32be(1, NFT_REG_1), u32be(2, NFT_PAYLOAD_NETWORK_HEADER), u32be(3, offset), u32be(4, len)]);
}
function cmp(op: number, value: Buffer): Attr {
  return expr('cmp', [u32be(1, NFT_REG_1), u32be(2, op), dataValue(3, value)]);
}
function immediateVerdict(code: number, chain?: string): Attr {
  return expr('immediate', [u32be(1, NFT_REG_VERDICT), verdictData(2, code, chain)]);
}

function parseVerdict(tokens: string[]): { code: number; chain?: string } {
  const [v, chain, ...rest] = tokens;
  if (rest.length) unsupported(`verdict ${tokens.join(' ')}`);
  if (v === 'jump' || v === 'goto') {
    if (!chain) unsupported('verdict without chain');
    return { code: VERDICT[v], chain };
  }
  if ((v === 'drop' || v === 'accept' || v === 'return') && chain === undefined) return { code: VERDICT[v] };
  return unsupported(`verdict ${tokens.join(' ')}`);
}

/** `ip saddr`/`ip6 daddr` header offsets and address length. */
function addrField(fam: Fam, field: string): { offset: number; len: number } {
  if (fam === 'ip') return { offset: field === 'saddr' ? 12 : 16, len: 4 };
  return { offset: field === 'saddr' ? 8 : 24, len: 16 };
}

/** Matches on an address or prefix, as nft linearizes them (byte-aligned prefixes load only their bytes). */
function addrMatch(fam: Fam, field: string, op: number, value: string): Attr[] {
  const f = addrField(fam, field);
  const [ip, bitsText] = value.split('/') as [string, string | undefined];
  const addr = addrBytes(ip, fam);
  const bits = bitsText === undefined ? f.len * 8 : Number(bitsText);
  if (!Number.isInteger(bits) || bits <= 0 || bits > f.len * 8) unsupported(`prefix ${value}`);
  if (bits % 8 === 0) return [payload(f.offset, bits / 8), cmp(op, addr.subarray(0, bits / 8))];
  const mask = Buffer.alloc(f.len);
  for (let i = 0; i < bits; i++) mask[i >> 3]! |= 0x80 >> (i & 7);
  const net = Buffer.from(addr.map((b, i) => b & mask[i]!));
  return [payload(f.offset, f.len), expr('bitwise', [u32be(1, NFT_REG_1), u32be(2, NFT_REG_1), u32be(3, f.len), dataValue(4, mask), dataValue(5, Buffer.alloc(f.len))]), cmp(op, net)];
}

interface BatchCtx {
  fam: Fam;
  table: string;
  seq: number;
  setId: number;
  messages: Buffer[];
  /** 1-based transaction line of each message's sequence number */
  lineOfSeq: Map<number, number>;
  line: number;
}

function push(ctx: BatchCtx, type: number, flags: number, attrs: Attr[]): void {
  const seq = ctx.seq++;
  ctx.lineOfSeq.set(seq, ctx.line);
  ctx.messages.push(nfMessage((NFNL_SUBSYS_NFTABLES << 8) | type, flags, seq, FAMILY[ctx.fam], attrs));
}

/** The expressions of one rule from our renderer's vocabulary; anonymous maps are added to the batch first. */
function ruleExprs(ctx: BatchCtx, text: string): Attr[] {
  const t = text.split(' ');
  const out: Attr[] = [];
  let i = 0;
  while (i < t.length) {
    const w = t[i]!;
    if ((w === 'ip' || w === 'ip6') && (t[i + 1] === 'saddr' || t[i + 1] === 'daddr')) {
      if (w !== ctx.fam) unsupported(`${w} match in ${ctx.fam} table`);
      const neg = t[i + 2] === '!=';
      const value = t[i + (neg ? 3 : 2)];
      if (!value || value.startsWith('@') || value === '{') unsupported(text);
      out.push(...addrMatch(ctx.fam, t[i + 1]!, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, value!));
      i += neg ? 4 : 3;
    } else if (w === 'meta' && t[i + 1] === 'l4proto' && PROTO[t[i + 2] ?? ''] !== undefined && t[i + 3] === 'dnat') {
      // `meta l4proto P dnat to ADDR:PORT`: the only dnat form the renderer writes.
      if (t[i + 4] !== 'to' || i + 6 !== t.length) unsupported(text);
      const target = t[i + 5]!;
      const m = ctx.fam === 'ip' ? /^([\d.]+):(\d+)$/.exec(target) : /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(target);
      if (!m) return unsupported(text);
      out.push(expr('meta', [u32be(2, NFT_META_L4PROTO), u32be(1, NFT_REG_1)]), cmp(NFT_CMP_EQ, Buffer.from([PROTO[t[i + 2]!]!])));
      out.push(expr('immediate', [u32be(1, NFT_REG_1), dataValue(2, addrBytes(m[1]!, ctx.fam))]));
      out.push(expr('immediate', [u32be(1, NFT_REG_2), dataValue(2, port16(m[2]!))]));
      out.push(expr('nat', [u32be(1, NFT_NAT_DNAT), u32be(2, FAMILY[ctx.fam]), u32be(3, NFT_REG_1), u32be(5, NFT_REG_2), u32be(7, NF_NAT_RANGE_PROTO_SPECIFIED)]));
      return out;
    } else if (w === 'numgen') {
      // numgen random mod N vmap { 0 : goto A , 1 : goto B }
      const m = /^numgen random mod (\d+) vmap \{ (.*) \}$/.exec(t.slice(i).join(' '));
      if (!m) return unsupported(text);
      const n = Number(m[1]);
      const elems = m[2]!.split(' , ').map((e) => {
        const em = /^(\d+) : (goto|jump) (\S+)$/.exec(e);
        if (!em) return unsupported(text);
        return { key: Number(em[1]), code: VERDICT[em[2] as 'goto' | 'jump'], chain: em[3]! };
      });
      if (n < 1 || elems.length === 0) unsupported(text);
      const id = ctx.setId++;
      const name = '__map%d';
      push(ctx, MSG.NEWSET, NLM_F_REQUEST | NLM_F_CREATE, [
        str(1, ctx.table),
        str(2, name),
        u32be(3, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP),
        u32be(4, TYPE_INTEGER),
        u32be(5, 4),
        u32be(6, NFT_DATA_VERDICT),
        u32be(7, 0),
        u32be(10, id),
        nest(9, [u32be(1, elems.length)]),
        bytes(13, NUMGEN_VMAP_UDATA),
      ]);
      push(ctx, MSG.NEWSETELEM, NLM_F_REQUEST | NLM_F_CREATE, [
        str(1, ctx.table),
        str(2, name),
        u32be(4, id),
        nest(
          3,
          elems.map((e) => nest(1, [dataValue(1, hostU32(e.key)), verdictData(2, e.code, e.chain)])),
        ),
      ]);
      out.push(expr('numgen', [u32be(1, NFT_REG_1), u32be(2, n), u32be(3, NFT_NG_RANDOM), u32be(4, 0)]));
      out.push(expr('lookup', [u32be(2, NFT_REG_1), u32be(3, NFT_REG_VERDICT), str(1, name), u32be(4, id)]));
      return out;
    } else if (w === 'jump' || w === 'goto' || w === 'drop' || w === 'accept' || w === 'return') {
      const v = parseVerdict(t.slice(i));
      out.push(immediateVerdict(v.code, v.chain));
      return out;
    } else return unsupported(text);
  }
  return unsupported(`rule without a verdict: ${text}`);
}

/** Set/map element key (and, for maps, verdict and comment) from `{ KEY [comment "C"] [: VERDICT] }`. */
function element(ctx: BatchCtx, set: string, text: string, withData: boolean): Attr {
  const [keyPart, dataPart] = text.split(' : ') as [string, string | undefined];
  let keyText = keyPart;
  let comment: string | undefined;
  const cm = /^(.*?) comment "([^"]*)"$/.exec(keyPart);
  if (cm) {
    keyText = cm[1]!;
    comment = cm[2]!;
  }
  const parts = keyText.split(' . ');
  let key: Buffer;
  if (set === 'cluster-ips' || set === 'nodeport-ips') {
    if (parts.length !== 1) return unsupported(text);
    key = addrBytes(parts[0]!, ctx.fam);
  } else if (set === 'service-ips' || set === 'no-endpoint-services' || set === 'firewall-ips') {
    if (parts.length !== 3 || PROTO[parts[1]!] === undefined) return unsupported(text);
    key = Buffer.concat([pad4(addrBytes(parts[0]!, ctx.fam)), pad4(Buffer.from([PROTO[parts[1]!]!])), pad4(port16(parts[2]!))]);
  } else if (set === 'service-nodeports' || set === 'no-endpoint-nodeports') {
    if (parts.length !== 2 || PROTO[parts[0]!] === undefined) return unsupported(text);
    key = Buffer.concat([pad4(Buffer.from([PROTO[parts[0]!]!])), pad4(port16(parts[1]!))]);
  } else return unsupported(`set ${set}`);
  const attrs: Attr[] = [dataValue(1, key)];
  if (withData) {
    if (dataPart === undefined) return unsupported(text);
    const v = parseVerdict(dataPart.split(' '));
    attrs.push(verdictData(2, v.code, v.chain));
  } else if (dataPart !== undefined) unsupported(text);
  if (comment !== undefined) {
    // NFTNL_UDATA_SET_ELEM_COMMENT: type 0, length, NUL-terminated text
    const c = Buffer.from(comment + '\0');
    if (c.length > 255) unsupported('comment too long');
    attrs.push(bytes(6, Buffer.concat([Buffer.from([0, c.length]), c])));
  }
  return nest(1, attrs);
}

const MAPS = new Set(['service-ips', 'no-endpoint-services', 'firewall-ips', 'service-nodeports', 'no-endpoint-nodeports']);

export interface NftBatch {
  /** the whole batch, BATCH_BEGIN ... BATCH_END, ready for one sendmsg */
  data: Buffer;
  /** transaction line (1-based) that produced each message sequence number */
  lineOfSeq: Map<number, number>;
}

/**
 * The netlink batch for a transaction, or undefined when a line is outside the encoded
 * vocabulary (the caller then uses `nft -f`, which understands everything).
 */
export function encodeNftBatch(transaction: string, fam: Fam, table: string): NftBatch | undefined {
  const ctx: BatchCtx = { fam, table, seq: 1, setId: 1, messages: [], lineOfSeq: new Map(), line: 0 };
  const prefix = `${fam} ${table} `;
  try {
    const lines = transaction.split('\n');
    for (let idx = 0; idx < lines.length; idx++) {
      const l = lines[idx]!;
      ctx.line = idx + 1;
      if (l === '') continue;
      const m = /^(add|flush|delete) (chain|rule|element) (.*)$/.exec(l);
      if (!m || !m[3]!.startsWith(prefix)) return unsupported(l);
      const rest = m[3]!.slice(prefix.length);
      const verb = m[1]!;
      const obj = m[2]!;
      if (obj === 'chain') {
        if (rest.includes(' ') || rest === '') return unsupported(l);
        if (verb === 'add') push(ctx, MSG.NEWCHAIN, NLM_F_REQUEST | NLM_F_CREATE, [str(1, table), str(3, rest)]);
        else if (verb === 'flush') push(ctx, MSG.DELRULE, NLM_F_REQUEST, [str(1, table), str(2, rest)]);
        else push(ctx, MSG.DELCHAIN, NLM_F_REQUEST, [str(1, table), str(3, rest)]);
      } else if (obj === 'rule') {
        if (verb !== 'add') return unsupported(l);
        const sp = rest.indexOf(' ');
        if (sp <= 0) return unsupported(l);
        const chain = rest.slice(0, sp);
        const exprs = ruleExprs(ctx, rest.slice(sp + 1));
        push(ctx, MSG.NEWRULE, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_APPEND, [str(1, table), str(2, chain), nest(4, exprs)]);
      } else {
        const em = /^(\S+) \{ (.*) \}$/.exec(rest);
        if (!em || verb === 'flush') return unsupported(l);
        const set = em[1]!;
        const isMap = MAPS.has(set);
        const el = element(ctx, set, em[2]!, verb === 'add' && isMap);
        if (verb === 'add') push(ctx, MSG.NEWSETELEM, NLM_F_REQUEST | NLM_F_CREATE, [str(1, table), str(2, set), nest(3, [el])]);
        else push(ctx, MSG.DELSETELEM, NLM_F_REQUEST, [str(1, table), str(2, set), nest(3, [el])]);
      }
    }
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  if (ctx.messages.length === 0) return undefined;
  const begin = nfMessage(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 0, 0, [], NFNL_SUBSYS_NFTABLES);
  const end = nfMessage(NFNL_MSG_BATCH_END, NLM_F_REQUEST, ctx.seq, 0, [], NFNL_SUBSYS_NFTABLES);
  return { data: Buffer.concat([begin, ...ctx.messages, end]), lineOfSeq: ctx.lineOfSeq };
}
