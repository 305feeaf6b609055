// Picks and opens the storage backend from kube-apiserver-style settings, so the CLI only
// validates flags: `--storage-backend` (sqlite | etcd3), `--etcd-servers`, `--etcd-cafile`,
// `--etcd-certfile`, `--etcd-keyfile`.

import fs from 'node:fs';
import { StorageError, type Store } from './interface.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import { openEtcdStore } from './etcd.js';

export type StorageBackend = 'sqlite' | 'etcd3';
export const storageBackends: readonly StorageBackend[] = ['sqlite', 'etcd3'];

export interface StorageConfig {
  backend: StorageBackend;
  /** sqlite: the directory holding kubeplane.db */
  dataDir?: string;
  sqlite?: SqliteStoreOptions;
  /** etcd3: client URLs (http:// or https://) */
  etcdServers?: string[];
  etcdCAFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
}

function readFile(path: string, what: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    throw new StorageError('Unavailable', `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export async function openStore(cfg: StorageConfig): Promise<Store> {
  if (cfg.backend === 'sqlite') {
    if (!cfg.dataDir) throw new StorageError('Internal', 'the sqlite backend needs a data dir');
    return openSqliteStore(cfg.dataDir, cfg.sqlite);
  }
  if (cfg.backend === 'etcd3') {
    const endpoints = cfg.etcdServers ?? [];
    if (endpoints.length === 0) throw new StorageError('Internal', 'the etcd3 backend needs at least one server URL');
    if (!!cfg.etcdCertFile !== !!cfg.etcdKeyFile) throw new StorageError('Internal', 'an etcd client certificate and key must be given together');
    const tls = cfg.etcdCAFile
      ? {
          ca: readFile(cfg.etcdCAFile, 'etcd CA file'),
          ...(cfg.etcdCertFile ? { cert: readFile(cfg.etcdCertFile, 'etcd certificate file') } : {}),
          ...(cfg.etcdKeyFile ? { key: readFile(cfg.etcdKeyFile, 'etcd key file') } : {}),
        }
      : undefined;
    // https without a CA file trusts the system roots; a client certificate needs the CA too
    if (!tls && cfg.etcdCertFile) throw new StorageError('Internal', 'an etcd client certificate needs the etcd CA file as well');
    return openEtcdStore({ endpoints, ...(tls ? { tls } : {}) });
  }
  throw new StorageError('Internal', `unknown storage backend ${JSON.stringify(cfg.backend)}; supported: ${storageBackends.join(', ')}`);
}
