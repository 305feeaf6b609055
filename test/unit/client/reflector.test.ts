import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigMap } from '../../../src/api/types.js';
import { resourceFor } from '../../../src/api/resources.js';
import { RestClient } from '../../../src/client/rest.js';
import { ApiInformerFactory } from '../../../src/client/api-informers.js';
import { waitFor } from '../../helpers/cli.js';
import { ScriptedApiServer } from './scripted-apiserver.js';

const configmaps = resourceFor('', 'configmaps')!;

let server: ScriptedApiServer;
let client: RestClient;
let factory: ApiInformerFactory;

beforeEach(async () => {
  server = new ScriptedApiServer();
  await server.start();
  client = new RestClient({ server: server.url, namespace: 'default', source: 'test' }, { timeoutMs: 5000 });
  factory = new ApiInformerFactory(client, { namespace: 'default', reflector: { pageSize: 2, backoff: { initialMs: 20, maxMs: 200 } } });
});

afterEach(async () => {
  await factory.stop();
  await client.close();
  await server.stop();
});

function recorder(): { log: string[]; handler: Parameters<ReturnType<ApiInformerFactory['informerFor']>['addEventHandler']>[0] } {
  const log: string[] = [];
  return {
    log,
    handler: {
      onAdd: (o) => log.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
      onUpdate: (a, b) => log.push(`update ${a.metadata.name}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
      onDelete: (o) => log.push(`delete ${o.metadata.name}`),
    },
  };
}

function cacheState(inf: { list(): ConfigMap[] }): string[] {
  return inf.list().map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
}

function serverState(): string[] {
  return [...server.objects.values()].map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
}

const watchRequests = (): URL[] => server.requests.filter((u) => u.searchParams.get('watch') === 'true');
const listRequests = (): URL[] => server.requests.filter((u) => u.searchParams.get('watch') !== 'true');

describe('Reflector against a scripted server', () => {
  it('lists in pages from resourceVersion=0, then watches from the list RV with bookmarks and a timeout in [300,600)', async () => {
    for (const n of ['a', 'b', 'c', 'd', 'e']) server.write('ADDED', n);
    const inf = factory.informerFor<ConfigMap>('', 'configmaps');
    await factory.start();
    await inf.synced();
    expect(cacheState(inf)).toEqual(serverState());
    expect(inf.get('default/a')?.kind).toBe('ConfigMap');
    const lists = listRequests();
    expect(lists[0]!.searchParams.get('resourceVersion')).toBe('0');
    expect(lists[0]!.searchParams.get('limit')).toBe('2');
    expect(lists.length).toBe(3);
    expect(lists.slice(1).every((u) => u.searchParams.has('continue') && !u.searchParams.has('resourceVersion'))).toBe(true);
    await waitFor(() => server.watchCount === 1, { what: 'watch' });
    const w = watchRequests()[0]!.searchParams;
    expect(w.get('resourceVersion')).toBe(String(server.rv));
    expect(w.get('allowWatchBookmarks')).toBe('true');
    const t = Number(w.get('timeoutSeconds'));
    expect(t >= 300 && t < 600).toBe(true);
  });

  it('applies watch events and advances its resourceVersion on bookmarks', async () => {
    server.write('ADDED', 'a');
    const inf = factory.informerFor<ConfigMap>('', 'configmaps');
    const { log, handler } = recorder();
    inf.addEventHandler(handler);
    await factory.start();
    await inf.synced();
    await waitFor(() => server.watchCount === 1);
    server.write('ADDED', 'b');
    server.write('MODIFIED', 'a', { k: 'v' });
    server.write('DELETED', 'b');
    await waitFor(() => log.length === 4, { what: 'events' });
    expect(log).toEqual(['add a@2', 'add b@3', 'update a@2->4', 'delete b']);
    server.rv += 10;
    server.bookmark();
    await waitFor(() => inf.reflector.lastSyncResourceVersion === String(server.rv), { what: 'bookmark' });
    expect(inf.reflector.stats.bookmarks).toBe(1);
  });

  it('after a cut connection, resumes the watch from the last RV seen without relisting and without repeating events', async () => {
    server.write('ADDED', 'a');
    const inf = factory.informerFor<ConfigMap>('', 'configmaps');
    const { log, handler } = recorder();
    inf.addEventHandler(handler);
    await factory.start();
    await waitFor(() => server.watchCount === 1);
    server.write('ADDED', 'b');
    await waitFor(() => log.length === 2);
    server.failWatches.push(503, 503);
    server.cutWatches();
    // the cache is untouched while the server is away
    expect(cacheState(inf)).toEqual(['a@2', 'b@3']);
    server.write('MODIFIED', 'a');
    server.write('ADDED', 'c');
    await waitFor(() => server.watchCount === 1, { what: 're-watch' });
    await waitFor(() => log.length === 4, { what: 'events after reconnect' });
    expect(log).toEqual(['add a@2', 'add b@3', 'update a@2->4', 'add c@5']);
    expect(listRequests().length).toBe(1);
    expect(watchRequests().at(-1)!.searchParams.get('resourceVersion')).toBe('3');
    expect(inf.reflector.stats.watchErrors).toBeGreaterThanOrEqual(2);
    expect(cacheState(inf)).toEqual(serverState());
  });

  it('on 410 in the stream, relists from the last RV and delivers only the differences', async () => {
    for (const n of ['a', 'b', 'c']) server.write('ADDED', n);
    const inf = factory.informerFor<ConfigMap>('', 'configmaps');
    const { log, handler } = recorder();
    inf.addEventHandler(handler);
    await factory.start();
    await waitFor(() => server.watchCount === 1);
    log.length = 0;
    // changes the watcher never sees: the stream is expired, history compacted
    server.cutWatches();
    server.failWatches.push(503);
    server.write('DELETED', 'a');
    server.write('MODIFIED', 'b');
    server.write('ADDED', 'd');
    server.compact();
    await waitFor(() => inf.reflector.stats.expiredRelists === 1, { what: 'relist after 410' });
    await waitFor(() => log.length === 3);
    expect(log.sort()).toEqual(['add d@7', 'delete a', 'update b@3->6']);
    const relist = listRequests().at(-1)!.searchParams;
    expect(relist.get('resourceVersion')).toBe('4');
    expect(relist.has('limit')).toBe(false);
    expect(cacheState(inf)).toEqual(serverState());
  });

  it('when the relist from its RV is itself 410, lists again from "" (a consistent read)', async () => {
    server.write('ADDED', 'a');
    const inf = factory.informerFor<ConfigMap>('', 'configmaps');
    await factory.start();
    await waitFor(() => server.watchCount === 1);
    server.failLists.push(410);
    server.compact();
    server.write('ADDED', 'b');
    server.expireWatches();
    await waitFor(() => cacheState(inf).length === 2, { what: 'relist' });
    const rvs = listRequests().map((u) => u.searchParams.get('resourceVersion'));
    expect(rvs).toEqual(['0', '3', null]);
    expect(cacheState(inf)).toEqual(serverState());
  });

  it('when the server is behind its RV (504 ResourceVersionTooLarge), lists afresh instead of retrying that RV', async () => {
    server.write('ADDED', 'a');
    const inf = factory.informerFor<ConfigMap>('', 'configmaps');
    await factory.start();
    await waitFor(() => server.watchCount === 1);
    server.failWatches.push(504);
    server.cutWatches();
    await waitFor(() => listRequests().length === 2, { what: 'relist' });
    expect(listRequests()[1]!.searchParams.get('resourceVersion')).toBeNull();
    await waitFor(() => server.watchCount === 1, { what: 'watch again' });
    expect(cacheState(inf)).toEqual(serverState());
  });

  it('backs off on server errors during the first list and syncs once the server answers', async () => {
    server.write('ADDED', 'a');
    server.failLists.push(500, 500, 500);
    const inf = factory.informerFor<ConfigMap>('', 'configmaps');
    await factory.start();
    await inf.synced();
    expect(listRequests().length).toBe(4);
    expect(inf.reflector.stats.watchErrors).toBe(3);
    expect(cacheState(inf)).toEqual(serverState());
  });

  it('passes label and field selectors on list and watch', async () => {
    const inf = factory.informerFor<ConfigMap>('', 'configmaps', { labelSelector: 'app=web', fieldSelector: 'metadata.name!=x' });
    await factory.start();
    await inf.synced();
    await waitFor(() => server.watchCount === 1);
    for (const u of server.requests) {
      expect(u.searchParams.get('labelSelector')).toBe('app=web');
      expect(u.searchParams.get('fieldSelector')).toBe('metadata.name!=x');
    }
    expect(factory.informerFor('', 'configmaps', { labelSelector: 'app=web', fieldSelector: 'metadata.name!=x' })).toBe(inf);
    expect(factory.informerFor('', 'configmaps')).not.toBe(inf);
  });

  it('waitForCacheSync resolves true once every informer listed, false when given up on first', async () => {
    factory.informerFor('', 'configmaps');
    await factory.start();
    expect(await factory.waitForCacheSync()).toBe(true);
    const f = new ApiInformerFactory(client, { namespace: 'default', reflector: { backoff: { initialMs: 50, maxMs: 50 } } });
    server.failLists.push(...Array<number>(1000).fill(500));
    f.informerFor('', 'configmaps');
    await f.start();
    expect(await f.waitForCacheSync(AbortSignal.timeout(300))).toBe(false);
    await f.stop();
  });

  it('stop() ends a reflector that is waiting out a backoff', async () => {
    const f = new ApiInformerFactory(client, { namespace: 'default', reflector: { backoff: { initialMs: 60_000, maxMs: 60_000 } } });
    server.failLists.push(500);
    f.informerFor('', 'configmaps');
    await f.start();
    await waitFor(() => listRequests().length === 1);
    await f.stop();
    expect(listRequests().length).toBe(1);
  });
});
