// The informer transforms of trim.ts keep every field the record index reads: the same
// objects, whole or trimmed, give byte-identical answers to every name and type.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readObjectsFile } from '../../../src/api/objects-file.js';
import type { KubeObject } from '../../../src/api/types.js';
import { FileInformerFactory } from '../../../src/client/file-informers.js';
import type { StoreInformer } from '../../../src/client/informer.js';
import { LAST_APPLIED_ANNOTATION } from '../../../src/client/transform.js';
import { parseConfig } from '../../../src/dns/config.js';
import { ClusterDns } from '../../../src/dns/setup.js';

const FIXTURE = fileURLToPath(new URL('./fixture.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kp-dns-trim-'));
const running: ClusterDns[] = [];

/** The fixture as the API would return it: managedFields, last-applied, status, more metadata. */
function asFromTheApi(o: KubeObject, i: number): KubeObject {
  const copy = JSON.parse(JSON.stringify(o)) as KubeObject & Record<string, unknown>;
  copy.metadata = {
    ...copy.metadata,
    uid: `uid-${i}`,
    resourceVersion: String(100 + i),
    creationTimestamp: '2026-11-23T10:00:00Z',
    annotations: { ...copy.metadata.annotations, [LAST_APPLIED_ANNOTATION]: JSON.stringify(o), 'example.com/note': 'x'.repeat(200) },
    managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:annotations': {} }, 'f:spec': { 'f:ports': {} } } }],
  } as KubeObject['metadata'];
  if (copy.kind === 'Service') copy.status = { loadBalancer: {} };
  return copy;
}

async function start(trimObjects: boolean, file: string): Promise<ClusterDns> {
  const config = parseConfig(`cluster.local in-addr.arpa ip6.arpa:53 {\n  kubernetes cluster.local in-addr.arpa ip6.arpa {\n    pods verified\n    endpoint_pod_names\n  }\n}\n`);
  const dns = new ClusterDns({ config, informers: new FileInformerFactory(file), bind: { host: '127.0.0.1', port: 0 }, nsAddrs: ['127.0.0.1'], healthAddr: '', readyAddr: '', metricsAddr: '', trimObjects });
  running.push(dns);
  await dns.opts.informers.start();
  return dns;
}

let whole: ClusterDns;
let trimmed: ClusterDns;

beforeAll(async () => {
  const file = join(dir, 'objects.json');
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: readObjectsFile(FIXTURE).map(asFromTheApi) }));
  whole = await start(false, file);
  trimmed = await start(true, file);
});

afterAll(async () => {
  for (const d of running) await d.stop({ lameduck: false });
  rmSync(dir, { recursive: true, force: true });
});

describe('DNS informer trimming', () => {
  it('answers every name and type exactly as the whole objects do', async () => {
    const objects = readObjectsFile(FIXTURE);
    const names = new Set<string>(['cluster.local', 'dns-version.cluster.local', 'ns.dns.cluster.local', 'testns.svc.cluster.local']);
    for (const o of objects) {
      const ns = o.metadata.namespace ?? 'default';
      if (o.kind === 'Service') {
        names.add(`${o.metadata.name}.${ns}.svc.cluster.local`);
        names.add(`_http._tcp.${o.metadata.name}.${ns}.svc.cluster.local`);
      }
    }
    for (const host of ['web-0.hdls1', 'six.hdls6', 'hdls1-pod-3.hdls1', 'starting.hdls-pub']) names.add(`${host}.testns.svc.cluster.local`);
    for (const ip of ['1.0.0.10', '2.0.0.10', '10.1.0.10', '1.1.0.10']) names.add(`${ip}.in-addr.arpa`);
    names.add('10-1-0-10.testns.pod.cluster.local');
    let compared = 0;
    for (const name of names)
      for (const type of ['A', 'AAAA', 'SRV', 'PTR', 'CNAME', 'TXT'] as const) {
        const q = dnsPacket.encode({ type: 'query', id: 1, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type }] });
        const a = await whole.servers[0]!.handle(q, 'tcp', '127.0.0.1');
        const b = await trimmed.servers[0]!.handle(q, 'tcp', '127.0.0.1');
        expect(b?.toString('hex'), `${name} ${type}`).toBe(a?.toString('hex'));
        if (a && dnsPacket.decode(a).answers?.length) compared++;
      }
    // Not a vacuous comparison: plenty of the questions had answers.
    expect(compared).toBeGreaterThan(20);
  });

  it('keeps no managedFields, annotations or status in the caches', () => {
    const factory = trimmed.opts.informers as FileInformerFactory;
    const services = factory.informerFor('', 'services') as StoreInformer<KubeObject>;
    const wholeServices = (whole.opts.informers as FileInformerFactory).informerFor('', 'services') as StoreInformer<KubeObject>;
    expect(services.list().length).toBeGreaterThan(5);
    for (const s of services.list()) {
      expect(s.metadata).not.toHaveProperty('managedFields');
      expect(s.metadata).not.toHaveProperty('annotations');
      expect(s).not.toHaveProperty('status');
    }
    const size = (inf: StoreInformer<KubeObject>): number => JSON.stringify(inf.list()).length;
    expect(size(services)).toBeLessThan(size(wholeServices) / 3);
  });
});
