import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { loadClientConfig } from '../../../src/client/config.js';
import { describeE2E } from '../../helpers/e2e.js';

// Our loading rules must pick what kubectl (client-go) picks from the same files.
describeE2E('kubeconfig merging agrees with kubectl', { commands: ['kubectl'] }, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-client-kubectl-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function write(rel: string, text: string): string {
    const p = join(dir, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, text);
    return p;
  }

  interface Minified {
    'current-context': string;
    clusters: { cluster: { server: string; 'insecure-skip-tls-verify'?: boolean } }[];
    users: { user: { token?: string } }[];
    contexts: { context: { namespace?: string } }[];
  }

  function kubectlView(env: NodeJS.ProcessEnv, args: string[] = []): Minified {
    const out = execFileSync('kubectl', ['config', 'view', '--minify', '--raw', '-o', 'json', ...args], { env: { PATH: process.env.PATH, HOME: join(dir, 'home'), ...env } });
    return JSON.parse(out.toString()) as Minified;
  }

  it('picks the same context, cluster, user and namespace from merged KUBECONFIG files', () => {
    const a = write('a.yaml', `apiVersion: v1
kind: Config
current-context: ctx-a
clusters:
- {name: shared, cluster: {server: "https://a.example:6443"}}
users:
- {name: u, user: {token: token-from-a}}
contexts:
- {name: ctx-a, context: {cluster: shared, user: u, namespace: ns-a}}
- {name: ctx-b, context: {cluster: only-b, user: u2}}
`);
    const b = write('b.yaml', `apiVersion: v1
kind: Config
current-context: ctx-b
clusters:
- {name: shared, cluster: {server: "https://b.example:6443"}}
- {name: only-b, cluster: {server: "https://only-b.example", insecure-skip-tls-verify: true}}
users:
- {name: u, user: {token: token-from-b}}
- {name: u2, user: {token: token-u2}}
contexts:
- {name: ctx-a, context: {cluster: only-b, user: u2, namespace: ns-b}}
`);
    for (const files of [[a, b], [b, a], [join(dir, 'missing.yaml'), b, a]]) {
      for (const context of [undefined, 'ctx-a', 'ctx-b']) {
        const env = { KUBECONFIG: files.join(delimiter) };
        const view = kubectlView(env, context ? ['--context', context] : []);
        const ours = loadClientConfig({ env: { ...env, HOME: join(dir, 'home') }, context, serviceAccountDir: join(dir, 'no-sa') });
        const where = `KUBECONFIG=${env.KUBECONFIG} --context=${context}`;
        expect(ours.server, where).toBe(view.clusters[0]!.cluster.server.replace(/:443$/, ''));
        expect(ours.insecureSkipTLSVerify ?? false, where).toBe(view.clusters[0]!.cluster['insecure-skip-tls-verify'] ?? false);
        expect(ours.token, where).toBe(view.users[0]!.user.token);
        expect(ours.namespace, where).toBe(view.contexts[0]!.context.namespace ?? 'default');
      }
    }
  });
});
