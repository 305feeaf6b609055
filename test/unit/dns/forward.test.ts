// forward and cache against resolvers run by the test on loopback.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheHandler, defaultCacheOptions } from '../../../src/dns/cache.js';
import { defaultForwardOptions, ForwardHandler } from '../../../src/dns/forward.js';
import type { DnsRequest, Handler, ResponseWriter } from '../../../src/dns/plugin.js';
import { terminal } from '../../../src/dns/plugin.js';
import { parseQuery, RCODE, type Message } from '../../../src/dns/wire.js';
import { TestUpstream } from '../../e2e/dns/dig.js';

class Recorder implements ResponseWriter {
  raw: Buffer | undefined;
  msg: Message | undefined;
  get written(): boolean {
    return this.raw !== undefined || this.msg !== undefined;
  }
  writeMessage(m: Message): void {
    this.msg = m;
  }
  writeRaw(r: Buffer): void {
    this.raw = r;
  }
}

function request(name: string, type: dnsPacket.RecordType = 'A', id = 7): DnsRequest {
  const raw = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type }] });
  const query = parseQuery(raw);
  return { raw, query, name: name.toLowerCase(), transport: 'udp', remoteAddress: '127.0.0.1', internal: false };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function upstream(mod?: (u: TestUpstream) => void): Promise<TestUpstream> {
  const u = new TestUpstream();
  mod?.(u);
  await u.start();
  cleanups.push(() => u.stop());
  return u;
}

function forward(to: string[], opts: Partial<ReturnType<typeof defaultForwardOptions>> = {}): ForwardHandler {
  const f = new ForwardHandler({ ...defaultForwardOptions(), to, ...opts }, terminal, undefined);
  cleanups.push(() => f.close());
  return f;
}

describe('forward', () => {
  it('relays the upstream answer with the client ID', async () => {
    const u = await upstream();
    const w = new Recorder();
    const rc = await forward([`127.0.0.1:${u.port}`]).serve(request('www.example.net', 'A', 999), w);
    expect(rc).toBe(RCODE.NOERROR);
    const d = dnsPacket.decode(w.raw!);
    expect(d.id).toBe(999);
    expect(d.answers![0]).toMatchObject({ name: 'www.example.net', data: '192.0.2.1' });
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    const full = new TestUpstream();
    let tcpQueries = 0;
    // Over UDP: TC set and no records. Over TCP (same port): the full answer.
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
    cleanups.push(() => void sock.close());
    sock.on('message', (m, r) => {
      const q = dnsPacket.decode(m);
      sock.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.TRUNCATED_RESPONSE, questions: q.questions }), r.port, r.address);
    });
    const tcp = net.createServer((s) => {
      s.on('data', (d: Buffer) => {
        tcpQueries++;
        const r = full.reply(d.subarray(2));
        const len = Buffer.alloc(2);
        len.writeUInt16BE(r.length);
        s.end(Buffer.concat([len, r]));
      });
    });
    const listening = await new Promise<boolean>((res) => {
      tcp.once('error', () => res(false));
      tcp.listen(sock.address().port, '127.0.0.1', () => res(true));
    });
    cleanups.push(() => new Promise<void>((r) => (listening ? tcp.close(() => r()) : r())));
    expect(listening).toBe(true);
    const w = new Recorder();
    await forward([`127.0.0.1:${sock.address().port}`]).serve(request('big.example.net'), w);
    expect(tcpQueries).toBe(1);
    const d = dnsPacket.decode(w.raw!);
    expect(d.flag_tc).toBe(false);
    expect(d.answers).toHaveLength(1);
  });

  it('answers REFUSED past max_concurrent', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((res) => silent.bind(0, '127.0.0.1', () => res()));
    cleanups.push(() => void silent.close());
    const f = forward([`127.0.0.1:${silent.address().port}`], { maxConcurrent: 1, timeoutMs: 300 });
    const first = f.serve(request('a.example.net'), new Recorder());
    expect(await f.serve(request('b.example.net'), new Recorder())).toBe(RCODE.REFUSED);
    expect(await first).toBe(RCODE.SERVFAIL);
  });

  it('fails fast with SERVFAIL once the upstream is down', async () => {
    const u = await upstream();
    const port = u.port;
    await u.stop();
    const f = forward([`127.0.0.1:${port}`], { maxFails: 1, healthCheckMs: 60_000 });
    for (let i = 0; i < 3; i++) expect(await f.serve(request(`x${i}.example.net`), new Recorder())).toBe(RCODE.SERVFAIL);
    expect(f.upstreams[0]!.down).toBe(true);
  });

  it('passes names outside its zone to the next plugin', async () => {
    const next: Handler = { name: 'next', serve: () => 42 };
    const f = new ForwardHandler({ ...defaultForwardOptions(), from: 'example.org', to: ['127.0.0.1:9'] }, next, undefined);
    cleanups.push(() => f.close());
    expect(await f.serve(request('www.example.net'), new Recorder())).toBe(42);
  });
});

describe('cache', () => {
  it('serves repeats from the cache with TTLs counted down, question case echoed, until expiry', async () => {
    const u = await upstream();
    let now = 1_000_000;
    const c = new CacheHandler({ ...defaultCacheOptions(), successTtl: 30 }, forward([`127.0.0.1:${u.port}`]), undefined, () => now);
    await c.serve(request('www.example.net'), new Recorder());
    now += 10_000;
    const w = new Recorder();
    await c.serve(request('WWW.Example.NET', 'A', 55), w);
    const d = dnsPacket.decode(w.raw!);
    expect(d.id).toBe(55);
    expect(d.questions![0]!.name).toBe('WWW.Example.NET');
    expect((d.answers![0] as unknown as { ttl: number }).ttl).toBe(300 - 10);
    expect(u.queries).toEqual(['www.example.net A']);
    now += 21_000; // capped at 30 s
    await c.serve(request('www.example.net'), new Recorder());
    expect(u.queries).toHaveLength(2);
  });

  it('caches denial by the SOA minimum and honours disable', async () => {
    const u = await upstream();
    const c = new CacheHandler({ ...defaultCacheOptions(), disableDenial: ['example.org'] }, forward([`127.0.0.1:${u.port}`]), undefined);
    await c.serve(request('nope.example.com'), new Recorder());
    await c.serve(request('nope.example.com'), new Recorder());
    expect(u.queries.filter((q) => q === 'nope.example.com A')).toHaveLength(1);
    await c.serve(request('nope.foo.example.org', 'TXT'), new Recorder());
    await c.serve(request('nope.foo.example.org', 'TXT'), new Recorder());
    expect(u.queries.filter((q) => q === 'nope.foo.example.org TXT')).toHaveLength(2);
  });
});
