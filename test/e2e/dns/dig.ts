// Helpers for the dns e2e tests: the real `dig`, and a tiny upstream resolver on loopback.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { runCommand } from '../../helpers/cli.js';

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  raw: string;
}

/** Runs dig against 127.0.0.1:port and parses status, flags and sections (records as "name ttl IN type data"). */
export async function dig(port: number, name: string, type: string, extra: string[] = []): Promise<DigResult> {
  const r = await runCommand('dig', [`@127.0.0.1`, '-p', String(port), '+noall', '+comments', '+answer', '+authority', '+additional', '+time=3', '+tries=1', ...extra, name, type], { timeoutMs: 15_000 });
  const out: DigResult = { status: '', flags: [], answer: [], authority: [], additional: [], raw: r.stdout };
  let section: 'answer' | 'authority' | 'additional' | undefined;
  for (const line of r.stdout.split('\n')) {
    const st = /status: (\w+)/.exec(line);
    if (st) out.status = st[1]!;
    const fl = /^;; flags: ([^;]*);/.exec(line);
    if (fl) out.flags = fl[1]!.trim().split(/\s+/);
    if (line.startsWith(';; ANSWER SECTION')) section = 'answer';
    else if (line.startsWith(';; AUTHORITY SECTION')) section = 'authority';
    else if (line.startsWith(';; ADDITIONAL SECTION')) section = 'additional';
    else if (line.trim() === '' || line.startsWith(';')) section = line.trim() === '' ? undefined : section;
    else if (section) out[section].push(line.trim().split(/\s+/).join(' '));
  }
  return out;
}

/** A loopback resolver that knows a few names and counts the queries it gets. */
export class TestUpstream {
  queries: string[] = [];
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  port = 0;

  answer(q: dnsPacket.Question): dnsPacket.Answer[] {
    const name = q.name.toLowerCase();
    if (q.type === 'A' && name.endsWith('example.net')) return [{ name: q.name, type: 'A', ttl: 300, data: '192.0.2.1' }];
    if (q.type === 'A' && name.endsWith('example.org')) return [{ name: q.name, type: 'A', ttl: 300, data: '192.0.2.2' }];
    return [];
  }

  reply(msg: Buffer): Buffer {
    const q = dnsPacket.decode(msg);
    const question = q.questions![0]!;
    this.queries.push(`${question.name.toLowerCase()} ${question.type}`);
    const answers = this.answer(question);
    const known = /example\.(net|org)$/i.test(question.name);
    return dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED | (known ? 0 : 3),
      questions: q.questions,
      answers,
      authorities: answers.length ? [] : [{ name: 'example.net', type: 'SOA', ttl: 60, data: { mname: 'ns.example.net', rname: 'h.example.net', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 } }],
    });
  }

  async start(port = 0): Promise<void> {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (m, r) => {
      try {
        udp.send(this.reply(m), r.port, r.address);
      } catch {
        // a query it cannot parse, or a reply racing stop(): nothing to answer
      }
    });
    await new Promise<void>((res) => udp.bind(port, '127.0.0.1', () => res()));
    this.udp = udp;
    this.port = udp.address().port;
    this.tcp = net.createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('error', () => s.destroy());
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          let r: Buffer;
          try {
            r = this.reply(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          } catch {
            s.destroy();
            return;
          }
          buf = buf.subarray(2 + buf.readUInt16BE(0));
          const len = Buffer.alloc(2);
          len.writeUInt16BE(r.length);
          s.write(Buffer.concat([len, r]));
        }
      });
    });
    await new Promise<void>((res) => this.tcp!.listen(this.port, '127.0.0.1', () => res()));
  }

  async stop(): Promise<void> {
    this.udp?.close();
    this.udp = undefined;
    await new Promise<void>((res) => (this.tcp ? this.tcp.close(() => res()) : res()));
    this.tcp = undefined;
  }
}

/** A loopback port free for both UDP and TCP right now. */
export async function freePort(): Promise<number> {
  for (;;) {
    const s = dgram.createSocket('udp4');
    const port = await new Promise<number>((res) => s.bind(0, '127.0.0.1', () => res(s.address().port)));
    const t = net.createServer();
    const ok = await new Promise<boolean>((res) => {
      t.once('error', () => res(false));
      t.listen(port, '127.0.0.1', () => res(true));
    });
    s.close();
    await new Promise<void>((res) => (ok ? t.close(() => res()) : res()));
    if (ok) return port;
  }
}

/** Sends raw bytes over UDP and returns the reply, or undefined after timeoutMs. */
export async function sendRaw(port: number, bytes: Buffer, timeoutMs = 2000): Promise<Buffer | undefined> {
  const s = dgram.createSocket('udp4');
  try {
    return await new Promise<Buffer | undefined>((res) => {
      const t = setTimeout(() => res(undefined), timeoutMs);
      s.once('message', (m) => {
        clearTimeout(t);
        res(m);
      });
      s.send(bytes, port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}
