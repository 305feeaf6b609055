import { describe, expect, it } from 'vitest';
import { applyDefaults, normalizeClusterIPs } from '../../../src/api/defaults.js';
import { resourceFor } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { formatFieldError, invalidMessage, invalidStatus, validateObject, validateStatusUpdate } from '../../../src/api/validation/index.js';

const services = resourceFor('', 'services')!;

function svc(spec: Record<string, unknown>, name = 'web', extraMeta: Record<string, unknown> = {}): KubeObject {
  const o = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', ...extraMeta }, spec } as unknown as KubeObject;
  applyDefaults(services, o);
  return o;
}
const messages = (o: KubeObject, old?: KubeObject, opts = {}) => validateObject(services, o, old, opts).map(formatFieldError);

describe('Service validation', () => {
  it('accepts a defaulted ClusterIP service, headless, and ExternalName', () => {
    expect(messages(svc({ selector: { app: 'web' }, ports: [{ port: 80 }] }))).toEqual([]);
    expect(messages(svc({ clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }] }))).toEqual([]);
    expect(messages(svc({ clusterIP: 'None' }))).toEqual([]);
    expect(messages(svc({ type: 'ExternalName', externalName: 'example.com.' }))).toEqual([]);
    expect(messages(svc({ type: 'LoadBalancer', ports: [{ port: 443, nodePort: 30443 }], externalTrafficPolicy: 'Local', healthCheckNodePort: 30000 }))).toEqual([]);
  });

  // [what, spec, exact upstream messages]
  const cases: [string, Record<string, unknown>, string[]][] = [
    // targetPort defaults to the port, so upstream reports both.
    [
      'port 0',
      { ports: [{ port: 0 }] },
      ['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive', 'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive'],
    ],
    ['no ports', {}, ['spec.ports: Required value']],
    ['port names required with >1 port', { ports: [{ port: 80 }, { port: 81 }] }, ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']],
    [
      'duplicate port name',
      { ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] },
      ['spec.ports[1].name: Duplicate value: "http"'],
    ],
    [
      'duplicate port+protocol',
      { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] },
      [
        'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
      ],
    ],
    ['bad protocol', { ports: [{ port: 80, protocol: 'ICMP' }] }, ['spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"']],
    [
      'bad targetPort name',
      { ports: [{ port: 80, targetPort: 'HTTP_port' }] },
      [
        'spec.ports[0].targetPort: Invalid value: "HTTP_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      ],
    ],
    ['targetPort too long', { ports: [{ port: 80, targetPort: 'a-very-long-port-name' }] }, ['spec.ports[0].targetPort: Invalid value: "a-very-long-port-name": must be no more than 15 characters']],
    ['targetPort number out of range', { ports: [{ port: 80, targetPort: 70000 }] }, ['spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['nodePort on ClusterIP', { ports: [{ port: 80, nodePort: 30080 }] }, ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
    ['bad type', { type: 'Internal', ports: [{ port: 80 }] }, ['spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
    ['ExternalName without name', { type: 'ExternalName' }, ['spec.externalName: Required value']],
    [
      'ExternalName with a bad name',
      { type: 'ExternalName', externalName: 'Bad_Name' },
      [
        "spec.externalName: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
    ],
    ['ExternalName with a clusterIP', { type: 'ExternalName', externalName: 'a.b', clusterIP: '10.0.0.1' }, ['spec.clusterIPs: Forbidden: may not be set for ExternalName services']],
    [
      'ClientIP timeout out of range',
      { ports: [{ port: 80 }], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } } },
      ['spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400'],
    ],
    ['bad sessionAffinity', { ports: [{ port: 80 }], sessionAffinity: 'Cookie' }, ['spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"']],
    [
      'externalTrafficPolicy on ClusterIP',
      { ports: [{ port: 80 }], externalTrafficPolicy: 'Local' },
      ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services'],
    ],
    ['bad internalTrafficPolicy', { ports: [{ port: 80 }], internalTrafficPolicy: 'Node' }, ['spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local"']],
    ['bad clusterIP', { ports: [{ port: 80 }], clusterIP: '10.0.0.300' }, ['spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']],
    [
      'family mismatch',
      { ports: [{ port: 80 }], clusterIP: '10.0.0.1', ipFamilies: ['IPv6'] },
      ['spec.clusterIPs[0]: Invalid value: "10.0.0.1": expected an IPv6 value as indicated by `ipFamilies[0]`'],
    ],
    [
      'SingleStack with two families',
      { ports: [{ port: 80 }], ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4', 'IPv6'] },
      ['spec.ipFamilyPolicy: Invalid value: "SingleStack": must be \'RequireDualStack\' or \'PreferDualStack\' when multiple IP families are specified'],
    ],
    [
      'two IPv4 clusterIPs',
      { ports: [{ port: 80 }], clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1', '10.0.0.2'], ipFamilyPolicy: 'RequireDualStack' },
      ['spec.clusterIPs: Invalid value: []string{"10.0.0.1", "10.0.0.2"}: may specify no more than one IP for each IP family'],
    ],
    ['duplicate family', { ports: [{ port: 80 }], ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv4'] }, ['spec.ipFamilies[1]: Duplicate value: "IPv4"']],
    [
      'source ranges on ClusterIP and a bad CIDR',
      { ports: [{ port: 80 }], loadBalancerSourceRanges: ['10.0.0.0/33'] },
      [
        "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'",
        'spec.LoadBalancerSourceRanges[0]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      ],
    ],
    [
      'loopback externalIP',
      { ports: [{ port: 80 }], externalIPs: ['127.0.0.1'] },
      ['spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'],
    ],
    ['LB headless', { type: 'LoadBalancer', clusterIP: 'None', ports: [{ port: 80 }] }, ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for LoadBalancer services']],
    ['NodePort headless', { type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] }, ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services']],
    ['clusterIPs out of step', { clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.2'], ports: [{ port: 80 }] }, ['spec.clusterIPs: Invalid value: []string{"10.0.0.2"}: first value must match `clusterIP`']],
    ['None not alone', { clusterIP: 'None', clusterIPs: ['None', '10.0.0.1'], ports: [{ port: 80 }] }, ['spec.clusterIPs: Invalid value: []string{"None", "10.0.0.1"}: \'None\' must be the first and only value']],
    [
      'source-ranges annotation on a ClusterIP service',
      { ports: [{ port: 80 }] },
      ["metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Forbidden: may only be used when `type` is 'LoadBalancer'"],
    ],
    ['LB eTP Local needs healthCheckNodePort', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }, ['spec.healthCheckNodePort: Required value']],
    ['selector values', { ports: [{ port: 80 }], selector: { app: 'a b' } }, [
      "spec.selector: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]],
  ];
  it.each(cases)('%s', (what, spec, want) => {
    const annotations = what.startsWith('source-ranges') ? { annotations: { 'service.beta.kubernetes.io/load-balancer-source-ranges': '10.0.0.0/8' } } : {};
    expect(messages(svc(spec, 'web', annotations))).toEqual(want);
  });

  it('status writes: load-balancer ingress only on LoadBalancers, ipMode with ip', () => {
    const lb = svc({ type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }] }, 'web', { uid: 'u' }) as unknown as { status?: unknown };
    const withStatus = (status: unknown) => ({ ...(lb as object), status }) as unknown as KubeObject;
    expect(validateStatusUpdate(services, withStatus({ loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }, { hostname: 'lb.example.com' }] } }), lb as KubeObject)).toEqual([]);
    expect(validateStatusUpdate(services, withStatus({ loadBalancer: { ingress: [{ ip: '192.0.2.1' }, { hostname: '192.0.2.2', ipMode: 'VIP' }] } }), lb as KubeObject).map(formatFieldError)).toEqual([
      'status.loadBalancer.ingress[0].ipMode: Required value: must be specified when `ip` is set',
      'status.loadBalancer.ingress[1].ipMode: Forbidden: may not be specified when `ip` is not set',
      'status.loadBalancer.ingress[1].hostname: Invalid value: "192.0.2.2": must be a DNS name, not an IP address',
    ]);
    const cip = svc({ ports: [{ port: 80 }] }, 'web', { uid: 'u' });
    expect(validateStatusUpdate(services, { ...cip, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }] } } } as KubeObject, cip).map(formatFieldError)).toEqual([
      "status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'",
    ]);
  });

  it('names are DNS-1035 labels', () => {
    expect(messages(svc({ ports: [{ port: 80 }] }, 'Foo'))).toEqual([
      `metadata.name: Invalid value: "Foo": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    expect(messages(svc({ ports: [{ port: 80 }] }, '1abc'))[0]).toMatch(/^metadata\.name: Invalid value: "1abc": a DNS-1035 label/);
    expect(messages(svc({ ports: [{ port: 80 }] }, ''))).toEqual(['metadata.name: Required value: name or generateName is required']);
  });

  it('skips healthCheckNodePort before allocation', () => {
    expect(messages(svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }), undefined, { beforeAllocation: true })).toEqual([]);
  });

  it('clusterIP may not change, except to or from ExternalName', () => {
    const old = svc({ clusterIP: '10.96.0.5', ports: [{ port: 80 }] }, 'web', { uid: 'u1', resourceVersion: '5' });
    const changed = svc({ clusterIP: '10.96.0.6', clusterIPs: ['10.96.0.5'], ports: [{ port: 80 }] }, 'web', { uid: 'u1', resourceVersion: '5' });
    normalizeClusterIPs(changed, old);
    expect(messages(changed, old)).toEqual(['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.6"}: may not change once set']);
    const toExternal = svc({ type: 'ExternalName', externalName: 'x.example' }, 'web', { uid: 'u1' });
    expect(messages(toExternal, old)).toEqual([]);
    // Releasing the secondary IP needs SingleStack.
    const dual = svc({ clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5', 'fd00::5'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'PreferDualStack', ports: [{ port: 80 }] }, 'web', { uid: 'u1' });
    const single = svc({ clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'PreferDualStack', ports: [{ port: 80 }] }, 'web', { uid: 'u1' });
    expect(messages(single, dual)).toEqual([
      'spec.ipFamilyPolicy: Invalid value: "PreferDualStack": must be set to \'SingleStack\' when releasing the secondary clusterIP',
      'spec.ipFamilyPolicy: Invalid value: "PreferDualStack": must be set to \'SingleStack\' when releasing the secondary ipFamily',
    ]);
    (single as unknown as { spec: { ipFamilyPolicy: string } }).spec.ipFamilyPolicy = 'SingleStack';
    expect(messages(single, dual)).toEqual([]);
    const same = svc({ clusterIP: '10.96.0.5', ports: [{ port: 8080 }] }, 'web', { uid: 'u1' });
    expect(messages(same, old)).toEqual([]);
  });

  it('metadata is immutable where upstream says so', () => {
    const old = svc({ ports: [{ port: 80 }] }, 'web', { uid: 'u1' });
    const renamed = svc({ ports: [{ port: 80 }] }, 'web2', { uid: 'u2' });
    expect(messages(renamed, old)).toEqual(['metadata.name: Invalid value: "web2": field is immutable', 'metadata.uid: Invalid value: "u2": field is immutable']);
  });

  it('formats the 422 Status as kube-apiserver does', () => {
    const one = validateObject(services, svc({ ports: [{ port: 0, targetPort: 8080 }] }));
    expect(invalidMessage('Service', 'web', one)).toBe('Service "web" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive');
    const two = validateObject(services, svc({ ports: [{ port: 0 }, { port: 70000 }] }));
    expect(invalidMessage('Service', 'web', two)).toBe(
      'Service "web" is invalid: [spec.ports[0].name: Required value, spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[1].name: Required value, spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive, spec.ports[1].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive]',
    );
    const st = invalidStatus('Service', 'web', one);
    expect(st).toMatchObject({
      kind: 'Status',
      code: 422,
      reason: 'Invalid',
      details: { name: 'web', kind: 'Service', causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be between 1 and 65535, inclusive', field: 'spec.ports[0].port' }] },
    });
    expect(invalidMessage('Ingress', 'x', [], 'networking.k8s.io')).toBe('Ingress.networking.k8s.io "x" is invalid');
  });

  it('does not throw on wrongly typed input', () => {
    const weird = { metadata: { name: 'w', namespace: 'd', labels: { a: 5 } }, spec: { ports: 'x', selector: 3, clusterIPs: [1], externalIPs: [null], type: 7 } } as never;
    expect(() => validateObject(services, weird)).not.toThrow();
    expect(validateObject(services, weird).length).toBeGreaterThan(0);
  });
});
