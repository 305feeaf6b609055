import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufDecodeError, ProtobufUnsupportedError, decodeProtobuf, encodeProtobuf, isProtobufContentType } from '../../../src/apiserver/protobuf/index.js';
import { protoRoot, messageName } from '../../../src/apiserver/protobuf/messages.js';
import { unknownFields } from '../../../src/apiserver/openapi/index.js';
import type { KubeObject } from '../../../src/api/types.js';
import { describeE2E } from '../../helpers/e2e.js';
import { startKubectlStub, type KubectlStub } from './kubectl-stub.js';

describe('encodeProtobuf / decodeProtobuf round trip', () => {
  const objects: KubeObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'default',
        uid: '6f1c',
        resourceVersion: '42',
        creationTimestamp: '2026-11-23T05:48:23Z',
        labels: { app: 'web' },
        annotations: { note: 'x' },
        finalizers: ['f'],
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'u', controller: true }],
        managedFields: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '2026-11-23T05:48:23Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:ports': {} } } }],
      },
      spec: {
        type: 'NodePort',
        selector: { app: 'web' },
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 }, { name: 'm', protocol: 'UDP', port: 53, targetPort: 5353 }],
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10'],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
        externalTrafficPolicy: 'Local',
        internalTrafficPolicy: 'Cluster',
        allocateLoadBalancerNodePorts: false,
      },
      status: { loadBalancer: { ingress: [{ ip: '1.2.3.4', ipMode: 'VIP' }] } },
    } as KubeObject,
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-abc', namespace: 'default', generation: 3, labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: false, serving: true, terminating: false }, nodeName: 'n1', zone: 'z', targetRef: { kind: 'Pod', name: 'p', namespace: 'default' } }],
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    } as KubeObject,
    {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'n1', namespace: 'kube-node-lease' },
      spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2026-11-23T05:48:23.123456Z', leaseTransitions: 0 },
    } as KubeObject,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default' },
      spec: {
        nodeName: 'n1',
        containers: [
          {
            name: 'c',
            image: 'nginx',
            args: ['-g', 'daemon off;'],
            ports: [{ containerPort: 80, protocol: 'TCP' }],
            env: [{ name: 'A', value: '1' }],
            resources: { requests: { cpu: '100m', memory: '64Mi' } },
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 5 },
            securityContext: { privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
          },
        ],
        tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }],
        securityContext: { runAsNonRoot: false, runAsUser: 1000, fsGroup: 0, supplementalGroups: [1, 2], seccompProfile: { type: 'RuntimeDefault' }, sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] },
            preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n2'] }] } }],
          },
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'x' } } } }] },
        },
        dnsConfig: { nameservers: ['1.1.1.1'], options: [{ name: 'ndots', value: '2' }] },
        readinessGates: [{ conditionType: 'example.com/ready' }],
        ephemeralContainers: [{ name: 'debug', image: 'busybox', targetContainerName: 'c', stdin: true }],
        terminationGracePeriodSeconds: 30,
      },
      status: { phase: 'Running', podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }], conditions: [{ type: 'Ready', status: 'True' }] },
    } as KubeObject,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'full', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'full' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe'] }] },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
        template: {
          metadata: { labels: { app: 'full' } },
          spec: {
            volumes: [
              { name: 'cache', emptyDir: {} },
              { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
              { name: 'cfg', configMap: { name: 'app-config', items: [{ key: 'a', path: 'a.conf', mode: 420 }], defaultMode: 0 } },
              { name: 'tls', secret: { secretName: 'tls', optional: true } },
              { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
              { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
            ],
            containers: [
              {
                name: 'app',
                image: 'nginx',
                env: [
                  { name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
                  { name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'pw', optional: false } } },
                  { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
                ],
                envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'app-config' } }, { secretRef: { name: 's' } }],
                volumeMounts: [{ name: 'cfg', mountPath: '/etc/app', readOnly: true }],
                livenessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP', httpHeaders: [{ name: 'X', value: 'y' }] }, initialDelaySeconds: 3 },
                readinessProbe: { exec: { command: ['cat', '/ready'] } },
                startupProbe: { grpc: { port: 9000 } },
                lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
              },
            ],
          },
        },
      },
    } as KubeObject,
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'i', namespace: 'default' },
      spec: {
        ingressClassName: 'kubeplane',
        tls: [{ hosts: ['a.example'], secretName: 's' }],
        rules: [{ host: 'a.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
      },
    } as KubeObject,
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', data: { a: Buffer.from('\u0000\u00ffbin').toString('base64') } } as KubeObject,
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDRs: ['10.244.0.0/24'], taints: [{ key: 'k', effect: 'NoSchedule' }] }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.5' }], allocatable: { cpu: '2', pods: '110' } } } as KubeObject,
  ];
  it.each(objects.map((o) => [o.kind, o] as const))('%s survives encode then decode', (_k, obj) => {
    const bytes = encodeProtobuf(obj);
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('k8s\u0000');
    expect(decodeProtobuf(bytes)).toEqual(obj);
  });

  it('refuses, rather than drops, content of fields it has no protobuf schema for', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }], os: { name: 'linux' } } } as KubeObject;
    expect(() => encodeProtobuf(pod)).toThrow(ProtobufUnsupportedError);
    // An empty struct, as kubectl sends for unset ones, decodes as {}.
    const empty = { ...pod, spec: { containers: [{ name: 'c' }], os: {} } } as KubeObject;
    expect(decodeProtobuf(encodeProtobuf(empty))).toEqual(empty);
    // Content there is an error naming the field.
    const root = protoRoot();
    const podType = root.lookupType(messageName('io.k8s.api.core.v1.Pod'));
    const raw = podType.encode(podType.fromObject({ metadata: { name: 'p' }, spec: { os: Buffer.from([0x0a, 0x00]) } })).finish();
    const unknownType = root.lookupType('k8s_Unknown');
    const body = Buffer.concat([Buffer.from('k8s\u0000'), unknownType.encode(unknownType.fromObject({ typeMeta: { apiVersion: 'v1', kind: 'Pod' }, raw })).finish()]);
    expect(() => decodeProtobuf(body)).toThrow('protobuf encoding of PodSpec.os is not supported by this server; send the object as application/json');
  });

  // Field numbers from upstream generated.proto, read with a raw wire parser that knows nothing
  // of the schema table: embedded Go structs are their own message on the wire.
  it.each([
    ['IngressRule embeds IngressRuleValue', { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i' }, spec: { rules: [{ host: 'a', http: { paths: [{ path: '/p', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }] } }, [2, 3, 2, 1, 1, 1], '/p'],
    ['Volume embeds VolumeSource; ConfigMapVolumeSource embeds LocalObjectReference', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }], volumes: [{ name: 'v', configMap: { name: 'cm' } }] } }, [2, 1, 2, 19, 1, 1], 'cm'],
    ['EphemeralContainer embeds the container fields', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }], ephemeralContainers: [{ name: 'dbg', targetContainerName: 'c' }] } }, [2, 34, 1, 1], 'dbg'],
    ['Probe embeds ProbeHandler', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', livenessProbe: { httpGet: { path: '/hz', port: 8080 } } }] } }, [2, 2, 10, 1, 2, 1], '/hz'],
    ['EnvVar valueFrom secretKeyRef embeds LocalObjectReference', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', env: [{ name: 'E', valueFrom: { secretKeyRef: { name: 'sec', key: 'k' } } }] }] } }, [2, 2, 7, 3, 4, 1, 1], 'sec'],
    ['ReplicaSetCondition reason is field 4', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' }, spec: { selector: {} }, status: { replicas: 1, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'Why' }] } }, [3, 6, 4], 'Why'],
  ])('%s', (_n, obj, path, want) => {
    const body = Buffer.from(encodeProtobuf(obj as KubeObject));
    let msg = rawField(rawFields(body.subarray(4)), 2); // runtime.Unknown.raw
    for (const n of path.slice(0, -1)) msg = rawField(rawFields(msg), n);
    expect(rawField(rawFields(msg), path[path.length - 1]!).toString()).toBe(want);
  });

  it('recognises the content type', () => {
    expect(isProtobufContentType('application/vnd.kubernetes.protobuf')).toBe(true);
    expect(isProtobufContentType('application/vnd.kubernetes.protobuf; charset=x')).toBe(true);
    expect(isProtobufContentType('application/json')).toBe(false);
    expect(isProtobufContentType(undefined)).toBe(false);
  });

  it.each([
    ['no magic', Buffer.from('{"kind":"Service"}')],
    ['truncated', Buffer.from([0x6b, 0x38, 0x73])],
    ['garbage after the magic', Buffer.concat([Buffer.from('k8s\u0000'), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2])])],
    ['no type meta', Buffer.concat([Buffer.from('k8s\u0000'), Buffer.from([0x12, 0x00])])],
    ['an unknown kind', Buffer.concat([Buffer.from('k8s\u0000'), Buffer.from([0x0a, 0x0a, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x04, 0x46, 0x72, 0x6f, 0x62])])],
  ])('rejects %s with ProtobufDecodeError', (_n, body) => {
    expect(() => decodeProtobuf(body)).toThrow(ProtobufDecodeError);
  });
});

