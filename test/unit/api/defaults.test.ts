import { describe, expect, it } from 'vitest';
import { applyDefaults, imageTag, normalizeClusterIPs } from '../../../src/api/defaults.js';
import { resourceFor } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';

const info = (group: string, resource: string) => resourceFor(group, resource)!;
function defaulted(group: string, resource: string, obj: unknown): any {
  const o = structuredClone(obj) as KubeObject;
  applyDefaults(info(group, resource), o);
  // Defaulting twice changes nothing.
  const again = structuredClone(o);
  applyDefaults(info(group, resource), again);
  expect(again).toEqual(o);
  return o;
}

describe('Service defaults', () => {
  it('fills ClusterIP defaults as kube-apiserver does', () => {
    const s = defaulted('', 'services', { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP', targetPort: 'dns' }] } });
    expect(s.spec).toEqual({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ports: [
        { port: 80, protocol: 'TCP', targetPort: 80 },
        { port: 53, protocol: 'UDP', targetPort: 'dns' },
      ],
    });
  });
  it('defaults externalTrafficPolicy for NodePort, LB and ClusterIP with externalIPs only', () => {
    expect(defaulted('', 'services', { metadata: {}, spec: { type: 'NodePort', ports: [{ port: 1 }] } }).spec.externalTrafficPolicy).toBe('Cluster');
    const lb = defaulted('', 'services', { metadata: {}, spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { hostname: 'x' }] } } });
    expect(lb.spec.externalTrafficPolicy).toBe('Cluster');
    expect(lb.spec.allocateLoadBalancerNodePorts).toBe(true);
    expect(lb.status.loadBalancer.ingress).toEqual([{ ip: '1.2.3.4', ipMode: 'VIP' }, { hostname: 'x' }]);
    expect(defaulted('', 'services', { metadata: {}, spec: { externalIPs: ['1.1.1.1'] } }).spec.externalTrafficPolicy).toBe('Cluster');
    const c = defaulted('', 'services', { metadata: {}, spec: {} });
    expect(c.spec.externalTrafficPolicy).toBeUndefined();
    expect(c.spec.allocateLoadBalancerNodePorts).toBeUndefined();
    const en = defaulted('', 'services', { metadata: {}, spec: { type: 'ExternalName', externalName: 'a.b' } });
    expect(en.spec.internalTrafficPolicy).toBeUndefined();
  });
  it('session affinity: ClientIP gets 10800s, None drops the config', () => {
    expect(defaulted('', 'services', { metadata: {}, spec: { sessionAffinity: 'ClientIP' } }).spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
    expect(
      defaulted('', 'services', { metadata: {}, spec: { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } } }).spec.sessionAffinityConfig,
    ).toEqual({ clientIP: { timeoutSeconds: 5 } });
    expect(defaulted('', 'services', { metadata: {}, spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } } }).spec.sessionAffinityConfig).toBeUndefined();
  });
  it('normalizeClusterIPs syncs clusterIP and clusterIPs', () => {
    const s: any = { metadata: {}, spec: { clusterIP: '10.0.0.1' } };
    normalizeClusterIPs(s);
    expect(s.spec.clusterIPs).toEqual(['10.0.0.1']);
    const changed: any = { metadata: {}, spec: { clusterIP: '10.0.0.2', clusterIPs: ['10.0.0.1'] } };
    normalizeClusterIPs(changed, { metadata: {}, spec: { clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'] } } as never);
    expect(changed.spec.clusterIPs).toEqual(['10.0.0.2']);
    const onlyIPs: any = { metadata: {}, spec: { clusterIPs: ['10.0.0.3'] } };
    normalizeClusterIPs(onlyIPs, { metadata: {}, spec: { clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'] } } as never);
    expect(onlyIPs.spec.clusterIP).toBe('10.0.0.3');
  });
});

describe('Pod defaults', () => {
  it('fills pod, container, port and probe defaults', () => {
    const p = defaulted('', 'pods', {
      metadata: { name: 'p' },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'nginx',
            ports: [{ containerPort: 80 }],
            readinessProbe: { httpGet: { port: 80 } },
            resources: { limits: { cpu: '1' }, requests: { memory: '1Mi' } },
          },
          { name: 'd', image: 'reg.example:5000/x/nginx:1.25' },
          { name: 'e', image: 'nginx@sha256:abc' },
          { name: 'f', image: 'nginx:latest', imagePullPolicy: 'Never' },
        ],
        volumes: [{ name: 'v' }, { name: 's', secret: { secretName: 'x' } }],
      },
    });
    expect(p.spec).toMatchObject({
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
      securityContext: {},
      enableServiceLinks: true,
      volumes: [{ name: 'v', emptyDir: {} }, { name: 's', secret: { secretName: 'x', defaultMode: 420 } }],
    });
    const [c, d, e, f] = p.spec.containers;
    expect(c).toMatchObject({
      imagePullPolicy: 'Always',
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      readinessProbe: { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
      resources: { limits: { cpu: '1' }, requests: { memory: '1Mi', cpu: '1' } },
    });
    expect(c.ports[0].hostPort).toBeUndefined();
    expect(d.imagePullPolicy).toBe('IfNotPresent');
    expect(e.imagePullPolicy).toBe('IfNotPresent');
    expect(f.imagePullPolicy).toBe('Never');
  });
  it('hostNetwork pods get hostPort = containerPort', () => {
    const p = defaulted('', 'pods', { metadata: {}, spec: { hostNetwork: true, containers: [{ name: 'c', image: 'x:1', ports: [{ containerPort: 53, protocol: 'UDP' }] }] } });
    expect(p.spec.containers[0].ports[0]).toEqual({ containerPort: 53, protocol: 'UDP', hostPort: 53 });
  });
  it('imageTag follows ParseImageName', () => {
    expect(imageTag('nginx')).toBe('latest');
    expect(imageTag('localhost:5000/nginx')).toBe('latest');
    expect(imageTag('localhost:5000/nginx:1')).toBe('1');
    expect(imageTag('nginx@sha256:00')).toBe('');
    expect(imageTag('nginx:2@sha256:00')).toBe('2');
    expect(imageTag('')).toBe('');
  });
});

describe('workload defaults', () => {
  it('Deployment', () => {
    const d = defaulted('apps', 'deployments', { metadata: {}, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } });
    expect(d.spec).toMatchObject({
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
    expect(d.spec.template.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 30 });
    // enableServiceLinks is a Pod default, not a template one.
    expect(d.spec.template.spec.enableServiceLinks).toBeUndefined();
    expect(d.spec.template.spec.containers[0].imagePullPolicy).toBe('Always');
  });
  it('Recreate deployments get no rollingUpdate; replicas 0 stays 0', () => {
    const d = defaulted('apps', 'deployments', { metadata: {}, spec: { replicas: 0, strategy: { type: 'Recreate' }, template: { spec: { containers: [] } } } });
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    expect(d.spec.replicas).toBe(0);
  });
  it('ReplicaSet and DaemonSet', () => {
    expect(defaulted('apps', 'replicasets', { metadata: {}, spec: { template: { spec: { containers: [] } } } }).spec.replicas).toBe(1);
    const ds = defaulted('apps', 'daemonsets', { metadata: {}, spec: { template: { spec: { containers: [] } } } });
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(ds.spec.revisionHistoryLimit).toBe(10);
  });
});

describe('other kinds', () => {
  it('Namespace gets its name label, the kubernetes finalizer and phase Active', () => {
    const ns = defaulted('', 'namespaces', { metadata: { name: 'team-a', labels: { x: 'y' } } });
    expect(ns.metadata.labels).toEqual({ x: 'y', 'kubernetes.io/metadata.name': 'team-a' });
    expect(ns.spec.finalizers).toEqual(['kubernetes']);
    expect(ns.status.phase).toBe('Active');
  });
  it('Secret type Opaque; EndpointSlice port protocol and name', () => {
    expect(defaulted('', 'secrets', { metadata: {} }).type).toBe('Opaque');
    expect(defaulted('', 'secrets', { metadata: {}, type: 'kubernetes.io/tls' }).type).toBe('kubernetes.io/tls');
    // stringData overwrites data and is not stored.
    const sec = defaulted('', 'secrets', { metadata: {}, data: { a: 'eA==', b: 'eQ==' }, stringData: { b: 'hello', c: 'wörld' } });
    expect(sec.data).toEqual({ a: 'eA==', b: 'aGVsbG8=', c: Buffer.from('wörld').toString('base64') });
    expect(sec.stringData).toBeUndefined();
    const es = defaulted('discovery.k8s.io', 'endpointslices', { metadata: {}, addressType: 'IPv4', endpoints: [], ports: [{ port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] });
    expect(es.ports).toEqual([{ name: '', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }]);
  });
  it('leaves kinds without defaults untouched', () => {
    const ing = { metadata: { name: 'i' }, spec: { rules: [{ host: 'a.b' }] } };
    expect(defaulted('networking.k8s.io', 'ingresses', ing)).toEqual(ing);
    const cm = { metadata: { name: 'c' }, data: { a: 'b' } };
    expect(defaulted('', 'configmaps', cm)).toEqual(cm);
  });
});
