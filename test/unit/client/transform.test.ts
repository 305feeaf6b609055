import { describe, expect, it } from 'vitest';
import type { ConfigMap, Service } from '../../../src/api/types.js';
import { Store } from '../../../src/client/store.js';
import { chainTransforms, keepFields, LAST_APPLIED_ANNOTATION, stripManagedFields } from '../../../src/client/transform.js';

const svc = (): Service =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: 'u1',
      resourceVersion: '7',
      labels: { app: 'web' },
      annotations: { [LAST_APPLIED_ANNOTATION]: '{"big":"blob"}', keep: 'me' },
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
    },
    spec: { type: 'ClusterIP', clusterIP: '10.0.0.1', selector: { app: 'web' }, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] },
    status: { loadBalancer: {} },
  }) as unknown as Service;

describe('stripManagedFields', () => {
  it('drops managedFields and the last-applied annotation, keeps the rest, leaves the input alone', () => {
    const o = svc();
    const out = stripManagedFields(o);
    expect(out.metadata).toEqual({ name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7', labels: { app: 'web' }, annotations: { keep: 'me' } });
    expect(out.spec).toBe(o.spec);
    expect((o.metadata as { managedFields?: unknown }).managedFields).toBeDefined();
  });
  it('removes an annotations map left empty, and returns objects without either as they are', () => {
    const o = svc();
    o.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: 'x' };
    expect(stripManagedFields(o).metadata.annotations).toBeUndefined();
    const plain = { metadata: { name: 'a' } };
    expect(stripManagedFields(plain)).toBe(plain);
  });
});

describe('keepFields', () => {
  it('keeps the listed fields, each element of listed arrays, the listed keys of maps, and identity', () => {
    const keep = keepFields<Service>({ metadata: { labels: { app: true, missing: true } }, spec: { clusterIP: true, ports: [{ name: true, port: true }] } });
    expect(keep(svc())).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7', labels: { app: 'web' } },
      spec: { clusterIP: '10.0.0.1', ports: [{ name: 'http', port: 80 }] },
    });
  });
  it('ignores values of the wrong shape instead of failing', () => {
    const keep = keepFields<Service>({ spec: { ports: [{ name: true }] } });
    const o = svc();
    (o.spec as unknown as { ports: unknown }).ports = 'not a list';
    expect(keep(o).spec).toEqual({});
  });
  it('chains with other transforms', () => {
    const t = chainTransforms<Service>(stripManagedFields, keepFields({ metadata: true }));
    expect(t(svc()).metadata.annotations).toEqual({ keep: 'me' });
  });
});

describe('Store.setTransform', () => {
  const cm = (name: string, rv: string, data: Record<string, string>): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion: rv }, data }) as ConfigMap;
  it('transforms objects from upserts and relists before handlers and the cache see them', () => {
    const s = new Store<ConfigMap>();
    s.setTransform(keepFields<ConfigMap>({ data: { kept: true } }));
    const seen: ConfigMap[] = [];
    s.addEventHandler({ onAdd: (o) => seen.push(o), onUpdate: (_, o) => seen.push(o) });
    s.upsert(cm('a', '1', { kept: '1', dropped: 'x' }));
    s.replace([cm('a', '2', { kept: '2', dropped: 'y' }), cm('b', '1', { dropped: 'z' })]);
    expect(seen.map((o) => o.data)).toEqual([{ kept: '1' }, { kept: '2' }, {}]);
    expect(s.get('ns/a')!.data).toEqual({ kept: '2' });
    // An unchanged relist delivers nothing.
    s.replace([cm('a', '2', { kept: '2' }), cm('b', '1', {})]);
    expect(seen).toHaveLength(3);
  });
  it('caches the object as received when the transform throws', () => {
    const s = new Store<ConfigMap>();
    s.setTransform(() => {
      throw new Error('boom');
    });
    s.upsert(cm('a', '1', { x: '1' }));
    expect(s.get('ns/a')!.data).toEqual({ x: '1' });
  });
  it('refuses a transform once objects are cached', () => {
    const s = new Store<ConfigMap>();
    s.upsert(cm('a', '1', {}));
    expect(() => s.setTransform((o) => o)).toThrow(/before the informer receives objects/);
  });
});

describe('transform on API-backed informers', () => {
  it('applies to every listed page and watch event, once per object', async () => {
    const { ScriptedApiServer } = await import('./scripted-apiserver.js');
    const { RestClient } = await import('../../../src/client/rest.js');
    const { ApiInformerFactory } = await import('../../../src/client/api-informers.js');
    const { waitFor } = await import('../../helpers/cli.js');
    const server = new ScriptedApiServer();
    await server.start();
    const client = new RestClient({ server: server.url, namespace: 'default', source: 'test' }, { timeoutMs: 5000 });
    const factory = new ApiInformerFactory(client, { namespace: 'default', reflector: { pageSize: 2, backoff: { initialMs: 20, maxMs: 200 } } });
    try {
      for (const n of ['a', 'b', 'c', 'd', 'e']) server.write('ADDED', n);
      const inf = factory.informerFor<ConfigMap>('', 'configmaps');
      let calls = 0;
      inf.setTransform((o) => {
        calls++;
        return { ...o, metadata: { ...o.metadata, labels: { trimmed: 'yes' } } };
      });
      await factory.start();
      await inf.synced();
      expect(inf.list().map((o) => o.metadata.labels)).toEqual(Array(5).fill({ trimmed: 'yes' }));
      expect(calls).toBe(5);
      server.write('ADDED', 'f');
      await waitFor(() => inf.get('default/f'));
      expect(inf.get('default/f')!.metadata.labels).toEqual({ trimmed: 'yes' });
      expect(calls).toBe(6);
    } finally {
      await factory.stop();
      await client.close();
      await server.stop();
    }
  });
});
