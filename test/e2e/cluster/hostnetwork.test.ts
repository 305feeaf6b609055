// hostNetwork pods on a netns node, as the kubelet runs them: no namespace of their own, the
// containers' processes in the node's network namespace, podIP = hostIP = the node's IP;
// deleting such a pod stops its processes and leaves the node's namespace alone.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { waitFor } from '../../helpers/cli.js';
import { NETNS_CLUSTER_NEEDS, startNetnsCluster, type NetnsCluster } from '../../helpers/netns-up.js';

const SERVER = fileURLToPath(new URL('./web-server.mjs', import.meta.url));
const NODE = 'kubeplane-node-0';

interface PodView {
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    hostIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { containerID: string }[];
  };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const nsPids = (ns: string) => execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);

describeE2E('netns cluster: hostNetwork pods', NETNS_CLUSTER_NEEDS, () => {
  let c: NetnsCluster;

  const pod = async (name: string): Promise<PodView> => JSON.parse(await c.kubectlOk(['get', 'pod', name, '-o', 'json'])) as PodView;
  const ready = (p: PodView) => p.status.phase === 'Running' && p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
  const server = (name: string, port: number, hostNetwork: boolean) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      hostNetwork,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'web',
          image: 'none',
          command: [process.execPath, SERVER],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'PORT', value: String(port) },
          ],
          ports: [{ containerPort: port }],
          readinessProbe: { httpGet: { path: '/readyz', port }, periodSeconds: 1 },
        },
      ],
    },
  });

  beforeAll(async () => {
    c = await startNetnsCluster({ nodes: 1, tag: 'kphn', dataPlane: false });
  }, 90_000);

  afterAll(async () => {
    await c?.stop();
  }, 60_000);

  it("runs in the node's namespace with the node's IP, and its deletion leaves the node alone", async () => {
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(server('hostweb', 18081, true)) });
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(server('client', 8080, false)) });
    const running = async (name: string) =>
      waitFor(async () => {
        const p = await pod(name);
        return ready(p) ? p : undefined;
      }, { what: `${name} Running and Ready`, timeoutMs: 30_000 });
    const host = await running('hostweb');
    const client = await running('client');

    const nodeIP = (await c.kubectlOk(['get', 'node', NODE, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}'])).trim();
    expect(nodeIP).toMatch(/^192\.168\.\d+\.\d+$/);
    expect(host.spec.nodeName).toBe(NODE);
    expect(host.status.podIP).toBe(nodeIP);
    expect(host.status.hostIP).toBe(nodeIP);
    expect(host.status.podIPs).toEqual([{ ip: nodeIP }]);
    expect(client.status.podIP).not.toBe(nodeIP);

    // Its process lives in the node's namespace; no namespace was made for it.
    const nodeNs = c.nodeNs(NODE);
    expect(await c.podNs('hostweb')).toBe(nodeNs);
    const pid = Number(/\/(\d+)$/.exec(host.status.containerStatuses![0]!.containerID)?.[1]);
    expect(pid).toBeGreaterThan(0);
    // The container's pid is `ip netns exec`'s, which execs the program: the same process.
    expect(nsPids(nodeNs)).toContain(pid);
    // Its hostname is the node's, as on a kubelet host.
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toContain(`HOSTNAME=${NODE}`);
    const podNamespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`${c.prefix}-pod-`));
    expect(podNamespaces).toHaveLength(1); // the client's
    // Loopback is per namespace: answering on the node's 127.0.0.1 proves where it listens.
    const local = await c.execInNode(NODE, ['curl', '-s', '-m', '5', 'http://127.0.0.1:18081/']);
    expect(local.stdout.trim(), local.stderr).toBe('hostweb');
    // A pod reaches it on the node's IP.
    const fromPod = await c.execInPod('client', ['curl', '-s', '-m', '5', `http://${nodeIP}:18081/`]);
    expect(fromPod.stdout.trim(), fromPod.stderr).toBe('hostweb');
    // dnsPolicy ClusterFirst on the host network: the host's resolv.conf, as the kubelet does.
    expect(readFileSync(`/proc/${pid}/root/etc/resolv.conf`, 'utf8')).toBe(readFileSync('/etc/resolv.conf', 'utf8'));
    // Its output is kept like any pod's.
    expect(c.podLog('hostweb', 'web')).toContain('hostweb serving on 18081');

    // Deleting it stops its process and keeps the node's namespace (and the pods on it) working.
    await c.kubectlOk(['delete', 'pod', 'hostweb', '--wait=true', '--timeout=30s'], { timeoutMs: 40_000 });
    await waitFor(() => !alive(pid), { what: 'the hostNetwork container stopped', timeoutMs: 10_000 });
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).toContain(nodeNs);
    const gone = await c.execInNode(NODE, ['curl', '-s', '-m', '2', 'http://127.0.0.1:18081/']);
    expect(gone.code).not.toBe(0);
    const still = await c.execInNode(NODE, ['curl', '-s', '-m', '5', `http://${client.status.podIP}:8080/`]);
    expect(still.stdout.trim(), still.stderr).toBe('client');
  }, 90_000);

  it('ClusterFirstWithHostNet: the containers alone see the cluster resolv.conf, the node keeps its own', async () => {
    const spec = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hostdns', namespace: 'default' },
      spec: { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', terminationGracePeriodSeconds: 1, containers: [{ name: 'sleep', image: 'none', command: ['sleep', '1000'] }] },
    };
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(spec) });
    const p = await waitFor(async () => {
      const got = await pod('hostdns');
      return got.status.phase === 'Running' ? got : undefined;
    }, { what: 'hostdns Running', timeoutMs: 30_000 });
    const pid = Number(/\/(\d+)$/.exec(p.status.containerStatuses![0]!.containerID)?.[1]);
    expect(await c.podNs('hostdns')).toBe(c.nodeNs(NODE));
    const seen = readFileSync(`/proc/${pid}/root/etc/resolv.conf`, 'utf8');
    expect(seen).toContain(`nameserver ${p.status.podIP}`); // the node's IP: its DNS listens there
    expect(seen).toContain('search default.svc.cluster.local svc.cluster.local cluster.local');
    expect(seen).toContain('options ndots:5');
    // Neither the node's namespace nor the host saw the mount.
    const onNode = await c.execInNode(NODE, ['cat', '/etc/resolv.conf']);
    expect(onNode.stdout).toBe(readFileSync('/etc/resolv.conf', 'utf8'));
    expect(readFileSync('/etc/resolv.conf', 'utf8')).not.toContain('svc.cluster.local');
    await c.kubectlOk(['delete', 'pod', 'hostdns', '--wait=true', '--timeout=30s'], { timeoutMs: 40_000 });
    await waitFor(() => !alive(pid), { what: 'hostdns stopped', timeoutMs: 10_000 });
  }, 60_000);
});
