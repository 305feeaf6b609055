// Cluster DNS inside `kubeplane up`, fed by the API server through informers: a Service
// created with the real kubectl is answered at once, and NXDOMAIN follows its deletion.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { dig, freePort, TestUpstream } from './dig.js';

describeE2E('cluster DNS in kubeplane up', { commands: ['dig', 'kubectl'] }, () => {
  const upstream = new TestUpstream();
  let dir = '';
  let dnsPort = 0;
  let up: ReturnType<typeof startKubeplane> | undefined;
  let kubeconfig = '';
  const kubectl = (args: string[]) => runCommand('/usr/bin/kubectl', ['--cache-dir', join(dir, 'cache'), ...args], { env: { KUBECONFIG: kubeconfig, HOME: dir } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `kp-dns-up-${process.pid}-`));
    await upstream.start();
    dnsPort = await freePort();
    up = startKubeplane(['up', '--secure-port', '0', '--data-dir', join(dir, 'state'), '--dns-bind', `127.0.0.1:${dnsPort}`, '--upstream', `127.0.0.1:${upstream.port}`, '--http-bind', 'off', '--https-bind', 'off']);
    const p = up;
    kubeconfig = await waitFor(() => /export KUBECONFIG=(\S+)/.exec(p.output())?.[1] ?? (p.exitCode !== null ? Promise.reject(new Error(p.output())) : undefined), {
      timeoutMs: 60_000,
      what: 'kubeplane up',
    });
  }, 90_000);

  afterAll(async () => {
    if (up) await stopProcess(up);
    await upstream.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers for a Service as soon as kubectl creates it, and NXDOMAIN once it is deleted', async () => {
    // The apiserver's own default/kubernetes Service is there from the start.
    const k8s = await waitFor(async () => {
      const r = await dig(dnsPort, 'kubernetes.default.svc.cluster.local', 'A');
      return r.status === 'NOERROR' && r.answer.length === 1 ? r : undefined;
    }, { what: 'kubernetes.default answer', timeoutMs: 30_000 });
    expect(k8s.answer[0]).toMatch(/^kubernetes\.default\.svc\.cluster\.local\. \d+ IN A 10\.96\.0\.1$/);

    const created = await kubectl(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
    expect(created.code, created.stderr).toBe(0);
    const ip = (await kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
    expect(ip).toMatch(/^10\./);
    // One informer event away: poll briefly rather than sleep.
    const a = await waitFor(async () => {
      const r = await dig(dnsPort, 'web.default.svc.cluster.local', 'A');
      return r.status === 'NOERROR' && r.answer.length > 0 ? r : undefined;
    }, { what: 'web A record', timeoutMs: 10_000 });
    expect(a.answer).toEqual([`web.default.svc.cluster.local. 30 IN A ${ip}`]);
    expect(a.flags).toContain('aa');
    const srv = await dig(dnsPort, '_80-8080._tcp.web.default.svc.cluster.local', 'SRV');
    expect(srv.answer).toEqual([`_80-8080._tcp.web.default.svc.cluster.local. 30 IN SRV 0 100 80 web.default.svc.cluster.local.`]);

    expect((await kubectl(['delete', 'service', 'web'])).code).toBe(0);
    const gone = await waitFor(async () => {
      const r = await dig(dnsPort, 'web.default.svc.cluster.local', 'A');
      return r.status === 'NXDOMAIN' ? r : undefined;
    }, { what: 'NXDOMAIN after delete', timeoutMs: 10_000 });
    expect(gone.authority[0]).toMatch(/^cluster\.local\. \d+ IN SOA ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. /);
  }, 90_000);

  it('forwards names outside the cluster zone to its upstream', async () => {
    const r = await dig(dnsPort, 'www.example.net', 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.answer).toEqual(['www.example.net. 300 IN A 192.0.2.1']);
    expect(upstream.queries).toContain('www.example.net A');
  });
});
