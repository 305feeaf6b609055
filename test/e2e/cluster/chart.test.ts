// charts/kubeplane running for real: the rendered chart applied to a 2-node `kubeplane up
// --pods=netns` whose nodes run no data plane of their own, so the DaemonSet's hostNetwork pods
// are what serves traffic. There are no images: `--image-command` maps the chart's image to
// the local build (entrypoint `kubeplane`, as the Dockerfile's ENTRYPOINT), and the sandbox
// gives each container what the kubelet would: in-cluster API env, the projected service
// account token, the downward API env and the ConfigMap volume. Then a Deployment's pods are
// reached through a ClusterIP from a pod on the other node, the Service's name resolves through
// the chart's kube-dns Service, and an Ingress route answers on the node's port 80.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildHelmRender, renderChart } from '../../helpers/chart.js';
import { kubeplaneBin, waitFor } from '../../helpers/cli.js';
import { describeE2E } from '../../helpers/e2e.js';
import { NETNS_CLUSTER_NEEDS, startNetnsCluster, type NetnsCluster } from '../../helpers/netns-up.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const SERVER = fileURLToPath(new URL('./web-server.mjs', import.meta.url));
const IMAGE = 'ghcr.io/kubeplane/kubeplane';
const NODE0 = 'kubeplane-node-0';
const NODE1 = 'kubeplane-node-1';

