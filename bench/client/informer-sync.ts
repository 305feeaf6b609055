// Informer initial sync against a real `kubeplane apiserver`: time from start() to synced for
// N ConfigMaps (list in pages of 500, then the watch opens), next to the reference of
// `kubectl get configmaps -o json` reading the same collection (client-go's paged list, 500
// per chunk), run side by side on the same server.
// Run: npx tsc -p tsconfig.build.json && npx tsx bench/client/informer-sync.ts
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resourceFor } from '../../src/api/resources.js';
import { loadClientConfig } from '../../src/client/config.js';
import { RestClient } from '../../src/client/rest.js';
import { ApiInformerFactory } from '../../src/client/api-informers.js';

const N = Number(process.env.OBJECTS ?? 2000);
const NS = 'bench-informer';
const dir = mkdtempSync(join(tmpdir(), 'kp-bench-informer-'));
const server = spawn(process.execPath, [resolve('dist/cli/main.js'), 'apiserver', `--data-dir=${dir}`, '--bind-address=127.0.0.1', '--secure-port=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
try {
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving on (\S+)/.exec(out);
      if (m) res(m[1]!);
    });
    server.on('exit', (c) => rej(new Error(`apiserver exited ${c}`)));
  });
  const kubeconfig = join(dir, 'kubeconfig');
  const client = new RestClient(loadClientConfig({ kubeconfig }));
  const cms = resourceFor('', 'configmaps')!;
  await client.create(resourceFor('', 'namespaces')!, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const i = next++;
        await client.create(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: NS, labels: { app: `a${i % 10}` } }, data: { key: 'x'.repeat(200) } } as never);
      }
    }),
  );
  const runs = { informer: [] as number[], kubectl: [] as number[], list: [] as number[] };
  for (let r = 0; r < 5; r++) {
    let t = performance.now();
    const f = new ApiInformerFactory(client, { namespace: NS });
    const inf = f.informerFor('', 'configmaps');
    await f.start();
    await inf.synced();
    runs.informer.push(performance.now() - t);
    if (inf.list().length !== N) throw new Error(`informer has ${inf.list().length} of ${N}`);
    await f.stop();
    t = performance.now();
    const page = await client.listAll(cms, { namespace: NS, limit: 500 });
    runs.list.push(performance.now() - t);
    if (page.items.length !== N) throw new Error(`list has ${page.items.length} of ${N}`);
    t = performance.now();
    const out = execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'get', 'configmaps', '-n', NS, '-o', 'json'], { maxBuffer: 1 << 30 });
    runs.kubectl.push(performance.now() - t);
    const items = (JSON.parse(out.toString()) as { items: unknown[] }).items.length;
    if (items !== N) throw new Error(`kubectl listed ${items} of ${N}`);
  }
  const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const a = median(runs.informer);
  const b = median(runs.kubectl);
  console.log(`objects: ${N} ConfigMaps, median of 5`);
  console.log(`informer start -> synced:        ${a.toFixed(0)} ms`);
  console.log(`paged list alone (RestClient):    ${median(runs.list).toFixed(0)} ms (no cache, no watch)`);
  console.log(`reference kubectl get -o json:   ${b.toFixed(0)} ms (includes kubectl's own start-up)`);
  console.log(`ratio (reference / informer): ${(b / a).toFixed(2)}`);
  await client.close();
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
