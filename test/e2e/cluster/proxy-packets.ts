// Issue 4's real-packet must-shows on the cluster `kubeplane up --pods=netns` runs: 2 nodes,
// `kubeplane node` (the Service proxy) in each node namespace, pods as processes in their own
// namespaces, everything driven with the real kubectl: Deployments, bare Pods and Services,
// EndpointSlices made by the controller, `kubectl delete pod`. One body, one mode per file
// (proxy-iptables.test.ts, proxy-nftables.test.ts), so vitest runs the two files in parallel.
//
// Backends run proxy-backend.mjs (image `proxy-backend`, mapped with --image-command): every
// answer is "<pod name> <client address>". Clients run proxy-client.mjs in a pod's namespace
// or in an external client's (a namespace on the node network that is not a node).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, waitFor } from '../../helpers/cli.js';
import { NETNS_CLUSTER_NEEDS, startNetnsCluster, type ExternalClient, type NetnsCluster } from '../../helpers/netns-up.js';

const BACKEND = fileURLToPath(new URL('./proxy-backend.mjs', import.meta.url));
const CLIENT = fileURLToPath(new URL('./proxy-client.mjs', import.meta.url));
const NODE0 = 'kubeplane-node-0';
const NODE1 = 'kubeplane-node-1';
/** the client pod's node: where its flows are DNATed and its conntrack entries live */
const CLIENT_NODE = NODE0;
const UDP_SOURCE_PORT = '40053';

export type ProxyMode = 'iptables' | 'nftables';

interface Tally {
  requests: number;
  answers: Record<string, number>;
  sources: string[];
  errors: Record<string, number>;
}

interface PodView {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { podIP?: string };
}

interface SliceView {
  endpoints: { addresses: string[]; conditions: { ready?: boolean }; targetRef?: { name: string } }[] | null;
}

const backendContainer = (extra: Record<string, unknown> = {}) => ({
  name: 'backend',
  image: 'proxy-backend',
  ports: [{ containerPort: 8080 }, { containerPort: 5353, protocol: 'UDP' }],
  readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
  ...extra,
});

const deployment = (name: string, replicas: number, pod: Record<string, unknown>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 2, containers: [backendContainer()], ...pod } },
  },
});

const service = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });

const barePod = (name: string, labels: Record<string, string>, nodeName: string, container: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { nodeName, terminationGracePeriodSeconds: 2, containers: [container] },
});

/** Everything the tests use, applied at once so the pods start together. */
function objects(): unknown {
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      // 4 endpoints, 2 on each node.
      deployment('web', 4, { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] }),
      service('web', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }),
      service('sticky', { selector: { app: 'web' }, sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }),
      // One endpoint, on node 0 only.
      deployment('local', 1, { nodeSelector: { 'kubernetes.io/hostname': NODE0 } }),
      // A LoadBalancer (no load balancer here: its NodePort and healthCheckNodePort are what count).
      service('local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: { app: 'local' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }),
      // Selects nothing.
      service('empty', { type: 'NodePort', selector: { app: 'nothing' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }),
      // Bare pods: deleting one leaves no replacement that could take over its address.
      barePod('udp-a', { app: 'udp' }, NODE0, backendContainer()),
      barePod('udp-b', { app: 'udp' }, NODE1, backendContainer()),
      service('udp', { selector: { app: 'udp' }, ports: [{ port: 53, targetPort: 5353, protocol: 'UDP' }] }),
      barePod('client', { role: 'client' }, CLIENT_NODE, { name: 'client', image: 'none', command: ['sleep', '100000'] }),
    ],
  };
}

/** PIDs in a network namespace whose command line matches. */
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

