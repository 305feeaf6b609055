import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../../src/api/defaults.js';
import { resourceFor } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { formatFieldError, validateObject, validateStatusUpdate } from '../../../src/api/validation/index.js';

function check(group: string, resource: string, o: unknown, old?: unknown): string[] {
  const info = resourceFor(group, resource)!;
  const obj = structuredClone(o) as KubeObject;
  applyDefaults(info, obj);
  let prev: KubeObject | undefined;
  if (old) {
    prev = structuredClone(old) as KubeObject;
    applyDefaults(info, prev);
  }
  return validateObject(info, obj, prev).map(formatFieldError);
}

const meta = (name = 'x', namespace: string | undefined = 'default', extra: Record<string, unknown> = {}) => ({ name, ...(namespace ? { namespace } : {}), ...extra });
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

describe('metadata', () => {
  const cm = (m: Record<string, unknown>) => check('', 'configmaps', { metadata: m, data: {} });
  it('namespace required for namespaced kinds, forbidden on cluster ones', () => {
    expect(cm({ name: 'a' })).toEqual(['metadata.namespace: Required value']);
    expect(check('', 'namespaces', { metadata: { name: 'a', namespace: 'b' } })).toEqual(['metadata.namespace: Forbidden: not allowed on this type']);
  });
  it('names: DNS-1123 subdomain for most kinds', () => {
    expect(cm(meta('My.Config'))).toEqual([`metadata.name: Invalid value: "My.Config": ${SUBDOMAIN_MSG}`]);
    expect(cm(meta('a'.repeat(254)))[0]).toBe(`metadata.name: Invalid value: "${'a'.repeat(254)}": must be no more than 253 characters`);
  });
  it('generateName is checked with its trailing dash allowed', () => {
    expect(cm({ generateName: 'web-', name: 'web-abcde', namespace: 'd' })).toEqual([]);
    expect(cm({ generateName: 'Web-', name: 'web-abcde', namespace: 'd' })[0]).toMatch(/^metadata\.generateName: Invalid value: "Web-": a lowercase RFC 1123 subdomain/);
  });
  it('labels, annotations and finalizers', () => {
    expect(cm(meta('a', 'd', { labels: { 'bad key!': 'v', ok: 'a'.repeat(64) } }))).toEqual([
      `metadata.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      `metadata.labels: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`,
    ]);
    expect(cm(meta('a', 'd', { annotations: { 'Example.COM/Key': 'v' } }))).toEqual([]);
    expect(cm(meta('a', 'd', { annotations: { big: 'x'.repeat(262142) } }))).toEqual(['metadata.annotations: Too long: may not be more than 262144 bytes']);
    expect(cm(meta('a', 'd', { finalizers: ['kubernetes', 'example.com/x', 'custom'] }))).toEqual([
      'metadata.finalizers[2]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
    ]);
  });
  it('no new finalizers once deleting', () => {
    const old = { metadata: meta('a', 'd', { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['example.com/a'] }), data: {} };
    const upd = { metadata: meta('a', 'd', { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['example.com/a', 'example.com/b'] }), data: {} };
    expect(check('', 'configmaps', upd, old)).toEqual([
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/b"}',
    ]);
  });
});

describe('EndpointSlice', () => {
  const slice = (extra: Record<string, unknown>) => ({ metadata: meta('web-abc'), addressType: 'IPv4', endpoints: [], ports: [], ...extra });
  it('accepts a normal slice', () => {
    expect(check('discovery.k8s.io', 'endpointslices', slice({ endpoints: [{ addresses: ['10.1.0.5'], nodeName: 'n1', hostname: 'p0' }], ports: [{ name: 'http', port: 80 }] }))).toEqual([]);
  });
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['addressType', { addressType: 'IP' }, ['addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"']],
    ['no addresses', { endpoints: [{ addresses: [] }] }, ['endpoints[0].addresses: Required value: must contain at least 1 address']],
    ['IPv6 in IPv4 slice', { endpoints: [{ addresses: ['fd00::1'] }] }, ['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address']],
    ['loopback', { endpoints: [{ addresses: ['127.0.0.1'] }] }, ['endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)']],
    ['link-local', { endpoints: [{ addresses: ['169.254.1.1'] }] }, ['endpoints[0].addresses[0]: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)']],
    ['too many addresses', { endpoints: [{ addresses: Array.from({ length: 101 }, (_, i) => `10.0.${i >> 8}.${(i & 255) + 1}`) }] }, ['endpoints[0].addresses: Too many: 101: must have at most 100 items']],
    ['too many endpoints', { endpoints: Array.from({ length: 1001 }, () => ({ addresses: ['10.0.0.1'] })) }, ['endpoints: Too many: 1001: must have at most 1000 items']],
    ['duplicate port names', { ports: [{ name: 'a', port: 1 }, { name: 'a', port: 2 }] }, ['ports[1].name: Duplicate value: "a"']],
    ['bad protocol', { ports: [{ port: 1, protocol: 'X' }] }, ['ports[0].protocol: Unsupported value: "X": supported values: "SCTP", "TCP", "UDP"']],
    ['hostname', { endpoints: [{ addresses: ['10.0.0.1'], hostname: 'a.b' }] }, ['endpoints[0].hostname: Invalid value: "a.b": must not contain dots']],
  ];
  it.each(cases)('%s', (_w, extra, want) => expect(check('discovery.k8s.io', 'endpointslices', slice(extra))).toEqual(want));
  it('addressType is immutable', () => {
    expect(check('discovery.k8s.io', 'endpointslices', slice({ addressType: 'IPv6' }), slice({}))).toEqual(['addressType: Invalid value: "IPv6": field is immutable']);
  });
});

describe('Ingress and IngressClass', () => {
  const ing = (spec: unknown, annotations?: Record<string, string>) => ({ metadata: meta('ing', 'default', annotations ? { annotations } : {}), spec });
  const backend = { service: { name: 'web', port: { number: 80 } } };
  it('accepts rules with hosts, wildcards and TLS', () => {
    expect(
      check('networking.k8s.io', 'ingresses', ing({ ingressClassName: 'nginx', tls: [{ hosts: ['*.example.com'], secretName: 'tls' }], rules: [{ host: '*.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] })),
    ).toEqual([]);
  });
  const cases: [string, unknown, string[]][] = [
    ['neither rules nor default', {}, ['spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified']],
    ['IP host', { rules: [{ host: '10.0.0.1' }] }, ['spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address']],
    ['pathType required', { rules: [{ http: { paths: [{ path: '/', backend }] } }] }, ['spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified']],
    ['relative Prefix path', { rules: [{ http: { paths: [{ path: 'api', pathType: 'Prefix', backend }] } }] }, ['spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path']],
    ['bad pathType', { rules: [{ http: { paths: [{ path: '/', pathType: 'Regex', backend }] } }] }, [
      'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
    ]],
    ['empty paths', { rules: [{ http: { paths: [] } }] }, ['spec.rules[0].http.paths: Required value']],
    ['both backends', { defaultBackend: { ...backend, resource: { kind: 'Bucket', name: 'b' } } }, ['spec.defaultBackend: Invalid value: "": cannot set both resource and service backends']],
    ['resource backend name', { defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'a/b' } } }, ['spec.defaultBackend.resource.name: Invalid value: "a/b": may not contain \'/\'']],
    ['resource backend without kind', { defaultBackend: { resource: { name: 'b' } } }, ['spec.defaultBackend.resource.kind: Required value: kind is required']],
    ['no backend', { defaultBackend: {} }, ['spec.defaultBackend: Invalid value: "": resource or service backend is required']],
    ['both port forms', { defaultBackend: { service: { name: 'web', port: { number: 80, name: 'http' } } } }, ['spec.defaultBackend: Invalid value: "": cannot set both port name & port number']],
    ['no port', { defaultBackend: { service: { name: 'web', port: {} } } }, ['spec.defaultBackend: Required value: port name or number is required']],
    ['bad wildcard', { rules: [{ host: 'foo.*.com' }] }, [
      "spec.rules[0].host: Invalid value: \"foo.*.com\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]],
    ['bad path sequence', { rules: [{ http: { paths: [{ path: '/a//b', pathType: 'Exact', backend }] } }] }, ["spec.rules[0].http.paths[0].path: Invalid value: \"/a//b\": must not contain '//'"]],
  ];
  it.each(cases)('%s', (_w, spec, want) => expect(check('networking.k8s.io', 'ingresses', ing(spec))).toEqual(want));
  it('class annotation must agree with ingressClassName', () => {
    expect(check('networking.k8s.io', 'ingresses', ing({ ingressClassName: 'a', defaultBackend: backend }, { 'kubernetes.io/ingress.class': 'b' }))).toEqual([
      'annotations.kubernetes.io/ingress.class: Invalid value: "b": must match `ingressClassName` when both are specified',
    ]);
  });
  it('status writes carry valid load-balancer addresses', () => {
    const info = resourceFor('networking.k8s.io', 'ingresses')!;
    const old = ing({ defaultBackend: backend }) as unknown as KubeObject;
    const upd = { ...(old as object), status: { loadBalancer: { ingress: [{ ip: '10.0.0.300' }, { hostname: 'lb.example.com' }, { hostname: '10.0.0.1' }] } } } as unknown as KubeObject;
    expect(validateStatusUpdate(info, upd, old).map(formatFieldError)).toEqual([
      'status.loadBalancer.ingress[0].ip: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'status.loadBalancer.ingress[2].hostname: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
    ]);
  });
  it('IngressClass controller is a domain-prefixed path and immutable', () => {
    const ic = (controller: string) => ({ metadata: { name: 'nginx' }, spec: { controller } });
    expect(check('networking.k8s.io', 'ingressclasses', ic('k8s.io/ingress-nginx'))).toEqual([]);
    expect(check('networking.k8s.io', 'ingressclasses', ic(''))).toEqual(['spec.controller: Required value']);
    expect(check('networking.k8s.io', 'ingressclasses', ic('nginx'))).toEqual(['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']);
    expect(check('networking.k8s.io', 'ingressclasses', ic('example.com/b'), ic('example.com/a'))).toEqual(['spec.controller: Invalid value: "example.com/b": field is immutable']);
    const withParams = (parameters: unknown) => check('networking.k8s.io', 'ingressclasses', { metadata: { name: 'c' }, spec: { controller: 'example.com/c', parameters } });
    // scope defaults to Cluster, where a namespace is forbidden.
    expect(withParams({ kind: 'Params', name: 'p' })).toEqual([]);
    expect(withParams({ kind: 'Params', name: 'p', namespace: 'x' })).toEqual(["spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"]);
    expect(withParams({ kind: 'Params', name: 'p', scope: 'Namespace' })).toEqual(["spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'"]);
    expect(withParams({ name: 'p', scope: 'Global' })).toEqual(['spec.parameters.kind: Required value: kind is required', 'spec.parameters.scope: Unsupported value: "Global": supported values: "Cluster", "Namespace"']);
  });
});

describe('Pod', () => {
  const pod = (spec: Record<string, unknown>) => ({ metadata: meta('p'), spec: { containers: [{ name: 'c', image: 'nginx:1' }], ...spec } });
  it('accepts a defaulted pod', () => expect(check('', 'pods', pod({}))).toEqual([]));
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['no containers', { containers: [] }, ['spec.containers: Required value']],
    ['duplicate names', { containers: [{ name: 'c', image: 'a' }, { name: 'c', image: 'b' }] }, ['spec.containers[1].name: Duplicate value: "c"']],
    ['missing image', { containers: [{ name: 'c' }] }, ['spec.containers[0].image: Required value']],
    ['bad port', { containers: [{ name: 'c', image: 'a', ports: [{ containerPort: 70000 }] }] }, ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['restartPolicy', { restartPolicy: 'Sometimes' }, ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']],
    ['liveness successThreshold', { containers: [{ name: 'c', image: 'a', livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 } }] }, ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1']],
    ['probe without handler', { containers: [{ name: 'c', image: 'a', readinessProbe: {} }] }, ['spec.containers[0].readinessProbe: Required value: must specify a handler type']],
    ['requests above limits', { containers: [{ name: 'c', image: 'a', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] }, ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1']],
    ['volume mount to nothing', { containers: [{ name: 'c', image: 'a', volumeMounts: [{ name: 'v', mountPath: '/v' }] }] }, ['spec.containers[0].volumeMounts[0].name: Not found: "v"']],
  ];
  it.each(cases)('%s', (_w, spec, want) => expect(check('', 'pods', pod(spec))).toEqual(want));
  it('spec is immutable except images and a few fields', () => {
    const old = pod({});
    expect(check('', 'pods', pod({ containers: [{ name: 'c', image: 'nginx:2' }], activeDeadlineSeconds: 30 }), old)).toEqual([]);
    const msgs = check('', 'pods', pod({ restartPolicy: 'Never' }), old);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatch(/^spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
  });
});

describe('workloads', () => {
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
  const deploy = (spec: Record<string, unknown>) => ({ metadata: meta('web'), spec: { selector: { matchLabels: { app: 'web' } }, template, ...spec } });
  it('accepts a normal Deployment, ReplicaSet and DaemonSet', () => {
    expect(check('apps', 'deployments', deploy({}))).toEqual([]);
    expect(check('apps', 'replicasets', deploy({}))).toEqual([]);
    expect(check('apps', 'daemonsets', deploy({}))).toEqual([]);
  });
  it('selector rules', () => {
    // A nil selector selects nothing, so upstream also reports the template mismatch.
    expect(check('apps', 'deployments', deploy({ selector: undefined }))).toEqual([
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]);
    expect(check('apps', 'deployments', deploy({ selector: {} }))).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
    ]);
    expect(check('apps', 'deployments', deploy({ selector: { matchLabels: { app: 'api' } } }))).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]);
    expect(check('apps', 'deployments', deploy({ selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }))).toEqual([
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"app", Operator:"In", Values:[]string(nil)}}}: invalid label selector',
    ]);
    // DaemonSets report no Required error for a missing selector, only the mismatch.
    expect(check('apps', 'daemonsets', deploy({ selector: undefined }))).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ]);
    expect(check('apps', 'daemonsets', deploy({ selector: {} }))[0]).toMatch(/^spec\.selector: Invalid value: v1\.LabelSelector\{.*\}: empty selector is invalid for daemonset$/);
    expect(check('apps', 'deployments', deploy({ selector: { matchLabels: { app: 'web', v: '2' } }, template: { ...template, metadata: { labels: { app: 'web', v: '2' } } } }), deploy({}))).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "v":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });
  it('counts and strategy', () => {
    expect(check('apps', 'deployments', deploy({ replicas: -1 }))).toEqual(['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
    expect(check('apps', 'deployments', deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } }))).toEqual([
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"0%"}: may not be 0 when `maxSurge` is 0',
    ]);
    expect(check('apps', 'deployments', deploy({ strategy: { type: 'Recreate', rollingUpdate: {} } }))).toEqual([
      "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ]);
    expect(check('apps', 'deployments', deploy({ strategy: { type: 'Canary' } }))).toEqual([
      'spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"Canary", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"',
    ]);
    const ds = (rollingUpdate: unknown) => check('apps', 'daemonsets', deploy({ updateStrategy: { type: 'RollingUpdate', rollingUpdate } }));
    expect(ds({ maxUnavailable: 0, maxSurge: 0 })).toEqual(['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0']);
    expect(ds({ maxUnavailable: 1, maxSurge: '10%' })).toEqual([
      'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"10%"}: may not be set when maxUnavailable is non-zero',
    ]);
    expect(ds({ maxUnavailable: '150%', maxSurge: 0 })).toEqual([
      'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%',
    ]);
    expect(ds({ maxUnavailable: 'ten', maxSurge: 0 })).toEqual([
      `spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"ten"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`,
      'spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0',
    ]);
    expect(check('apps', 'deployments', deploy({ template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } }))).toEqual([
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
  });
});

describe('other core kinds', () => {
  it('Namespace names are DNS-1123 labels', () => {
    expect(check('', 'namespaces', { metadata: { name: 'team-a' } })).toEqual([]);
    expect(check('', 'namespaces', { metadata: { name: 'team.a' } })).toEqual(['metadata.name: Invalid value: "team.a": must not contain dots']);
  });
  it('ConfigMap keys and size', () => {
    expect(check('', 'configmaps', { metadata: meta('c'), data: { 'a.b': '1', '..x': '2' } })).toEqual(['data[..x]: Invalid value: "..x": must not start with \'..\'']);
    expect(check('', 'configmaps', { metadata: meta('c'), data: { a: 'x'.repeat(1024 * 1024 + 1) } })).toEqual([': Too long: may not be more than 1048576 bytes']);
    expect(check('', 'configmaps', { metadata: meta('c'), data: { a: '2' }, immutable: true }, { metadata: meta('c'), data: { a: '1' }, immutable: true })).toEqual([
      'data: Forbidden: field is immutable when `immutable` is set',
    ]);
  });
  it('Secret type rules', () => {
    expect(check('', 'secrets', { metadata: meta('s'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==' } })).toEqual(['data[tls.key]: Required value']);
    expect(check('', 'secrets', { metadata: meta('s'), type: 'kubernetes.io/tls', data: {} }, { metadata: meta('s'), data: {} })).toEqual([
      'data[tls.key]: Required value',
      'data[tls.crt]: Required value',
      'type: Invalid value: "kubernetes.io/tls": field is immutable',
    ]);
  });
  it('Lease and Node', () => {
    expect(check('coordination.k8s.io', 'leases', { metadata: meta('l'), spec: { leaseDurationSeconds: 0 } })).toEqual(['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']);
    expect(check('', 'nodes', { metadata: { name: 'n1' }, spec: { podCIDRs: ['10.244.0.0/24'], taints: [{ key: 'a', effect: 'Sometimes' }] } })).toEqual([
      'spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"',
    ]);
    expect(check('', 'nodes', { metadata: { name: 'n1' }, spec: { podCIDRs: ['10.244.1.0/24'] } }, { metadata: { name: 'n1' }, spec: { podCIDRs: ['10.244.0.0/24'] } })).toEqual([
      'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    ]);
  });
});
