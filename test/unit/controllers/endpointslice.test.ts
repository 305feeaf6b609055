import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Node, Pod, Service } from '../../../src/api/types.js';
import { desiredEndpoints, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../../../src/controllers/endpointslice/desired.js';
import { reconcileSlices } from '../../../src/controllers/endpointslice/reconcile.js';

function svc(mut: (s: Service) => void = () => {}): Service {
  const s: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', labels: { app: 'web' } },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.0.20', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  };
  mut(s);
  return s;
}

function pod(name: string, ip: string, mut: (p: Pod) => void = () => {}): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' } },
    spec: { nodeName: 'node-a', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
  mut(p);
  return p;
}

const nodes = (name: string): Node | undefined => ({ metadata: { name, labels: { 'topology.kubernetes.io/zone': `zone-${name}` } } });

function group(s: Service, pods: Pod[]) {
  return desiredEndpoints(s, pods, nodes).get('IPv4')!;
}

describe('desiredEndpoints', () => {
  it('resolves named target ports per pod and sets conditions, targetRef, node and zone', () => {
    const g = group(svc(), [pod('a', '10.244.0.5')]);
    expect([...g.values()]).toEqual([
      {
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        endpoints: new Map([
          [
            '10.244.0.5',
            {
              addresses: ['10.244.0.5'],
              conditions: { ready: true, serving: true, terminating: false },
              targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' },
              nodeName: 'node-a',
              zone: 'zone-node-a',
            },
          ],
        ]),
      },
    ]);
  });

  it('groups pods whose named ports resolve differently into different port sets', () => {
    const other = pod('b', '10.244.0.6', (p) => (p.spec.containers[0]!.ports = [{ name: 'http', containerPort: 9090 }]));
    const g = group(svc(), [pod('a', '10.244.0.5'), other]);
    expect([...g.values()].map((x) => x.ports[0]!.port).sort()).toEqual([8080, 9090]);
  });

  it('flags terminating pods: serving stays, ready goes, unless publishNotReadyAddresses', () => {
    const term = pod('a', '10.244.0.5', (p) => (p.metadata.deletionTimestamp = '2026-11-23T10:00:00Z'));
    expect([...group(svc(), [term]).values()][0]!.endpoints.get('10.244.0.5')!.conditions).toEqual({ ready: false, serving: true, terminating: true });
    const pub = svc((s) => (s.spec.publishNotReadyAddresses = true));
    const notReady = pod('b', '10.244.0.6', (p) => (p.status!.conditions = [{ type: 'Ready', status: 'False' }]));
    expect([...group(pub, [notReady]).values()][0]!.endpoints.get('10.244.0.6')!.conditions).toEqual({ ready: true, serving: false, terminating: false });
  });

  it('skips terminal pods, pods without IPs, other namespaces and non-matching labels', () => {
    const pods = [
      pod('done', '10.244.0.7', (p) => (p.status!.phase = 'Succeeded')),
      pod('noip', '', (p) => (p.status = { phase: 'Pending' })),
      pod('other-ns', '10.244.0.8', (p) => (p.metadata.namespace = 'kube-system')),
      pod('other-app', '10.244.0.9', (p) => (p.metadata.labels = { app: 'db' })),
    ];
    expect(group(svc(), pods).size).toBe(0);
  });

  it('sets hostname only when the pod subdomain names the Service', () => {
    const p = pod('a', '10.244.0.5', (x) => {
      x.spec.hostname = 'a0';
      x.spec.subdomain = 'web';
    });
    expect([...group(svc(), [p]).values()][0]!.endpoints.get('10.244.0.5')!.hostname).toBe('a0');
    p.spec.subdomain = 'other';
    expect([...group(svc(), [p]).values()][0]!.endpoints.get('10.244.0.5')!.hostname).toBeUndefined();
  });

  it('keeps one family per address type for dual-stack services', () => {
    const s = svc((x) => (x.spec.ipFamilies = ['IPv4', 'IPv6']));
    const p = pod('a', '10.244.0.5', (x) => (x.status!.podIPs = [{ ip: '10.244.0.5' }, { ip: 'fd00::5' }]));
    const d = desiredEndpoints(s, [p], nodes);
    expect([...d.get('IPv6')!.values()][0]!.endpoints.has('fd00::5')).toBe(true);
    expect([...d.get('IPv4')!.values()][0]!.endpoints.has('10.244.0.5')).toBe(true);
  });
});

