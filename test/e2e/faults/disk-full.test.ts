// Disk full under a running `kubeplane apiserver` (SQLite in --data-dir on a small tmpfs),
// seen through HTTPS and kubectl: writes fail with a 507 Status and a clear log line, reads
// keep working, nothing acknowledged is lost, and writes resume once space is freed.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { resourceFor } from '../../../src/api/resources.js';
import type { ConfigMap } from '../../../src/api/types.js';
import { loadClientConfig } from '../../../src/client/config.js';
import { RestClient } from '../../../src/client/rest.js';
import type { ApiError } from '../../../src/client/errors.js';
import { freePort } from '../../integration/multi/cluster.js';

const configmaps = resourceFor('', 'configmaps')!;

describeE2E('kubeplane apiserver: disk full on the data dir', { root: true, commands: ['mount', 'umount', 'kubectl'] }, () => {
  let mnt = '';
  let mounted = false;
  let server: ReturnType<typeof startKubeplane> | undefined;
  let client: RestClient | undefined;
  let kubeconfig = '';

  beforeAll(async () => {
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), `kp-faults-full-${process.pid}-`));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', `kp-faults-${process.pid}`, mnt]);
    mounted = true;
    const dataDir = path.join(mnt, 'data');
    const port = await freePort();
    server = startKubeplane(['apiserver', `--data-dir=${dataDir}`, '--bind-address=127.0.0.1', `--secure-port=${port}`]);
    const s = server;
    kubeconfig = path.join(dataDir, 'kubeconfig');
    await waitFor(() => (s.exitCode !== null ? Promise.reject(new Error(s.output())) : s.output().includes('kubeconfig:')), { timeoutMs: 60_000, what: 'apiserver to serve' });
    client = new RestClient(loadClientConfig({ kubeconfig }), { timeoutMs: 20_000 });
  }, 90_000);

  afterAll(async () => {
    await client?.close();
    if (server) await stopProcess(server);
    if (mounted) execFileSync('umount', [mnt]);
    fs.rmSync(mnt, { recursive: true, force: true });
  }, 30_000);

  it('507 on writes while full, reads work, acknowledged writes kept, writes resume when space is freed', async () => {
    const c = client!;
    // leave a little room, then fill it with objects through the API
    const st = fs.statfsSync(mnt);
    const filler = path.join(mnt, 'filler');
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, st.bavail * st.bsize - 400 * 1024)));
    const data = { blob: 'x'.repeat(8000) };
    const acked = new Map<string, string>();
    let full: ApiError | undefined;
    for (let i = 0; i < 2000 && !full; i++) {
      try {
        const cm = await c.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm${i}`, namespace: 'default' }, data });
        acked.set(cm.metadata.name!, cm.metadata.resourceVersion!);
      } catch (err) {
        full = err as ApiError;
      }
    }
    expect(full, 'the disk never filled').toBeDefined();
    expect(full!.code).toBe(507);
    expect(full!.reason).toBe('InsufficientStorage');
    expect(full!.status.kind).toBe('Status');
    expect(full!.message).toMatch(/no space left/i);
    expect(acked.size).toBeGreaterThan(0);
    // the operator sees why in the server's log
    expect(server!.output()).toMatch(/no space left/i);

    // kubectl shows the same Status; a second write keeps failing the same way
    const env = { HOME: mnt };
    const r = await runCommand('/usr/bin/kubectl', [`--kubeconfig=${kubeconfig}`, `--cache-dir=${path.join(os.tmpdir(), `kp-faults-full-cache-${process.pid}`)}`, 'create', 'configmap', 'by-kubectl', '--from-literal', `blob=${'y'.repeat(8000)}`], { env, timeoutMs: 60_000 });
    fs.rmSync(path.join(os.tmpdir(), `kp-faults-full-cache-${process.pid}`), { recursive: true, force: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/InsufficientStorage|no space left|storage is full/i);

    // reads work while full: every acknowledged object, as acknowledged
    const listed = await c.list<ConfigMap>(configmaps, { namespace: 'default' });
    const stored = new Map(listed.items.map((cm) => [cm.metadata.name!, cm.metadata.resourceVersion!]));
    for (const [name, rv] of acked) expect(stored.get(name), name).toBe(rv);
    expect((await c.get<ConfigMap>(configmaps, [...acked.keys()][0]!, { namespace: 'default' })).data).toEqual(data);

    // space comes back: writes resume without a restart
    fs.rmSync(filler);
    const again = await waitFor(
      async () => c.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after', namespace: 'default' }, data }),
      { timeoutMs: 20_000, what: 'a write after space is freed' },
    );
    expect(Number(again.metadata.resourceVersion)).toBeGreaterThan(Math.max(...[...acked.values()].map(Number)));
    const after = new Map((await c.list<ConfigMap>(configmaps, { namespace: 'default' })).items.map((cm) => [cm.metadata.name!, cm.metadata.resourceVersion!]));
    for (const [name, rv] of acked) expect(after.get(name), name).toBe(rv);
    expect(server!.exitCode).toBeNull();
  }, 120_000);
});
