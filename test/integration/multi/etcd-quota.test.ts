// etcd out of space (its backend quota) under a `kubeplane apiserver`, seen over HTTPS: writes
// fail with a 507 Status and a log line saying what to do, reads keep working, and every
// acknowledged write is there.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { resourceFor } from '../../../src/api/resources.js';
import type { ConfigMap } from '../../../src/api/types.js';
import type { ApiError } from '../../../src/client/errors.js';
import { startEtcd, type EtcdServer } from '../storage/etcd-server.js';
import { startApiServers, type ApiServerSet } from './cluster.js';

const configmaps = resourceFor('', 'configmaps')!;

describeE2E('kubeplane apiserver on a full etcd', { commands: ['etcd', 'kubectl'] }, () => {
  let etcd: EtcdServer;
  let set: ApiServerSet;

  beforeAll(async () => {
    etcd = await startEtcd(['--quota-backend-bytes', String(2 * 1024 * 1024)]);
    try {
      set = await startApiServers('quota', 1, etcd.endpoint);
    } catch (err) {
      await etcd.stop();
      throw err;
    }
  }, 90_000);

  afterAll(async () => {
    await set?.stop();
    await etcd?.stop();
  }, 30_000);

  it('writes get 507 InsufficientStorage with a clear log line; reads work; acknowledged writes are kept', async () => {
    const server = set.servers[0]!;
    const data = { blob: 'x'.repeat(64 * 1024) };
    const acked = new Map<string, string>();
    let full: ApiError | undefined;
    for (let i = 0; i < 300 && !full; i++) {
      try {
        const cm = await server.client.create<ConfigMap>(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm${i}`, namespace: 'default' }, data });
        acked.set(cm.metadata.name!, cm.metadata.resourceVersion!);
      } catch (err) {
        full = err as ApiError;
      }
    }
    expect(full, 'etcd never filled').toBeDefined();
    expect(full!.code).toBe(507);
    expect(full!.reason).toBe('InsufficientStorage');
    expect(full!.message).toMatch(/database space exceeded/);
    expect(acked.size).toBeGreaterThan(0);
    expect(server.output()).toMatch(/etcd refuses writes: database space exceeded/);
    // later writes fail the same way, reads are served
    await expect(server.client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'more', namespace: 'default' } } as ConfigMap)).rejects.toMatchObject({ code: 507 });
    const stored = new Map((await server.client.list<ConfigMap>(configmaps, { namespace: 'default' })).items.map((cm) => [cm.metadata.name!, cm.metadata.resourceVersion!]));
    for (const [name, rv] of acked) expect(stored.get(name), name).toBe(rv);
    const r = await server.kubectl(['get', 'configmap', 'cm0', '-o', 'jsonpath={.metadata.name}']);
    expect(r.stdout).toBe('cm0');
    expect(server.process.exitCode).toBeNull();
  }, 90_000);
});
