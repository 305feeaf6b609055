// `kubeplane apiserver migrate`: a cluster's objects written through a real API server on
// SQLite, copied to a real etcd, served again by an API server on that etcd.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, runKubeplane, startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { startEtcd, type EtcdServer } from './etcd-server.js';

describeE2E('kubeplane apiserver migrate', { commands: ['etcd', 'kubectl'] }, () => {
  let dir = '';
  let etcd: EtcdServer | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `kp-migrate-${process.pid}-`));
    etcd = await startEtcd();
  }, 60_000);
  afterAll(async () => {
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const serve = async (args: string[]) => {
    const p = startKubeplane(['apiserver', '--secure-port', '0', '--bind-address', '127.0.0.1', ...args]);
    const kubeconfig = await waitFor(() => /kubeconfig: (\S+)/.exec(p.output())?.[1] ?? (p.exitCode !== null ? Promise.reject(new Error(p.output())) : undefined), { timeoutMs: 60_000, what: 'apiserver' });
    const kubectl = (a: string[]) => runCommand('/usr/bin/kubectl', ['--cache-dir', join(dir, 'cache'), ...a], { env: { KUBECONFIG: kubeconfig, HOME: dir } });
    return { p, kubectl };
  };

  it('copies every object from sqlite to etcd, and an apiserver on etcd serves them', async () => {
    const sqliteDir = join(dir, 'sqlite');
    const a = await serve(['--data-dir', sqliteDir]);
    for (let i = 0; i < 5; i++) expect((await a.kubectl(['create', 'configmap', `cm-${i}`, `--from-literal=i=${i}`])).code).toBe(0);
    expect((await a.kubectl(['create', 'service', 'clusterip', 'web', '--tcp=80:8080'])).code).toBe(0);
    const ip = (await a.kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    await stopProcess(a.p);

    const m = await runKubeplane(['apiserver', 'migrate', '--from', `sqlite:${sqliteDir}`, '--to', `etcd:${etcd!.endpoint}`]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/^copied \d+ keys \(0 already there\)/);
    // A second run finds everything in place.
    const again = await runKubeplane(['apiserver', 'migrate', '--from', `sqlite:${sqliteDir}`, '--to', `etcd:${etcd!.endpoint}`]);
    expect(again.stdout).toMatch(/^copied 0 keys \(\d+ already there\)/);

    // Same PKI and token, new storage.
    const b = await serve(['--data-dir', sqliteDir, '--storage-backend', 'etcd3', '--etcd-servers', etcd!.endpoint]);
    try {
      expect((await b.kubectl(['get', 'cm', 'cm-4', '-o', 'jsonpath={.data.i}'])).stdout).toBe('4');
      expect((await b.kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout).toBe(ip);
      // The allocation moved with it: the same IP cannot be handed out twice.
      const clash = await b.kubectl(['create', 'service', 'clusterip', 'other', '--tcp=80:80', `--clusterip=${ip}`]);
      expect(clash.code).not.toBe(0);
      expect(clash.stderr).toContain('provided IP is already allocated');
    } finally {
      await stopProcess(b.p);
    }
  }, 120_000);

  it('rejects a malformed store address with a clear message', async () => {
    const r = await runKubeplane(['apiserver', 'migrate', '--from', 'mysql:x', '--to', 'etcd:http://127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid --from "mysql:x": want sqlite:DIR or etcd:URL[,URL...]');
  });
});