// A throwaway self-signed P-256 pair (CN=kubeplane-test) for `kubectl create secret tls`, which
// checks that the two match; fixed here so the test needs no openssl.
const TEST_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBiDCCAS+gAwIBAgIUYzjzqXjlk8lXvXAO0ou5lJ7m5/wwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOa3ViZXBsYW5lLXRlc3QwIBcNMjYxMTIzMTA0NTUwWhgPMjEy
NjEwMzAxMDQ1NTBaMBkxFzAVBgNVBAMMDmt1YmVwbGFuZS10ZXN0MFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEZkpqlkbUqx/kBevQFcHjNne1pU5DQ75X7xP7zE7k
cax6QIkkduAbHWIxJRqF4VRigQHJVkF35L2xiW1oevLFEqNTMFEwHQYDVR0OBBYE
FPX0w1oQMdCgpD8poiWlcjukIMp2MB8GA1UdIwQYMBaAFPX0w1oQMdCgpD8poiWl
cjukIMp2MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgflYeTWB5
5Lqs+v9ZsENg9T8jfB+Faga5E4pF4txgtr0CIG3y9x7L3ujFLoHnQyjQIaYK9FvC
Reh9d/jy1ksLscc8
-----END CERTIFICATE-----
`;
const TEST_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg5oafDyLylk21dMKT
WKh5mrj/RgdzkdmuoMFu/n60avGhRANCAARmSmqWRtSrH+QF69AVweM2d7WlTkND
vlfvE/vMTuRxrHpAiSR24BsdYjElGoXhVGKBAclWQXfkvbGJbWh68sUS
-----END PRIVATE KEY-----
`;

