// --workers: several processes share the listeners; every worker serves the same routes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { waitFor } from '../../helpers/cli.js';
import { EchoBackend, get, ing, ingressClass, rule, serviceObjects, startIngress, writeObjects, type RunningIngress } from './harness.js';

describeE2E('kubeplane ingress --workers', { commands: ['openssl'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kp-ingress-workers-'));
  const objectsPath = join(dir, 'objects.yaml');
  const web = new EchoBackend('web-pod', 'web');
  let ingress: RunningIngress | undefined;

  beforeAll(async () => {
    await web.start();
    writeObjects(objectsPath, [ingressClass, ...serviceObjects({ service: 'web', pods: [web] }), ing('web', { rules: [rule('w.test', [['/', 'Prefix', 'web']])] })]);
    ingress = await startIngress(objectsPath, ['--workers', '3']);
  });

  afterAll(async () => {
    await ingress?.stop();
    await web.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('/metrics on the primary sums every worker registry', async () => {
    const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${ingress!.metricsPort}/metrics`)).text();
    const count = (text: string, labels: RegExp): number =>
      text
        .split('\n')
        .filter((l) => l.startsWith('nginx_ingress_controller_requests{') && labels.test(l))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    const before = count(await scrape(), /ingress="web".*status="200"/);
    // new connections each, so the kernel spreads them over the workers
    const N = 30;
    for (let i = 0; i < N; i++) expect((await get(ingress!.httpPort, 'w.test', `/m${i}`, { headers: { connection: 'close' } })).status).toBe(200);
    // a worker records a request when its response finishes, just after the client has it
    await waitFor(async () => count(await scrape(), /ingress="web".*status="200"/) - before === N, { what: `${N} requests counted across workers` });
    const text = await scrape();
    expect(text).toMatch(/^kubeplane_ingress_workers 3$/m);
    // per-process gauges are not multiplied by the worker count
    expect(text).toMatch(/^kubeplane_ingress_hosts 1$/m);
    expect(text).toMatch(/^nginx_ingress_controller_config_last_reload_successful 1$/m);
    expect(text).toMatch(/^nginx_ingress_controller_request_duration_seconds_count\{[^}]*ingress="web"[^}]*status="200"[^}]*\} \d+$/m);
  });

  it('serves routes from every worker and applies edits in all of them', async () => {
    await waitFor(async () => (await get(ingress!.httpPort, 'w.test', '/')).status === 200, { what: 'workers listening' });
    // new connections each: the kernel spreads them over the workers
    for (let i = 0; i < 10; i++) expect((await get(ingress!.httpPort, 'w.test', `/${i}`, { headers: { connection: 'close' } })).echo?.service).toBe('web');
    writeObjects(objectsPath, [ingressClass, ...serviceObjects({ service: 'web', pods: [web] }), ing('web', { rules: [rule('w2.test', [['/', 'Prefix', 'web']])] })]);
    await waitFor(async () => {
      for (let i = 0; i < 8; i++) if ((await get(ingress!.httpPort, 'w2.test', '/', { headers: { connection: 'close' } })).status !== 200) return false;
      return true;
    }, { what: 'edit applied in every worker' });
    expect((await get(ingress!.httpPort, 'w.test', '/', { headers: { connection: 'close' } })).status).toBe(404);
  });
});
