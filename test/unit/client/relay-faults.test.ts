import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigMap } from '../../../src/api/types.js';
import { RestClient } from '../../../src/client/rest.js';
import { ApiInformerFactory } from '../../../src/client/api-informers.js';
import { waitFor } from '../../helpers/cli.js';
import { ScriptedApiServer } from './scripted-apiserver.js';
import { TcpRelay } from '../../integration/client/tcp-relay.js';

// Network faults between the informer and a scripted server, through a loopback TCP relay.
let server: ScriptedApiServer;
let relay: TcpRelay;
let client: RestClient;
let factory: ApiInformerFactory;

beforeEach(async () => {
  server = new ScriptedApiServer();
  await server.start();
  relay = new TcpRelay(Number(new URL(server.url).port));
  await relay.start();
  client = new RestClient({ server: `http://127.0.0.1:${relay.port}`, namespace: 'default', source: 'test' }, { timeoutMs: 5000 });
  factory = new ApiInformerFactory(client, { namespace: 'default', reflector: { backoff: { initialMs: 20, maxMs: 200 } } });
});

afterEach(async () => {
  await factory.stop();
  await client.close();
  await relay.stop();
  await server.stop();
});

const state = (objs: ConfigMap[]) => objs.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();

describe('informer through a faulty connection', () => {
  it('a watch cut in the middle of an event loses nothing and applies nothing twice', async () => {
    server.write('ADDED', 'a');
    const inf = factory.informerFor<ConfigMap>('', 'configmaps');
    const seen: string[] = [];
    inf.addEventHandler({ onAdd: (o) => seen.push(`add ${o.metadata.name}`), onUpdate: (_a, b) => seen.push(`update ${b.metadata.name}@${b.metadata.resourceVersion}`) });
    await factory.start();
    await waitFor(() => server.watchCount === 1, { what: 'watch' });
    const cut = relay.cutNextChunkMidway(4000);
    server.write('MODIFIED', 'a', { big: 'ü'.repeat(5000) });
    expect(await cut).toBeGreaterThan(0);
    server.write('ADDED', 'b');
    await waitFor(() => seen.length === 3, { what: 'events after the cut' });
    expect(seen).toEqual(['add a', 'update a@3', 'add b']);
    expect(state(inf.list())).toEqual(state([...server.objects.values()] as ConfigMap[]));
    expect(inf.reflector.stats.lists).toBe(1);
  });

  it('a throttled (slow) watch connection still converges to the server state', async () => {
    const inf = factory.informerFor<ConfigMap>('', 'configmaps');
    await factory.start();
    await waitFor(() => server.watchCount === 1);
    relay.throttle(256);
    for (let i = 0; i < 50; i++) server.write('ADDED', `cm-${i}`, { pad: 'x'.repeat(200) });
    for (let i = 0; i < 50; i += 2) server.write('DELETED', `cm-${i}`);
    // The 25 survivors, not merely 25 objects: the first 25 adds also make 25.
    const want = state([...server.objects.values()] as ConfigMap[]);
    expect(want).toHaveLength(25);
    await waitFor(() => JSON.stringify(state(inf.list())) === JSON.stringify(want), { what: 'cache to converge', timeoutMs: 30_000 });
    expect(state(inf.list())).toEqual(want);
  });
});
