import { describe, expect, it } from 'vitest';
import { resourceFor } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { formatLabels, humanDuration, tableColumns, toTable } from '../../../src/apiserver/table.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const info = (group: string, resource: string) => resourceFor(group, resource)!;
const cells = (group: string, resource: string, o: unknown) => toTable(info(group, resource), [o as KubeObject], {}, {}, NOW).rows[0]!.cells;
const header = (group: string, resource: string) => tableColumns(info(group, resource)).map((c) => (c.priority > 0 ? `(${c.name})` : c.name)).join(' ');

describe('humanDuration', () => {
  const cases: [number, string][] = [
    [-5, '<invalid>'],
    [-1, '0s'],
    [0, '0s'],
    [5, '5s'],
    [119, '119s'],
    [120, '2m'],
    [182, '3m2s'],
    [599, '9m59s'],
    [600, '10m'],
    [179 * 60, '179m'],
    [3 * 3600, '3h'],
    [5 * 3600 + 3 * 60, '5h3m'],
    [8 * 3600, '8h'],
    [47 * 3600, '47h'],
    [2 * 86400, '2d'],
    [3 * 86400 + 5 * 3600, '3d5h'],
    [8 * 86400, '8d'],
    [400 * 86400, '400d'],
    [2 * 365 * 86400, '2y'],
    [(3 * 365 + 12) * 86400, '3y12d'],
    [9 * 365 * 86400, '9y'],
  ];
  it.each(cases)('%ss → %s', (s, want) => expect(humanDuration(s * 1000)).toBe(want));
});

describe('columns match kube-apiserver printers', () => {
  it.each([
    ['', 'namespaces', 'Name Status Age'],
    ['', 'services', 'Name Type Cluster-IP External-IP Port(s) Age (Selector)'],
    ['', 'pods', 'Name Ready Status Restarts Age (IP) (Node) (Nominated Node) (Readiness Gates)'],
    ['', 'endpoints', 'Name Endpoints Age'],
    ['', 'nodes', 'Name Status Roles Age Version (Internal-IP) (External-IP) (OS-Image) (Kernel-Version) (Container-Runtime)'],
    ['', 'secrets', 'Name Type Data Age'],
    ['', 'configmaps', 'Name Data Age'],
    ['', 'serviceaccounts', 'Name Secrets Age'],
    ['', 'events', 'Last Seen Type Reason Object (Subobject) (Source) Message (First Seen) (Count) (Name)'],
    ['discovery.k8s.io', 'endpointslices', 'Name AddressType Ports Endpoints Age'],
    ['networking.k8s.io', 'ingresses', 'Name Class Hosts Address Ports Age'],
    ['networking.k8s.io', 'ingressclasses', 'Name Controller Parameters Age'],
    ['coordination.k8s.io', 'leases', 'Name Holder Age'],
    ['apps', 'deployments', 'Name Ready Up-to-date Available Age (Containers) (Images) (Selector)'],
    ['apps', 'replicasets', 'Name Desired Current Ready Age (Containers) (Images) (Selector)'],
    ['apps', 'daemonsets', 'Name Desired Current Ready Up-to-date Available Node Selector Age (Containers) (Images) (Selector)'],
  ])('%s/%s', (g, r, want) => expect(header(g, r)).toBe(want));

  it('marks the name column format name', () => {
    const cols = tableColumns(info('', 'services'));
    expect(cols[0]).toMatchObject({ name: 'Name', type: 'string', format: 'name', priority: 0 });
    expect(cols[6]).toMatchObject({ name: 'Selector', priority: 1 });
  });
});

describe('Table shape', () => {
  const svc = { metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, resourceVersion: '7', creationTimestamp: ago(30) }, spec: { type: 'ClusterIP', clusterIPs: ['10.96.0.5'], ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'web' } } } as unknown as KubeObject;
  it('carries list metadata, columns and PartialObjectMetadata rows by default', () => {
    const t = toTable(info('', 'services'), [svc], {}, { resourceVersion: '42', continue: 'abc', remainingItemCount: 3 }, NOW);
    expect(Object.keys(t)).toEqual(['kind', 'apiVersion', 'metadata', 'columnDefinitions', 'rows']);
    expect(t.kind).toBe('Table');
    expect(t.apiVersion).toBe('meta.k8s.io/v1');
    expect(t.metadata).toEqual({ resourceVersion: '42', continue: 'abc', remainingItemCount: 3 });
    expect(t.rows[0]!.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: svc.metadata });
  });
  it('honours includeObject and noHeaders', () => {
    expect(toTable(info('', 'services'), [svc], { includeObject: 'Object' }, {}, NOW).rows[0]!.object).toBe(svc);
    expect('object' in toTable(info('', 'services'), [svc], { includeObject: 'None' }, {}, NOW).rows[0]!).toBe(false);
    const t = toTable(info('', 'services'), [svc], { noHeaders: true }, {}, NOW);
    expect(t.columnDefinitions).toBeUndefined();
    expect(t.metadata).toEqual({});
  });
});

