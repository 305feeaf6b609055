// The real kubectl renders our Table responses: a loopback HTTP server answers discovery
// (src/apiserver/discovery.ts) and lists as Tables (src/apiserver/table.ts), filtered with our
// label and field selectors, and the test reads what kubectl prints.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resourceFor } from '../../../src/api/resources.js';
import { SelectorError, checkFieldSelector, fieldsForObject, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../../src/api/selectors.js';
import type { KubeObject } from '../../../src/api/types.js';
import { aggregatedDiscovery, apiGroupList, apiVersions, discoveryContentType, negotiateDiscovery } from '../../../src/apiserver/discovery.js';
import { toTable } from '../../../src/apiserver/table.js';
import { applyDefaults } from '../../../src/api/defaults.js';
import { invalidStatus, validateObject } from '../../../src/api/validation/index.js';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand } from '../../helpers/cli.js';

const TWO_DAYS_AGO = new Date(Date.now() - 2 * 86400_000 - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

const meta = (name: string, namespace?: string, extra: Record<string, unknown> = {}) => ({ name, ...(namespace ? { namespace } : {}), resourceVersion: '30', creationTimestamp: TWO_DAYS_AGO, ...extra });
const objects: Record<string, KubeObject[]> = {
  nodes: [{ apiVersion: 'v1', kind: 'Node', metadata: meta('node-a', undefined, { labels: { 'node-role.kubernetes.io/control-plane': '' } }), status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], nodeInfo: { kubeletVersion: 'v1.32.4', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.7.0' } } } as KubeObject],
  secrets: [{ apiVersion: 'v1', kind: 'Secret', metadata: meta('tls', 'default'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==', 'tls.key': 'Yg==' } } as KubeObject],
  configmaps: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('cfg', 'default'), data: { a: '1', b: '2', c: '3' } } as KubeObject],
  serviceaccounts: [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('default', 'default') } as KubeObject],
  endpoints: [{ apiVersion: 'v1', kind: 'Endpoints', metadata: meta('web', 'default'), subsets: [{ addresses: [{ ip: '10.244.1.7' }], ports: [{ port: 8080 }] }] } as KubeObject],
  events: [{ apiVersion: 'v1', kind: 'Event', metadata: meta('web-1.abc', 'default'), involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default' }, reason: 'Scheduled', message: 'Successfully assigned default/web-1 to node-a', type: 'Normal', source: { component: 'default-scheduler' }, firstTimestamp: TWO_DAYS_AGO, lastTimestamp: TWO_DAYS_AGO, count: 1 } as KubeObject],
  leases: [{ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: meta('node-a', 'default'), spec: { holderIdentity: 'node-a', leaseDurationSeconds: 40 } } as KubeObject],
  ingressclasses: [{ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: meta('kubeplane'), spec: { controller: 'kubeplane.io/ingress' } } as KubeObject],
  replicasets: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta('web-5d9c', 'default'), spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } } }, status: { replicas: 3, readyReplicas: 2 } } as KubeObject],
  daemonsets: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('kubeplane', 'default'), spec: { selector: { matchLabels: { app: 'kp' } }, template: { metadata: { labels: { app: 'kp' } }, spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'node', image: 'kubeplane:dev' }] } } }, status: { desiredNumberScheduled: 1, currentNumberScheduled: 1, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 1 } } as KubeObject],
  namespaces: [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', resourceVersion: '2', creationTimestamp: TWO_DAYS_AGO }, status: { phase: 'Active' } } as KubeObject,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'old', resourceVersion: '3', creationTimestamp: TWO_DAYS_AGO, deletionTimestamp: TWO_DAYS_AGO }, status: { phase: 'Terminating' } } as KubeObject,
  ],
  endpointslices: [
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-x7k2p', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' }, resourceVersion: '15', creationTimestamp: TWO_DAYS_AGO }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: ['10.244.1.7'] }, { addresses: ['10.244.2.9'] }] } as KubeObject,
  ],
  ingresses: [
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default', resourceVersion: '16', creationTimestamp: TWO_DAYS_AGO }, spec: { ingressClassName: 'kubeplane', tls: [{ hosts: ['web.example.com'] }], rules: [{ host: 'web.example.com' }, { host: 'api.example.com' }] }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.20' }] } } } as KubeObject,
  ],
  deployments: [
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', resourceVersion: '17', creationTimestamp: TWO_DAYS_AGO }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } } }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } } as KubeObject,
  ],
  services: [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, resourceVersion: '11', creationTimestamp: TWO_DAYS_AGO }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5'], ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: 'web' } } } as KubeObject,
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'edge', namespace: 'infra', labels: { app: 'edge', tier: 'lb' }, resourceVersion: '12', creationTimestamp: TWO_DAYS_AGO }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.9', clusterIPs: ['10.96.0.9'], ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } } as KubeObject,
  ],
  pods: [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' }, resourceVersion: '13', creationTimestamp: TWO_DAYS_AGO }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'nginx' }] }, status: { phase: 'Running', podIPs: [{ ip: '10.244.1.7' }], containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }] } } as KubeObject,
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-2', namespace: 'default', labels: { app: 'web' }, resourceVersion: '14', creationTimestamp: TWO_DAYS_AGO }, spec: { containers: [{ name: 'c', image: 'nginx' }] }, status: { phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] } } as KubeObject,
  ],
};

