// Starts a real single-member etcd (Debian etcd-server) on loopback ports picked here, with a
// temp data dir; stop() kills it by PID and removes the dir.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface EtcdServer {
  endpoint: string;
  dataDir: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface EtcdTLSFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** `tls` serves clients over https and requires client certificates signed by the CA. */
export async function startEtcd(extraArgs: string[] = [], tls?: EtcdTLSFiles): Promise<EtcdServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-storage-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const client = `${tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  if (tls) extraArgs = [...extraArgs, '--cert-file', tls.certFile, '--key-file', tls.keyFile, '--trusted-ca-file', tls.caFile, '--client-cert-auth'];
  const peer = `http://127.0.0.1:${peerPort}`;
  const name = `kp-storage-${process.pid}`;
  const child = spawn(
    'etcd',
    [
      '--name', name,
      '--data-dir', dataDir,
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `${name}=${peer}`,
      '--initial-cluster-state', 'new',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  // ready once it serves client requests
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`etcd exited early: ${out.slice(-2000)}`);
    }
    if (out.includes('ready to serve client requests')) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not become ready: ${out.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { endpoint: client, dataDir, process: child, output: () => out, stop };
}
