// The data plane each netns node runs (`kubeplane node` in the node namespace, API through the
// node helper's relay), here in nftables mode: pods reach a Service by name across nodes, and
// the node's processes come back when they die, as a DaemonSet's pod would.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, waitFor } from '../../helpers/cli.js';
import { NETNS_CLUSTER_NEEDS, startNetnsCluster, type NetnsCluster } from '../../helpers/netns-up.js';

const SERVER = fileURLToPath(new URL('./web-server.mjs', import.meta.url));

/** PIDs in a namespace whose command line matches. */
async function pidsIn(ns: string, match: RegExp): Promise<number[]> {
  const r = await runCommand('ip', ['netns', 'pids', ns]);
  return r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return match.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
      } catch {
        return false;
      }
    });
}

describeE2E('netns cluster: node data plane (nftables)', { ...NETNS_CLUSTER_NEEDS, commands: [...NETNS_CLUSTER_NEEDS.commands!, 'nft', 'getent'] }, () => {
  let c: NetnsCluster;
  let client = '';
  let names: string[] = [];

  beforeAll(async () => {
    c = await startNetnsCluster({ nodes: 2, tag: 'kpdp', proxyMode: 'nftables', net: 101 });
  }, 90_000);

  afterAll(async () => {
    await c?.stop();
  }, 60_000);

  const answers = async (from: string, url: string, want: string[]) => {
    const got = new Set<string>();
    await waitFor(async () => {
      const r = await c.execInPod(from, ['curl', '-s', '-m', '3', url]);
      if (r.code === 0) got.add(r.stdout.trim());
      return want.every((w) => got.has(w));
    }, { what: `answers from ${want.join(', ')} at ${url} (got ${[...got].join(', ')})`, timeoutMs: 30_000, intervalMs: 50 });
    return [...got].sort();
  };

  it('pods reach a Service by name through nftables rules in their node namespaces', async () => {
    await c.kubectlOk(['create', 'deployment', 'echo', '--image=none', '--replicas=2', '--port=8080', '--', process.execPath, SERVER]);
    await c.kubectlOk(['expose', 'deployment', 'echo', '--port=80', '--target-port=8080']);
    const rollout = await c.kubectl(['rollout', 'status', 'deployment/echo', '--timeout=60s'], { timeoutMs: 70_000 });
    expect(rollout.code, rollout.stderr).toBe(0);
    await c.kubectlOk(['run', 'client', '--image=none', '--command', '--', 'sleep', '1000']);
    await waitFor(async () => (await c.kubectlOk(['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}'])) === 'Running', { what: 'client pod', timeoutMs: 30_000 });
    client = 'client';
    const pods = JSON.parse(await c.kubectlOk(['get', 'pods', '-l', 'app=echo', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { nodeName: string } }[] };
    names = pods.items.map((p) => p.metadata.name).sort();
    expect(new Set(pods.items.map((p) => p.spec.nodeName)).size).toBe(2);
    const nodeName = pods.items[0]!.spec.nodeName;
    const rules = await c.execInNode(nodeName, ['nft', 'list', 'table', 'ip', 'kube-proxy']);
    expect(rules.stdout).toMatch(/default\/echo/);
    const clusterIP = (await c.kubectlOk(['get', 'svc', 'echo', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const hosts = await c.execInPod(client, ['getent', 'hosts', 'echo']);
    expect(hosts.stdout.trim().split(/\s+/)[0]).toBe(clusterIP);
    expect(await answers(client, 'http://echo.default.svc.cluster.local/', names)).toEqual(names);
  }, 120_000);

  it('restarts a node\'s kubeplane node and its helper (the API relay) when they die', async () => {
    const node = (await c.kubectlOk(['get', 'pod', client, '-o', 'jsonpath={.spec.nodeName}'])).trim();
    const ns = c.nodeNs(node);
    const [dataPlane] = await pidsIn(ns, /cli\/main\.js node /);
    const [helper] = await pidsIn(ns, /helper\.js/);
    expect(dataPlane).toBeGreaterThan(0);
    expect(helper).toBeGreaterThan(0);
    process.kill(dataPlane!, 'SIGKILL');
    process.kill(helper!, 'SIGKILL');
    await waitFor(async () => {
      const dp = await pidsIn(ns, /cli\/main\.js node /);
      const h = await pidsIn(ns, /helper\.js/);
      return dp.length === 1 && dp[0] !== dataPlane && h.length === 1 && h[0] !== helper;
    }, { what: 'new kubeplane node and helper processes', timeoutMs: 30_000 });
    // The new data plane reads the API through the new relay: a Service made now is served.
    await c.kubectlOk(['expose', 'deployment', 'echo', '--name=echo2', '--port=81', '--target-port=8080']);
    expect(await answers(client, 'http://echo2:81/', names)).toEqual(names);
  }, 90_000);
});
