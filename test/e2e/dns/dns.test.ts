// kubeplane dns as a process, queried with the real dig over UDP and TCP.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { dig, freePort, sendRaw, TestUpstream } from './dig.js';

const FIXTURE = fileURLToPath(new URL('../../unit/dns/fixture.yaml', import.meta.url));
const Z = 'cluster.local';

async function httpStatus(port: number, path: string): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}${path}`)).status;
  } catch {
    return 0;
  }
}

describeE2E('kubeplane dns with dig', { commands: ['dig'] }, () => {
  // Created in beforeAll: describe bodies also run for filtered-out tests, whose hooks do not.
  let dir = '';
  let objects = '';
  const upstream = new TestUpstream();
  let port = 0;
  let readyPort = 0;
  let metricsPort = 0;
  let proc: ReturnType<typeof startKubeplane> | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-dns-e2e-'));
    objects = join(dir, 'objects.yaml');
    copyFileSync(FIXTURE, objects);
    await upstream.start();
    port = await freePort();
    readyPort = await freePort();
    metricsPort = await freePort();
    const healthPort = await freePort();
    proc = startKubeplane(['dns', '--objects', objects, '--dns-bind', `127.0.0.1:${port}`, '--upstream', `127.0.0.1:${upstream.port}`, '--health-bind', `127.0.0.1:${healthPort}`, '--ready-bind', `127.0.0.1:${readyPort}`, '--metrics-bind', `127.0.0.1:${metricsPort}`]);
    await waitFor(async () => (await httpStatus(readyPort, '/ready')) === 200, { what: `kubeplane dns ready\n${proc.output()}` });
  });

  afterAll(async () => {
    if (proc) await stopProcess(proc, 10_000);
    await upstream.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const transport of ['udp', 'tcp']) {
    const opt = transport === 'tcp' ? ['+tcp'] : [];
    it(`answers every record type over ${transport}`, async () => {
      const a = await dig(port, `svc1.testns.svc.${Z}`, 'A', opt);
      expect(a.status).toBe('NOERROR');
      expect(a.flags).toContain('aa');
      expect(a.answer).toEqual([`svc1.testns.svc.${Z}. 30 IN A 10.0.0.1`]);
      expect((await dig(port, `dual.testns.svc.${Z}`, 'AAAA', opt)).answer).toEqual([`dual.testns.svc.${Z}. 30 IN AAAA fd00::10`]);
      const srv = await dig(port, `_http._tcp.hdls1.testns.svc.${Z}`, 'SRV', opt);
      expect(srv.answer.sort()).toEqual([`_http._tcp.hdls1.testns.svc.${Z}. 30 IN SRV 0 50 80 172-0-0-3.hdls1.testns.svc.${Z}.`, `_http._tcp.hdls1.testns.svc.${Z}. 30 IN SRV 0 50 80 web-0.hdls1.testns.svc.${Z}.`]);
      expect(srv.additional.sort()).toEqual([`172-0-0-3.hdls1.testns.svc.${Z}. 30 IN A 172.0.0.3`, `web-0.hdls1.testns.svc.${Z}. 30 IN A 172.0.0.2`]);
      expect((await dig(port, '1.0.0.10.in-addr.arpa', 'PTR', opt)).answer).toEqual([`1.0.0.10.in-addr.arpa. 30 IN PTR svc1.testns.svc.${Z}.`]);
      expect((await dig(port, `dns-version.${Z}`, 'TXT', opt)).answer).toEqual([`dns-version.${Z}. 28800 IN TXT "1.1.0"`]);
      expect((await dig(port, Z, 'NS', opt)).answer).toEqual([`${Z}. 30 IN NS ns.dns.${Z}.`]);
      const soa = await dig(port, Z, 'SOA', opt);
      expect(soa.answer[0]).toMatch(new RegExp(`^${Z}\\. 30 IN SOA ns\\.dns\\.${Z}\\. hostmaster\\.${Z}\\. \\d+ 7200 1800 86400 30$`));
      expect((await dig(port, `10-244-0-5.testns.pod.${Z}`, 'A', opt)).answer).toEqual([`10-244-0-5.testns.pod.${Z}. 30 IN A 10.244.0.5`]);
      // ExternalName: the CNAME, and the target resolved through forward
      const ext = await dig(port, `ext.testns.svc.${Z}`, 'A', opt);
      // (the second transport's lookup of the target may come from the cache, a second older)
      expect(ext.answer).toHaveLength(2);
      expect(ext.answer[0]).toBe(`ext.testns.svc.${Z}. 30 IN CNAME example.net.`);
      // the upstream's TTL (300), counted down by the cache: how far depends on the machine's load
      const target = /^example\.net\. (\d+) IN A 192\.0\.2\.1$/.exec(ext.answer[1]!);
      expect(target).not.toBeNull();
      expect(Number(target![1])).toBeGreaterThan(0);
      expect(Number(target![1])).toBeLessThanOrEqual(300);
    });

    it(`gives CoreDNS's negative answers over ${transport}`, async () => {
      const nx = await dig(port, `nope.testns.svc.${Z}`, 'A', opt);
      expect(nx.status).toBe('NXDOMAIN');
      expect(nx.flags).toContain('aa');
      expect(nx.answer).toEqual([]);
      expect(nx.authority[0]).toMatch(new RegExp(`^${Z}\\. 30 IN SOA ns\\.dns\\.${Z}\\. hostmaster\\.${Z}\\. \\d+ 7200 1800 86400 30$`));
      const nodata = await dig(port, `svc1.testns.svc.${Z}`, 'AAAA', opt);
      expect(nodata.status).toBe('NOERROR');
      expect(nodata.answer).toEqual([]);
      expect(nodata.authority).toHaveLength(1);
      expect((await dig(port, `testns.svc.${Z}`, 'A', opt)).status).toBe('NOERROR');
      expect((await dig(port, `hdls-notready.testns.svc.${Z}`, 'A', opt)).status).toBe('NXDOMAIN');
      expect((await dig(port, `foo.${Z}`, 'A', opt)).status).toBe('NXDOMAIN');
      expect((await dig(port, Z, 'AXFR', ['+tcp'])).raw).toMatch(/Transfer failed|REFUSED/);
    });

    it(`echoes the letter case of the question over ${transport}`, async () => {
      const r = await dig(port, `SvC1.TestNS.Svc.Cluster.Local`, 'A', opt);
      expect(r.answer).toEqual([`SvC1.TestNS.Svc.Cluster.Local. 30 IN A 10.0.0.1`]);
      const n = await dig(port, `NoPe.testns.svc.CLUSTER.local`, 'A', opt);
      expect(n.authority[0]).toMatch(/^CLUSTER\.local\. 30 IN SOA ns\.dns\.CLUSTER\.local\. hostmaster\.CLUSTER\.local\./);
    });
  }

  it('truncates at 512 bytes without EDNS and answers in full over TCP', async () => {
    const udp = await dig(port, `big.testns.svc.${Z}`, 'A', ['+noedns', '+ignore']);
    expect(udp.flags).toContain('tc');
    expect(udp.answer.length).toBeGreaterThan(0);
    expect(udp.answer.length).toBeLessThan(60);
    const tcp = await dig(port, `big.testns.svc.${Z}`, 'A', ['+tcp']);
    expect(tcp.flags).not.toContain('tc');
    expect(tcp.answer).toHaveLength(60);
    // With a large EDNS buffer the whole answer fits in UDP.
    const edns = await dig(port, `big.testns.svc.${Z}`, 'A', ['+bufsize=4096', '+ignore']);
    expect(edns.flags).not.toContain('tc');
    expect(edns.answer).toHaveLength(60);
  });

  it('answers garbage with FORMERR and keeps serving', async () => {
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x61, 0x62]);
    const reply = await sendRaw(port, garbage);
    expect(reply).toBeDefined();
    expect(reply!.readUInt16BE(0)).toBe(0x1234);
    expect(reply!.readUInt16BE(2) & 0x8000).toBe(0x8000);
    expect(reply!.readUInt16BE(2) & 0xf).toBe(1);
    // Too short to be a DNS header: dropped, nothing to answer.
    expect(await sendRaw(port, Buffer.from([1, 2, 3]), 500)).toBeUndefined();
    expect((await dig(port, `svc1.testns.svc.${Z}`, 'A')).status).toBe('NOERROR');
  });

  it('sees an edit of the objects immediately, with no stale window', async () => {
    expect((await dig(port, `added.testns.svc.${Z}`, 'A')).status).toBe('NXDOMAIN');
    const extra = `---\napiVersion: v1\nkind: Service\nmetadata: {name: added, namespace: testns}\nspec: {clusterIP: 10.0.0.77, ports: [{name: http, port: 80}]}\n`;
    writeFileSync(objects, readFileSync(FIXTURE, 'utf8') + extra);
    await waitFor(async () => (await dig(port, `added.testns.svc.${Z}`, 'A')).answer.join() === `added.testns.svc.${Z}. 30 IN A 10.0.0.77`, { what: 'added service answered' });
    writeFileSync(objects, readFileSync(FIXTURE, 'utf8'));
    await waitFor(async () => (await dig(port, `added.testns.svc.${Z}`, 'A')).status === 'NXDOMAIN', { what: 'deleted service gone' });
  });

  it('forwards other names and answers repeats from the cache', async () => {
    const before = upstream.queries.filter((q) => q === 'www.example.org A').length;
    const a = await dig(port, 'www.example.org', 'A');
    expect(a.status).toBe('NOERROR');
    expect(a.answer).toEqual(['www.example.org. 300 IN A 192.0.2.2']);
    const b = await dig(port, 'WWW.example.org', 'A');
    // served from the cache: the TTL counts down; owner names are the upstream's (case-insensitive)
    expect(b.answer[0]).toMatch(/^www\.example\.org\. (300|299|298) IN A 192\.0\.2\.2$/i);
    expect(upstream.queries.filter((q) => q === 'www.example.org A').length).toBe(before + 1);
    // negative answers are cached too
    expect((await dig(port, 'missing.example.com', 'A')).status).toBe('NXDOMAIN');
    expect((await dig(port, 'missing.example.com', 'A')).status).toBe('NXDOMAIN');
    expect(upstream.queries.filter((q) => q === 'missing.example.com A')).toHaveLength(1);
  });

  it('exposes CoreDNS metric names', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    for (const m of ['coredns_dns_requests_total', 'coredns_dns_responses_total', 'coredns_dns_request_duration_seconds_bucket', 'coredns_cache_hits_total', 'coredns_forward_requests_total']) expect(text).toContain(m);
    expect(text).toMatch(/coredns_dns_responses_total\{[^}]*rcode="NXDOMAIN"[^}]*\} [1-9]/);
  });

  it('answers SERVFAIL, not a hang, when the upstream is down', async () => {
    await upstream.stop();
    const first = await dig(port, 'down1.example.net', 'A');
    expect(first.status).toBe('SERVFAIL');
    const second = await dig(port, 'down2.example.net', 'A');
    expect(second.status).toBe('SERVFAIL');
    // cluster names are unaffected
    expect((await dig(port, `svc1.testns.svc.${Z}`, 'A')).status).toBe('NOERROR');
  });
});

