// Two `kubeplane node` processes (ingress only) against one `kubeplane apiserver`: both serve,
// one holds the ingress class's Lease and writes status.loadBalancer.ingress; when it dies the
// other takes the Lease over and writes its own address. Rejected Ingresses get Warning Events.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, startKubeplane, stopProcess, waitFor } from '../../helpers/cli.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

describeE2E('kubeplane node writes Ingress status through a Lease', { commands: ['kubectl'] }, () => {
  const dir = mkdtempSync(join(tmpdir(), `kp-node-ingress-${process.pid}-`));
  const dataDir = join(dir, 'data');
  const kubeconfig = join(dataDir, 'kubeconfig');
  let server: ReturnType<typeof startKubeplane> | undefined;
  const nodes = new Map<string, ReturnType<typeof startKubeplane>>();

  async function kubectl(args: string[], input?: string): Promise<string> {
    const r = await runCommand('/usr/bin/kubectl', ['--cache-dir', join(dir, 'kube-cache'), ...args], { env: { KUBECONFIG: kubeconfig, HOME: dir }, input, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }
  const getJson = async (args: string[]): Promise<Obj> => JSON.parse(await kubectl([...args, '-o', 'json'])) as Obj;

  function startNode(name: string, address: string): void {
    const node = startKubeplane([
      'node', '--kubeconfig', kubeconfig, '--proxy=false', '--dns=false', '--node-name', name,
      '--http-bind', '127.0.0.1:0', '--https-bind', 'off', '--ingress-metrics-bind', 'off', '--metrics-bind-address', '',
      '--ingress-publish-address', address, '--ingress-leader-elect-lease-duration', '3s',
    ]);
    nodes.set(name, node);
  }

  beforeAll(async () => {
    server = startKubeplane(['apiserver', '--secure-port', '0', '--bind-address', '127.0.0.1', '--data-dir', dataDir]);
    const s = server;
    await waitFor(() => /serving on (https:\/\/\S+)/.exec(s.output()) ?? (s.exitCode !== null ? Promise.reject(new Error(s.output())) : undefined), { timeoutMs: 30_000, what: 'apiserver to serve' });
    parseYaml(readFileSync(kubeconfig, 'utf8'));
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'kubeplane' }, spec: { controller: 'kubeplane.io/ingress' } }));
    startNode('node-a', '127.0.0.11');
    startNode('node-b', '127.0.0.12');
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes.values()) await stopProcess(n);
    if (server) await stopProcess(server);
    rmSync(dir, { recursive: true, force: true });
  });

  const ingress = (name: string, annotations: Record<string, string> = {}): string =>
    JSON.stringify({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name, annotations },
      spec: { ingressClassName: 'kubeplane', rules: [{ host: `${name}.example.test`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    });
  const statusOf = async (name: string): Promise<string[]> => ((await getJson(['get', 'ingress', name])).status?.loadBalancer?.ingress ?? []).map((a: Obj) => a.ip ?? a.hostname);
  const holder = async (): Promise<string | undefined> => {
    const r = await runCommand('/usr/bin/kubectl', ['get', 'lease', 'kubeplane-ingress-leader-kubeplane', '-o', 'jsonpath={.spec.holderIdentity}'], { env: { KUBECONFIG: kubeconfig, HOME: dir } });
    return r.code === 0 && r.stdout ? r.stdout : undefined;
  };

  let leader = '';
  it('the Lease holder writes its address into the status of owned Ingresses', async () => {
    await kubectl(['apply', '-f', '-'], ingress('web'));
    const identity = await waitFor(holder, { timeoutMs: 30_000, what: 'a node to hold the ingress Lease' });
    leader = identity.split('_')[0]!;
    expect(['node-a', 'node-b']).toContain(leader);
    const want = leader === 'node-a' ? '127.0.0.11' : '127.0.0.12';
    await waitFor(async () => ((await statusOf('web')).join() === want ? true : undefined), { timeoutMs: 30_000, what: `status ${want}` });
    // the other node serves too but never writes: the status stays the leader's
    const other = leader === 'node-a' ? 'node-b' : 'node-a';
    await waitFor(() => /kubeplane node running/.test(nodes.get(other)!.output()) || undefined, { timeoutMs: 30_000, what: `${other} to run` });
    expect(await statusOf('web')).toEqual([want]);
  }, 60_000);

  it('a rejected Ingress gets a Warning Event and no status', async () => {
    await kubectl(['apply', '-f', '-'], ingress('bad', { 'nginx.ingress.kubernetes.io/ssl-redirect': 'maybe' }));
    const events = await waitFor(
      async () => {
        const list = (await getJson(['get', 'events', '--field-selector', 'involvedObject.name=bad'])).items as Obj[];
        return list.find((e) => e.reason === 'Rejected') ? list : undefined;
      },
      { timeoutMs: 30_000, what: 'a Rejected Event' },
    );
    const ev = events.find((e) => e.reason === 'Rejected')!;
    expect(ev.type).toBe('Warning');
    expect(ev.involvedObject.kind).toBe('Ingress');
    expect(ev.message).toContain('ssl-redirect');
    expect(await statusOf('bad')).toEqual([]);
  }, 60_000);

  it('when the leader dies the other node takes the Lease over and writes its address', async () => {
    const dead = nodes.get(leader)!;
    await new Promise<void>((res) => {
      dead.once('exit', () => res());
      dead.kill('SIGKILL');
    });
    const survivor = leader === 'node-a' ? 'node-b' : 'node-a';
    const want = survivor === 'node-a' ? '127.0.0.11' : '127.0.0.12';
    await waitFor(async () => ((await holder())?.startsWith(`${survivor}_`) ? true : undefined), { timeoutMs: 30_000, what: `${survivor} to take the Lease` });
    await waitFor(async () => ((await statusOf('web')).join() === want ? true : undefined), { timeoutMs: 30_000, what: `status ${want}` });
  }, 60_000);
});
