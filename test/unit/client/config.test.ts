import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ConfigError, configFromKubeconfig, inClusterConfig, loadClientConfig, mergeKubeconfigs } from '../../../src/client/config.js';
import { TokenSource } from '../../../src/client/token.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBclient\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN EC PRIVATE KEY-----\nMHckey\n-----END EC PRIVATE KEY-----\n';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kp-client-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(rel: string, text: string): string {
  const p = join(dir, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const first = `
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: certs/ca.crt
- name: shared
  cluster:
    server: https://first.example:443
users:
- name: dev-user
  user:
    tokenFile: secrets/token
contexts:
- name: dev
  context: {cluster: dev, user: dev-user, namespace: team-a}
- name: other
  context: {cluster: shared, user: cert-user}
`;

const second = `
apiVersion: v1
kind: Config
current-context: other
clusters:
- name: shared
  cluster:
    server: https://second.example:443
    insecure-skip-tls-verify: true
users:
- name: cert-user
  user:
    client-certificate-data: ${b64(CERT)}
    client-key-data: ${b64(KEY)}
- name: dev-user
  user:
    token: ignored-because-first-file-wins
contexts:
- name: other
  context: {cluster: shared, user: cert-user}
`;

describe('kubeconfig loading', () => {
  it('resolves file paths relative to the kubeconfig file and reads the token file', () => {
    const cfgPath = write('a/config', first);
    write('a/certs/ca.crt', CA);
    write('a/secrets/token', 'tok-1\n');
    const cfg = loadClientConfig({ kubeconfig: cfgPath, env: {} });
    expect(cfg.server).toBe('https://127.0.0.1:6443');
    expect(cfg.ca).toBe(CA);
    expect(cfg.tokenSource?.token()).toBe('tok-1');
    expect(cfg.namespace).toBe('team-a');
  });

  it('merges KUBECONFIG files as client-go: the first file to set a name or current-context wins, missing files are skipped', () => {
    const a = write('a/config', first);
    write('a/certs/ca.crt', CA);
    write('a/secrets/token', 'tok');
    const b = write('b/config', second);
    const env = { KUBECONFIG: [join(dir, 'nope'), a, b].join(delimiter) };
    const merged = mergeKubeconfigs([a, b]);
    expect(merged.currentContext).toBe('dev');
    expect(merged.users.get('dev-user')?.value.tokenFile).toBe('secrets/token');

    const other = loadClientConfig({ env, context: 'other' });
    // cluster "shared" comes from the first file (no insecure flag), the user from the second
    expect(other.server).toBe('https://first.example');
    expect(other.insecureSkipTLSVerify).toBeUndefined();
    expect(other.clientCertificate).toBe(CERT);
    expect(other.clientKey).toBe(KEY);
    expect(other.namespace).toBe('default');

    const reversed = loadClientConfig({ env: { KUBECONFIG: [b, a].join(delimiter) } });
    expect(reversed.server).toBe('https://second.example');
    expect(reversed.insecureSkipTLSVerify).toBe(true);
  });

  it('falls back to ~/.kube/config when neither --kubeconfig nor KUBECONFIG is set', () => {
    write('home/.kube/config', second);
    const cfg = loadClientConfig({ env: { HOME: join(dir, 'home') } });
    expect(cfg.server).toBe('https://second.example');
  });

  it('--context, --server, --namespace and --token override the file', () => {
    const p = write('config', second);
    const cfg = loadClientConfig({ kubeconfig: p, server: 'http://127.0.0.1:8080/', token: 'abc', namespace: 'x' });
    expect(cfg).toMatchObject({ server: 'http://127.0.0.1:8080', token: 'abc', namespace: 'x' });
  });

  it('gives client-go style errors for unusable configurations', () => {
    const badCtx = write('c1', 'current-context: nope\n');
    expect(() => loadClientConfig({ kubeconfig: badCtx })).toThrow('context "nope" does not exist');
    expect(() => loadClientConfig({ kubeconfig: join(dir, 'missing') })).toThrow(/no such file/);
    const both = write('c2', `current-context: x
clusters: [{name: c, cluster: {server: "https://h", insecure-skip-tls-verify: true, certificate-authority-data: ${b64(CA)}}}]
contexts: [{name: x, context: {cluster: c}}]
`);
    expect(() => loadClientConfig({ kubeconfig: both })).toThrow('specifying a root certificates file with the insecure flag is not allowed');
    const noCluster = write('c3', 'current-context: x\ncontexts: [{name: x, context: {cluster: gone}}]\n');
    expect(() => loadClientConfig({ kubeconfig: noCluster })).toThrow('cluster "gone" not found');
    const halfCert = write('c4', `current-context: x
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {client-certificate-data: ${b64(CERT)}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
`);
    expect(() => loadClientConfig({ kubeconfig: halfCert })).toThrow(/without a key/);
    const exec = write('c5', `current-context: x
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {exec: {command: aws}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
`);
    expect(() => loadClientConfig({ kubeconfig: exec })).toThrow(/exec or auth-provider/);
    const notYaml = write('c6', 'clusters: [unclosed');
    expect(() => loadClientConfig({ kubeconfig: notYaml })).toThrow(ConfigError);
    const badData = write('c7', `current-context: x
clusters: [{name: c, cluster: {server: "https://h", certificate-authority-data: "bm90IHBlbQ=="}}]
contexts: [{name: x, context: {cluster: c}}]
`);
    expect(() => loadClientConfig({ kubeconfig: badData })).toThrow(/not base64-encoded PEM/);
    expect(() => loadClientConfig({ env: { HOME: join(dir, 'empty-home') }, serviceAccountDir: join(dir, 'no-sa') })).toThrow(/no configuration has been provided/);
  });

  it('treats a server without a scheme as https', () => {
    const merged = mergeKubeconfigs([write('c', 'current-context: x\nclusters: [{name: c, cluster: {server: "10.0.0.1:6443"}}]\ncontexts: [{name: x, context: {cluster: c}}]\n')]);
    expect(configFromKubeconfig(merged).server).toBe('https://10.0.0.1:6443');
  });
});

describe('in-cluster configuration', () => {
  function serviceAccount(): string {
    write('sa/token', 'sa-token-1');
    write('sa/ca.crt', CA);
    write('sa/namespace', 'kube-system\n');
    return join(dir, 'sa');
  }

  it('uses KUBERNETES_SERVICE_HOST/PORT, the service account token, CA and namespace', () => {
    const sa = serviceAccount();
    const cfg = inClusterConfig({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa });
    expect(cfg).toMatchObject({ server: 'https://10.96.0.1:443', ca: CA, namespace: 'kube-system', source: 'in-cluster' });
    expect(cfg.tokenSource?.token()).toBe('sa-token-1');
    const v6 = inClusterConfig({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa });
    expect(v6.server).toBe('https://[fd00::1]:443');
  });

  it('is chosen by the loading rules when no kubeconfig file exists', () => {
    const sa = serviceAccount();
    const cfg = loadClientConfig({ env: { HOME: join(dir, 'nohome'), KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa });
    expect(cfg.source).toBe('in-cluster');
  });

  it('fails clearly outside a cluster', () => {
    expect(() => inClusterConfig({ env: {}, serviceAccountDir: dir })).toThrow('KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined');
  });
});

describe('TokenSource', () => {
  it('re-reads a rotated token file once the refresh period has passed, and keeps the last good token on failure', () => {
    const p = write('token', 'one');
    let now = 1_000_000;
    const ts = new TokenSource(p, 60_000, () => now);
    expect(ts.token()).toBe('one');
    writeFileSync(p, 'two');
    now += 30_000;
    expect(ts.token()).toBe('one');
    now += 30_001;
    expect(ts.token()).toBe('two');
    rmSync(p);
    now += 60_001;
    expect(ts.token()).toBe('two');
    writeFileSync(p, 'three');
    now += 5_001;
    expect(ts.token()).toBe('three');
  });

  it('fails when the file cannot be read the first time', () => {
    expect(() => new TokenSource(join(dir, 'absent')).token()).toThrow(/cannot read token file/);
  });
});
