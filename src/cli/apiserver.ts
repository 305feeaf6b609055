// `kubeplane apiserver`: the Kubernetes-compatible API server on its own. `kubeplane up`
// runs the same server (plus, later, controllers, scheduler and node agent).
//
// Serving: HTTPS on --secure-port. Without --tls-cert-file/--tls-private-key-file a CA and a
// serving certificate are generated into --data-dir on first start and reused after.
// Plain HTTP only with --insecure-serving (same port; still needs a token unless
// --anonymous-auth=true). Without --token-auth-file, <data-dir>/tokens.csv is generated with
// one admin token, and <data-dir>/kubeconfig is written for kubectl.
//
// Authorization is RBAC (the admin token is in system:masters). Client certificates signed by
// --client-ca-file (default: the generated CA) authenticate as CN/O; <data-dir>/node.kubeconfig
// holds one for the node components (user system:kubeplane-node:<name>, group
// system:kubeplane-nodes, bound to the system:kubeplane-node ClusterRole).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { homedir, hostname, networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import ipaddr from 'ipaddr.js';
import type { Command, Options } from './command.js';
import { UsageError } from './command.js';
import type { FlagSpec } from './flags.js';
import { createCA, createServingCert } from '../pki/index.js';
import { ApiServer } from '../apiserver/server.js';
import { ClientCertAuthenticator, TokenAuthenticator, TokenFileError, UnionAuthenticator, allowAll, readTokenFile, type Authenticator } from '../apiserver/auth.js';
import { authorizationModes, type AuthorizationMode } from '../apiserver/authz/index.js';
import { ServiceAccountTokens } from '../apiserver/auth-serviceaccount.js';
import { NODES_GROUP, nodeUserName } from '../apiserver/authz/bootstrap.js';
import { PortRange, ServiceCIDR } from '../apiserver/registry/services.js';
import { openStore, storageBackends, type StorageBackend, type StorageConfig } from '../apiserver/storage/open.js';
import { StorageError } from '../apiserver/storage/interface.js';
import type { Store } from '../apiserver/storage/interface.js';
import { logger } from '../observability/log.js';

const log = logger('apiserver');

export function apiserverFlags(defaults: { bindAddress: string; dataDir: string }): FlagSpec[] {
  return [
    { name: 'secure-port', type: 'int', default: 6443, help: 'port to serve HTTPS (or HTTP with --insecure-serving) on; 0 picks a free port' },
    { name: 'bind-address', type: 'string', default: defaults.bindAddress, help: 'IP address to listen on' },
    { name: 'advertise-address', type: 'string', help: 'IP address written into the default/kubernetes endpoints (default: the bind address, or the first non-loopback IPv4 address when binding 0.0.0.0)' },
    { name: 'service-cluster-ip-range', type: 'string', default: '10.96.0.0/12', help: 'CIDR range Service cluster IPs are allocated from (IPv4)' },
    { name: 'service-node-port-range', type: 'string', default: '30000-32767', help: 'port range reserved for Services with NodePort visibility' },
    { name: 'token-auth-file', type: 'string', help: 'CSV file of bearer tokens: token,user,uid,"group1,group2" (default: generate <data-dir>/tokens.csv with an admin token)' },
    { name: 'tls-cert-file', type: 'string', help: 'PEM serving certificate (default: generated into --data-dir)' },
    { name: 'tls-private-key-file', type: 'string', help: 'PEM private key matching --tls-cert-file' },
    { name: 'insecure-serving', type: 'bool', default: false, help: 'serve plain HTTP instead of HTTPS (for tests and local tools only)' },
    { name: 'anonymous-auth', type: 'bool', default: false, help: 'accept requests without a token (only together with --insecure-serving)' },
    { name: 'client-ca-file', type: 'string', help: 'PEM CA bundle that signs client certificates (CN = user, O = groups) (default: the CA generated into --data-dir, when it is used)' },
    { name: 'service-account-signing-key-file', type: 'string', help: 'PEM private key ServiceAccount tokens are signed and verified with; servers sharing one etcd need the same (default: <data-dir>/pki/sa.key, generated)' },
    { name: 'authorization-mode', type: 'string', default: 'RBAC', help: 'RBAC or AlwaysAllow (--anonymous-auth implies AlwaysAllow)' },
    { name: 'node-credential-name', type: 'string', help: 'name in the user of <data-dir>/node.kubeconfig, system:kubeplane-node:<name> (default: this host\'s name)' },
    { name: 'data-dir', type: 'string', default: defaults.dataDir, help: 'directory for the database, certificates, tokens and kubeconfig' },
    { name: 'storage-backend', type: 'string', default: 'sqlite', help: 'storage backend: sqlite (embedded, in --data-dir) or etcd3' },
    { name: 'etcd-servers', type: 'list', help: 'etcd client URLs for --storage-backend=etcd3 (comma separated)' },
    { name: 'etcd-cafile', type: 'string', help: 'SSL Certificate Authority file used to secure etcd communication' },
    { name: 'etcd-certfile', type: 'string', help: 'SSL certification file used to secure etcd communication' },
    { name: 'etcd-keyfile', type: 'string', help: 'SSL key file used to secure etcd communication' },
  ];
}