describe('service cells', () => {
  const base = { metadata: { name: 'web', creationTimestamp: ago(182) } };
  it.each([
    ['ClusterIP', { type: 'ClusterIP', clusterIPs: ['10.96.0.5'], ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { app: 'web', tier: 'fe' } }, {}, ['web', 'ClusterIP', '10.96.0.5', '<none>', '80/TCP,53/UDP', '3m2s', 'app=web,tier=fe']],
    ['headless', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'] }, {}, ['web', 'ClusterIP', 'None', '<none>', '<none>', '3m2s', '<none>']],
    ['NodePort', { type: 'NodePort', clusterIPs: ['10.96.0.6'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }], externalIPs: ['192.0.2.1'] }, {}, ['web', 'NodePort', '10.96.0.6', '192.0.2.1', '80:30080/TCP', '3m2s', '<none>']],
    ['LB pending', { type: 'LoadBalancer', clusterIPs: ['10.96.0.7'], ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] }, {}, ['web', 'LoadBalancer', '10.96.0.7', '<pending>', '443:31443/TCP', '3m2s', '<none>']],
    ['LB with address', { type: 'LoadBalancer', clusterIPs: ['10.96.0.7'], ports: [] }, { loadBalancer: { ingress: [{ ip: '203.0.113.9' }, { hostname: 'lb.example.com' }] } }, ['web', 'LoadBalancer', '10.96.0.7', '203.0.113.9,lb.example.com', '<none>', '3m2s', '<none>']],
    ['ExternalName', { type: 'ExternalName', externalName: 'db.example.com' }, {}, ['web', 'ExternalName', '<none>', 'db.example.com', '<none>', '3m2s', '<none>']],
  ])('%s', (_w, spec, status, want) => expect(cells('', 'services', { ...base, spec, status })).toEqual(want));
});

