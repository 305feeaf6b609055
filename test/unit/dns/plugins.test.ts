import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { buildChain, CHAIN_ORDER } from '../../../src/dns/chain.js';
import { LoadBalanceHandler } from '../../../src/dns/loadbalance.js';
import { LoopHandler } from '../../../src/dns/loop.js';
import type { DnsRequest, Handler, ResponseWriter } from '../../../src/dns/plugin.js';
import { parseQuery, type Message, type RR } from '../../../src/dns/wire.js';

function request(name: string, type: dnsPacket.RecordType = 'A'): DnsRequest {
  const raw = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name, type }] });
  return { raw, query: parseQuery(raw), name: name.toLowerCase(), transport: 'udp', remoteAddress: '127.0.0.1', internal: false };
}

class Recorder implements ResponseWriter {
  msg: Message | undefined;
  get written(): boolean {
    return this.msg !== undefined;
  }
  writeMessage(m: Message): void {
    this.msg = m;
  }
  writeRaw(): void {}
}

const a = (ip: string): RR => ({ name: 'h.ns.svc.cluster.local', type: 'A', ttl: 5, data: ip });

describe('chain', () => {
  it('runs plugins in CHAIN_ORDER whatever order they are given in', async () => {
    const seen: string[] = [];
    const mk = (name: string) => (next: Handler): Handler => ({ name, serve: (r, w) => (seen.push(name), next.serve(r, w)) });
    const chain = buildChain({ forward: mk('forward'), cache: mk('cache'), errors: mk('errors'), kubernetes: mk('kubernetes') });
    expect(await chain.serve(request('x'), new Recorder())).toBe(2);
    expect(seen).toEqual(CHAIN_ORDER.filter((p) => seen.includes(p)));
    expect(seen).toEqual(['errors', 'cache', 'kubernetes', 'forward']);
  });
});

describe('loadbalance', () => {
  it('rotates address records and keeps CNAMEs first', () => {
    const inner: Handler = {
      name: 'k',
      serve: (_r, w) => {
        w.writeMessage({ rcode: 0, aa: true, answer: [{ name: 'e', type: 'CNAME', ttl: 5, data: 'h' }, a('1.1.1.1'), a('2.2.2.2'), a('3.3.3.3')], authority: [], additional: [] }, 'k');
        return 0;
      },
    };
    const lb = new LoadBalanceHandler(inner);
    const orders: string[] = [];
    for (let i = 0; i < 3; i++) {
      const w = new Recorder();
      lb.serve(request('e'), w);
      expect(w.msg!.answer[0]!.type).toBe('CNAME');
      orders.push(w.msg!.answer.slice(1).map((r) => r.data).join(','));
    }
    expect(orders).toEqual(['1.1.1.1,2.2.2.2,3.3.3.3', '2.2.2.2,3.3.3.3,1.1.1.1', '3.3.3.3,1.1.1.1,2.2.2.2']);
  });
});

describe('loop', () => {
  it('reports a loop when its probe comes back more than twice, and only then', () => {
    const loops: string[] = [];
    const h = new LoopHandler('', { name: 'next', serve: () => 2 }, (m) => loops.push(m));
    for (let i = 0; i < 2; i++) h.serve(request(h.probeName, 'HINFO'), new Recorder());
    h.serve(request('other.example', 'HINFO'), new Recorder());
    expect(loops).toEqual([]);
    h.serve(request(h.probeName, 'HINFO'), new Recorder());
    expect(loops).toHaveLength(1);
    expect(loops[0]).toMatch(/Loop .* detected/);
  });
  it('stops looking once the probe was answered without looping', () => {
    const loops: string[] = [];
    const h = new LoopHandler('cluster.local', { name: 'next', serve: () => 0 }, (m) => loops.push(m));
    h.settle();
    for (let i = 0; i < 5; i++) h.serve(request(h.probeName, 'HINFO'), new Recorder());
    expect(loops).toEqual([]);
  });
});
