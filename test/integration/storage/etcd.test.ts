// etcd-specific behaviour with a real etcd: backend loss ends watches and fails requests with
// Unavailable; the backend quota maps to NoSpace; compact_rev_key is shared with kube-apiserver.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createCA, createServingCert } from '../../../src/pki/index.js';
import { openStore } from '../../../src/apiserver/storage/open.js';
import { describeE2E } from '../../helpers/e2e.js';
import type { Store } from '../../../src/apiserver/storage/interface.js';
import { compactRevKey, openEtcdStore } from '../../../src/apiserver/storage/etcd.js';
import { collectWatch } from '../../unit/storage/contract.js';
import { startEtcd, type EtcdServer } from './etcd-server.js';

describeE2E('etcd store: failures', { commands: ['etcd'] }, () => {
  const servers: EtcdServer[] = [];
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    for (const e of servers.splice(0)) await e.stop();
  });

  it('losing etcd ends watches with Unavailable and fails requests with Unavailable', async () => {
    const etcd = await startEtcd();
    servers.push(etcd);
    const store = await openEtcdStore({ endpoints: [etcd.endpoint], requestTimeout: 2000 });
    stores.push(store);
    const kv = await store.create('/registry/pods/ns/a', '{}');
    const w = collectWatch(store, '/registry/pods/', kv.modRevision - 1);
    await w.until(1);
    etcd.process.kill('SIGKILL');
    const err = await w.ended(15_000);
    expect(err.code).toBe('Unavailable');
    await expect(store.get('/registry/pods/ns/a')).rejects.toMatchObject({ code: 'Unavailable' });
    await expect(store.create('/registry/pods/ns/b', '{}')).rejects.toMatchObject({ code: 'Unavailable' });
  });

  it('a full backend quota fails writes with NoSpace; reads still work', async () => {
    const etcd = await startEtcd(['--quota-backend-bytes', String(1024 * 1024)]);
    servers.push(etcd);
    const store = await openEtcdStore({ endpoints: [etcd.endpoint] });
    stores.push(store);
    const value = 'x'.repeat(64 * 1024);
    let code: string | undefined;
    let acked = 0;
    for (let i = 0; i < 200 && !code; i++) {
      try {
        await store.create(`/registry/secrets/ns/s${i}`, value);
        acked++;
      } catch (err) {
        code = (err as { code?: string }).code;
      }
    }
    expect(code).toBe('NoSpace');
    expect(acked).toBeGreaterThan(0);
    // etcd applies the write that crosses the quota and still answers "database space
    // exceeded" for it (its quota applier checks after applying); every acked write is there
    const stored = await store.count('/registry/secrets/');
    expect([acked, acked + 1]).toContain(stored);
    for (let i = 0; i < acked; i++) expect((await store.get(`/registry/secrets/ns/s${i}`)).kv?.value).toBe(value);
    await expect(store.create('/registry/secrets/ns/more', 'x')).rejects.toMatchObject({ code: 'NoSpace' });
  });

  it('compaction records the revision in compact_rev_key, as kube-apiserver does', async () => {
    const etcd = await startEtcd();
    servers.push(etcd);
    const store = await openEtcdStore({ endpoints: [etcd.endpoint] });
    stores.push(store);
    const a = await store.create('/registry/pods/ns/a', '1');
    await store.update('/registry/pods/ns/a', '2', a.modRevision);
    await store.compact(a.modRevision + 1);
    expect(await store.compactedRevision()).toBe(a.modRevision + 1);
    const { kv } = await store.get(compactRevKey);
    expect(kv?.value).toBe(String(a.modRevision + 1));
  });
});

describeE2E('etcd store: TLS and openStore', { commands: ['etcd'] }, () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('talks to an https etcd that requires client certificates, configured the kube-apiserver way', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-storage-tls-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const ca = createCA('kp-storage-etcd-ca');
    const server = createServingCert({ ca, commonName: 'etcd', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], clientAuth: true });
    const client = createServingCert({ ca, commonName: 'kube-apiserver-etcd-client', clientAuth: true });
    const f = (name: string, pem: string) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, pem, { mode: 0o600 });
      return p;
    };
    const files = {
      caFile: f('ca.crt', ca.certPem),
      certFile: f('server.crt', server.certPem),
      keyFile: f('server.key', server.keyPem),
      clientCert: f('client.crt', client.certPem),
      clientKey: f('client.key', client.keyPem),
    };
    const etcd = await startEtcd([], files);
    cleanup.push(() => etcd.stop());
    expect(etcd.endpoint.startsWith('https://')).toBe(true);

    const store = await openStore({
      backend: 'etcd3',
      etcdServers: [etcd.endpoint],
      etcdCAFile: files.caFile,
      etcdCertFile: files.clientCert,
      etcdKeyFile: files.clientKey,
    });
    cleanup.push(() => store.close());
    const kv = await store.create('/registry/namespaces/tls', '{}');
    expect((await store.get('/registry/namespaces/tls')).kv).toEqual(kv);

    // without a client certificate the server refuses the handshake
    const anonymous = openEtcdStore({ endpoints: [etcd.endpoint], tls: { ca: fs.readFileSync(files.caFile) }, requestTimeout: 3000 });
    await expect(anonymous).rejects.toMatchObject({ code: 'Unavailable' });
  });

  it('openStore explains bad settings', async () => {
    await expect(openStore({ backend: 'etcd3', etcdServers: [] })).rejects.toThrow(/at least one server/);
    await expect(openStore({ backend: 'etcd3', etcdServers: ['127.0.0.1:2379'] })).rejects.toThrow(/must start with http/);
    await expect(openStore({ backend: 'etcd3', etcdServers: ['https://127.0.0.1:1'], etcdCAFile: '/nonexistent/ca.crt' })).rejects.toThrow(/cannot read etcd CA file/);
    await expect(openStore({ backend: 'bogus' as 'sqlite' })).rejects.toThrow(/unknown storage backend/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-storage-open-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'file'), '');
    await expect(openStore({ backend: 'sqlite', dataDir: path.join(dir, 'file') })).rejects.toThrow(/not a directory/);
    const s = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data'), sqlite: { compactInterval: 0 } });
    cleanup.push(() => s.close());
    expect((await s.create('/registry/pods/ns/a', '{}')).modRevision).toBe(2);
  });
});