describe('pod cells', () => {
  const pod = (spec: unknown, status: unknown, meta: Record<string, unknown> = {}) => ({ metadata: { name: 'p', creationTimestamp: ago(3600), ...meta }, spec, status });
  const one = { containers: [{ name: 'c', image: 'nginx' }] };
  const two = { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }], nodeName: 'node-1' };
  it.each([
    ['pending, no status', one, { phase: 'Pending' }, {}, ['p', '0/1', 'Pending', '0', '60m', '<none>', '<none>', '<none>', '<none>']],
    ['ContainerCreating', one, { phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }, {}, ['p', '0/1', 'ContainerCreating', '0', '60m', '<none>', '<none>', '<none>', '<none>']],
    [
      'running with restarts',
      two,
      {
        phase: 'Running',
        podIPs: [{ ip: '10.244.0.5' }],
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: ago(65) } } },
          { name: 'b', ready: false, restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(300) } } },
        ],
      },
      {},
      ['p', '1/2', 'CrashLoopBackOff', '3 (65s ago)', '60m', '10.244.0.5', 'node-1', '<none>', '<none>'],
    ],
    ['Completed', one, { phase: 'Succeeded', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }, {}, ['p', '0/1', 'Completed', '0', '60m', '<none>', '<none>', '<none>', '<none>']],
    ['exit code without reason', one, { phase: 'Failed', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { terminated: { exitCode: 137 } } }] }, {}, ['p', '0/1', 'ExitCode:137', '0', '60m', '<none>', '<none>', '<none>', '<none>']],
    ['Terminating', one, { phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }] }, { deletionTimestamp: ago(0) }, ['p', '1/1', 'Terminating', '0', '60m', '<none>', '<none>', '<none>', '<none>']],
    ['NodeLost', one, { phase: 'Running', reason: 'NodeLost' }, { deletionTimestamp: ago(0) }, ['p', '0/1', 'Unknown', '0', '60m', '<none>', '<none>', '<none>', '<none>']],
    [
      'init container running',
      { ...one, initContainers: [{ name: 'i1', image: 'x' }, { name: 'i2', image: 'x' }] },
      { phase: 'Pending', initContainerStatuses: [{ name: 'i1', ready: true, restartCount: 0, state: { terminated: { exitCode: 0 } } }, { name: 'i2', ready: false, restartCount: 0, state: { running: {} } }] },
      {},
      ['p', '0/1', 'Init:1/2', '0', '60m', '<none>', '<none>', '<none>', '<none>'],
    ],
    [
      'init container failed',
      { ...one, initContainers: [{ name: 'i1', image: 'x' }] },
      { phase: 'Pending', initContainerStatuses: [{ name: 'i1', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
      {},
      ['p', '0/1', 'Init:CrashLoopBackOff', '3', '60m', '<none>', '<none>', '<none>', '<none>'],
    ],
    [
      'sidecar counts as a container',
      { ...one, initContainers: [{ name: 'side', image: 'x', restartPolicy: 'Always' }] },
      {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [{ name: 'side', ready: true, started: true, restartCount: 0, state: { running: {} } }],
        containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }],
      },
      {},
      ['p', '2/2', 'Running', '0', '60m', '<none>', '<none>', '<none>', '<none>'],
    ],
    [
      'readiness gates and nominated node',
      { ...one, readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/x' }] },
      { phase: 'Pending', nominatedNodeName: 'n2', conditions: [{ type: 'example.com/lb', status: 'True' }] },
      {},
      ['p', '0/1', 'Pending', '0', '60m', '<none>', '<none>', 'n2', '1/2'],
    ],
    ['SchedulingGated', one, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }, {}, ['p', '0/1', 'SchedulingGated', '0', '60m', '<none>', '<none>', '<none>', '<none>']],
  ])('%s', (_w, spec, status, meta, want) => expect(cells('', 'pods', pod(spec, status, meta))).toEqual(want));

  it('marks completed pods with a row condition', () => {
    const t = toTable(info('', 'pods'), [pod(one, { phase: 'Succeeded' }) as unknown as KubeObject], {}, {}, NOW);
    expect(t.rows[0]!.conditions).toEqual([{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  });
});

describe('other kinds', () => {
  const m = (name: string, extra: Record<string, unknown> = {}) => ({ name, creationTimestamp: ago(5), ...extra });
  it('endpointslices', () => {
    expect(cells('discovery.k8s.io', 'endpointslices', { metadata: m('web-abc'), addressType: 'IPv4', endpoints: [], ports: [] })).toEqual(['web-abc', 'IPv4', '<unset>', '<unset>', '5s']);
    expect(
      cells('discovery.k8s.io', 'endpointslices', {
        metadata: m('web-abc'),
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 80 }, { name: 'x' }, { port: 81 }, { port: 82 }],
        endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }, { addresses: ['10.0.0.3'] }, { addresses: ['10.0.0.4'] }, { addresses: ['10.0.0.5'] }],
      }),
    ).toEqual(['web-abc', 'IPv4', '80,x,81 + 1 more...', '10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...', '5s']);
  });
  it('endpoints', () => {
    expect(cells('', 'endpoints', { metadata: m('web') })).toEqual(['web', '<none>', '5s']);
    expect(
      cells('', 'endpoints', { metadata: m('web'), subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }], ports: [{ port: 80 }, { port: 443 }] }] }),
    ).toEqual(['web', '10.0.0.1:80,[fd00::1]:80,10.0.0.1:443 + 1 more...', '5s']);
  });
  it('ingresses', () => {
    expect(cells('networking.k8s.io', 'ingresses', { metadata: m('ing'), spec: { defaultBackend: {} } })).toEqual(['ing', '<none>', '*', '', '80', '5s']);
    expect(
      cells('networking.k8s.io', 'ingresses', {
        metadata: m('ing'),
        spec: { ingressClassName: 'nginx', tls: [{}], rules: [{ host: 'a.com' }, { host: 'b.com' }, {}, { host: 'c.com' }, { host: 'd.com' }] },
        status: { loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } },
      }),
    ).toEqual(['ing', 'nginx', 'a.com,b.com,c.com + 2 more...', '10.0.0.9', '80, 443', '5s']);
  });
  it('ingressclasses, namespaces, secrets, configmaps, leases, serviceaccounts', () => {
    expect(cells('networking.k8s.io', 'ingressclasses', { metadata: m('nginx'), spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'p' } } })).toEqual([
      'nginx',
      'k8s.io/ingress-nginx',
      'IngressParameters.k8s.example.com/p',
      '5s',
    ]);
    expect(cells('', 'namespaces', { metadata: m('default'), status: { phase: 'Active' } })).toEqual(['default', 'Active', '5s']);
    expect(cells('', 'secrets', { metadata: m('s'), type: 'Opaque', data: { a: 'YQ==', b: 'Yg==' } })).toEqual(['s', 'Opaque', 2, '5s']);
    expect(cells('', 'configmaps', { metadata: m('c'), data: { a: '1' }, binaryData: { b: 'AA==' } })).toEqual(['c', 2, '5s']);
    expect(cells('coordination.k8s.io', 'leases', { metadata: m('l'), spec: { holderIdentity: 'node-1' } })).toEqual(['l', 'node-1', '5s']);
    expect(cells('', 'serviceaccounts', { metadata: m('default') })).toEqual(['default', 0, '5s']);
  });
  it('nodes', () => {
    expect(
      cells('', 'nodes', {
        metadata: m('n1', { labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'worker' } }),
        spec: { unschedulable: true },
        status: { conditions: [{ type: 'Ready', status: 'False' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], nodeInfo: { kubeletVersion: 'v1.32.0' } },
      }),
    ).toEqual(['n1', 'NotReady,SchedulingDisabled', 'control-plane,worker', '5s', 'v1.32.0', '10.0.0.1', '<none>', '<unknown>', '<unknown>', '<unknown>']);
    expect(cells('', 'nodes', { metadata: m('n2') })[1]).toBe('Unknown');
  });
  it('events', () => {
    expect(
      cells('', 'events', {
        metadata: m('web.1'),
        involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{c}' },
        reason: 'Pulled',
        message: ' pulled \n',
        type: 'Normal',
        source: { component: 'kubelet', host: 'n1' },
        firstTimestamp: ago(600),
        lastTimestamp: ago(30),
        count: 3,
      }),
    ).toEqual(['30s', 'Normal', 'Pulled', 'pod/web-1', 'spec.containers{c}', 'kubelet, n1', 'pulled', '10m', 3, 'web.1']);
    expect(cells('', 'events', { metadata: m('e'), involvedObject: { kind: 'Node' }, eventTime: ago(5), reportingComponent: 'sched' })).toEqual([
      '5s', '', '', 'node', '', 'sched', '', '5s', 1, 'e',
    ]);
  });
  it('workloads', () => {
    const template = { spec: { containers: [{ name: 'a', image: 'nginx:1' }, { name: 'b', image: 'busybox' }], nodeSelector: { disk: 'ssd' } } };
    const selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe'] }] };
    expect(cells('apps', 'deployments', { metadata: m('web'), spec: { replicas: 3, selector, template }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } })).toEqual([
      'web', '2/3', 3, 2, '5s', 'a,b', 'nginx:1,busybox', 'app=web,tier in (fe)',
    ]);
    expect(cells('apps', 'replicasets', { metadata: m('web-5d'), spec: { replicas: 2, selector, template }, status: { replicas: 2, readyReplicas: 1 } })).toEqual([
      'web-5d', 2, 2, 1, '5s', 'a,b', 'nginx:1,busybox', 'app=web,tier in (fe)',
    ]);
    expect(
      cells('apps', 'daemonsets', { metadata: m('ds'), spec: { selector: { matchLabels: { app: 'ds' } }, template }, status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 } }),
    ).toEqual(['ds', 3, 3, 2, 3, 2, 'disk=ssd', '5s', 'a,b', 'nginx:1,busybox', 'app=ds']);
  });
  it('formatLabels', () => {
    expect(formatLabels({ b: '2', a: '1' })).toBe('a=1,b=2');
    expect(formatLabels({})).toBe('<none>');
  });
  it('falls back to NAME / Created At for kinds without a printer', () => {
    const t = toTable({ group: 'example.com', resource: 'widgets' }, [{ metadata: { name: 'w', creationTimestamp: '2026-01-02T03:04:05Z' } }], {}, {}, NOW);
    expect(t.columnDefinitions!.map((c) => [c.name, c.type])).toEqual([['Name', 'string'], ['Created At', 'date']]);
    expect(t.rows[0]!.cells).toEqual(['w', '2026-01-02T03:04:05Z']);
  });
});