describeE2E('kubeplane dns before its objects are synced', { commands: ['dig'] }, () => {
  let dir = '';
  let proc: ReturnType<typeof startKubeplane> | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-dns-e2e-sync-'));
  });

  afterAll(async () => {
    if (proc) await stopProcess(proc, 10_000);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers SERVFAIL instead of NXDOMAIN until synced, and is not ready', async () => {
    const objects = join(dir, 'later.yaml');
    const port = await freePort();
    const readyPort = await freePort();
    // The objects file does not exist yet: the source cannot list, so nothing is synced.
    proc = startKubeplane(['dns', '--objects', objects, '--dns-bind', `127.0.0.1:${port}`, '--upstream', '127.0.0.1:9', '--health-bind', 'off', '--metrics-bind', 'off', '--ready-bind', `127.0.0.1:${readyPort}`]);
    await waitFor(async () => (await httpStatus(readyPort, '/ready')) === 503, { what: `/ready 503\n${proc.output()}` });
    const r = await dig(port, `svc1.testns.svc.${Z}`, 'A');
    expect(r.status).toBe('SERVFAIL');
    expect(r.authority[0]).toMatch(/ SOA ns\.dns\.cluster\.local\./);
    copyFileSync(FIXTURE, objects);
    await waitFor(async () => (await httpStatus(readyPort, '/ready')) === 200, { what: '/ready 200' });
    expect((await dig(port, `svc1.testns.svc.${Z}`, 'A')).answer).toEqual([`svc1.testns.svc.${Z}. 30 IN A 10.0.0.1`]);
    expect((await dig(port, `nope.testns.svc.${Z}`, 'A')).status).toBe('NXDOMAIN');
  });
});