function apply(existing: EndpointSlice[], changes: ReturnType<typeof reconcileSlices>): EndpointSlice[] {
  let n = existing.length;
  const gone = new Set(changes.delete.map((s) => s.metadata.name));
  const updated = new Map(changes.update.map((s) => [s.metadata.name, s]));
  const next = existing.filter((s) => !gone.has(s.metadata.name)).map((s) => updated.get(s.metadata.name) ?? s);
  for (const c of changes.create) next.push({ ...c, metadata: { ...c.metadata, name: `web-${n++}` } });
  return structuredClone(next);
}

describe('reconcileSlices', () => {
  const manyPods = (n: number) => Array.from({ length: n }, (_, i) => pod(`p${i}`, `10.244.${Math.floor(i / 200)}.${(i % 200) + 1}`));

  it('creates slices of at most 100 endpoints with the controller labels and owner', () => {
    const s = svc();
    const changes = reconcileSlices(s, 'IPv4', [], group(s, manyPods(250)));
    expect(changes.create.map((c) => c.endpoints!.length)).toEqual([100, 100, 50]);
    const first = changes.create[0]!;
    expect(first.metadata.labels).toMatchObject({ [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: 'endpointslice-controller.k8s.io', app: 'web' });
    expect(first.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
    expect(first.metadata.generateName).toBe('web-');
  });

  it('writes nothing when nothing changed', () => {
    const s = svc();
    const pods = manyPods(150);
    const slices = apply([], reconcileSlices(s, 'IPv4', [], group(s, pods)));
    expect(reconcileSlices(s, 'IPv4', slices, group(s, pods))).toEqual({ create: [], update: [], delete: [] });
  });

  it('touches only the slice whose endpoint changed, and fills it before others', () => {
    const s = svc();
    const pods = manyPods(150);
    const slices = apply([], reconcileSlices(s, 'IPv4', [], group(s, pods)));
    pods[120]!.status!.conditions = [{ type: 'Ready', status: 'False' }];
    const holder = slices.find((sl) => sl.endpoints!.some((e) => e.targetRef!.name === 'p120'))!;
    const changes = reconcileSlices(s, 'IPv4', slices, group(s, pods));
    expect(changes.create).toEqual([]);
    expect(changes.delete).toEqual([]);
    expect(changes.update.map((u) => u.metadata.name)).toEqual([holder.metadata.name]);
    expect(changes.update[0]!.endpoints!.find((e) => e.targetRef!.name === 'p120')!.conditions!.ready).toBe(false);
  });

  it('removes endpoints of deleted pods and deletes slices left empty', () => {
    const s = svc();
    const pods = manyPods(150);
    const slices = apply([], reconcileSlices(s, 'IPv4', [], group(s, pods)));
    const inSecond = new Set(slices[1]!.endpoints!.map((e) => e.targetRef!.name));
    const changes = reconcileSlices(s, 'IPv4', slices, group(s, pods.filter((p) => !inSecond.has(p.metadata.name))));
    expect(changes.delete.map((d) => d.metadata.name)).toEqual(['web-1']);
    expect(changes.update).toEqual([]);
  });

  it('keeps a single empty placeholder slice for a Service without endpoints', () => {
    const s = svc();
    const first = reconcileSlices(s, 'IPv4', [], group(s, []));
    expect(first.create).toHaveLength(1);
    expect(first.create[0]!.endpoints).toEqual([]);
    expect(first.create[0]!.ports).toBeNull();
    const slices = apply([], first);
    expect(reconcileSlices(s, 'IPv4', slices, group(s, []))).toEqual({ create: [], update: [], delete: [] });
    // endpoints arrive: a real slice is created and the placeholder goes
    const next = reconcileSlices(s, 'IPv4', slices, group(s, manyPods(1)));
    expect(next.create).toHaveLength(1);
    expect(next.delete.map((d) => d.metadata.name)).toEqual(['web-0']);
  });

  it('deletes slices whose port set no longer exists', () => {
    const s = svc();
    const slices = apply([], reconcileSlices(s, 'IPv4', [], group(s, manyPods(3))));
    s.spec.ports = [{ name: 'http', port: 80, targetPort: 8081, protocol: 'TCP' }];
    const changes = reconcileSlices(s, 'IPv4', slices, group(s, manyPods(3)));
    expect(changes.delete).toHaveLength(1);
    expect(changes.create[0]!.ports).toEqual([{ name: 'http', port: 8081, protocol: 'TCP' }]);
  });
});

describe('desiredEndpoints with a malformed pod IP', () => {
  it('leaves that pod out instead of producing a slice the server refuses', () => {
    const g = group(svc(), [pod('good', '10.244.0.5'), pod('bad', '10.244.0.256')]);
    expect([...g.values()].flatMap((x) => [...x.endpoints.keys()])).toEqual(['10.244.0.5']);
  });
});