function send(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  res.writeHead(code, { 'Content-Type': contentType });
  res.end(JSON.stringify(body));
}

/** POST: defaulting and validation as the server will run them; 422 with our Status, else 201. */
function create(req: IncomingMessage, res: ServerResponse, namespace: string, resource: string): void {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    const info = resourceFor('', resource)!;
    const o = JSON.parse(body) as KubeObject;
    o.metadata = { ...o.metadata, namespace };
    applyDefaults(info, o);
    const errs = validateObject(info, o, undefined, { beforeAllocation: true });
    if (errs.length > 0) return send(res, 422, invalidStatus(info.kind, o.metadata.name ?? '', errs));
    send(res, 201, o);
  });
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const accept = req.headers.accept;
  if (url.pathname === '/version') return send(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.4', platform: 'linux/amd64' });
  if (url.pathname === '/api' || url.pathname === '/apis') {
    const format = negotiateDiscovery(accept);
    const root = url.pathname === '/api' ? 'api' : 'apis';
    const body = format === 'legacy' ? (root === 'api' ? apiVersions('127.0.0.1') : apiGroupList()) : aggregatedDiscovery(root, format);
    return send(res, 200, body, discoveryContentType(format));
  }
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/v1)(?:\/namespaces\/([^/]+))?\/([a-z]+)$/.exec(url.pathname);
  if (m && req.method === 'POST') return void create(req, res, m[2] ?? 'default', m[3]!);
  if (!m) return send(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 });
  const info = resourceFor(m[1] ?? '', m[3]!);
  if (!info || !objects[m[3]!]) return send(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 });
  let items = objects[m[3]!]!.filter((o) => !m[2] || o.metadata.namespace === m[2]);
  try {
    const ls = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
    const fs = checkFieldSelector(info, parseFieldSelector(url.searchParams.get('fieldSelector') ?? ''));
    items = items.filter((o) => matchesLabels(ls, o.metadata.labels) && matchesFields(fs, fieldsForObject(info, o)));
  } catch (e) {
    if (!(e instanceof SelectorError)) throw e;
    return send(res, 400, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: 'BadRequest', code: 400 });
  }
  if (accept?.includes('as=Table')) {
    const includeObject = (url.searchParams.get('includeObject') ?? 'Metadata') as 'None' | 'Metadata' | 'Object';
    return send(res, 200, toTable(info, items, { includeObject }, { resourceVersion: '20' }, new Date()), 'application/json;as=Table;v=v1;g=meta.k8s.io');
  }
  send(res, 200, { kind: info.listKind, apiVersion: info.group ? `${info.group}/${info.version}` : info.version, metadata: { resourceVersion: '20' }, items });
}

