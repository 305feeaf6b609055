// The agent's side of the node helper (helper.ts): starts it inside a node namespace and
// sends it probes. A helper that dies is restarted on the next probe.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ProbeReply, ProbeRequest } from './helper.js';
import { logger } from '../../observability/log.js';

const log = logger('netns-helper');

/** The helper's entry point next to this module (helper.js in dist/, helper.ts under tsx). */
function helperArgv(): string[] {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const path = join(dirname(here), `helper${ext}`);
  return ext === '.ts' ? ['--import', 'tsx', path] : [path];
}

export interface HelperOptions {
  ns: string;
  /** API relay: listen here inside the namespace and pipe to this Unix socket */
  relay?: { listen: string; socket: string };
}

export class NodeHelper {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private seq = 1;
  private readonly pending = new Map<number, (r: ProbeReply) => void>();
  private stopped = false;

  constructor(private readonly opts: HelperOptions) {}

  start(): Promise<void> {
    if (this.ready && this.child && this.child.exitCode === null && this.child.signalCode === null) return this.ready;
    const args = ['netns', 'exec', this.opts.ns, process.execPath, ...helperArgv()];
    if (this.opts.relay) args.push('--relay-listen', this.opts.relay.listen, '--relay-socket', this.opts.relay.socket);
    const child = spawn('ip', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.stdin!.on('error', () => undefined);
    this.ready = new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        let reply: ProbeReply;
        try {
          reply = JSON.parse(line) as ProbeReply;
        } catch {
          return;
        }
        if (reply.id === 0) return resolve();
        const cb = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        cb?.(reply);
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        reject(new Error(`node helper in ${this.opts.ns} exited (${signal ?? code}): ${stderr.trim()}`));
        for (const [id, cb] of this.pending) cb({ id, ok: false, message: 'node helper exited' });
        this.pending.clear();
        if (this.stopped) return;
        log.warn('Node helper exited, restarting it', { ns: this.opts.ns, code, signal, stderr: stderr.trim() });
        // The API relay lives in it: bring it back even if no probe asks.
        setTimeout(() => {
          if (!this.stopped) this.start().catch(() => undefined);
        }, 1000).unref();
      });
    });
    return this.ready;
  }

  async probe(req: Omit<ProbeRequest, 'id'>): Promise<ProbeReply> {
    await this.start();
    const id = this.seq++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child!.stdin!.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.stdin!.end();
    });
  }
}