export function describeProxyPackets(mode: ProxyMode, net: number): void {
  const needs = { ...NETNS_CLUSTER_NEEDS, commands: [...NETNS_CLUSTER_NEEDS.commands!, mode === 'iptables' ? 'iptables-save' : 'nft', 'conntrack'] };
  describeE2E(`netns cluster: Service proxy real packets (${mode})`, needs, () => {
    let c: NetnsCluster;
    let ext: ExternalClient;
    let clientNs = '';
    const nodeIP: Record<string, string> = {};
    const clusterIP: Record<string, string> = {};
    const nodePort: Record<string, number> = {};
    const healthCheckNodePort: Record<string, number> = {};
    /** addresses of pods the tests deleted */
    const deletedIPs: string[] = [];

    const inNs = async (ns: string, args: string[], timeoutMs = 60_000): Promise<unknown> => {
      const r = await runCommand('ip', ['netns', 'exec', ns, process.execPath, CLIENT, ...args], { timeoutMs });
      if (r.code !== 0) throw new Error(`proxy-client ${args.join(' ')} in ${ns}: ${r.stderr}`);
      return JSON.parse(r.stdout) as unknown;
    };
    const http = (ns: string, url: string, count: number, timeoutMs = 2000) => inNs(ns, ['http', url, String(count), String(timeoutMs)]) as Promise<Tally>;
    const udp = async (ns: string, host: string, port: number) => {
      const r = (await inNs(ns, ['udp', host, String(port), UDP_SOURCE_PORT, '1000'])) as { reply?: string };
      return r.reply?.split(' ')[0];
    };
    /** Asks until every one of `want` has answered; returns who answered (errors included). */
    const collect = async (ns: string, url: string, want: string[]) => {
      const got = new Set<string>();
      await waitFor(
        async () => {
          const t = await http(ns, url, 8);
          for (const k of Object.keys(t.answers)) got.add(k);
          for (const k of Object.keys(t.errors)) got.add(`error:${k}`);
          return want.every((w) => got.has(w));
        },
        { what: `answers from ${want.join(', ')} at ${url}`, timeoutMs: 30_000, intervalMs: 50 },
      ).catch((err: Error) => {
        throw new Error(`${err.message} (got ${[...got].join(', ')})`);
      });
      return [...got].sort();
    };

    const pods = async (selector: string): Promise<PodView[]> =>
      (JSON.parse(await c.kubectlOk(['get', 'pods', '-l', selector, '-o', 'json'])) as { items: PodView[] }).items.filter((p) => !p.metadata.deletionTimestamp);
    const readyEndpoints = async (svc: string): Promise<{ ip: string; pod: string }[]> =>
      (JSON.parse(await c.kubectlOk(['get', 'endpointslices', '-l', `kubernetes.io/service-name=${svc}`, '-o', 'json'])) as { items: SliceView[] }).items
        .flatMap((s) => s.endpoints ?? [])
        .filter((e) => e.conditions.ready)
        .map((e) => ({ ip: e.addresses[0]!, pod: e.targetRef?.name ?? '' }))
        .sort((a, b) => a.ip.localeCompare(b.ip));

    const rules = async (node: string): Promise<string> => {
      const r = await c.execInNode(node, mode === 'iptables' ? ['iptables-save'] : ['nft', '-a', 'list', 'table', 'ip', 'kube-proxy']);
      if (r.code !== 0) throw new Error(`listing ${node}'s rules: ${r.stderr}`);
      return r.stdout;
    };
    /** The endpoints a node's rules send a service port's traffic to (its dispatch, not leftovers). */
    const proxied = async (node: string, svc: string, proto: 'tcp' | 'udp', port: number): Promise<string[]> => {
      const text = await rules(node);
      const ips = new Set<string>();
      if (mode === 'iptables') {
        const re = new RegExp(`^-A KUBE-SVC-\\S+ .*--comment "?default/${svc} -> ([\\d.]+):${port}"?`);
        for (const line of text.split('\n')) {
          const m = re.exec(line);
          if (m) ips.add(m[1]!);
        }
      } else {
        const re = new RegExp(`goto endpoint-\\w+-default/${svc}/${proto}/__([\\d.]+)/${port}\\b`, 'g');
        for (const line of text.split('\n')) if (line.includes('numgen random')) for (const m of line.matchAll(re)) ips.add(m[1]!);
      }
      return [...ips].sort((a, b) => a.localeCompare(b));
    };
    /** Waits until both nodes' rules dispatch the service port to exactly its ready endpoints. */
    const caughtUp = async (svc: string, proto: 'tcp' | 'udp', port: number, nodes = [NODE0, NODE1]) => {
      let last = '';
      await waitFor(
        async () => {
          const want = (await readyEndpoints(svc)).map((e) => e.ip);
          const got = await Promise.all(nodes.map((n) => proxied(n, svc, proto, port)));
          last = `ready ${want.join(',')}; proxied ${got.map((g) => g.join(',')).join(' | ')}`;
          return want.length > 0 && got.every((g) => g.join(',') === want.join(','));
        },
        { what: `rules of ${nodes.join(', ')} for ${svc} to follow its EndpointSlice`, timeoutMs: 30_000 },
      ).catch((err: Error) => {
        throw new Error(`${err.message} (last: ${last})`);
      });
    };
    const serviceKnown = async (node: string, svc: string) =>
      waitFor(async () => (await rules(node)).includes(`default/${svc}`), { what: `${node}'s rules to mention default/${svc}`, timeoutMs: 30_000 });

    beforeAll(async () => {
      // `up`'s own status page would take the host's 127.0.0.1:10249, which other tests use.
      const args = ['--status-bind', 'off', '--image-command', `proxy-backend=${process.execPath} ${BACKEND}`];
      c = await startNetnsCluster({ nodes: 2, tag: mode === 'iptables' ? 'kppi' : 'kppn', proxyMode: mode, net, args });
      ext = await c.addExternalClient('ext');
      await c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(objects()) });
      for (const n of JSON.parse(await c.kubectlOk(['get', 'nodes', '-o', 'json'])).items as { metadata: { name: string }; status: { addresses: { type: string; address: string }[] } }[]) {
        nodeIP[n.metadata.name] = n.status.addresses.find((a) => a.type === 'InternalIP')!.address;
      }
      for (const s of JSON.parse(await c.kubectlOk(['get', 'services', '-o', 'json'])).items as { metadata: { name: string }; spec: { clusterIP: string; ports: { nodePort?: number }[]; healthCheckNodePort?: number } }[]) {
        clusterIP[s.metadata.name] = s.spec.clusterIP;
        if (s.spec.ports[0]!.nodePort) nodePort[s.metadata.name] = s.spec.ports[0]!.nodePort;
        if (s.spec.healthCheckNodePort) healthCheckNodePort[s.metadata.name] = s.spec.healthCheckNodePort;
      }
      // Generous: 8 pods and 2 data planes start here at once, on a machine that may be busy.
      const rollout = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=120s'], { timeoutMs: 130_000 });
      expect(rollout.code, rollout.stderr + c.output()).toBe(0);
      await waitFor(async () => (await c.kubectlOk(['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}'])) === 'Running', { what: 'client pod Running', timeoutMs: 30_000 });
      clientNs = await c.podNs('client');
      await caughtUp('web', 'tcp', 8080);
    }, 200_000);

    afterAll(async () => {
      await c?.stop();
    }, 90_000);

    it('a pod reaches a ClusterIP whose endpoints are on both nodes, and requests spread over all of them', async () => {
      const web = await pods('app=web');
      expect(web).toHaveLength(4);
      expect(new Set(web.map((p) => p.spec.nodeName))).toEqual(new Set([NODE0, NODE1]));
      const names = web.map((p) => p.metadata.name).sort();
      // 60 new connections, a random endpoint each: all 4 answer (all but certainly: a miss
      // has odds of 4 * (3/4)^60, about 1e-7).
      const t = await http(clientNs, `http://${clusterIP.web}/`, 60);
      expect(t.errors).toEqual({});
      expect(Object.keys(t.answers).sort()).toEqual(names);
      // Pod to ClusterIP is not masqueraded: the backend sees the pod's own address.
      const clientIP = (await c.kubectlOk(['get', 'pod', 'client', '-o', 'jsonpath={.status.podIP}'])).trim();
      expect(t.sources).toEqual([clientIP]);
    });

    it('the nodes have a router on the node network: a node\'s own processes reach a ClusterIP, a pod\'s way out fails at once', async () => {
      // Without a route for the ClusterIP the kernel refuses to send before any DNAT.
      const route = await c.execInNode(NODE1, ['ip', 'route', 'show', 'default']);
      expect(route.stdout).toMatch(new RegExp(`^default via 192\\.168\\.${net}\\.1 `));
      const t = await http(c.nodeNs(NODE1), `http://${clusterIP.web}/`, 8);
      expect(t.errors).toEqual({});
      expect(t.requests).toBe(8);
      // The router has nowhere to send the world's addresses and says so (ICMP unreachable
      // back to the pod), as the node itself did before it had a default route.
      const out = await http(clientNs, 'http://192.0.2.1/', 1, 5000);
      expect(Object.keys(out.errors)).toEqual([expect.stringMatching(/^E(NET|HOST)UNREACH$/)]);
    });

    it('NodePort answers an external client on both nodes, from endpoints on both nodes', async () => {
      const names = (await pods('app=web')).map((p) => p.metadata.name).sort();
      for (const node of [NODE0, NODE1]) {
        // Through either node every endpoint answers, its own and the other node's.
        expect(await collect(ext.ns, `http://${nodeIP[node]}:${nodePort.web}/`, names), node).toEqual(names);
        // externalTrafficPolicy Cluster masquerades: the backend sees a node, not the client.
        const t = await http(ext.ns, `http://${nodeIP[node]}:${nodePort.web}/`, 8);
        expect(t.errors).toEqual({});
        expect(t.sources).not.toContain(ext.ip);
      }
    });

    it('externalTrafficPolicy Local keeps the client\'s source address, a node without a local endpoint drops, healthCheckNodePort tells them apart', async () => {
      const [local] = await pods('app=local');
      expect(local?.spec.nodeName).toBe(NODE0);
      await caughtUp('local', 'tcp', 8080, [NODE0]);
      await serviceKnown(NODE1, 'local');
      const t = await http(ext.ns, `http://${nodeIP[NODE0]}:${nodePort.local}/`, 5);
      expect(t.errors).toEqual({});
      expect(t.answers).toEqual({ [local!.metadata.name]: 5 });
      expect(t.sources).toEqual([ext.ip]);
      // Dropped, not refused: the connection times out.
      const dropped = await http(ext.ns, `http://${nodeIP[NODE1]}:${nodePort.local}/`, 2, 1000);
      expect(dropped.errors).toEqual({ ETIMEDOUT: 2 });
      // Pods still reach it through either node: the policy is for external traffic only.
      const inside = await http(clientNs, `http://${clusterIP.local}/`, 3);
      expect(inside.answers).toEqual({ [local!.metadata.name]: 3 });
      // A load balancer learns which nodes to use from healthCheckNodePort, as kube-proxy serves it.
      for (const [node, code, count] of [[NODE0, 200, 1], [NODE1, 503, 0]] as const) {
        const r = await runCommand('ip', ['netns', 'exec', ext.ns, 'curl', '-s', '-i', '-m', '5', `http://${nodeIP[node]}:${healthCheckNodePort.local}/`]);
        expect(r.stdout, node).toMatch(new RegExp(`^HTTP/1\\.1 ${code} `));
        const body = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { service: unknown; localEndpoints: number };
        expect(body.service).toEqual({ namespace: 'default', name: 'local' });
        expect(body.localEndpoints).toBe(count);
      }
    });

    it('sessionAffinity ClientIP sticks to one endpoint', async () => {
      await caughtUp('sticky', 'tcp', 8080, [CLIENT_NODE]);
      const t = await http(clientNs, `http://${clusterIP.sticky}/`, 15);
      expect(t.errors).toEqual({});
      expect(Object.values(t.answers)).toEqual([15]);
      // The same backends without affinity spread (the first test): the stickiness is the rule's.
    });

    it('a service without endpoints is refused at once: connection refused, not a timeout', async () => {
      for (const node of [NODE0, NODE1]) await serviceKnown(node, 'empty');
      const fromPod = await http(clientNs, `http://${clusterIP.empty}/`, 2, 5000);
      expect(fromPod.errors).toEqual({ ECONNREFUSED: 2 });
      for (const node of [NODE0, NODE1]) {
        const t = await http(ext.ns, `http://${nodeIP[node]}:${nodePort.empty}/`, 2, 5000);
        expect(t.errors, `NodePort on ${node}`).toEqual({ ECONNREFUSED: 2 });
      }
    });

    it('a UDP service answers, and its stale conntrack entry is gone once the endpoint pod is deleted', async () => {
      await caughtUp('udp', 'udp', 5353);
      const eps = await readyEndpoints('udp');
      expect(eps.map((e) => e.pod).sort()).toEqual(['udp-a', 'udp-b']);
      const first = await waitFor(() => udp(clientNs, clusterIP.udp!, 53), { what: 'a UDP answer', timeoutMs: 20_000 });
      // The same source port is the same conntrack entry: the same backend answers.
      expect(await udp(clientNs, clusterIP.udp!, 53)).toBe(first);
      const gone = eps.find((e) => e.pod === first)!;
      const rest = eps.find((e) => e.pod !== first)!;
      const entries = async () => (await c.execInNode(CLIENT_NODE, ['conntrack', '-L', '-p', 'udp', '--orig-port-src', UDP_SOURCE_PORT])).stdout;
      expect(await entries()).toContain(`src=${gone.ip} `);

      await c.kubectlOk(['delete', 'pod', first, '--wait=true']);
      deletedIPs.push(gone.ip);
      // Asking again and again keeps a stale entry alive forever: only its removal by the
      // proxy lets a datagram from the same port reach the endpoint that is left.
      const after = await waitFor(async () => udp(clientNs, clusterIP.udp!, 53), { what: `a UDP answer from ${rest.pod} after ${first} went`, timeoutMs: 30_000, intervalMs: 200 });
      expect(after).toBe(rest.pod);
      expect(await entries()).not.toContain(`src=${gone.ip} `);
      expect(await entries()).toContain(`src=${rest.ip} `);
    });

    it('deleting an endpoint pod moves its traffic to the rest', async () => {
      const before = await pods('app=web');
      const victim = before.find((p) => p.spec.nodeName === NODE1)!;
      await c.kubectlOk(['delete', 'pod', victim.metadata.name, '--wait=true']);
      deletedIPs.push(victim.status.podIP!);
      // The Deployment makes a replacement; wait for the rules to follow the slice.
      let seen = '';
      await waitFor(async () => {
        const eps = await readyEndpoints('web');
        seen = `${eps.map((e) => e.pod).join(', ')}; pods: ${(await c.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'wide'])).trim()}`;
        return eps.length === 4;
      }, { what: 'web back to 4 ready endpoints', timeoutMs: 30_000 }).catch((err: Error) => {
        throw new Error(`${err.message}; last seen ready: ${seen}\n${c.output().slice(-3000)}`);
      });
      await caughtUp('web', 'tcp', 8080);
      const ready = await readyEndpoints('web');
      const live = ready.map((e) => e.pod).sort();
      expect(live).not.toContain(victim.metadata.name);
      // The replacement got a fresh address (host-local IPAM's round robin), not a deleted pod's.
      const replacement = ready.find((e) => !before.some((p) => p.metadata.name === e.pod))!;
      expect(deletedIPs).not.toContain(replacement.ip);
      const t = await http(clientNs, `http://${clusterIP.web}/`, 30);
      expect(t.errors).toEqual({});
      for (const who of Object.keys(t.answers)) expect(live).toContain(who);
      expect(await collect(clientNs, `http://${clusterIP.web}/`, live)).toEqual(live);
    });

    /**
     * Sends `signal` to node 0's `kubeplane node` (the sandbox starts it again, as a DaemonSet
     * restarts its pod) while an external client's NodePort requests and the client pod's
     * ClusterIP requests flow through node 0's rules; returns their tallies once the new
     * process has synced and more requests went through.
     */
    const restartProxy = async (signal: NodeJS.Signals): Promise<Tally[]> => {
      const ns = c.nodeNs(NODE0);
      const loops = [spawnLoop(ext.ns, `http://${nodeIP[NODE0]}:${nodePort.web}/`), spawnLoop(clientNs, `http://${clusterIP.web}/`)];
      try {
        await Promise.all(loops.map((l) => l.started));
        const [old] = await pidsIn(ns, /cli\/main\.js node /);
        expect(old).toBeGreaterThan(0);
        const killedAt = Date.now() / 1000;
        process.kill(old!, signal);
        await waitFor(async () => {
          const now = await pidsIn(ns, /cli\/main\.js node /);
          return now.length === 1 && now[0] !== old;
        }, { what: `${NODE0}'s kubeplane node restarted`, timeoutMs: 30_000 });
        // The new process has synced once it reports a sync later than the signal.
        await waitFor(async () => {
          const r = await c.execInNode(NODE0, ['curl', '-s', '-m', '2', 'http://127.0.0.1:10249/metrics']);
          const m = /^kubeproxy_sync_proxy_rules_last_timestamp_seconds\{ip_family="IPv4"\} (\S+)/m.exec(r.stdout);
          return m && Number(m[1]) > killedAt;
        }, { what: 'a sync by the restarted proxy', timeoutMs: 30_000 });
        const counted = await Promise.all(loops.map((l) => l.progress()));
        await waitFor(async () => (await Promise.all(loops.map((l) => l.progress()))).every((n, i) => n >= counted[i]! + 5), { what: 'requests after the sync', timeoutMs: 20_000 });
      } finally {
        await Promise.all(loops.map((l) => l.stop()));
      }
      return Promise.all(loops.map((l) => l.result));
    };

    it(`restarting a node's proxy (SIGTERM, as a rollout does) loses no traffic and ${mode === 'nftables' ? 'churns no rules (same handles)' : 'programs the same rules'}`, async () => {
      await caughtUp('web', 'tcp', 8080);
      const before = normalizeRules(mode, await rules(NODE0), true);
      for (const t of await restartProxy('SIGTERM')) {
        expect(t.errors).toEqual({});
        expect(t.requests).toBeGreaterThan(10);
      }
      expect(normalizeRules(mode, await rules(NODE0), true)).toBe(before);
    });

    it('a proxy killed outright (SIGKILL) and restarted loses no traffic and programs the same rules', async () => {
      await caughtUp('web', 'tcp', 8080);
      const before = normalizeRules(mode, await rules(NODE0), false);
      for (const t of await restartProxy('SIGKILL')) {
        expect(t.errors).toEqual({});
        expect(t.requests).toBeGreaterThan(10);
      }
      expect(normalizeRules(mode, await rules(NODE0), false)).toBe(before);
    });
  });
}