describeE2E('kubectl renders kubeplane Tables', { commands: ['kubectl'] }, () => {
  let server: Server;
  let dir: string;
  let kubeconfig: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-table-'));
    server = createServer((req, res) => {
      try {
        handle(req, res);
      } catch (e) {
        send(res, 500, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: String(e), code: 500 });
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: kp\n  cluster:\n    server: http://127.0.0.1:${port}\ncontexts:\n- name: kp\n  context:\n    cluster: kp\n    user: kp\n    namespace: default\ncurrent-context: kp\nusers:\n- name: kp\n  user: {}\n`,
    );
  });

  afterAll(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const kubectl = (...args: string[]) => runCommand('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeoutMs: 30_000 });
  const lines = (out: string) => out.trimEnd().split('\n').map((l) => l.trimEnd().split(/\s{2,}/));

  it('get svc prints the service columns', async () => {
    const r = await kubectl('get', 'svc');
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual([
      ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
      ['web', 'ClusterIP', '10.96.0.5', '<none>', '80/TCP', '2d'],
    ]);
  });

  it('-o wide adds SELECTOR; -A adds NAMESPACE from the row metadata; --show-labels reads it too', async () => {
    const wide = await kubectl('get', 'svc', '-o', 'wide');
    expect(lines(wide.stdout)[0]).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
    expect(lines(wide.stdout)[1]).toEqual(['web', 'ClusterIP', '10.96.0.5', '<none>', '80/TCP', '2d', 'app=web']);
    const all = await kubectl('get', 'svc', '-A', '--show-labels');
    expect(lines(all.stdout)).toEqual([
      ['NAMESPACE', 'NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'LABELS'],
      ['default', 'web', 'ClusterIP', '10.96.0.5', '<none>', '80/TCP', '2d', 'app=web'],
      ['infra', 'edge', 'LoadBalancer', '10.96.0.9', '192.0.2.10', '443:31443/TCP', '2d', 'app=edge,tier=lb'],
    ]);
  });

  it('pods show READY, STATUS and the wide columns', async () => {
    const r = await kubectl('get', 'pods', '-o', 'wide');
    expect(lines(r.stdout)).toEqual([
      ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
      ['web-1', '1/1', 'Running', '0', '2d', '10.244.1.7', 'node-a', '<none>', '<none>'],
      ['web-2', '0/1', 'ContainerCreating', '0', '2d', '<none>', '<none>', '<none>', '<none>'],
    ]);
  });

  it('label and field selectors filter on the server, and a bad field gets upstream text', async () => {
    const bySel = await kubectl('get', 'svc', '-A', '-l', 'tier in (lb),app!=web', '-o', 'name');
    expect(bySel.stdout.trim()).toBe('service/edge');
    const byField = await kubectl('get', 'pods', '--field-selector', 'spec.nodeName=node-a', '-o', 'name');
    expect(byField.stdout.trim()).toBe('pod/web-1');
    const bad = await kubectl('get', 'pods', '--field-selector', 'spec.foo=1');
    expect(bad.code).not.toBe(0);
    // kubectl wraps the server's message with its own prefix, as against kube-apiserver.
    expect(bad.stderr.trim()).toBe(
      'Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", field selector "spec.foo=1": field label not supported: spec.foo',
    );
  });

  it('kubectl prints our 422 Invalid Status as it prints kube-apiserver\'s', async () => {
    const file = join(dir, 'bad.json');
    const svc = (ports: unknown) => JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad' }, spec: { ports } });
    writeFileSync(file, svc([{ port: 80, targetPort: 70000 }]));
    const one = await kubectl('create', '--validate=false', '-f', file);
    expect(one.code).not.toBe(0);
    expect(one.stderr.trim()).toBe('The Service "bad" is invalid: spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive');
    writeFileSync(file, svc([{ port: 80, protocol: 'ICMP' }, { name: 'x', port: 80, protocol: 'ICMP' }]));
    const many = await kubectl('create', '--validate=false', '-f', file);
    expect(many.stderr.trim()).toBe(
      [
        'The Service "bad" is invalid: ',
        '* spec.ports[0].name: Required value',
        '* spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        '* spec.ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        '* spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"ICMP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
      ].join('\n'),
    );
  });

  it('namespaces, endpointslices, ingresses and deployments print their upstream columns', async () => {
    expect(lines((await kubectl('get', 'ns')).stdout)).toEqual([
      ['NAME', 'STATUS', 'AGE'],
      ['default', 'Active', '2d'],
      ['old', 'Terminating', '2d'],
    ]);
    expect(lines((await kubectl('get', 'endpointslices')).stdout)).toEqual([
      ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'],
      ['web-x7k2p', 'IPv4', '8080', '10.244.1.7,10.244.2.9', '2d'],
    ]);
    expect(lines((await kubectl('get', 'ing')).stdout)).toEqual([
      ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'],
      ['web', 'kubeplane', 'web.example.com,api.example.com', '192.0.2.20', '80, 443', '2d'],
    ]);
    expect(lines((await kubectl('get', 'deploy', '-o', 'wide')).stdout)).toEqual([
      ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
      ['web', '2/3', '3', '2', '2d', 'nginx', 'nginx:1.25', 'app=web'],
    ]);
  });

  it('the remaining served kinds print their upstream columns', async () => {
    const get = async (...args: string[]) => lines((await kubectl('get', ...args)).stdout);
    expect(await get('nodes', '-o', 'wide')).toEqual([
      ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
      ['node-a', 'Ready', 'control-plane', '2d', 'v1.32.4', '10.0.0.1', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0', 'containerd://1.7.0'],
    ]);
    expect(await get('secrets')).toEqual([['NAME', 'TYPE', 'DATA', 'AGE'], ['tls', 'kubernetes.io/tls', '2', '2d']]);
    expect(await get('cm')).toEqual([['NAME', 'DATA', 'AGE'], ['cfg', '3', '2d']]);
    expect(await get('sa')).toEqual([['NAME', 'SECRETS', 'AGE'], ['default', '0', '2d']]);
    expect(await get('ep')).toEqual([['NAME', 'ENDPOINTS', 'AGE'], ['web', '10.244.1.7:8080', '2d']]);
    expect(await get('events')).toEqual([
      ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
      ['2d', 'Normal', 'Scheduled', 'pod/web-1', 'Successfully assigned default/web-1 to node-a'],
    ]);
    expect(await get('leases')).toEqual([['NAME', 'HOLDER', 'AGE'], ['node-a', 'node-a', '2d']]);
    expect(await get('ingressclass')).toEqual([['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE'], ['kubeplane', 'kubeplane.io/ingress', '<none>', '2d']]);
    expect(await get('rs', '-o', 'wide')).toEqual([
      ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
      ['web-5d9c', '3', '3', '2', '2d', 'nginx', 'nginx:1.25', 'app=web'],
    ]);
    expect(await get('ds')).toEqual([
      ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'],
      ['kubeplane', '1', '1', '1', '1', '1', 'kubernetes.io/os=linux', '2d'],
    ]);
  });
});