for (const minor of ['32', '33']) describeE2E(`decodes what the real kubectl 1.${minor} sends`, { commands: ['kubectl'] }, () => {
  let stub: KubectlStub;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-proto-'));
    writeFileSync(join(dir, 'tls.crt'), TEST_TLS_CERT);
    writeFileSync(join(dir, 'tls.key'), TEST_TLS_KEY);
    stub = await startKubectlStub({
      minor,
      handler: (req, res) => {
        if (req.method !== 'POST') return false;
        try {
          const obj = decodeProtobuf(req.body);
          res.writeHead(201, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(obj));
        } catch (e) {
          res.writeHead(415, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: (e as Error).message, reason: 'UnsupportedMediaType', code: 415 }));
        }
        return true;
      },
    });
  });
  afterAll(async () => {
    await stub?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const commands: string[][] = [
    ['create', 'namespace', 'team-a'],
    ['create', 'configmap', 'cfg', '--from-literal=a=b', '--from-literal=multi=line1\nline2'],
    ['create', 'secret', 'generic', 'gen', '--from-literal=user=admin', '--type=Opaque'],
    ['create', 'secret', 'docker-registry', 'reg', '--docker-server=registry.example', '--docker-username=u', '--docker-password=p'],
    ['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443:8443'],
    ['create', 'service', 'clusterip', 'headless', '--clusterip=None'],
    ['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080'],
    ['create', 'service', 'loadbalancer', 'lb', '--tcp=80:http'],
    ['create', 'service', 'externalname', 'ext', '--external-name=db.example.com'],
    ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '--port=80'],
    ['create', 'deployment', 'idle', '--image=busybox', '--replicas=0', '--', 'sleep', '3600'],
    ['create', 'serviceaccount', 'robot'],
  ];

  it.each(commands.map((c) => [c.slice(0, 3).join(' '), c] as const))('kubectl %s', async (_n, args) => {
    const full = [...args];
    if (args[2] === 'tls') full.push(`--cert=${join(dir, 'tls.crt')}`, `--key=${join(dir, 'tls.key')}`);
    stub.requests.length = 0;
    const run = await stub.kubectl(full);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const post = stub.requests.find((r) => r.method === 'POST');
    expect(post?.headers['content-type']).toBe('application/vnd.kubernetes.protobuf');
    const decoded = decodeProtobuf(post!.body);
    const dash = full.indexOf('--');
    const dry = dash < 0 ? [...full, '--dry-run=client', '-o', 'json'] : [...full.slice(0, dash), '--dry-run=client', '-o', 'json', ...full.slice(dash)];
    const expected = await stub.kubectl(dry);
    expect(expected.code).toBe(0);
    expect(decoded).toEqual(JSON.parse(expected.stdout));
    // The schema knows every field kubectl fills in, so strict field validation accepts them.
    const [group, version] = decoded.apiVersion!.includes('/') ? decoded.apiVersion!.split('/') : ['', decoded.apiVersion!];
    expect(unknownFields({ group: group!, version: version!, kind: decoded.kind! }, decoded)).toEqual([]);
  });

  it('kubectl create secret tls', async () => {
    stub.requests.length = 0;
    const args = ['create', 'secret', 'tls', 'cert', `--cert=${join(dir, 'tls.crt')}`, `--key=${join(dir, 'tls.key')}`];
    expect((await stub.kubectl(args)).code).toBe(0);
    const decoded = decodeProtobuf(stub.requests.find((r) => r.method === 'POST')!.body);
    expect(decoded).toEqual(JSON.parse((await stub.kubectl([...args, '--dry-run=client', '-o', 'json'])).stdout));
    expect((decoded as any).type).toBe('kubernetes.io/tls');
  });
});


