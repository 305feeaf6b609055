import { describe, expect, it } from 'vitest';
import type { ConfigMap } from '../../../src/api/types.js';
import { labelIndex, Store } from '../../../src/client/store.js';

function cm(name: string, rv: string, ns = 'default', labels?: Record<string, string>): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, resourceVersion: rv, labels } };
}

function recorder(store: Store<ConfigMap>): string[] {
  const log: string[] = [];
  store.addEventHandler({
    onAdd: (o, initial) => log.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}${initial ? ' initial' : ''}`),
    onUpdate: (a, b) => log.push(`update ${a.metadata.name}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
    onDelete: (o) => log.push(`delete ${o.metadata.name}@${o.metadata.resourceVersion}`),
  });
  return log;
}

describe('Store', () => {
  it('replace() delivers only the differences from the previous content', () => {
    const s = new Store<ConfigMap>();
    const log = recorder(s);
    s.replace([cm('a', '1'), cm('b', '2'), cm('c', '3')]);
    s.markSynced();
    expect(log.splice(0)).toEqual(['add a@1 initial', 'add b@2 initial', 'add c@3 initial']);
    s.replace([cm('a', '1'), cm('b', '7'), cm('d', '8')]);
    expect(log.sort()).toEqual(['add d@8', 'delete c@3', 'update b@2->7']);
    expect(s.keys().sort()).toEqual(['default/a', 'default/b', 'default/d']);
  });

  it('ignores a watch event for a resourceVersion it already has', () => {
    const s = new Store<ConfigMap>();
    const log = recorder(s);
    s.upsert(cm('a', '1'));
    s.upsert(cm('a', '1'));
    s.remove(cm('missing', '3'));
    expect(log).toEqual(['add a@1 initial']);
  });

  it('keeps namespace and custom indexes in step with updates and deletes', () => {
    const s = new Store<ConfigMap>();
    s.addIndexer('app', (o) => (o.metadata.labels?.app ? [o.metadata.labels.app] : []));
    s.upsert(cm('a', '1', 'ns1', { app: 'web' }));
    s.upsert(cm('b', '2', 'ns2', { app: 'web' }));
    expect(s.byIndex('app', 'web').map((o) => o.metadata.name).sort()).toEqual(['a', 'b']);
    expect(s.byIndex('namespace', 'ns1').map((o) => o.metadata.name)).toEqual(['a']);
    s.upsert(cm('a', '3', 'ns1', { app: 'db' }));
    expect(s.byIndex('app', 'web').map((o) => o.metadata.name)).toEqual(['b']);
    s.remove(cm('b', '4', 'ns2'));
    expect(s.byIndex('app', 'web')).toEqual([]);
    expect(s.byIndex('app', 'db').map((o) => o.metadata.name)).toEqual(['a']);
  });

  it('labelIndex finds objects by the value of one label', () => {
    const s = new Store<ConfigMap>();
    s.addIndexer('svc', labelIndex('kubernetes.io/service-name'));
    s.upsert(cm('a', '1', 'ns', { 'kubernetes.io/service-name': 'web' }));
    s.upsert(cm('b', '2', 'ns'));
    expect(s.byIndex('svc', 'web').map((o) => o.metadata.name)).toEqual(['a']);
    expect(s.byIndex('svc', '')).toEqual([]);
  });

  it('a throwing handler does not stop the others or the cache update', () => {
    const s = new Store<ConfigMap>();
    s.addEventHandler({ onAdd: () => { throw new Error('boom'); } });
    const log = recorder(s);
    s.upsert(cm('a', '1'));
    expect(log).toEqual(['add a@1 initial']);
    expect(s.get('default/a')?.metadata.resourceVersion).toBe('1');
  });

  it('synced() resolves once markSynced() is called', async () => {
    const s = new Store<ConfigMap>();
    let done = false;
    const p = s.synced().then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    s.markSynced();
    await p;
    expect(s.hasSynced()).toBe(true);
  });
});
