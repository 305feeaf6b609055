// A real `kubeplane apiserver` process on a loopback port with a temp data dir, for the
// controller, scheduler and simulated-node integration tests (which run in-process).

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { loadClientConfig, type ClientConfig } from '../../../src/client/config.js';
import { RestClient } from '../../../src/client/rest.js';
import { runCommand, startKubeplane, stopProcess, waitFor, type RunResult } from '../../helpers/cli.js';

export interface TestApiServer {
  config: ClientConfig;
  client: RestClient;
  kubeconfig: string;
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startApiServer(name: string): Promise<TestApiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), `kp-${name}-${process.pid}-`));
  const port = await freePort();
  const server: ChildProcess & { output: () => string } = startKubeplane(['apiserver', `--data-dir=${dataDir}`, '--bind-address=127.0.0.1', `--secure-port=${port}`]);
  const kubeconfig = join(dataDir, 'kubeconfig');
  let client: RestClient | undefined;
  try {
    const config = await waitFor(
      async () => {
        if (server.exitCode !== null) throw new Error(`kubeplane apiserver exited ${server.exitCode}:\n${server.output()}`);
        if (!existsSync(kubeconfig)) return undefined;
        const cfg = loadClientConfig({ kubeconfig });
        const probe = new RestClient(cfg, { timeoutMs: 2000 });
        try {
          await probe.request('GET', '/readyz');
          return cfg;
        } finally {
          await probe.close();
        }
      },
      { timeoutMs: 30_000, what: 'kubeplane apiserver to be ready' },
    );
    client = new RestClient(config);
    const c = client;
    return {
      config,
      client: c,
      kubeconfig,
      kubectl: (args, opts = {}) => runCommand('/usr/bin/kubectl', [`--kubeconfig=${kubeconfig}`, ...args], { timeoutMs: opts.timeoutMs ?? 60_000, input: opts.input }),
      async stop() {
        await c.close();
        await stopProcess(server);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await client?.close();
    await stopProcess(server);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