// The encoder checked by a real Go decoder: kubectl's typed create accepts protobuf first, so
// the stub answers in protobuf with server-set fields added, and kubectl prints what it decoded.
describeE2E('real kubectl decodes protobuf responses', { commands: ['kubectl'] }, () => {
  let stub: KubectlStub;
  const sent: KubeObject[] = [];
  const T = '2026-11-23T05:48:23Z';

  function asServer(obj: KubeObject): KubeObject {
    const o = JSON.parse(JSON.stringify(obj)) as any;
    o.metadata = {
      ...o.metadata,
      namespace: o.kind === 'Namespace' ? undefined : 'default',
      uid: '0d7c3a55-8a1e-4b8e-9a39-5f1f6f0c1a01',
      resourceVersion: '4711',
      creationTimestamp: T,
      managedFields: [{ manager: 'kubectl-create', operation: 'Update', apiVersion: o.apiVersion, time: T, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {} } } } }],
    };
    if (o.metadata.namespace === undefined) delete o.metadata.namespace;
    if (o.kind === 'Namespace') o.status = { phase: 'Active' };
    if (o.kind === 'Service') {
      Object.assign(o.spec, { clusterIP: '10.96.0.42', clusterIPs: ['10.96.0.42'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster', sessionAffinity: 'None' });
      for (const p of o.spec.ports ?? []) p.protocol ??= 'TCP';
      o.status = { loadBalancer: {} };
    }
    if (o.kind === 'Deployment') {
      o.metadata.generation = 1;
      o.metadata.annotations = { 'deployment.kubernetes.io/revision': '1' };
      o.status = {
        observedGeneration: 1,
        replicas: 2,
        updatedReplicas: 2,
        readyReplicas: 1,
        availableReplicas: 1,
        unavailableReplicas: 1,
        conditions: [{ type: 'Available', status: 'False', lastUpdateTime: T, lastTransitionTime: T, reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }],
      };
    }
    return o as KubeObject;
  }

  beforeAll(async () => {
    stub = await startKubectlStub({
      handler: (req, res) => {
        if (req.method !== 'POST') return false;
        expect(String(req.headers.accept)).toContain('application/vnd.kubernetes.protobuf');
        const obj = asServer(decodeProtobuf(req.body));
        sent.push(obj);
        const body = Buffer.from(encodeProtobuf(obj));
        res.writeHead(201, { 'Content-Type': 'application/vnd.kubernetes.protobuf', 'Content-Length': body.length });
        res.end(body);
        return true;
      },
    });
  });
  afterAll(async () => {
    await stub?.close();
  });

  it.each([
    [['create', 'namespace', 'team-b']],
    [['create', 'configmap', 'cfg', '--from-literal=a=b']],
    [['create', 'secret', 'generic', 'sec', '--from-literal=k=v']],
    [['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080']],
    [['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=80']],
    [['create', 'serviceaccount', 'bot']],
  ])('kubectl %j -o json prints exactly what the server encoded', async (args) => {
    sent.length = 0;
    const out = await stub.kubectl([...args, '-o', 'json', '--show-managed-fields']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(sent).toHaveLength(1);
    expect(JSON.parse(out.stdout)).toEqual(sent[0]);
  });
});

// A minimal protobuf wire reader: (field number, bytes) for length-delimited fields.
function rawFields(buf: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 2) {
      const len = varint();
      out.push([Math.floor(tag / 8), buf.subarray(i, i + len)]);
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

function rawField(fields: [number, Buffer][], n: number): Buffer {
  const f = fields.find(([num]) => num === n);
  if (!f) throw new Error(`field ${n} not present (have ${fields.map(([x]) => x).join(',')})`);
  return f[1];
}