/**
 * The rules without what changes on its own (nft affinity timers, iptables counters and
 * timestamps), and without nft's handles unless they are what is compared. iptables lines
 * are compared as a sorted list: partial syncs insert a new service's jumps where they fit
 * (-I/-A) while a full sync writes them in its own order, and the order of KUBE-SERVICES'
 * per-IP jumps does not change where a packet goes (the traffic checks cover that).
 */
function normalizeRules(mode: ProxyMode, text: string, handles: boolean): string {
  if (mode === 'nftables') {
    const t = text.replace(/ expires [0-9hms.]+/g, '');
    return handles ? t : t.replace(/ # handle \d+/g, '');
  }
  let table = '';
  const lines: string[] = [];
  for (const l of text.split('\n')) {
    if (l.startsWith('#') || !l) continue;
    if (l.startsWith('*')) table = l;
    lines.push(`${table} ${l.replace(/ \[\d+:\d+\]$/, '')}`);
  }
  return lines.sort().join('\n');
}

interface Loop {
  started: Promise<void>;
  /** requests made so far */
  progress(): Promise<number>;
  stop(): Promise<void>;
  result: Promise<Tally>;
}

/** proxy-client http-loop in a namespace: runs until stop(), then yields its tally. */
function spawnLoop(ns: string, url: string): Loop {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLIENT, 'http-loop', url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((res) => child.once('close', () => res()));
  const count = () => (err.match(/\./g) ?? []).length;
  const started = waitFor(() => err.includes('looping') || child.exitCode !== null, { what: `loop in ${ns}`, timeoutMs: 20_000 }).then(() => {
    if (child.exitCode !== null) throw new Error(`loop in ${ns} exited: ${err}`);
  });
  const result = exited.then(() => {
    try {
      return JSON.parse(out) as Tally;
    } catch {
      throw new Error(`loop in ${ns} printed no tally: ${out}${err}`);
    }
  });
  // Awaited by the test when it gets that far; a failure before must not go unhandled.
  started.catch(() => undefined);
  result.catch(() => undefined);
  return {
    started,
    progress: async () => count(),
    async stop() {
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
    result,
  };
}
