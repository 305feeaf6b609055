// `kubeplane trace dns` must say what the server sends: for each question, the trace's rcode
// and records are compared with what a running `kubeplane dns` on the same objects answers
// to the real `dig` (SOA serials aside: they are the time of the last change).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { repoRoot, runKubeplane, startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { dig, freePort, TestUpstream } from '../dns/dig.js';

const fixture = join(repoRoot, 'test/unit/dns/fixture.yaml');

interface TraceJson {
  search: string[];
  matched: number;
  candidates: { qname: string; handledBy: string; rcode: string; answer: unknown[]; authority: { type: string; name: string }[]; additional: unknown[] }[];
}

function rrText(rr: unknown): string {
  const r = rr as { name: string; ttl: number; type: string; data: unknown };
  let data: string;
  if (r.type === 'SRV') {
    const d = r.data as { priority: number; weight: number; port: number; target: string };
    data = `${d.priority} ${d.weight} ${d.port} ${d.target}.`;
  } else if (r.type === 'TXT') data = (r.data as string[]).map((s) => JSON.stringify(s)).join(' ');
  else if (r.type === 'CNAME' || r.type === 'PTR' || r.type === 'NS') data = `${r.data as string}.`;
  else data = r.data as string;
  return `${r.name}. ${r.ttl} IN ${r.type} ${data}`.toLowerCase();
}

const sorted = (xs: string[]): string[] => [...xs].map((x) => x.toLowerCase()).sort();

describeE2E('kubeplane trace dns agrees with kubeplane dns and dig', { commands: ['dig'] }, () => {
  let dir = '';
  let port = 0;
  let proc: ReturnType<typeof startKubeplane> | undefined;
  const upstream = new TestUpstream();
  const flags = (): string[] => ['--objects', fixture, '--upstream', `127.0.0.1:${upstream.port}`];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-trace-dns-'));
    await upstream.start();
    port = await freePort();
    proc = startKubeplane(['dns', ...flags(), '--dns-bind', `127.0.0.1:${port}`, '--health-bind', 'off', '--ready-bind', 'off', '--metrics-bind', 'off']);
    await waitFor(async () => (await dig(port, 'svc1.testns.svc.cluster.local', 'A')).status === 'NOERROR', { what: `kubeplane dns answering\n${proc?.output()}` });
  }, 60_000);

  afterAll(async () => {
    if (proc) await stopProcess(proc);
    await upstream.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases: [name: string, type: string][] = [
    ['svc1.testns.svc.cluster.local', 'A'],
    ['SVC1.TestNS.svc.cluster.local', 'A'],
    ['svc1.testns.svc.cluster.local', 'AAAA'],
    ['svc1.testns.svc.cluster.local', 'SRV'],
    ['_http._tcp.svc1.testns.svc.cluster.local', 'SRV'],
    ['_nope._tcp.svc1.testns.svc.cluster.local', 'SRV'],
    ['svc-unnamed.testns.svc.cluster.local', 'SRV'],
    ['hdls1.testns.svc.cluster.local', 'A'],
    ['web-0.hdls1.testns.svc.cluster.local', 'A'],
    ['hdls-notready.testns.svc.cluster.local', 'A'],
    ['dual.testns.svc.cluster.local', 'AAAA'],
    ['ext-in.testns.svc.cluster.local', 'A'],
    ['nope.testns.svc.cluster.local', 'A'],
    ['svc1.nons.svc.cluster.local', 'A'],
    ['testns.svc.cluster.local', 'A'],
    ['1.0.0.10.in-addr.arpa', 'PTR'],
    ['1-2-3-4.testns.pod.cluster.local', 'A'],
    ['dns-version.cluster.local', 'TXT'],
    ['cluster.local', 'NS'],
  ];

  for (const [name, type] of cases) {
    it(`${name} ${type}`, async () => {
      const r = await runKubeplane(['trace', 'dns', name, '--type', type, ...flags(), '-o', 'json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const t = JSON.parse(r.stdout) as TraceJson;
      expect(t.candidates).toHaveLength(1);
      const c = t.candidates[0]!;
      expect(c.handledBy).toBe('kubernetes');
      const d = await dig(port, name, type, ['+tcp']);
      expect(c.rcode).toBe(d.status);
      expect(sorted(c.answer.map(rrText))).toEqual(sorted(d.answer));
      expect(sorted(c.additional.map(rrText))).toEqual(sorted(d.additional));
      // Authority: the same records, serials aside.
      expect(c.authority.map((a) => `${a.name}. ${a.type}`.toLowerCase())).toEqual(d.authority.map((a) => a.split(' ').filter((_, i) => i === 0 || i === 3).join(' ').toLowerCase()));
    });
  }

  it('a name outside the cluster zones is forwarded, and the upstream answers it', async () => {
    const r = await runKubeplane(['trace', 'dns', 'www.example.net', ...flags(), '-o', 'json']);
    const t = JSON.parse(r.stdout) as TraceJson;
    expect(t.candidates[0]!.handledBy).toBe('forward');
    const d = await dig(port, 'www.example.net', 'A');
    expect(d.answer).toEqual(['www.example.net. 300 IN A 192.0.2.1']);
    expect(upstream.queries).toContain('www.example.net A');
  });

  it('search-path expansion stops at the candidate the server answers with records', async () => {
    const r = await runKubeplane(['trace', 'dns', 'svc1.testns', '--search', 'default', ...flags(), '-o', 'json']);
    const t = JSON.parse(r.stdout) as TraceJson;
    expect(t.search).toEqual(['svc1.testns.default.svc.cluster.local', 'svc1.testns.svc.cluster.local', 'svc1.testns.cluster.local', 'svc1.testns']);
    expect(t.matched).toBe(1);
    for (const [i, c] of t.candidates.entries()) {
      const d = await dig(port, c.qname, 'A');
      expect(c.rcode).toBe(d.status);
      expect(d.answer.length > 0).toBe(i === t.matched);
    }
  });

  it('reads a Corefile, and explains a name its kubernetes plugin hands on', async () => {
    const corefile = join(dir, 'Corefile');
    writeFileSync(corefile, `.:53 {\n  kubernetes cluster.local {\n    fallthrough\n  }\n  forward . 127.0.0.1:${upstream.port}\n}\n`);
    const r = await runKubeplane(['trace', 'dns', 'nope.testns.svc.cluster.local', '--objects', fixture, '--corefile', corefile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/answered by: forward/);
    expect(r.stdout).toMatch(/fallthrough/);
  });
});
