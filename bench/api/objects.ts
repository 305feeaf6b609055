// What defaulting, validation, selectors and Table rendering cost per request, next to the
// JSON work the API server does on the same objects anyway (the reference column).
//   npx tsx bench/api/objects.ts [count]

import { applyDefaults } from '../../src/api/defaults.js';
import { resourceFor } from '../../src/api/resources.js';
import { checkFieldSelector, fieldsForObject, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../src/api/selectors.js';
import type { KubeObject } from '../../src/api/types.js';
import { validateObject } from '../../src/api/validation/index.js';
import { toTable } from '../../src/apiserver/table.js';

const N = Number(process.argv[2] ?? 10_000);
const services = resourceFor('', 'services')!;
const pods = resourceFor('', 'pods')!;

function service(i: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: `ns-${i % 50}`, labels: { app: `app-${i % 100}`, tier: i % 2 ? 'fe' : 'be' }, resourceVersion: String(i + 1), creationTimestamp: '2026-11-20T00:00:00Z', uid: `uid-${i}` },
    spec: { selector: { app: `app-${i % 100}` }, clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443 }] },
  } as unknown as KubeObject;
}

function pod(i: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: `ns-${i % 50}`, labels: { app: `app-${i % 100}` }, creationTimestamp: '2026-11-20T00:00:00Z' },
    spec: { nodeName: `node-${i % 20}`, containers: [{ name: 'c', image: 'nginx:1.25', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { port: 8080 } } }] },
    status: { phase: 'Running', podIPs: [{ ip: `10.244.${(i >> 8) & 255}.${i & 255}` }], containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }] },
  } as unknown as KubeObject;
}

function median(fn: () => void, runs = 5): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const svcs = Array.from({ length: N }, (_, i) => service(i));
const podList = Array.from({ length: N }, (_, i) => pod(i));
const bodies = svcs.map((s) => JSON.stringify(s));
const podBodies = podList.map((p) => JSON.stringify(p));
let sink = 0;

const rows: [string, number, string, number][] = [];

rows.push([
  `default+validate ${N} Services`,
  median(() => {
    for (const b of bodies) {
      const o = JSON.parse(b) as KubeObject;
      applyDefaults(services, o);
      sink += validateObject(services, o).length;
    }
  }),
  'JSON.parse+stringify (decode/encode)',
  median(() => {
    for (const b of bodies) sink += JSON.stringify(JSON.parse(b)).length;
  }),
]);

rows.push([
  `default+validate ${N} Pods`,
  median(() => {
    for (const b of podBodies) {
      const o = JSON.parse(b) as KubeObject;
      applyDefaults(pods, o);
      sink += validateObject(pods, o).length;
    }
  }),
  'JSON.parse+stringify (decode/encode)',
  median(() => {
    for (const b of podBodies) sink += JSON.stringify(JSON.parse(b)).length;
  }),
]);

const now = new Date();
rows.push([
  `toTable+stringify ${N} Services`,
  median(() => {
    sink += JSON.stringify(toTable(services, svcs, {}, { resourceVersion: '1' }, now)).length;
  }),
  'stringify ServiceList',
  median(() => {
    sink += JSON.stringify({ kind: 'ServiceList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: svcs }).length;
  }),
]);

rows.push([
  `toTable+stringify ${N} Pods`,
  median(() => {
    sink += JSON.stringify(toTable(pods, podList, {}, { resourceVersion: '1' }, now)).length;
  }),
  'stringify PodList',
  median(() => {
    sink += JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: podList }).length;
  }),
]);

const ls = parseLabelSelector('app in (app-1,app-2,app-3),tier!=be,!canary');
const fs = checkFieldSelector(pods, parseFieldSelector('spec.nodeName=node-3,status.phase!=Succeeded,status.phase!=Failed'));
rows.push([
  `label+field selector over ${N} Pods`,
  median(() => {
    for (const p of podList) if (matchesLabels(ls, p.metadata.labels) && matchesFields(fs, fieldsForObject(pods, p))) sink++;
  }),
  'stringify each Pod (watch event encode)',
  median(() => {
    for (const p of podList) sink += JSON.stringify(p).length;
  }),
]);

console.log(`node ${process.version}, ${N} objects, median of 5 runs (sink ${sink % 10})`);
console.log(['work'.padEnd(40), 'ms'.padStart(9), 'per obj µs'.padStart(11), 'reference'.padEnd(40), 'ref ms'.padStart(9), 'ratio'.padStart(7)].join('  '));
for (const [what, ms, ref, refMs] of rows) {
  console.log([what.padEnd(40), ms.toFixed(1).padStart(9), ((ms * 1000) / N).toFixed(2).padStart(11), ref.padEnd(40), refMs.toFixed(1).padStart(9), `${(ms / refMs).toFixed(2)}x`.padStart(7)].join('  '));
}
