// Lists read item by item: the cutter hands over each item's bytes whatever the chunking, and
// RestClient.list with mapItem keeps only what the map returns (an informer's transform).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonItemsCutter, NotCuttable } from '../../../src/api/json-items.js';
import { resourceFor } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { ApiError } from '../../../src/client/errors.js';
import { RestClient } from '../../../src/client/rest.js';

const tricky = 'a "q" {b} [c] \\ d ünï 🚀 \u0001 "items": [';
const items = Array.from({ length: 40 }, (_, i) => ({ metadata: { name: `cm${i}`, namespace: 'ns', resourceVersion: String(i + 1) }, data: { note: tricky.repeat(i % 4), n: String(i) } }));
const listText = JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '99', continue: 'next' }, items }, null, 2);

function cut(text: string, size: number): { items: unknown[]; top: Record<string, unknown> } {
  const out: unknown[] = [];
  const c = new JsonItemsCutter((b) => out.push(JSON.parse(b.toString('utf8'))));
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += size) c.write(Buffer.from(buf.subarray(i, i + size)));
  return { items: out, top: c.end() };
}

describe('JsonItemsCutter', () => {
  it('hands over every item whole, fed in chunks of any size, and keeps the rest of the object', () => {
    for (const size of [1, 2, 3, 7, 64, 4096, 1 << 20]) {
      const r = cut(listText, size);
      expect(r.items).toEqual(items);
      expect(r.top).toEqual({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '99', continue: 'next' }, items: [] });
    }
  });

  it('refuses what is not an object with an array of objects under items', () => {
    for (const text of ['[1]', '{"items":[1]}', '{"items":[{"a":1}]', '{"items":[{}],"items":[{}]}', '{"a":1} {"b":2}', '{"a":tru']) expect(() => cut(text, 3)).toThrow(NotCuttable);
  });
});

describe('RestClient.list with mapItem', () => {
  let server: Server;
  let base: string;
  let body = listText;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // in small writes, so the client sees many chunks
      const buf = Buffer.from(body);
      let i = 0;
      const next = (): void => {
        if (i >= buf.length) return void res.end();
        res.write(buf.subarray(i, (i += 97)), next);
      };
      next();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('maps each item as it is decoded, with apiVersion and kind filled in first', async () => {
    const client = new RestClient({ server: base, source: 't', namespace: 'default' });
    const seen: KubeObject[] = [];
    const list = await client.list(resourceFor('', 'configmaps')!, {
      mapItem: (o) => {
        seen.push(o);
        return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name } } as KubeObject;
      },
    });
    expect(seen).toHaveLength(40);
    expect(seen[3]).toEqual({ ...items[3], apiVersion: 'v1', kind: 'ConfigMap' });
    expect(list.items[39]).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm39' } });
    expect(list.metadata).toEqual({ resourceVersion: '99', continue: 'next' });
  });

  it('reports a body that is not a list as the server\'s error', async () => {
    const client = new RestClient({ server: base, source: 't', namespace: 'default' });
    body = '{"kind":"ConfigMapList","items":[{"metadata":';
    await expect(client.list(resourceFor('', 'configmaps')!, { mapItem: (o) => o })).rejects.toBeInstanceOf(ApiError);
    body = listText;
  });
});
