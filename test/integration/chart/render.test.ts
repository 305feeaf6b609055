import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { buildHelmRender, renderChart } from '../../helpers/chart.js';
import { parse } from 'yaml';

describeE2E('charts/kubeplane rendering', { commands: ['go'] }, () => {
  let bin = '';
  let cleanup = () => {};
  beforeAll(() => {
    ({ bin, cleanup } = buildHelmRender());
  });
  afterAll(() => cleanup());

  const kinds = (objs: Record<string, any>[]) => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
  const daemonSet = (objs: Record<string, any>[]) => objs.find((o) => o.kind === 'DaemonSet')!;
  const args = (objs: Record<string, any>[]) => daemonSet(objs).spec.template.spec.containers[0].args as string[];

  it('renders the default values into the objects a node needs', () => {
    const { objects } = renderChart(bin);
    expect(kinds(objects)).toEqual([
      'ClusterRole/kp-kubeplane',
      'ClusterRoleBinding/kp-kubeplane',
      'ConfigMap/kp-kubeplane',
      'DaemonSet/kp-kubeplane',
      'IngressClass/kubeplane',
      'Service/kube-dns',
      'ServiceAccount/kp-kubeplane',
    ]);
    const ds = daemonSet(objects);
    const pod = ds.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.priorityClassName).toBe('system-node-critical');
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.containers[0].securityContext.capabilities.add).toEqual(expect.arrayContaining(['NET_ADMIN', 'NET_RAW']));
    expect(pod.containers[0].securityContext.privileged).toBe(false);
    expect(pod.volumes.map((v: any) => v.hostPath?.path).filter(Boolean)).toEqual(['/run/xtables.lock', '/lib/modules']);
    expect(ds.spec.updateStrategy.type).toBe('RollingUpdate');
    expect(args(objects)).toEqual(expect.arrayContaining(['node', '--node-name=$(NODE_NAME)', '--proxy=true', '--dns=true', '--ingress=true', '--config=/etc/kubeplane/kube-proxy.yaml']));
    const dns = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'kube-dns')!;
    expect(dns.spec.clusterIP).toBe('10.96.0.10');
    expect(dns.metadata.labels['k8s-app']).toBe('kube-dns');
    expect(objects.find((o) => o.kind === 'IngressClass')!.spec.controller).toBe('kubeplane.io/ingress');
    const cm = objects.find((o) => o.kind === 'ConfigMap')!;
    const kpc = parse(cm.data['kube-proxy.yaml']);
    expect(kpc).toMatchObject({ kind: 'KubeProxyConfiguration', mode: 'iptables', clusterCIDR: '10.244.0.0/16', iptables: { masqueradeBit: 14 } });
    expect(cm.data.Corefile).toContain('kubernetes cluster.local in-addr.arpa ip6.arpa');
  });

  it.each(['nftables', 'ipvs'])('switches the proxy mode to %s', (mode) => {
    const { objects } = renderChart(bin, { proxy: { mode } });
    expect(parse(objects.find((o) => o.kind === 'ConfigMap')!.data['kube-proxy.yaml']).mode).toBe(mode);
  });

  it('drops what a disabled component needs', () => {
    const noDns = renderChart(bin, { dns: { enabled: false } }).objects;
    expect(kinds(noDns)).not.toContain('Service/kube-dns');
    expect(args(noDns)).toContain('--dns=false');
    const noIngress = renderChart(bin, { ingress: { enabled: false } }).objects;
    expect(kinds(noIngress)).not.toContain('IngressClass/kubeplane');
    const rules = noIngress.find((o) => o.kind === 'ClusterRole')!.rules.flatMap((r: any) => r.resources);
    expect(rules).not.toContain('ingresses');
    expect(rules).not.toContain('secrets');
    const noProxy = renderChart(bin, { proxy: { enabled: false } }).objects;
    expect(daemonSet(noProxy).spec.template.spec.volumes.map((v: any) => v.name)).toEqual(['config']);
  });

  it.each(['NodePort', 'LoadBalancer'])('adds an ingress Service of type %s', (type) => {
    const { objects } = renderChart(bin, { ingress: { service: { type } } });
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'kp-kubeplane-ingress')!;
    expect(svc.spec.type).toBe(type);
    expect(svc.spec.ports.map((p: any) => p.port)).toEqual([80, 443]);
  });

  it('tells the operator how to switch off kube-proxy and CoreDNS', () => {
    const { notes } = renderChart(bin);
    expect(notes).toContain('kubectl -n kube-system scale deployment coredns --replicas=0');
    expect(notes).toContain('kube-proxy');
  });

  it('adds a ServiceMonitor only when asked', () => {
    expect(kinds(renderChart(bin, { serviceMonitor: { enabled: true } }).objects)).toContain('ServiceMonitor/kp-kubeplane');
  });

  it('rejects an unknown proxy mode with a clear message', () => {
    expect(() => renderChart(bin, { proxy: { mode: 'userspace' } })).toThrow(/proxy.mode must be iptables, nftables or ipvs, not "userspace"/);
    expect(() => renderChart(bin, { proxy: { enabled: false }, dns: { enabled: false }, ingress: { enabled: false } })).toThrow(/at least one of/);
  });
});
