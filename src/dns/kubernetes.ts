// The kubernetes plugin's handler: cluster zones answered from the record index, everything
// else passed on. Owns no configuration syntax (setup.ts) and no sockets (server.ts).
import dnsPacket from 'dns-packet';
import { answer, matchZone, type AnswerContext, type KubernetesOptions } from './answer.js';
import type { DnsRequest, Handler, ResponseWriter } from './plugin.js';
import type { RecordIndex } from './records.js';
import { RCODE, TYPE, type Message, type RR } from './wire.js';

/** Resolves a name through the whole chain again (CoreDNS's upstream package). */
export type Upstream = (name: string, qtype: number) => Promise<Buffer | undefined>;

const MAX_CHASE = 10;

export class KubernetesHandler implements Handler {
  readonly name = 'kubernetes';
  readonly ctx: AnswerContext;

  constructor(
    readonly opts: KubernetesOptions,
    readonly index: RecordIndex,
    private readonly hasSynced: () => boolean,
    nsAddrs: string[],
    private readonly next: Handler,
    private readonly upstream: Upstream | undefined,
  ) {
    this.ctx = { opts, index, synced: false, nsAddrs };
  }

  serve(req: DnsRequest, w: ResponseWriter): Promise<number> | number {
    this.ctx.synced = this.hasSynced();
    const a = answer(this.ctx, { qname: req.query.qname, qtype: req.query.qtype });
    if (a.kind === 'next') return this.next.serve(req, w);
    if (!a.chase) {
      w.writeMessage(a.msg, this.name);
      return a.msg.rcode;
    }
    return this.chase(a.msg, a.chase.target, a.chase.qtype, w);
  }

  /** ExternalName: follow the CNAME inside our zones, else ask the chain for the target. */
  private async chase(msg: Message, target: string, qtype: number, w: ResponseWriter): Promise<number> {
    msg.noStore = true;
    let name = target;
    for (let depth = 0; depth < MAX_CHASE; depth++) {
      if (matchZone(this.opts.zones, name.toLowerCase()) === undefined) break;
      const inner = answer(this.ctx, { qname: name, qtype });
      if (inner.kind !== 'answer') break;
      msg.answer.push(...inner.msg.answer);
      if (!inner.chase) {
        w.writeMessage(msg, this.name);
        return msg.rcode;
      }
      name = inner.chase.target;
    }
    if (matchZone(this.opts.zones, name.toLowerCase()) !== undefined || !this.upstream) {
      w.writeMessage(msg, this.name);
      return msg.rcode;
    }
    try {
      const reply = await this.upstream(name, qtype);
      if (reply) {
        const decoded = dnsPacket.decode(reply);
        if (decoded.flag_tc) msg.tc = true;
        for (const rr of decoded.answers ?? []) {
          const conv = toRR(rr);
          if (conv) msg.answer.push(conv);
        }
      }
    } catch {
      // The CNAME alone is still a correct answer; the client may resolve the target itself.
    }
    w.writeMessage(msg, this.name);
    return RCODE.NOERROR;
  }
}

function toRR(a: dnsPacket.Answer): RR | undefined {
  if (a.type === 'A' || a.type === 'AAAA' || a.type === 'CNAME') return { name: a.name, type: a.type, ttl: a.ttl ?? 0, data: a.data as string };
  return undefined;
}

export { TYPE };
