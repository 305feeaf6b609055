import type { KubeObject, Status } from '../api/types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  /** the object; for ERROR a Status */
  object: T;
}

export class WatchDecodeError extends Error {
  override name = 'WatchDecodeError';
}

const WATCH_TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/**
 * Frames the body of a JSON watch into events. kube-apiserver writes one object per
 * line, but Go's json stream decoder on the client side does not need the newlines, so
 * neither do we: we find each top-level object by brace depth. The scan is over bytes,
 * and `{`, `}`, `"` and `\` never occur inside a multi-byte UTF-8 sequence, so a chunk
 * may end anywhere (mid-object, mid-string, mid-character) and only complete objects
 * are ever decoded.
 */
export class WatchDecoder {
  /** fragments of the unfinished object, from its opening brace */
  private pieces: Buffer[] = [];
  private pendingLen = 0;
  /** scanner state carried across chunks */
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** a limit on one event so a broken stream cannot grow memory without bound */
  constructor(private readonly maxEventBytes = 64 * 1024 * 1024) {}

  /** Feeds one chunk; returns the events completed by it. */
  write(chunk: Uint8Array): WatchEvent[] {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const events: WatchEvent[] = [];
    // where the current object starts in this chunk (0 when it began in an earlier one)
    let start = this.depth > 0 ? 0 : -1;
    let i = 0;
    while (i < buf.length) {
      if (this.inString) {
        // Most bytes are inside strings: jump to the next quote natively instead of
        // stepping through them, then decide from the backslashes before it.
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        const q = buf.indexOf(0x22 /* " */, i);
        const end = q < 0 ? buf.length : q;
        let slashes = 0;
        while (end - slashes - 1 >= i && buf[end - slashes - 1] === 0x5c /* \ */) slashes++;
        if (q < 0) {
          this.escaped = slashes % 2 === 1;
          i = buf.length;
        } else {
          if (slashes % 2 === 0) this.inString = false;
          i = q + 1;
        }
        continue;
      }
      const c = buf[i]!;
      if (this.depth === 0) {
        if (c === 0x7b /* { */) {
          // Fast path for what kube-apiserver writes, one event per line: hand the whole
          // line to the native parser. A JSON object is self-delimiting, so if the line
          // parses, it is exactly one event; if not (several per line, or a line of a
          // pretty-printed object), the byte scan below frames it.
          const nl = buf.indexOf(0x0a, i);
          if (nl >= 0) {
            const ev = tryParse(buf.toString('utf8', i, nl));
            if (ev !== undefined) {
              events.push(toEvent(ev));
              i = nl + 1;
              continue;
            }
          }
          start = i;
          this.depth = 1;
        } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
          throw new WatchDecodeError(`unexpected byte 0x${c.toString(16)} between watch events`);
        }
      } else if (c === 0x22) this.inString = true;
      else if (c === 0x7b) this.depth++;
      else if (c === 0x7d /* } */ && --this.depth === 0) {
        const last = buf.subarray(start, i + 1);
        const whole = this.pieces.length === 0 ? last : Buffer.concat([...this.pieces, last]);
        this.pieces = [];
        this.pendingLen = 0;
        events.push(parseEvent(whole.toString('utf8')));
        start = -1;
      }
      i++;
    }
    if (this.depth > 0) {
      // copy: the caller may reuse the chunk's memory
      const frag = Buffer.from(buf.subarray(start));
      this.pieces.push(frag);
      this.pendingLen += frag.length;
      if (this.pendingLen > this.maxEventBytes) throw new WatchDecodeError(`watch event larger than ${this.maxEventBytes} bytes`);
    }
    return events;
  }

  /** Call at end of stream: an unfinished object means the stream was cut. */
  end(): void {
    if (this.depth > 0) throw new WatchDecodeError('watch stream ended in the middle of an event');
  }

  /** True when bytes of an unfinished event are buffered. */
  get midEvent(): boolean {
    return this.depth > 0;
  }
}

function tryParse(text: string): unknown {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function parseEvent(text: string): WatchEvent {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new WatchDecodeError(`bad watch event: ${(err as Error).message}`);
  }
  return toEvent(v);
}

function toEvent(v: unknown): WatchEvent {
  const ev = v as { type?: unknown; object?: unknown };
  if (typeof ev.type !== 'string' || !WATCH_TYPES.has(ev.type)) throw new WatchDecodeError(`bad watch event: unknown type ${JSON.stringify(ev.type)}`);
  if (!ev.object || typeof ev.object !== 'object') throw new WatchDecodeError(`bad watch event: ${ev.type} without an object`);
  const obj = ev.object as KubeObject;
  if (ev.type !== 'ERROR' && (!obj.metadata || typeof obj.metadata !== 'object')) throw new WatchDecodeError(`bad watch event: ${ev.type} object without metadata`);
  return { type: ev.type as WatchEventType, object: obj };
}

/** Decodes an async byte stream (an undici body) into events. */
export async function* decodeWatchStream(body: AsyncIterable<Uint8Array>): AsyncGenerator<WatchEvent> {
  const dec = new WatchDecoder();
  for await (const chunk of body) for (const ev of dec.write(chunk)) yield ev;
  dec.end();
}

export function isStatus(obj: unknown): obj is Status {
  return !!obj && typeof obj === 'object' && (obj as { kind?: unknown }).kind === 'Status';
}
