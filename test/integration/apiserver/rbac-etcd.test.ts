// RBAC across API servers sharing one real etcd: a binding written through one server takes
// effect on the other (each follows the policy through etcd's watch), and a user identified by
// a client certificate of the shared CA is the same user on both.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';
import { createCA, createServingCert } from '../../../src/pki/index.js';
import { startEtcd, type EtcdServer } from '../storage/etcd-server.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describeE2E('RBAC across API servers on one etcd', { commands: ['kubectl', 'etcd'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), `kp-rbac-etcd-${process.pid}-`));
  let etcd: EtcdServer | undefined;
  const servers: ReturnType<typeof startKubeplane>[] = [];
  const urls: string[] = [];
  const ca = createCA('kp-rbac-etcd-ca');
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  /** a kubeconfig for `server` as CN=user (client certificate) or with a bearer token */
  function kubeconfig(server: number, user: { cert?: string; token?: string }): string {
    const path = join(dir, `${server}-${user.cert ?? 'token'}.kubeconfig`);
    let creds: string;
    if (user.cert) {
      const c = createServingCert({ ca, commonName: user.cert, clientAuth: true });
      creds = `client-certificate-data: ${b64(c.certPem)}\n    client-key-data: ${b64(c.keyPem)}`;
    } else creds = `token: ${user.token}`;
    writeFileSync(path, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${urls[server]}\n    certificate-authority-data: ${b64(ca.certPem)}\ncontexts:\n- name: c\n  context: {cluster: c, user: u, namespace: default}\ncurrent-context: c\nusers:\n- name: u\n  user:\n    ${creds}\n`);
    return path;
  }
  const kubectl = (kc: string, args: string[]) => runCommand('/usr/bin/kubectl', ['--kubeconfig', kc, '--cache-dir', join(dir, 'cache'), ...args], { env: { HOME: dir }, timeoutMs: 60_000 });

  beforeAll(async () => {
    etcd = await startEtcd();
    const pki = join(dir, 'pki');
    mkdirSync(pki);
    const serving = createServingCert({ ca, commonName: 'kube-apiserver', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const files = { ca: join(pki, 'ca.crt'), cert: join(pki, 'apiserver.crt'), key: join(pki, 'apiserver.key'), tokens: join(pki, 'tokens.csv') };
    writeFileSync(files.ca, ca.certPem);
    writeFileSync(files.cert, serving.certPem);
    writeFileSync(files.key, serving.keyPem, { mode: 0o600 });
    writeFileSync(files.tokens, 'admin-token,admin,1,"system:masters"\n', { mode: 0o600 });
    const saKey = join(pki, 'sa.key');
    writeFileSync(saKey, createCA('unused').keyPem, { mode: 0o600 });
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const p = startKubeplane(['apiserver', `--data-dir=${join(dir, `data-${i}`)}`, '--bind-address=127.0.0.1', `--secure-port=${port}`, '--storage-backend=etcd3', `--etcd-servers=${etcd.endpoint}`, `--tls-cert-file=${files.cert}`, `--tls-private-key-file=${files.key}`, `--client-ca-file=${files.ca}`, `--token-auth-file=${files.tokens}`, `--service-account-signing-key-file=${saKey}`]);
      servers.push(p);
      urls.push(`https://127.0.0.1:${port}`);
      // one after the other, so the first one's bootstrap policy is written before the next reads it
      await waitFor(() => (p.exitCode !== null ? Promise.reject(new Error(p.output())) : p.output().includes('kubeconfig:')), { timeoutMs: 60_000, what: `apiserver ${i}` });
    }
  }, 120_000);

  afterAll(async () => {
    for (const p of servers) await stopProcess(p);
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a RoleBinding made through one server grants on the other; deleting it revokes there too', async () => {
    const adminA = kubeconfig(0, { token: 'admin-token' });
    const bobB = kubeconfig(1, { cert: 'bob' });
    const before = await kubectl(bobB, ['get', 'configmaps']);
    expect(before.stderr.trim()).toBe('Error from server (Forbidden): configmaps is forbidden: User "bob" cannot list resource "configmaps" in API group "" in the namespace "default"');
    for (const args of [
      ['create', 'role', 'cm-reader', '--verb=get,list', '--resource=configmaps'],
      ['create', 'rolebinding', 'bob-reads', '--role=cm-reader', '--user=bob'],
    ]) {
      const r = await kubectl(adminA, args);
      expect(r.code, r.stderr).toBe(0);
    }
    await waitFor(async () => (await kubectl(bobB, ['get', 'configmaps'])).code === 0, { what: 'the binding on the other server', timeoutMs: 20_000 });
    expect((await kubectl(kubeconfig(0, { cert: 'bob' }), ['get', 'configmaps'])).code).toBe(0);
    expect((await kubectl(adminA, ['delete', 'rolebinding', 'bob-reads'])).code).toBe(0);
    await waitFor(async () => (await kubectl(bobB, ['get', 'configmaps'])).code === 1, { what: 'the revocation on the other server', timeoutMs: 20_000 });
  });

  it('a ServiceAccount token issued by one server (shared signing key) authenticates on the other', async () => {
    const adminA = kubeconfig(0, { token: 'admin-token' });
    expect((await kubectl(adminA, ['create', 'serviceaccount', 'robot'])).code).toBe(0);
    const issued = await kubectl(adminA, ['create', 'token', 'robot']);
    expect(issued.code, issued.stderr).toBe(0);
    const robotB = kubeconfig(1, { token: issued.stdout.trim() });
    const r = await kubectl(robotB, ['get', 'pods']);
    expect(r.stderr.trim()).toBe('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:default:robot" cannot list resource "pods" in API group "" in the namespace "default"');
  });
});
