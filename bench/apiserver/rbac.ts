// What RBAC costs per request: GETs of one ConfigMap by a user RBAC has to evaluate (allowed by
// a RoleBinding, among --bindings other ClusterRoleBindings and RoleBindings) side by side with
// the same GETs by a system:masters user, whom the authorizer lets through without walking the
// policy (the reference). Prints requests/s of each and their ratio.
// kubeplane runs in-process (plain HTTP on loopback, SQLite in a temp dir).
// Usage: npx tsx bench/apiserver/rbac.ts [--requests 5000] [--bindings 500]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { ApiServer } from '../../src/apiserver/server.js';
import { TokenAuthenticator, parseTokenFile } from '../../src/apiserver/auth.js';
import { PortRange, ServiceCIDR } from '../../src/apiserver/registry/services.js';
import { openSqliteStore } from '../../src/apiserver/storage/sqlite.js';
import { resourceFor } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { configureLogging } from '../../src/observability/log.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const REQUESTS = arg('requests', 5000);
const BINDINGS = arg('bindings', 500);
const CONCURRENCY = 16;
const ROUNDS = 3;

async function main(): Promise<void> {
  configureLogging({ verbosity: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'kp-bench-rbac-'));
  const store = await openSqliteStore(dir);
  const server = new ApiServer({
    store,
    authenticator: new TokenAuthenticator(parseTokenFile('admin-token,admin,1,"system:masters"\nreader-token,reader,2\n')),
    authorization: 'RBAC',
    serviceCIDR: new ServiceCIDR('10.96.0.0/12'),
    nodePorts: new PortRange(30000, 2768),
    bindAddress: '127.0.0.1',
    port: 0,
    advertiseAddress: '10.0.0.1',
  });
  const addr = await server.start();
  const rbac = (r: string) => resourceFor('rbac.authorization.k8s.io', r)!;
  const write = { fieldManager: 'bench' };
  const reg = server.registry;
  await reg.create(resourceFor('', 'configmaps')!, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: 'b' } } as KubeObject, write);
  await reg.create(rbac('clusterroles'), undefined, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'cm-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] } as KubeObject, write);
  // Bindings for other users: the authorizer walks every ClusterRoleBinding before the namespace's RoleBindings.
  for (let i = 0; i < BINDINGS; i++) {
    const subjects = [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `user-${i}` }];
    const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cm-reader' };
    if (i % 2 === 0) await reg.create(rbac('clusterrolebindings'), undefined, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `crb-${i}` }, roleRef, subjects } as KubeObject, write);
    else await reg.create(rbac('rolebindings'), 'default', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `rb-${i}` }, roleRef, subjects } as KubeObject, write);
  }
  await reg.create(rbac('rolebindings'), 'default', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'zz-reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cm-reader' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'reader' }] } as KubeObject, write);

  const pool = new Pool(`http://127.0.0.1:${addr.port}`, { connections: CONCURRENCY });
  const path = '/api/v1/namespaces/default/configmaps/cm';
  // the policy cache follows the store's watch: wait until the reader's binding is in effect
  for (;;) {
    const r = await pool.request({ method: 'GET', path, headers: { authorization: 'Bearer reader-token' } });
    await r.body.text();
    if (r.statusCode === 200) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  async function run(token: string): Promise<number> {
    let next = 0;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < REQUESTS) {
          const r = await pool.request({ method: 'GET', path, headers: { authorization: `Bearer ${token}` } });
          await r.body.text();
          if (r.statusCode !== 200) throw new Error(`GET as ${token}: ${r.statusCode}`);
        }
      }),
    );
    return REQUESTS / ((performance.now() - t) / 1000);
  }
  await run('admin-token'); // warm-up
  const masters: number[] = [];
  const evaluated: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    masters.push(await run('admin-token'));
    evaluated.push(await run('reader-token'));
  }
  const best = (xs: number[]) => Math.max(...xs);
  console.log(`GET one ConfigMap, ${CONCURRENCY} concurrent clients, ${REQUESTS} requests, best of ${ROUNDS} interleaved rounds; ${BINDINGS} other bindings`);
  console.log(`  system:masters (no RBAC walk, reference): ${best(masters).toFixed(0)} req/s`);
  console.log(`  RBAC-evaluated user (RoleBinding):        ${best(evaluated).toFixed(0)} req/s`);
  console.log(`  ratio evaluated/reference: ${(best(evaluated) / best(masters)).toFixed(2)}`);
  await pool.close();
  await server.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
