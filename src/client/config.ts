import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TokenSource } from './token.js';

/**
 * Everything needed to reach one API server, as client-go's rest.Config holds it after
 * loading: where, how to trust it, and who we are.
 */
export interface ClientConfig {
  /** https://host:port, no trailing slash */
  server: string;
  /** PEM bundle to trust instead of the system roots */
  ca?: string;
  insecureSkipTLSVerify?: boolean;
  /** SNI / certificate name to verify when it differs from the server's host */
  tlsServerName?: string;
  /** Static bearer token; a tokenSource (token file) wins when both are set, as in client-go. */
  token?: string;
  tokenSource?: TokenSource;
  clientCertificate?: string;
  clientKey?: string;
  username?: string;
  password?: string;
  /** Namespace of the selected context, or the service account's namespace in-cluster. */
  namespace: string;
  /** Where it came from, for log lines and errors. */
  source: string;
}

/** A configuration that cannot be used, with client-go's wording where it has one. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

// ---- kubeconfig --------------------------------------------------------------

interface NamedEntry<T> {
  name: string;
  value: T;
  /** directory of the file it came from: relative paths inside are resolved against it */
  dir: string;
}

interface KubeconfigCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}

interface KubeconfigUser {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  exec?: unknown;
  'auth-provider'?: unknown;
}

interface KubeconfigContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

/** Several kubeconfig files merged as client-go merges them: the first file to define a name wins. */
export interface MergedKubeconfig {
  files: string[];
  currentContext?: string;
  clusters: Map<string, NamedEntry<KubeconfigCluster>>;
  users: Map<string, NamedEntry<KubeconfigUser>>;
  contexts: Map<string, NamedEntry<KubeconfigContext>>;
}

function readKubeconfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`error loading config file "${path}": ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`error loading config file "${path}": ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`error loading config file "${path}": not a kubeconfig (expected a mapping)`);
  return doc as Record<string, unknown>;
}

function namedList(doc: Record<string, unknown>, field: string, inner: string, path: string): { name: string; value: Record<string, unknown> }[] {
  const raw = doc[field];
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ConfigError(`error loading config file "${path}": ${field} must be a list`);
  const out: { name: string; value: Record<string, unknown> }[] = [];
  for (const e of raw) {
    if (!e || typeof e !== 'object' || typeof (e as { name?: unknown }).name !== 'string') throw new ConfigError(`error loading config file "${path}": every entry of ${field} needs a name`);
    const v = (e as Record<string, unknown>)[inner];
    out.push({ name: (e as { name: string }).name, value: v && typeof v === 'object' ? (v as Record<string, unknown>) : {} });
  }
  return out;
}

/** Merges kubeconfig files in order (client-go's ClientConfigLoadingRules.Load). */
export function mergeKubeconfigs(paths: string[]): MergedKubeconfig {
  const merged: MergedKubeconfig = { files: [], clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const path of paths) {
    const doc = readKubeconfigFile(path);
    const dir = dirname(resolve(path));
    merged.files.push(path);
    const cc = doc['current-context'];
    if (merged.currentContext === undefined && typeof cc === 'string' && cc !== '') merged.currentContext = cc;
    for (const { name, value } of namedList(doc, 'clusters', 'cluster', path)) if (!merged.clusters.has(name)) merged.clusters.set(name, { name, value: value as KubeconfigCluster, dir });
    for (const { name, value } of namedList(doc, 'users', 'user', path)) if (!merged.users.has(name)) merged.users.set(name, { name, value: value as KubeconfigUser, dir });
    for (const { name, value } of namedList(doc, 'contexts', 'context', path)) if (!merged.contexts.has(name)) merged.contexts.set(name, { name, value: value as KubeconfigContext, dir });
  }
  return merged;
}

function resolveFrom(dir: string, p: string): string {
  return isAbsolute(p) ? p : join(dir, p);
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`unable to read ${what} ${path}: ${(err as Error).message}`);
  }
}

function decodeData(data: string, what: string): string {
  const text = Buffer.from(data, 'base64').toString('utf8');
  if (!text.includes('-----BEGIN')) throw new ConfigError(`${what} is not base64-encoded PEM data`);
  return text;
}

export interface ContextOverrides {
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  server?: string;
  token?: string;
  /** how often a token file is re-read; client-go uses one minute */
  tokenRefreshMs?: number;
}