function firstHostIPv4(): string {
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

export interface ServerConfig {
  port: number;
  bindAddress: string;
  advertiseAddress: string;
  serviceCIDR: ServiceCIDR;
  nodePorts: PortRange;
  dataDir: string;
  storage: StorageConfig;
  insecure: boolean;
  anonymous: boolean;
  tokenFile?: string;
  certFile?: string;
  keyFile?: string;
  clientCAFile?: string;
  serviceAccountKeyFile?: string;
  authorization: AuthorizationMode;
  nodeCredentialName: string;
}

/** every flag value checked up front, so a bad one is one clear line and exit code 2 */
export function serverConfig(opts: Options): ServerConfig {
  const port = opts.int('secure-port');
  if (port < 0 || port > 65535) throw new UsageError(`invalid argument "${port}" for "--secure-port" flag: must be between 0 and 65535`);
  const bindAddress = opts.string('bind-address');
  if (!ipaddr.isValid(bindAddress)) throw new UsageError(`invalid argument "${bindAddress}" for "--bind-address" flag: not an IP address`);
  let advertiseAddress = opts.optionalString('advertise-address');
  if (advertiseAddress !== undefined && !ipaddr.isValid(advertiseAddress)) throw new UsageError(`invalid argument "${advertiseAddress}" for "--advertise-address" flag: not an IP address`);
  advertiseAddress ??= bindAddress === '0.0.0.0' || bindAddress === '::' ? firstHostIPv4() : bindAddress;
  let serviceCIDR: ServiceCIDR;
  try {
    serviceCIDR = new ServiceCIDR(opts.string('service-cluster-ip-range'));
  } catch (e) {
    throw new UsageError(`invalid argument "${opts.string('service-cluster-ip-range')}" for "--service-cluster-ip-range" flag: ${(e as Error).message}`);
  }
  let nodePorts: PortRange;
  try {
    nodePorts = PortRange.parse(opts.string('service-node-port-range'));
  } catch (e) {
    throw new UsageError(`invalid argument "${opts.string('service-node-port-range')}" for "--service-node-port-range" flag: ${(e as Error).message}`);
  }
  const backend = opts.string('storage-backend');
  if (!(storageBackends as readonly string[]).includes(backend)) throw new UsageError(`invalid argument "${backend}" for "--storage-backend" flag: supported: ${storageBackends.join(', ')}`);
  const etcdServers = opts.list('etcd-servers').flatMap((s) => s.split(',')).filter(Boolean);
  if (backend === 'etcd3' && etcdServers.length === 0) throw new UsageError('--etcd-servers must be set with --storage-backend=etcd3');
  for (const u of etcdServers) if (!/^https?:\/\/[^/]+/.test(u)) throw new UsageError(`invalid argument "${u}" for "--etcd-servers" flag: expected http(s)://host:port`);
  const storage: StorageConfig = {
    backend: backend as StorageBackend,
    etcdServers,
    etcdCAFile: opts.optionalString('etcd-cafile'),
    etcdCertFile: opts.optionalString('etcd-certfile'),
    etcdKeyFile: opts.optionalString('etcd-keyfile'),
  };
  const certFile = opts.optionalString('tls-cert-file');
  const keyFile = opts.optionalString('tls-private-key-file');
  if (!!certFile !== !!keyFile) throw new UsageError('--tls-cert-file and --tls-private-key-file must be given together');
  const insecure = opts.bool('insecure-serving');
  const anonymous = opts.bool('anonymous-auth');
  if (anonymous && !insecure) throw new UsageError('--anonymous-auth=true is only allowed with --insecure-serving');
  const dataDir = resolve(opts.string('data-dir').replace(/^~(?=$|\/)/, homedir()));
  storage.dataDir = dataDir;
  const authorization = opts.string('authorization-mode') as AuthorizationMode;
  if (!authorizationModes.includes(authorization)) throw new UsageError(`invalid argument "${authorization}" for "--authorization-mode" flag: supported: ${authorizationModes.join(', ')}`);
  const nodeCredentialName = opts.optionalString('node-credential-name') ?? hostname();
  if (!nodeCredentialName || /[/%]/.test(nodeCredentialName)) throw new UsageError(`invalid argument "${nodeCredentialName}" for "--node-credential-name" flag: may not be empty or contain '/' or '%'`);
  return {
    port,
    bindAddress,
    advertiseAddress,
    serviceCIDR,
    nodePorts,
    dataDir,
    storage,
    insecure,
    anonymous,
    tokenFile: opts.optionalString('token-auth-file'),
    certFile,
    keyFile,
    clientCAFile: opts.optionalString('client-ca-file'),
    serviceAccountKeyFile: opts.optionalString('service-account-signing-key-file'),
    authorization: anonymous ? 'AlwaysAllow' : authorization,
    nodeCredentialName,
  };
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** the CA and serving certificate in the data dir, generated on first start */
function servingCertificate(cfg: ServerConfig): { cert: string; key: string; caPem: string; ca?: { certPem: string; keyPem: string } } {
  if (cfg.certFile && cfg.keyFile) {
    const cert = readPem(cfg.certFile, '--tls-cert-file');
    return { cert, key: readPem(cfg.keyFile, '--tls-private-key-file'), caPem: cert };
  }
  const pki = join(cfg.dataDir, 'pki');
  const files = { caCert: join(pki, 'ca.crt'), caKey: join(pki, 'ca.key'), cert: join(pki, 'apiserver.crt'), key: join(pki, 'apiserver.key') };
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  if (!existsSync(files.caCert) || !existsSync(files.caKey)) {
    const ca = createCA('kubeplane-ca');
    writeFileSync(files.caKey, ca.keyPem, { mode: 0o600 });
    writeFileSync(files.caCert, ca.certPem);
  }
  const ca = { certPem: readFileSync(files.caCert, 'utf8'), keyPem: readFileSync(files.caKey, 'utf8') };
  if (!existsSync(files.cert) || !existsSync(files.key)) {
    const ips = new Set(['127.0.0.1', '::1', cfg.serviceCIDR.firstIP(), cfg.advertiseAddress]);
    if (cfg.bindAddress !== '0.0.0.0' && cfg.bindAddress !== '::') ips.add(cfg.bindAddress);
    const serving = createServingCert({
      ca,
      commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      ipAddresses: [...ips],
    });
    writeFileSync(files.key, serving.keyPem, { mode: 0o600 });
    writeFileSync(files.cert, serving.certPem);
  }
  return { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8'), caPem: ca.certPem, ca };
}

/** <data-dir>/pki/sa.key: the key ServiceAccount tokens are signed with, made on first start */
function serviceAccountKey(cfg: ServerConfig): string {
  if (cfg.serviceAccountKeyFile) return readPem(cfg.serviceAccountKeyFile, '--service-account-signing-key-file');
  const dir = join(cfg.dataDir, 'pki');
  const path = join(dir, 'sa.key');
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  }
  return readFileSync(path, 'utf8');
}

/**
 * <data-dir>/node.kubeconfig: a client certificate from the cluster CA for the node components.
 * Written on every start, as the kubeconfig is (the server's address may have changed);
 * certificates from earlier starts stay valid, being signed by the same CA.
 */
function writeNodeKubeconfig(cfg: ServerConfig, server: string, caPem: string, ca: { certPem: string; keyPem: string }): string {
  const path = join(cfg.dataDir, 'node.kubeconfig');
  const user = nodeUserName(cfg.nodeCredentialName);
  const cert = createServingCert({ ca, commonName: user, organizations: [NODES_GROUP], clientAuth: true });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
- name: kubeplane
  cluster:
    certificate-authority-data: ${b64(caPem)}
    server: ${server}
contexts:
- name: kubeplane-node
  context:
    cluster: kubeplane
    user: ${user}
current-context: kubeplane-node
users:
- name: ${user}
  user:
    client-certificate-data: ${b64(cert.certPem)}
    client-key-data: ${b64(cert.keyPem)}
`,
    { mode: 0o600 },
  );
  return path;
}

/** the token file to use and the admin token for the kubeconfig (when we made or can read one) */
function tokens(cfg: ServerConfig): { authenticator: Authenticator; adminToken?: string } {
  if (cfg.anonymous) return { authenticator: allowAll };
  let path = cfg.tokenFile;
  if (!path) {
    path = join(cfg.dataDir, 'tokens.csv');
    if (!existsSync(path)) {
      const token = randomBytes(24).toString('base64url');
      writeFileSync(path, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
    }
  }
  try {
    const map = readTokenFile(path);
    if (map.size === 0) throw new UsageError(`--token-auth-file ${path} has no tokens`);
    const admin = [...map.entries()].find(([, u]) => u.groups.includes('system:masters')) ?? [...map.entries()][0]!;
    return { authenticator: new TokenAuthenticator(map), adminToken: admin[0] };
  } catch (e) {
    if (e instanceof TokenFileError) throw new UsageError(e.message);
    throw e;
  }
}

function kubeconfig(server: string, caPem: string | undefined, token: string | undefined): string {
  const cluster = caPem ? `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}\n` : '';
  const user = token ? `    token: ${token}\n` : '    {}\n';
  return `apiVersion: v1
kind: Config
clusters:
- name: kubeplane
  cluster:
${cluster}    server: ${server}
contexts:
- name: kubeplane
  context:
    cluster: kubeplane
    user: admin
    namespace: default
current-context: kubeplane
users:
- name: admin
  user:
${user}`;
}

export interface RunningServer {
  server: ApiServer;
  store: Store;
  url: string;
  kubeconfigPath: string;
  /** the node components' client-certificate kubeconfig, when the CA is ours */
  nodeKubeconfigPath?: string;
  stop(): Promise<void>;
}

export async function startServer(cfg: ServerConfig): Promise<RunningServer> {
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const tls = cfg.insecure ? undefined : servingCertificate(cfg);
  const { authenticator: tokenAuth, adminToken } = tokens(cfg);
  const clientCA = tls && (cfg.clientCAFile ? readPem(cfg.clientCAFile, '--client-ca-file') : tls.ca?.certPem);
  let serviceAccountTokens: ServiceAccountTokens | undefined;
  try {
    serviceAccountTokens = tokenAuth === allowAll ? undefined : new ServiceAccountTokens(serviceAccountKey(cfg));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--service-account-signing-key-file: not a PEM private key: ${(e as Error).message}`);
  }
  const authenticator =
    tokenAuth === allowAll ? tokenAuth : new UnionAuthenticator(...(clientCA ? [new ClientCertAuthenticator()] : []), tokenAuth, serviceAccountTokens!);
  let store: Store;
  try {
    store = await openStore(cfg.storage);
  } catch (e) {
    if (e instanceof StorageError) throw new UsageError(`cannot open storage: ${e.message}`);
    throw e;
  }
  const server = new ApiServer({
    store,
    authenticator,
    authorization: cfg.authorization,
    clientCA,
    serviceAccountTokens,
    serviceCIDR: cfg.serviceCIDR,
    nodePorts: cfg.nodePorts,
    bindAddress: cfg.bindAddress,
    port: cfg.port,
    tls: tls && { cert: tls.cert, key: tls.key },
    advertiseAddress: cfg.advertiseAddress,
  });
  let addr;
  try {
    addr = await server.start();
  } catch (e) {
    await store.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') throw new UsageError(`cannot listen on ${cfg.bindAddress}:${cfg.port}: ${err.code}`);
    throw e;
  }
  const host = cfg.bindAddress === '0.0.0.0' || cfg.bindAddress === '::' ? '127.0.0.1' : cfg.bindAddress;
  const url = `${cfg.insecure ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  const kubeconfigPath = join(cfg.dataDir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfig(url, tls?.caPem, adminToken), { mode: 0o600 });
  chmodSync(kubeconfigPath, 0o600);
  const nodeKubeconfigPath = tls?.ca ? writeNodeKubeconfig(cfg, url, tls.caPem, tls.ca) : undefined;
  log.info('serving', { url, dataDir: cfg.dataDir });
  return {
    server,
    store,
    url,
    kubeconfigPath,
    nodeKubeconfigPath,
    async stop() {
      await server.stop();
      await store.close();
    },
  };
}

/** runs until SIGTERM/SIGINT, then shuts down cleanly */
export async function runUntilSignal(running: RunningServer): Promise<number> {
  await new Promise<void>((resolveStop) => {
    const onSignal = (): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolveStop();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  log.info('shutting down');
  await running.stop();
  return 0;
}

/** `sqlite:DIR` or `etcd:URL[,URL...]` (TLS files from the --etcd-* flags) → storage settings. */
function storageURL(text: string, flag: string, opts: Options): StorageConfig {
  const i = text.indexOf(':');
  const kind = i < 0 ? '' : text.slice(0, i);
  const rest = text.slice(i + 1);
  if (kind === 'sqlite' && rest) return { backend: 'sqlite', dataDir: rest.replace(/^~(?=\/)/, homedir()) };
  if ((kind === 'etcd' || kind === 'etcd3') && rest)
    return { backend: 'etcd3', etcdServers: rest.split(','), etcdCAFile: opts.optionalString('etcd-cafile'), etcdCertFile: opts.optionalString('etcd-certfile'), etcdKeyFile: opts.optionalString('etcd-keyfile') };
  throw new UsageError(`invalid --${flag} "${text}": want sqlite:DIR or etcd:URL[,URL...]`);
}

/** `kubeplane apiserver migrate --from sqlite:DIR --to etcd:URL`: copies every object, consistently. */
async function migrate(opts: Options): Promise<number> {
  const fromText = opts.optionalString('from');
  const toText = opts.optionalString('to');
  if (!fromText || !toText) throw new UsageError('apiserver migrate needs --from and --to (sqlite:DIR or etcd:URL[,URL...])');
  const from = storageURL(fromText, 'from', opts);
  const to = storageURL(toText, 'to', opts);
  const { copyStore } = await import('../apiserver/storage/migrate.js');
  let source: Store | undefined;
  let target: Store | undefined;
  try {
    source = await openStore(from);
    target = await openStore(to);
    const r = await copyStore(source, target, { onProgress: (n) => log.v(1, 'copied', { objects: n }) });
    process.stdout.write(`copied ${r.copied} keys (${r.unchanged} already there) from ${fromText} at revision ${r.revision} to ${toText}\n`);
    return 0;
  } catch (err) {
    if (err instanceof StorageError) {
      process.stderr.write(`Error: migrate failed: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await source?.close();
    await target?.close();
  }
}

export const command: Command = {
  name: 'apiserver',
  summary: 'Run the Kubernetes-compatible API server',
  usage: 'kubeplane apiserver [--secure-port 6443] [--data-dir DIR] [--token-auth-file FILE] [flags] | kubeplane apiserver migrate --from sqlite:DIR --to etcd:URL',
  flags: [
    ...apiserverFlags({ bindAddress: '0.0.0.0', dataDir: '~/.kubeplane' }),
    { name: 'from', type: 'string', help: '(migrate) the store to copy from: sqlite:DIR or etcd:URL[,URL...]' },
    { name: 'to', type: 'string', help: '(migrate) the store to copy to: sqlite:DIR or etcd:URL[,URL...]' },
  ],
  async run(opts, args) {
    if (args[0] === 'migrate') return migrate(opts);
    if (args.length > 0) throw new UsageError(`unknown argument "${args[0]}"`);
    const running = await startServer(serverConfig(opts));
    process.stdout.write(`kubeplane apiserver serving on ${running.url}\nkubeconfig: ${running.kubeconfigPath}\n${running.nodeKubeconfigPath ? `node kubeconfig (system:kubeplane-node): ${running.nodeKubeconfigPath}\n` : ''}`);
    return runUntilSignal(running);
  },
};
