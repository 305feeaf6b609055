// Throughput of the request-body paths kubectl exercises: protobuf decode (vs JSON.parse of
// the same object, the reference: what a JSON body costs), strategic merge patch (vs RFC 7386
// merge patch), and server-side apply (vs strategic merge patch of the same change).
// Usage: npx tsx bench/apiserver-compat/codecs.ts [iterations]

import { decodeProtobuf, encodeProtobuf } from '../../src/apiserver/protobuf/index.js';
import { applyMergePatch, applyStrategicMergePatch, serverSideApply, updateManagedFields } from '../../src/apiserver/patch/index.js';
import { unknownFields } from '../../src/apiserver/openapi/index.js';
import { resourceFor } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';

const iterations = Number(process.argv[2] ?? 20000);
const deployments = resourceFor('apps', 'deployments')!;

const deployment = (image: string): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'fe' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'app',
              image,
              ports: [{ containerPort: 8080, name: 'http' }],
              env: Array.from({ length: 8 }, (_, i) => ({ name: `VAR_${i}`, value: `value-${i}` })),
              resources: { requests: { cpu: '100m', memory: '128Mi' } },
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
            },
            { name: 'sidecar', image: 'envoy:1', ports: [{ containerPort: 9901 }] },
          ],
          volumes: [{ name: 'cfg', configMap: { name: 'web' } }],
        },
      },
    },
  }) as KubeObject;

function measure(label: string, fn: () => unknown): number {
  for (let i = 0; i < Math.min(iterations, 2000); i++) fn(); // warm up
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpu0);
  // CPU time as well as wall time: on a shared machine the wall clock mostly measures neighbours.
  const cpuPerOp = (cpu.user + cpu.system) / iterations;
  const perSecond = 1e6 / cpuPerOp;
  console.log(`${label.padEnd(52)} ${perSecond.toFixed(0).padStart(8)} ops/s-cpu  ${cpuPerOp.toFixed(1).padStart(7)} µs cpu/op  ${(ns / iterations / 1000).toFixed(1).padStart(7)} µs wall/op`);
  return perSecond;
}

function pair(what: string, reference: [string, () => unknown], ours: [string, () => unknown]): void {
  console.log(`-- ${what}`);
  const ref = measure(`reference: ${reference[0]}`, reference[1]);
  const got = measure(ours[0], ours[1]);
  console.log(`${'ratio (ours / reference, by CPU time)'.padEnd(52)} ${(got / ref).toFixed(2).padStart(8)}x\n`);
}

const obj = deployment('nginx:1');
const json = Buffer.from(JSON.stringify(obj));
const proto = encodeProtobuf(obj);
console.log(`Deployment body: ${json.length} bytes JSON, ${proto.length} bytes protobuf; ${iterations} iterations\n`);

pair('decode a request body', ['JSON.parse', () => JSON.parse(json.toString())], ['decodeProtobuf', () => decodeProtobuf(proto)]);

const smp = { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } } } };
const merge = { spec: { template: { spec: { containers: [{ ...(obj as any).spec.template.spec.containers[0], image: 'nginx:2' }, (obj as any).spec.template.spec.containers[1]] } } } };
pair('change one image', ['applyMergePatch (lists replaced)', () => applyMergePatch(obj, merge)], ['applyStrategicMergePatch (by name)', () => applyStrategicMergePatch(deployments, obj, smp)]);

const time = '2026-11-23T10:00:00Z';
const live = serverSideApply(deployments, undefined, obj, { fieldManager: 'kubectl', force: false, time });
const next = deployment('nginx:2');
pair(
  'apply a changed image with ownership tracking',
  ['applyStrategicMergePatch', () => applyStrategicMergePatch(deployments, live, smp)],
  ['serverSideApply (merge + managedFields + conflicts)', () => serverSideApply(deployments, live, next, { fieldManager: 'kubectl', force: false, time })],
);

pair(
  'record an ordinary write',
  ['JSON.parse(JSON.stringify(obj)) (the copy every write makes)', () => JSON.parse(JSON.stringify(live))],
  ['updateManagedFields', () => updateManagedFields(deployments, live, applyStrategicMergePatch(deployments, live, smp), { manager: 'kubectl-edit', operation: 'Update', time })],
);

pair('strict field validation', ['JSON.parse', () => JSON.parse(json.toString())], ['unknownFields', () => unknownFields(deployments, obj)]);
