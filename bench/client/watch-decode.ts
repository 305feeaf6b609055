// Watch stream decoding throughput: WatchDecoder (brace framing over bytes, any chunking)
// against the reference a naive client would use (split the text on newlines, JSON.parse
// each line), on the same body cut into 16 KiB chunks as a socket would deliver it.
import { WatchDecoder } from '../../src/client/watch.js';

const N = Number(process.env.EVENTS ?? 100_000);
const lines: string[] = [];
for (let i = 0; i < N; i++) {
  const ev = {
    type: i % 10 === 0 ? 'DELETED' : 'MODIFIED',
    object: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `svc-${i % 5000}-abcde`, namespace: 'default', resourceVersion: String(1000 + i), labels: { 'kubernetes.io/service-name': `svc-${i % 5000}` } },
      addressType: 'IPv4',
      endpoints: [1, 2, 3].map((j) => ({ addresses: [`10.244.${j}.${i % 250}`], conditions: { ready: true, serving: true, terminating: false }, nodeName: `node-${j}`, zone: 'zöne-ä' })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
  };
  lines.push(JSON.stringify(ev) + '\n');
}
const body = Buffer.from(lines.join(''));
const chunks: Buffer[] = [];
for (let off = 0; off < body.length; off += 16384) chunks.push(body.subarray(off, off + 16384));

function ours(): number {
  const d = new WatchDecoder();
  let n = 0;
  for (const c of chunks) n += d.write(c).length;
  return n;
}

function reference(): number {
  // naive: decode text per chunk with a streaming TextDecoder, split on '\n'
  const td = new TextDecoder();
  let rest = '';
  let n = 0;
  for (const c of chunks) {
    const text = rest + td.decode(c, { stream: true });
    const parts = text.split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p) (JSON.parse(p) as unknown, n++);
  }
  return n;
}

function time(fn: () => number): { ms: number; n: number } {
  fn(); // warm up
  const runs: number[] = [];
  let n = 0;
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    n = fn();
    runs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  runs.sort((a, b) => a - b);
  return { ms: runs[2]!, n };
}

const a = time(ours);
const b = time(reference);
if (a.n !== N || b.n !== N) throw new Error(`decoded ${a.n} / ${b.n} of ${N}`);
const mb = body.length / 1e6;
console.log(`events: ${N}, body: ${mb.toFixed(1)} MB in ${chunks.length} chunks of 16 KiB`);
console.log(`WatchDecoder:           ${a.ms.toFixed(0)} ms  ${(N / a.ms * 1000).toFixed(0)} events/s  ${(mb / a.ms * 1000).toFixed(0)} MB/s`);
console.log(`reference (split+parse): ${b.ms.toFixed(0)} ms  ${(N / b.ms * 1000).toFixed(0)} events/s  ${(mb / b.ms * 1000).toFixed(0)} MB/s`);
console.log(`ratio (reference time / ours): ${(b.ms / a.ms).toFixed(2)}`);
