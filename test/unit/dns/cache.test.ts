// The cache plugin's prefetch and serve_stale, with forward to a resolver the test runs on
// loopback and a clock the test moves.
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheHandler } from '../../../src/dns/cache.js';
import { parseConfig } from '../../../src/dns/config.js';
import { CorefileError } from '../../../src/dns/corefile.js';
import { defaultForwardOptions, ForwardHandler } from '../../../src/dns/forward.js';
import type { DnsRequest, ResponseWriter } from '../../../src/dns/plugin.js';
import { terminal } from '../../../src/dns/plugin.js';
import { parseQuery } from '../../../src/dns/wire.js';
import { TestUpstream } from '../../e2e/dns/dig.js';

class Recorder implements ResponseWriter {
  raw: Buffer | undefined;
  get written(): boolean {
    return this.raw !== undefined;
  }
  writeMessage(): void {
    throw new Error('the cache answers with bytes');
  }
  writeRaw(r: Buffer): void {
    this.raw = r;
  }
}

function request(name: string, id = 7): DnsRequest {
  const raw = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }] });
  return { raw, query: parseQuery(raw), name: name.toLowerCase(), transport: 'udp', remoteAddress: '127.0.0.1', internal: false };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A Corefile cache stanza, forward to a loopback upstream, and a movable clock. */
async function setup(cacheBlock: string): Promise<{ cache: CacheHandler; upstream: TestUpstream; clock: { now: number } }> {
  const upstream = new TestUpstream();
  await upstream.start();
  cleanups.push(() => upstream.stop());
  const forward = new ForwardHandler({ ...defaultForwardOptions(), to: [`127.0.0.1:${upstream.port}`] }, terminal, undefined);
  cleanups.push(() => forward.close());
  const opts = parseConfig(`.:53 {\n  ${cacheBlock}\n}\n`).blocks[0]!.cache!;
  const clock = { now: 1_000_000 };
  return { cache: new CacheHandler(opts, forward, undefined, () => clock.now), upstream, clock };
}

async function ask(cache: CacheHandler, name = 'www.example.net'): Promise<{ rcode: string; ttl: number | undefined; data: unknown }> {
  const w = new Recorder();
  const rcode = await cache.serve(request(name), w);
  // Nothing written: the server would answer with the returned rcode (SERVFAIL here).
  if (!w.raw) return { rcode: rcode === 2 ? 'SERVFAIL' : `rcode ${rcode}`, ttl: undefined, data: undefined };
  const d = dnsPacket.decode(w.raw!) as dnsPacket.DecodedPacket & { rcode: string };
  const a = d.answers?.[0] as { ttl?: number; data?: unknown } | undefined;
  return { rcode: d.rcode, ttl: a?.ttl, data: a?.data };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 100));

describe('cache prefetch', () => {
  it('refreshes an entry asked AMOUNT times within DURATION once it is within PERCENTAGE of expiry', async () => {
    const { cache, upstream, clock } = await setup('cache 30 {\n    prefetch 2 1m 20%\n  }');
    await ask(cache);
    expect(upstream.queries).toHaveLength(1);
    clock.now += 20_000; // 10 s left of 30: outside 20 %
    await ask(cache);
    clock.now += 5_000; // 5 s left, inside 20 % (6 s), second hit within a minute
    await ask(cache);
    await settle();
    expect(upstream.queries).toHaveLength(2);
    clock.now += 10_000; // past the first entry's expiry: the prefetched one answers
    expect((await ask(cache)).data).toBe('192.0.2.1');
    expect(upstream.queries).toHaveLength(2);
  });

  it('does not prefetch entries that are not popular', async () => {
    const { cache, upstream, clock } = await setup('cache 30 {\n    prefetch 3 10s\n  }');
    await ask(cache);
    clock.now += 28_000;
    await ask(cache);
    clock.now += 1_000;
    await ask(cache);
    await settle();
    expect(upstream.queries).toHaveLength(1);
  });
});

describe('cache serve_stale', () => {
  it('immediate: answers an expired entry with TTL 0 while the upstream is down, until DURATION has passed', async () => {
    const { cache, upstream, clock } = await setup('cache 30 {\n    serve_stale 1h\n  }');
    expect((await ask(cache)).ttl).toBe(300);
    await upstream.stop();
    clock.now += 40_000;
    const stale = await ask(cache);
    expect(stale).toMatchObject({ rcode: 'NOERROR', ttl: 0, data: '192.0.2.1' });
    await settle();
    clock.now += 3_600_000; // 30 s + 1 h after storing: gone
    expect((await ask(cache)).rcode).toBe('SERVFAIL');
  });

  it('immediate: the stale answer goes out first and the refresh replaces it', async () => {
    const { cache, upstream, clock } = await setup('cache 30 {\n    serve_stale\n  }');
    await ask(cache);
    clock.now += 40_000;
    expect((await ask(cache)).ttl).toBe(0);
    await settle();
    expect(upstream.queries).toHaveLength(2);
    expect((await ask(cache)).ttl).toBe(300);
  });

  it('verify: asks the upstream first and falls back to the stale entry only when it fails', async () => {
    const { cache, upstream, clock } = await setup('cache 30 {\n    serve_stale 1h verify\n  }');
    await ask(cache);
    clock.now += 40_000;
    expect((await ask(cache)).ttl).toBe(300);
    expect(upstream.queries).toHaveLength(2);
    await upstream.stop();
    clock.now += 40_000;
    expect(await ask(cache)).toMatchObject({ rcode: 'NOERROR', ttl: 0, data: '192.0.2.1' });
  });
});

describe('cache Corefile options', () => {
  it('parses prefetch and serve_stale as CoreDNS spells them', () => {
    const c = (text: string) => parseConfig(`.:53 {\n  cache {\n    ${text}\n  }\n}\n`).blocks[0]!.cache!;
    expect(c('prefetch').prefetch).toEqual({ amount: 1, durationMs: 60_000, percentage: 10 });
    expect(c('prefetch 5 30s 50%').prefetch).toEqual({ amount: 5, durationMs: 30_000, percentage: 50 });
    expect(c('serve_stale').serveStale).toEqual({ durationMs: 3_600_000, verify: false });
    expect(c('serve_stale 10m verify').serveStale).toEqual({ durationMs: 600_000, verify: true });
    for (const bad of ['prefetch 0', 'prefetch 1 1m 5%', 'prefetch 1 soon', 'serve_stale 1h later', 'serve_stale 1h verify x']) expect(() => c(bad), bad).toThrow(CorefileError);
  });
});