describeE2E('charts/kubeplane DaemonSet serving a netns cluster', { ...NETNS_CLUSTER_NEEDS, commands: [...(NETNS_CLUSTER_NEEDS.commands ?? []), 'go', 'dig'] }, () => {
  let c: NetnsCluster;
  let cleanupBin = () => {};
  let rendered: ReturnType<typeof renderChart>;

  const podJSON = async (name: string, namespace = 'default'): Promise<Obj> => JSON.parse(await c.kubectlOk(['get', 'pod', name, '-n', namespace, '-o', 'json'])) as Obj;
  const isReady = (p: Obj) => p.status?.phase === 'Running' && (p.status?.conditions as Obj[] | undefined)?.some((x) => x.type === 'Ready' && x.status === 'True');
  /** on failure, what the chart's pods wrote: the reason is nearly always there */
  const chartLogs = async () => {
    const list = JSON.parse(await c.kubectlOk(['get', 'pods', '-n', 'kube-system', '-l', 'app.kubernetes.io/name=kubeplane', '-o', 'json'])) as Obj;
    return (list.items as Obj[]).map((p) => `--- ${p.metadata.name} ${JSON.stringify(p.status?.containerStatuses)}\n${c.podLog(p.metadata.name, 'kubeplane', 'kube-system').slice(-3000)}`).join('\n');
  };

  beforeAll(async () => {
    let bin: string;
    ({ bin, cleanup: cleanupBin } = buildHelmRender());
    // The chart's values as shipped, but for DNS forwarding: the rule here is that no query
    // leaves the machine, so names outside the cluster go to a loopback port with nothing on it.
    // A 1 s grace period keeps the teardown short.
    rendered = renderChart(bin, { dns: { upstreams: ['127.0.0.1:9'] }, terminationGracePeriodSeconds: 1 });
    c = await startNetnsCluster({ nodes: 2, tag: 'kpchrt', dataPlane: false, net: 102, args: ['--image-command', `${IMAGE}=${process.execPath} ${kubeplaneBin}`] });
  }, 120_000);

  afterAll(async () => {
    try {
      await c?.stop();
    } finally {
      cleanupBin();
    }
  }, 60_000);

  it('the DaemonSet gets one Ready pod per node, running kubeplane node in-cluster (probes pass)', async () => {
    const ds = rendered.objects.find((o) => o.kind === 'DaemonSet')!;
    expect(ds.spec.template.spec.containers[0].image).toMatch(new RegExp(`^${IMAGE}:`));
    expect(ds.spec.template.spec.containers[0].command).toBeUndefined(); // the image's ENTRYPOINT runs
    // the node's resolver: the cluster's would make `forward . /etc/resolv.conf` a loop
    expect(ds.spec.template.spec.dnsPolicy).toBe('Default');
    await c.kubectlOk(['apply', '-f', '-'], { input: rendered.text });
    const name = ds.metadata.name as string;
    try {
      await waitFor(
        async () => {
          const s = JSON.parse(await c.kubectlOk(['get', 'daemonset', name, '-n', 'kube-system', '-o', 'json'])) as Obj;
          return s.status?.desiredNumberScheduled === 2 && s.status?.numberReady === 2;
        },
        { what: 'DaemonSet Ready on both nodes', timeoutMs: 60_000, intervalMs: 500 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await chartLogs()}\n${c.output().slice(-3000)}`);
    }
    const list = JSON.parse(await c.kubectlOk(['get', 'pods', '-n', 'kube-system', '-l', 'app.kubernetes.io/name=kubeplane', '-o', 'json'])) as Obj;
    const pods = list.items as Obj[];
    expect(pods.map((p) => p.spec.nodeName).sort()).toEqual([NODE0, NODE1]);
    for (const p of pods) {
      // hostNetwork: the pod is the node's address, its processes in the node's namespace
      expect(p.status.podIP).toBe(p.status.hostIP);
      expect(p.status.containerStatuses[0].containerID).toMatch(new RegExp(`^netns://${c.nodeNs(p.spec.nodeName)}/kubeplane/`));
      if (p.status.containerStatuses[0].restartCount !== 0) throw new Error(`restarted: ${await chartLogs()}`);
      // in-cluster mode against the API server, the node name from the downward API
      const log = c.podLog(p.metadata.name, 'kubeplane', 'kube-system');
      expect(log).not.toMatch(/unable to load in-cluster|Unauthorized|forbidden/i);
    }
    // The ServiceAccount token the pods use is the chart's: its RBAC is what they run with.
    const sa = rendered.objects.find((o) => o.kind === 'ServiceAccount')!.metadata.name as string;
    expect(pods.every((p) => p.spec.serviceAccountName === sa)).toBe(true);
  }, 90_000);

  it('a ClusterIP reaches a pod on the other node, its name resolves through kube-dns, an Ingress route answers', async () => {
    const web = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            nodeSelector: { 'kubernetes.io/hostname': NODE0 },
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'web',
                image: 'none',
                command: [process.execPath, SERVER],
                env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
                ports: [{ containerPort: 8080 }],
                readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    };
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } };
    const client = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'client' },
      spec: { nodeName: NODE1, terminationGracePeriodSeconds: 1, containers: [{ name: 'sleep', image: 'none', command: ['sleep', '3600'] }] },
    };
    const className = rendered.objects.find((o) => o.kind === 'IngressClass')!.metadata.name as string;
    const ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web' },
      spec: { ingressClassName: className, rules: [{ host: 'web.example.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    };
    for (const o of [web, svc, client, ingress]) await c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(o) });
    await waitFor(async () => isReady(await podJSON('client')), { what: 'client pod Ready', timeoutMs: 30_000 });
    const webPod = await waitFor(
      async () => {
        const l = JSON.parse(await c.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'json'])) as Obj;
        return (l.items as Obj[]).find((p) => isReady(p));
      },
      { what: 'web pod Ready', timeoutMs: 30_000 },
    );
    const webName = webPod.metadata.name as string;
    expect(webPod.spec.nodeName).toBe(NODE0);
    const clusterIP = (await c.kubectlOk(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();

    // proxy: from node 1's pod, through the ClusterIP, to the pod on node 0
    const viaClusterIP = await waitFor(
      async () => {
        const r = await c.execInPod('client', ['curl', '-sS', '--max-time', '2', `http://${clusterIP}/`]);
        return r.code === 0 ? r.stdout.trim() : undefined;
      },
      { what: `curl http://${clusterIP}/ from the client pod`, timeoutMs: 30_000 },
    );
    expect(viaClusterIP).toBe(webName);

    // DNS: the pod's resolver is the node's kubeplane; the chart's kube-dns Service answers too
    const dnsIP = (await c.kubectlOk(['get', 'svc', 'kube-dns', '-n', 'kube-system', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    expect(dnsIP).toBe('10.96.0.10');
    for (const server of [[], [`@${dnsIP}`]]) {
      const answer = await waitFor(
        async () => {
          const r = await c.execInPod('client', ['dig', '+short', '+time=2', '+tries=1', ...server, 'web.default.svc.cluster.local', 'A']);
          return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
        },
        { what: `dig ${server.join('')} web.default.svc.cluster.local`, timeoutMs: 20_000 },
      );
      expect(answer).toBe(clusterIP);
    }
    const byName = await c.execInPod('client', ['curl', '-sS', '--max-time', '2', 'http://web/']);
    expect(byName.stdout.trim()).toBe(webName);

    // ingress: node 0's port 80, by Host, from the pod on node 1
    const node0IP = (await c.kubectlOk(['get', 'node', NODE0, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}'])).trim();
    let last = '';
    const viaIngress = await waitFor(
      async () => {
        const r = await c.execInPod('client', ['curl', '-sS', '--max-time', '2', '-H', 'Host: web.example.test', `http://${node0IP}/`]);
        last = `${r.code} ${r.stdout} ${r.stderr}`;
        return r.code === 0 && r.stdout.trim() === webName ? r.stdout.trim() : undefined;
      },
      { what: 'the Ingress route answering on node 0', timeoutMs: 30_000 },
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}: last answer ${last}\n${await chartLogs()}`);
    });
    expect(viaIngress).toBe(webName);
    const unknownHost = await c.execInPod('client', ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', '-H', 'Host: nope.example.test', `http://${node0IP}/`]);
    expect(unknownHost.stdout).toBe('404');
  }, 120_000);
  it('the sandbox as a kubelet: image command, downward API env, ConfigMap volume, ServiceAccount token', async () => {
    const sa = rendered.objects.find((o) => o.kind === 'ServiceAccount')!.metadata.name as string;
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe-files', namespace: 'kube-system' }, data: { 'a.conf': 'alpha\n', 'b.conf': 'beta\n' } };
    const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
    const script = [
      'echo "env $NODE_NAME $HOST_IP $POD_NS $POD_NAME $POD_IP $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"',
      'echo "files $(cat /etc/probe/a.conf) $(cat /etc/probe/renamed/b) $(ls /etc/probe | tr "\\n" " ")"',
      `echo "ns $(cat ${SA_DIR}/namespace)"`,
      // the token, checked against the CA, authorizes what the chart's ClusterRole allows
      `echo "api $(curl -s -o /dev/null -w '%{http_code}' --cacert ${SA_DIR}/ca.crt -H "Authorization: Bearer $(cat ${SA_DIR}/token)" https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/kube-system/pods?limit=1)"`,
      `echo "denied $(curl -s -o /dev/null -w '%{http_code}' --cacert ${SA_DIR}/ca.crt -H "Authorization: Bearer $(cat ${SA_DIR}/token)" https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/kube-system/configmaps)"`,
      `touch ${SA_DIR}/x 2>/dev/null && echo writable || echo read-only`,
    ].join('; ');
    const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'kubelet-check', namespace: 'kube-system' },
      spec: {
        nodeName: NODE1,
        hostNetwork: true,
        restartPolicy: 'Never',
        serviceAccountName: sa,
        containers: [
          {
            name: 'check',
            image: 'none',
            command: ['/bin/sh', '-c', script],
            env: [fieldEnv('NODE_NAME', 'spec.nodeName'), fieldEnv('HOST_IP', 'status.hostIP'), fieldEnv('POD_NS', 'metadata.namespace'), fieldEnv('POD_NAME', 'metadata.name'), fieldEnv('POD_IP', 'status.podIP')],
            volumeMounts: [{ name: 'files', mountPath: '/etc/probe' }],
          },
          // the chart's image without a command: the mapped ENTRYPOINT with the container's args
          { name: 'image', image: `${IMAGE}:any-tag`, args: ['node', '--help'] },
        ],
        volumes: [{ name: 'files', configMap: { name: 'probe-files', items: [{ key: 'a.conf', path: 'a.conf' }, { key: 'b.conf', path: 'renamed/b' }] } }],
      },
    };
    await c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(cm) });
    await c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    const done = await waitFor(
      async () => {
        const p = await podJSON('kubelet-check', 'kube-system');
        return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
      },
      { what: 'kubelet-check pod finished', timeoutMs: 30_000 },
    );
    const out = c.podLog('kubelet-check', 'check', 'kube-system');
    expect(done.status.phase, out + c.podLog('kubelet-check', 'image', 'kube-system')).toBe('Succeeded');
    const node1IP = (await c.kubectlOk(['get', 'node', NODE1, '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}'])).trim();
    const apiPort = new URL(/server: (\S+)/.exec(readFileSync(c.kubeconfig, 'utf8'))![1]!).port;
    expect(out).toContain(`env ${NODE1} ${node1IP} kube-system kubelet-check ${node1IP} 127.0.0.1:${apiPort}\n`);
    expect(out).toContain('files alpha beta a.conf renamed \n');
    expect(out).toContain('ns kube-system\n');
    expect(out).toContain('api 200\n');
    expect(out).toContain('denied 403\n');
    expect(out).toContain('read-only\n');
    expect(c.podLog('kubelet-check', 'image', 'kube-system')).toMatch(/Usage:\s+kubeplane node/);
  }, 60_000);
});