/** Builds a ClientConfig from merged kubeconfig files and the selected (or current) context. */
export function configFromKubeconfig(merged: MergedKubeconfig, overrides: ContextOverrides = {}): ClientConfig {
  const source = merged.files.join(delimiter);
  const contextName = overrides.context ?? merged.currentContext;
  let ctx: KubeconfigContext = {};
  if (contextName !== undefined) {
    const entry = merged.contexts.get(contextName);
    if (!entry) throw new ConfigError(`context "${contextName}" does not exist`);
    ctx = entry.value;
  } else if (!overrides.server) {
    throw new ConfigError('invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable');
  }

  const clusterName = overrides.cluster ?? ctx.cluster;
  const clusterEntry = clusterName !== undefined ? merged.clusters.get(clusterName) : undefined;
  if (clusterName !== undefined && !clusterEntry && !overrides.server) throw new ConfigError(`invalid configuration: cluster "${clusterName}" not found in ${source}`);
  const cluster = clusterEntry?.value ?? {};
  const userName = overrides.user ?? ctx.user;
  const userEntry = userName !== undefined ? merged.users.get(userName) : undefined;
  if (userName !== undefined && userName !== '' && !userEntry) throw new ConfigError(`invalid configuration: user "${userName}" not found in ${source}`);
  const user = userEntry?.value ?? {};

  const rawServer = overrides.server ?? cluster.server;
  if (!rawServer) throw new ConfigError(`invalid configuration: no server found for cluster "${clusterName ?? ''}"`);
  const server = normalizeServer(rawServer);

  let ca: string | undefined;
  if (cluster['certificate-authority-data']) ca = decodeData(cluster['certificate-authority-data'], 'certificate-authority-data');
  else if (cluster['certificate-authority']) ca = readPem(resolveFrom(clusterEntry!.dir, cluster['certificate-authority']), 'certificate-authority');
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  if (insecure && ca !== undefined) throw new ConfigError('invalid configuration: specifying a root certificates file with the insecure flag is not allowed');

  let clientCertificate: string | undefined;
  let clientKey: string | undefined;
  if (user['client-certificate-data']) clientCertificate = decodeData(user['client-certificate-data'], 'client-certificate-data');
  else if (user['client-certificate']) clientCertificate = readPem(resolveFrom(userEntry!.dir, user['client-certificate']), 'client-certificate');
  if (user['client-key-data']) clientKey = decodeData(user['client-key-data'], 'client-key-data');
  else if (user['client-key']) clientKey = readPem(resolveFrom(userEntry!.dir, user['client-key']), 'client-key');
  if ((clientCertificate === undefined) !== (clientKey === undefined)) {
    throw new ConfigError(`invalid configuration: user "${userName ?? ''}" has a client certificate without a key or a key without a certificate`);
  }
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw new ConfigError(`invalid configuration: user "${userName ?? ''}" uses exec or auth-provider credentials, which kubeplane does not support; use a token, tokenFile or client certificate`);
  }

  const token = overrides.token ?? user.token;
  const tokenSource = !overrides.token && user.tokenFile ? new TokenSource(resolveFrom(userEntry!.dir, user.tokenFile), overrides.tokenRefreshMs) : undefined;
  if (tokenSource) tokenSource.token(); // fail now, not on the first request, when the file cannot be read

  return {
    server,
    ca,
    insecureSkipTLSVerify: insecure || undefined,
    tlsServerName: cluster['tls-server-name'],
    token: token || undefined,
    tokenSource,
    clientCertificate,
    clientKey,
    username: user.username,
    password: user.password,
    namespace: overrides.namespace ?? (ctx.namespace || 'default'),
    source,
  };
}

/** client-go treats a bare host as https. */
function normalizeServer(raw: string): string {
  let s = raw.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = `https://${s}`;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new ConfigError(`invalid configuration: server "${raw}" is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`invalid configuration: server "${raw}" must be http or https`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

// ---- in-cluster -------------------------------------------------------------------

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterOptions {
  env?: NodeJS.ProcessEnv;
  /** where token, ca.crt and namespace live; tests point it at a temp dir */
  serviceAccountDir?: string;
  tokenRefreshMs?: number;
}

export function inClusterAvailable(opts: InClusterOptions = {}): boolean {
  const env = opts.env ?? process.env;
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  return !!env.KUBERNETES_SERVICE_HOST && !!env.KUBERNETES_SERVICE_PORT && existsSync(join(dir, 'token'));
}

/** client-go's rest.InClusterConfig: the service account token (re-read as it rotates) and CA. */
export function inClusterConfig(opts: InClusterOptions = {}): ClientConfig {
  const env = opts.env ?? process.env;
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new ConfigError('unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined');
  const tokenSource = new TokenSource(join(dir, 'token'), opts.tokenRefreshMs);
  tokenSource.token();
  let ca: string | undefined;
  const caPath = join(dir, 'ca.crt');
  if (existsSync(caPath)) ca = readPem(caPath, 'certificate-authority');
  let namespace = 'default';
  try {
    namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim() || 'default';
  } catch {
    // client-go falls back to "default" too
  }
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return { server: `https://${hostPart}:${port}`, ca, tokenSource, namespace, source: 'in-cluster' };
}

// ---- loading rules ----------------------------------------------------------------

export interface LoadOptions extends ContextOverrides, InClusterOptions {
  /** --kubeconfig: only this file, which must exist */
  kubeconfig?: string;
}

/**
 * client-go's deferred loading rules: --kubeconfig, else the files in KUBECONFIG
 * (missing ones skipped), else ~/.kube/config; when none of those gives a
 * configuration, in-cluster.
 */
export function loadClientConfig(opts: LoadOptions = {}): ClientConfig {
  const env = opts.env ?? process.env;
  if (opts.kubeconfig) {
    if (!existsSync(opts.kubeconfig)) throw new ConfigError(`stat ${opts.kubeconfig}: no such file or directory`);
    return configFromKubeconfig(mergeKubeconfigs([opts.kubeconfig]), opts);
  }
  let files: string[];
  if (env.KUBECONFIG) {
    files = env.KUBECONFIG.split(delimiter).filter((p) => p !== '' && isFile(p));
  } else {
    const home = env.HOME || homedir();
    const def = join(home, '.kube', 'config');
    files = isFile(def) ? [def] : [];
  }
  const merged = mergeKubeconfigs(files);
  const hasContext = (opts.context ?? merged.currentContext) !== undefined || opts.server !== undefined;
  if (!hasContext && inClusterAvailable(opts)) {
    const cfg = inClusterConfig(opts);
    return opts.namespace ? { ...cfg, namespace: opts.namespace } : cfg;
  }
  if (files.length === 0 && !opts.server) {
    throw new ConfigError(
      'invalid configuration: no configuration has been provided (no --kubeconfig, KUBECONFIG or ~/.kube/config, and not running in a cluster)',
    );
  }
  return configFromKubeconfig(merged, opts);
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