describeE2E('kubeplane dns forwarding loop and workers', { commands: ['dig'] }, () => {
  const procs: ReturnType<typeof startKubeplane>[] = [];
  afterAll(async () => {
    for (const p of procs) await stopProcess(p, 10_000);
  });

  it('exits when its forward target is itself (loop plugin)', async () => {
    const port = await freePort();
    const p = startKubeplane(['dns', '--objects', FIXTURE, '--dns-bind', `127.0.0.1:${port}`, '--upstream', `127.0.0.1:${port}`, '--health-bind', 'off', '--ready-bind', 'off', '--metrics-bind', 'off']);
    procs.push(p);
    const code = await new Promise<number | null>((res) => p.once('exit', (c) => res(c)));
    expect(code).toBe(1);
    expect(p.output()).toMatch(/Loop .* detected for zone/);
  });

  it('answers from every worker with --workers 2, ready once all synced', async () => {
    const port = await freePort();
    const readyPort = await freePort();
    const p = startKubeplane(['dns', '--objects', FIXTURE, '--workers', '2', '--dns-bind', `127.0.0.1:${port}`, '--upstream', '127.0.0.1:9', '--health-bind', 'off', '--metrics-bind', 'off', '--ready-bind', `127.0.0.1:${readyPort}`]);
    procs.push(p);
    await waitFor(async () => (await httpStatus(readyPort, '/ready')) === 200, { what: `workers ready\n${p.output()}` });
    for (let i = 0; i < 6; i++) expect((await dig(port, `svc1.testns.svc.${Z}`, 'A', i % 2 ? ['+tcp'] : [])).answer).toEqual([`svc1.testns.svc.${Z}. 30 IN A 10.0.0.1`]);
    // SIGTERM: every worker goes through lameduck and exits, then the primary exits 0.
    const exited = new Promise<number | null>((res) => p.once('exit', (c) => res(c)));
    p.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describeE2E('kubeplane dns --corefile with reload', { commands: ['dig'] }, () => {
  let dir = '';
  let proc: ReturnType<typeof startKubeplane> | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-dns-e2e-reload-'));
  });
  afterAll(async () => {
    if (proc) await stopProcess(proc, 10_000);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves an operator Corefile and applies an edit without a restart', async () => {
    const port = await freePort();
    const corefile = join(dir, 'Corefile');
    const text = (ttl: number): string => `.:${port} {\n  errors\n  kubernetes cluster.local in-addr.arpa {\n    ttl ${ttl}\n    pods verified\n  }\n  reload 2s 1s\n}\n`;
    writeFileSync(corefile, text(17));
    proc = startKubeplane(['dns', '--objects', FIXTURE, '--corefile', corefile, '--dns-bind', `127.0.0.1:${port}`]);
    await waitFor(async () => (await dig(port, `svc1.testns.svc.${Z}`, 'A')).answer.join() === `svc1.testns.svc.${Z}. 17 IN A 10.0.0.1`, { what: `first answer\n${proc.output()}` });
    expect((await dig(port, `10-244-0-5.testns.pod.${Z}`, 'A')).answer).toEqual([`10-244-0-5.testns.pod.${Z}. 17 IN A 10.244.0.5`]);
    writeFileSync(corefile, 'not a corefile {');
    await new Promise((r) => setTimeout(r, 3500));
    expect((await dig(port, `svc1.testns.svc.${Z}`, 'A')).answer).toEqual([`svc1.testns.svc.${Z}. 17 IN A 10.0.0.1`]);
    writeFileSync(corefile, text(7));
    await waitFor(async () => (await dig(port, `svc1.testns.svc.${Z}`, 'A')).answer.join() === `svc1.testns.svc.${Z}. 7 IN A 10.0.0.1`, { what: `reloaded answer\n${proc.output()}` });
    expect(proc.exitCode).toBeNull();
  });
});

describeE2E('kubeplane dns lameduck on shutdown', { commands: ['dig'] }, () => {
  let proc: ReturnType<typeof startKubeplane> | undefined;
  afterAll(async () => {
    if (proc) await stopProcess(proc, 10_000);
  });

  it('keeps answering with /health 200 and /ready 503 for the lameduck period, then exits 0', async () => {
    const port = await freePort();
    const healthPort = await freePort();
    const readyPort = await freePort();
    proc = startKubeplane(['dns', '--objects', FIXTURE, '--dns-bind', `127.0.0.1:${port}`, '--upstream', '127.0.0.1:9', '--metrics-bind', 'off', '--health-bind', `127.0.0.1:${healthPort}`, '--ready-bind', `127.0.0.1:${readyPort}`]);
    await waitFor(async () => (await httpStatus(readyPort, '/ready')) === 200, { what: 'ready' });
    const exited = new Promise<number | null>((res) => proc!.once('exit', (c) => res(c)));
    proc.kill('SIGTERM');
    await waitFor(async () => (await httpStatus(readyPort, '/ready')) === 503, { what: '/ready 503 in lameduck' });
    expect(await httpStatus(healthPort, '/health')).toBe(200);
    expect((await dig(port, `svc1.testns.svc.${Z}`, 'A')).answer).toEqual([`svc1.testns.svc.${Z}. 30 IN A 10.0.0.1`]);
    expect(await exited).toBe(0);
  });
});
