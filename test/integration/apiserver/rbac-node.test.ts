// `kubeplane node` with nothing but the node credential `kubeplane up` writes
// (<data-dir>/node.kubeconfig: user system:kubeplane-node:<name>, group system:kubeplane-nodes,
// bound to the system:kubeplane-node ClusterRole): proxy, DNS and ingress all run on exactly
// those permissions. Everything runs inside a network namespace the test makes, so the proxy
// programs that namespace's iptables and every listener is that namespace's loopback.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { kubeplaneBin, runCommand, stopProcess, waitFor } from '../../helpers/cli.js';

describeE2E('kubeplane node on the system:kubeplane-node credential', { root: true, netns: true, commands: ['kubectl', 'dig', 'curl', 'iptables-save'] }, () => {
  const ns = `kprbn-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), `kp-rbac-node-${process.pid}-`));
  const dataDir = join(dir, 'data');
  const procs: (ChildProcess & { output: () => string })[] = [];
  let nodeAgent: (ChildProcess & { output: () => string }) | undefined;

  function inNetns(args: string[]): ChildProcess & { output: () => string } {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, kubeplaneBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const p = Object.assign(child, { output: () => out });
    procs.push(p);
    return p;
  }
  const run = (cmd: string, args: string[]) => runCommand('ip', ['netns', 'exec', ns, cmd, ...args], { env: { HOME: dir }, timeoutMs: 60_000 });
  async function kubectl(args: string[]): Promise<string> {
    const r = await run('/usr/bin/kubectl', ['--kubeconfig', join(dataDir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args]);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  beforeAll(async () => {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // The cluster without its own DNS and ingress: the node agent below provides them.
    const up = inNetns(['up', '--secure-port', '6443', '--data-dir', dataDir, '--nodes', '1', '--dns-bind', 'off', '--http-bind', 'off', '--https-bind', 'off', '--node-credential-name', 'kubeplane-node-0']);
    await waitFor(() => /export KUBECONFIG=(\S+)/.exec(up.output())?.[1] ?? (up.exitCode !== null ? Promise.reject(new Error(up.output())) : undefined), { timeoutMs: 60_000, what: 'kubeplane up' });
  }, 90_000);

  afterAll(async () => {
    for (const p of procs.reverse()) await stopProcess(p);
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('proxies, answers DNS and routes ingress with no 403 on the way', async () => {
    const nodeName = (await waitFor(async () => (await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).trim(), { what: 'the simulated node' })) as string;
    await kubectl(['create', 'deployment', 'web', '--image=registry.invalid/web', '--port=8080']);
    await kubectl(['expose', 'deployment', 'web', '--port=80', '--target-port=8080']);
    // the IngressClass the chart installs (up makes it only when it runs its own ingress)
    const r = await runCommand('ip', ['netns', 'exec', ns, '/usr/bin/kubectl', '--kubeconfig', join(dataDir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), 'apply', '-f', '-'], {
      env: { HOME: dir },
      input: 'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: kubeplane}\nspec: {controller: kubeplane.io/ingress}\n',
    });
    expect(r.code, r.stderr).toBe(0);
    await kubectl(['create', 'ingress', 'web', '--class=kubeplane', '--rule=web.example/*=web:80']);
    const clusterIP = (await kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();

    nodeAgent = inNetns([
      'node',
      '--kubeconfig', join(dataDir, 'node.kubeconfig'),
      '--node-name', nodeName,
      '--proxy-mode', 'iptables',
      '--state-dir', join(dir, 'proxy-state'),
      '--dns-bind', '127.0.0.1:53',
      '--upstream', '127.0.0.1:9',
      '--http-bind', '127.0.0.1:80',
      '--https-bind', 'off',
      '--ingress-metrics-bind', 'off',
      '-v', '2',
    ]);
    const agent = nodeAgent;
    const dig = async (): Promise<string> => (await run('dig', ['@127.0.0.1', '+short', '+time=2', '+tries=1', 'web.default.svc.cluster.local', 'A'])).stdout.trim();
    expect(await waitFor(async () => ((await dig()) === clusterIP ? clusterIP : agent.exitCode !== null ? Promise.reject(new Error(agent.output())) : undefined), { timeoutMs: 30_000, what: 'the Service name in DNS' })).toBe(clusterIP);
    const rules = await waitFor(async () => {
      const out = (await run('iptables-save', ['-t', 'nat'])).stdout;
      return out.includes(`-d ${clusterIP}/32`) && out.includes('KUBE-SEP-') ? out : undefined;
    }, { timeoutMs: 30_000, what: "the Service's iptables rules" });
    expect(rules).toContain('-A KUBE-SERVICES');
    // The route exists (a known host reaches the backend stage) while an unknown host is 404.
    const curl = async (host: string) => (await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '-H', `Host: ${host}`, 'http://127.0.0.1:80/'])).stdout;
    await waitFor(async () => (await curl('web.example')) !== '404', { timeoutMs: 30_000, what: 'the ingress route' });
    expect(await curl('unknown.example')).toBe('404');
    expect(agent.exitCode).toBeNull();
    expect(agent.output()).not.toMatch(/forbidden|\b403\b/i);
  }, 120_000);
});
