// Sends nf_tables netlink batches from a long-lived helper process. Node has no AF_NETLINK
// sockets; python3's standard library has, so a ~30-line relay owns the socket and passes
// whole batches through. It runs in the proxy's own network namespace (it is our child).
// Every decision about what to send stays in TypeScript (nft-batch.ts).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { endianness } from 'node:os';
import { logger } from '../../../observability/log.js';

const log = logger('nft-netlink');

// Reads [u32 length][batch] frames from stdin; one sendmsg per batch (the kernel runs the
// whole batch, commit included, inside that call); then drains the socket without waiting
// and answers with one JSON line: [[[seq, errno, strerror], ...], ns] listing every message the
// kernel rejected (empty when the transaction committed) and the nanoseconds from just before
// sendmsg to the last ack read: the kernel's own cost of the transaction, commit included.
const RELAY_PY = `
import json, os, socket, struct, sys, time
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.bind((0, 0))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
inp = sys.stdin.buffer
sys.stdout.write("ready\\n"); sys.stdout.flush()
while True:
    h = inp.read(4)
    if len(h) < 4:
        break
    n = struct.unpack("=I", h)[0]
    data = inp.read(n)
    errs = []
    try:
        s.setsockopt(socket.SOL_SOCKET, 32, max(2 * n, 1 << 18))
    except OSError:
        pass
    t0 = time.perf_counter_ns()
    try:
        s.send(data)
    except OSError as e:
        errs.append([0, e.errno, os.strerror(e.errno)])
    while True:
        try:
            r = s.recv(1 << 20, socket.MSG_DONTWAIT)
        except BlockingIOError:
            break
        off = 0
        while off + 20 <= len(r):
            ln, typ, fl, seq, pid = struct.unpack_from("=IHHII", r, off)
            if typ == 2:
                e = -struct.unpack_from("=i", r, off + 16)[0]
                if e:
                    oseq = struct.unpack_from("=I", r, off + 20 + 8)[0] if off + 32 <= len(r) else seq
                    errs.append([oseq, e, os.strerror(e)])
            if ln < 16:
                break
            off += (ln + 3) & ~3
    sys.stdout.write(json.dumps([errs, time.perf_counter_ns() - t0]) + "\\n"); sys.stdout.flush()
`;

export interface BatchError {
  seq: number;
  errno: number;
  message: string;
}

/** A running relay; undefined from start() when python3 or netlink is not available. */
export class NetlinkRelay {
  private buffered = '';
  private waiters: ((line: string) => void)[] = [];
  private dead = false;
  /** the kernel's time for the last batch (sendmsg to last ack, measured inside the relay), ms */
  lastKernelMs: number | undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      this.buffered += d;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.waiters.shift()?.(line);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => log.error('netlink relay', new Error(d.trim())));
    child.on('exit', () => this.fail());
    child.on('error', () => this.fail());
    child.stdin.on('error', () => this.fail());
  }

  private fail(): void {
    this.dead = true;
    for (const w of this.waiters.splice(0)) w('dead');
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** `command` runs python (tests prefix `ip netns exec NS`). */
  static async start(command: readonly string[] = ['python3']): Promise<NetlinkRelay | undefined> {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(command[0]!, [...command.slice(1), '-c', RELAY_PY], { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch {
      return undefined;
    }
    const relay = new NetlinkRelay(child);
    const first = await new Promise<string>((resolve) => relay.waiters.push(resolve));
    if (first !== 'ready') {
      relay.close();
      return undefined;
    }
    relay.setRef(false);
    return relay;
  }

  /** An idle relay must not keep the process alive; one waiting for the kernel must. */
  private setRef(on: boolean): void {
    for (const h of [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as unknown as { ref?: () => void; unref?: () => void }[]) {
      if (on) h.ref?.();
      else h.unref?.();
    }
  }

  /** Sends one batch; resolves with the messages the kernel rejected (none: committed). */
  send(batch: Buffer): Promise<BatchError[]> {
    if (this.dead) return Promise.reject(new Error('netlink relay is not running'));
    const header = Buffer.alloc(4);
    if (endianness() === 'LE') header.writeUInt32LE(batch.length);
    else header.writeUInt32BE(batch.length);
    const reply = new Promise<string>((resolve) => this.waiters.push(resolve));
    this.setRef(true);
    this.child.stdin.write(Buffer.concat([header, batch]));
    return reply.then((line) => {
      if (this.waiters.length === 0 && !this.dead) this.setRef(false);
      if (line === 'dead') throw new Error('netlink relay exited');
      const [errors, ns] = JSON.parse(line) as [[number, number, string][], number];
      this.lastKernelMs = ns / 1e6;
      return errors.map(([seq, errno, message]) => ({ seq, errno, message }));
    });
  }

  close(): void {
    this.dead = true;
    this.child.stdin.end();
    this.child.kill();
  }
}
