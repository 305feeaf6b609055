import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FileInformerFactory } from '../../../src/client/file-informers.js';
import type { KubeObject } from '../../../src/api/types.js';

function service(name: string, port: number): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port }] } } as KubeObject;
}

type Event = [kind: 'add' | 'update' | 'delete', key: string, port?: number];

function portOf(o: KubeObject): number {
  return (o as unknown as { spec: { ports: { port: number }[] } }).spec.ports[0]!.port;
}

describe('FileInformerFactory reloads', () => {
  let dir: string;
  let path: string;
  let factory: FileInformerFactory;
  let events: Event[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kp-file-informers-'));
    path = join(dir, 'objects.yaml');
    events = [];
  });
  afterEach(async () => {
    await factory?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(text: string): Promise<void> {
    writeFileSync(path, text);
    factory = new FileInformerFactory(path);
    const inf = factory.informerFor<KubeObject>('', 'services');
    inf.addEventHandler({
      onAdd: (o) => events.push(['add', o.metadata.name!, portOf(o)]),
      onUpdate: (_old, o) => events.push(['update', o.metadata.name!, portOf(o)]),
      onDelete: (o) => events.push(['delete', o.metadata.name!]),
    });
    await factory.start();
  }

  const yaml = (objs: KubeObject[]): string => objs.map((o) => stringify(o)).join('---\n');

  it('delivers only the edited object as one update (YAML, many documents)', async () => {
    const objs = Array.from({ length: 50 }, (_, i) => service(`s${i}`, 1000 + i));
    await start(yaml(objs));
    expect(events).toHaveLength(50);
    events = [];
    objs[17] = service('s17', 9999);
    writeFileSync(path, yaml(objs));
    factory.reload();
    expect(events).toEqual([['update', 's17', 9999]]);
  });

  it('delivers adds and deletes only for documents added and removed, and nothing for a rewrite with equal content', async () => {
    const objs = Array.from({ length: 5 }, (_, i) => service(`s${i}`, 1000 + i));
    await start(yaml(objs));
    events = [];
    // Same objects, different formatting: compared by content, no event.
    writeFileSync(path, objs.map((o) => stringify(o, { indent: 4 })).join('---\n'));
    factory.reload();
    expect(events).toEqual([]);
    writeFileSync(path, yaml([...objs.slice(0, 2), ...objs.slice(3), service('new', 7)]));
    factory.reload();
    expect(events).toEqual([
      ['delete', 's2'],
      ['add', 'new', 7],
    ]);
  });

  it('diffs a JSON List file by content too', async () => {
    const objs = Array.from({ length: 5 }, (_, i) => service(`s${i}`, 1000 + i));
    await start(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }));
    events = [];
    objs[3] = service('s3', 4242);
    writeFileSync(path, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }));
    factory.reload();
    expect(events).toEqual([['update', 's3', 4242]]);
  });

  it('keeps the objects when the edited file is broken, and applies the next good edit', async () => {
    await start(yaml([service('a', 1), service('b', 2)]));
    events = [];
    writeFileSync(path, yaml([service('a', 1)]) + '---\nkind: [unclosed\n');
    factory.reload();
    expect(events).toEqual([]);
    expect(factory.informerFor<KubeObject>('', 'services').list().map((o) => o.metadata.name).sort()).toEqual(['a', 'b']);
    writeFileSync(path, yaml([service('a', 1), service('b', 3)]));
    factory.reload();
    expect(events).toEqual([['update', 'b', 3]]);
  });

  it('reads documents that start with a marker line and a leading marker', async () => {
    await start('---\n' + yaml([service('a', 1)]) + '--- \n' + stringify(service('b', 2)));
    expect(events).toEqual([
      ['add', 'a', 1],
      ['add', 'b', 2],
    ]);
  });
});
