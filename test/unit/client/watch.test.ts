import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WatchDecodeError, WatchDecoder } from '../../../src/client/watch.js';

function ev(type: string, name: string, rv: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', resourceVersion: rv }, data: extra } };
}

const tricky = [
  ev('ADDED', 'a', '1', { s: 'braces { } [ ] inside a string' }),
  ev('MODIFIED', 'b', '2', { q: 'escaped \\"quote\\" and backslash \\\\', u: 'ünïcödé 日本語 🚀 emoji' }),
  ev('DELETED', 'c', '3', { nested: { deep: { deeper: ['x', { y: '}' }] } } }),
  ev('BOOKMARK', '', '4'),
  { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 1 (5)', reason: 'Expired', code: 410 } },
];

function decodeChunks(chunks: Uint8Array[]): unknown[] {
  const d = new WatchDecoder();
  const out: unknown[] = [];
  for (const c of chunks) out.push(...d.write(c));
  d.end();
  return out;
}

describe('WatchDecoder', () => {
  it('decodes one event per line as kube-apiserver writes them', () => {
    const body = Buffer.from(tricky.map((e) => JSON.stringify(e) + '\n').join(''));
    expect(decodeChunks([body])).toEqual(tricky);
  });

  it('decodes events with no newline between them (Go json stream framing)', () => {
    const body = Buffer.from(tricky.map((e) => JSON.stringify(e)).join('') + ' \r\n\t');
    expect(decodeChunks([body])).toEqual(tricky);
  });

  it('decodes the same events however the stream is split, including inside a UTF-8 character', () => {
    const body = Buffer.from(tricky.map((e) => JSON.stringify(e, null, 1) + '\n').join(''));
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: body.length - 1 }), { maxLength: 40 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), body.length];
        const chunks = points.slice(1).map((end, i) => body.subarray(points[i], end));
        expect(decodeChunks(chunks)).toEqual(tricky);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes a byte-at-a-time stream, splitting every multi-byte character', () => {
    const body = Buffer.from(JSON.stringify(tricky[1]) + '\n');
    const chunks = [...body].map((b) => Uint8Array.of(b));
    expect(decodeChunks(chunks)).toEqual([tricky[1]]);
  });

  it('does not keep a reference to a chunk the caller reuses', () => {
    const d = new WatchDecoder();
    const text = JSON.stringify(tricky[0]);
    const chunk = Buffer.from(text.slice(0, 20));
    expect(d.write(chunk)).toEqual([]);
    chunk.fill(0x78);
    expect(d.write(Buffer.from(text.slice(20)))).toEqual([tricky[0]]);
  });

  it('reports a stream cut in the middle of an event', () => {
    const d = new WatchDecoder();
    d.write(Buffer.from(JSON.stringify(tricky[0]).slice(0, 30)));
    expect(d.midEvent).toBe(true);
    expect(() => d.end()).toThrow(WatchDecodeError);
  });

  it('rejects garbage, unknown event types and events without an object', () => {
    expect(() => new WatchDecoder().write(Buffer.from('<html>'))).toThrow(/unexpected byte/);
    expect(() => new WatchDecoder().write(Buffer.from('{"type":"SOMETHING","object":{"metadata":{}}}'))).toThrow(/unknown type/);
    expect(() => new WatchDecoder().write(Buffer.from('{"type":"ADDED"}'))).toThrow(/without an object/);
    expect(() => new WatchDecoder().write(Buffer.from('{"type":"ADDED","object":{"x":1,}}'))).toThrow(/bad watch event/);
  });

  it('refuses an event larger than its limit instead of buffering without bound', () => {
    const d = new WatchDecoder(1000);
    expect(() => d.write(Buffer.from('{"type":"ADDED","object":{"data":"' + 'x'.repeat(2000)))).toThrow(/larger than 1000/);
  });
});
