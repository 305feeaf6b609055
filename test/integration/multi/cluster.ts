// Several `kubeplane apiserver` processes on one real etcd, as an HA control plane runs them:
// the first server generates the CA, serving certificate and token file into its data dir;
// the others are handed the same files through --tls-cert-file/--tls-private-key-file/
// --token-auth-file, so one kubeconfig (one CA, one token) works against every server.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClientConfig } from '../../../src/client/config.js';
import { RestClient } from '../../../src/client/rest.js';
import { runCommand, startKubeplane, stopProcess, waitFor, type RunResult } from '../../helpers/cli.js';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface ApiServerProcess {
  name: string;
  url: string;
  /** a kubeconfig for this server with the shared CA and admin token */
  kubeconfig: string;
  client: RestClient;
  process: ReturnType<typeof startKubeplane>;
  output(): string;
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
}

export interface ApiServerSet {
  dir: string;
  servers: ApiServerProcess[];
  stop(): Promise<void>;
}

function kubeconfigText(server: string, caPem: string, token: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: kubeplane
  cluster:
    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}
    server: ${server}
contexts:
- name: kubeplane
  context: {cluster: kubeplane, user: admin, namespace: default}
current-context: kubeplane
users:
- name: admin
  user:
    token: ${token}
`;
}

/**
 * Starts `count` API servers on `etcdEndpoint` (one after the other, so the first one's
 * bootstrap writes are done before the next reads them). `extraArgs` go to every server.
 */
export async function startApiServers(name: string, count: number, etcdEndpoint: string, extraArgs: string[] = []): Promise<ApiServerSet> {
  const dir = mkdtempSync(join(tmpdir(), `kp-multi-${name}-${process.pid}-`));
  const servers: ApiServerProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const s of servers) {
      await s.client.close().catch(() => undefined);
      await stopProcess(s.process);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const first = join(dir, 'apiserver-0');
    const pki = join(first, 'pki');
    for (let i = 0; i < count; i++) {
      const dataDir = join(dir, `apiserver-${i}`);
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const port = await freePort();
      const shared = i === 0 ? [] : [`--tls-cert-file=${join(pki, 'apiserver.crt')}`, `--tls-private-key-file=${join(pki, 'apiserver.key')}`, `--token-auth-file=${join(first, 'tokens.csv')}`];
      const proc = startKubeplane([
        'apiserver',
        `--data-dir=${dataDir}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${port}`,
        '--storage-backend=etcd3',
        `--etcd-servers=${etcdEndpoint}`,
        ...shared,
        ...extraArgs,
      ]);
      const url = `https://127.0.0.1:${port}`;
      const kubeconfig = join(dir, `kubeconfig-${i}`);
      const server: ApiServerProcess = {
        name: `apiserver-${i}`,
        url,
        kubeconfig,
        client: undefined as unknown as RestClient,
        process: proc,
        output: () => proc.output(),
        kubectl: (args, opts = {}) =>
          runCommand('/usr/bin/kubectl', [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, `kubectl-cache-${i}`)}`, ...args], { timeoutMs: opts.timeoutMs ?? 60_000, input: opts.input, env: { HOME: dir } }),
      };
      servers.push(server);
      await waitFor(() => (proc.exitCode !== null ? Promise.reject(new Error(`${server.name} exited ${proc.exitCode}:\n${proc.output()}`)) : proc.output().includes('kubeconfig:')), {
        timeoutMs: 60_000,
        what: `${server.name} to serve`,
      });
      const token = readFileSync(join(first, 'tokens.csv'), 'utf8').split(',')[0]!;
      writeFileSync(kubeconfig, kubeconfigText(url, readFileSync(join(pki, 'ca.crt'), 'utf8'), token), { mode: 0o600 });
      server.client = new RestClient(loadClientConfig({ kubeconfig }), { timeoutMs: 30_000 });
      await waitFor(async () => (await server.client.request<string>('GET', '/readyz', { timeoutMs: 2000 })) === 'ok', { timeoutMs: 30_000, what: `${server.name} ready` });
    }
    if (!existsSync(join(pki, 'ca.crt'))) throw new Error('the first API server wrote no CA');
    return { dir, servers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
