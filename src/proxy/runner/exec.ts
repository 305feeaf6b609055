import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with optional stdin; never throws for a non-zero exit. */
export function execProgram(cmd: string, args: string[], input?: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    let closed = false;
    child.stdin.on('error', () => {
      closed = true;
    });
    // Written in pieces as the pipe drains: a restore payload (~18 MB at 10,000 services) is
    // never copied into one Buffer beside the string.
    const text = input ?? '';
    let off = 0;
    const pump = (): void => {
      while (!closed) {
        const piece = text.slice(off, off + (1 << 16));
        off += piece.length;
        if (off >= text.length) {
          child.stdin.end(piece);
          return;
        }
        if (!child.stdin.write(piece)) {
          child.stdin.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

/**
 * Runs a program with `lines` streamed to its stdin, newline-terminated, in pieces that
 * respect the pipe's backpressure, so a large payload is never held as one string.
 */
export function execProgramLines(cmd: string, args: string[], lines: Iterable<string>): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    let closed = false;
    child.stdin.on('error', () => {
      closed = true;
    });
    const it = lines[Symbol.iterator]();
    const pump = (): void => {
      while (!closed) {
        let piece = '';
        let r = it.next();
        while (!r.done) {
          piece += r.value + '\n';
          if (piece.length >= 1 << 16) break;
          r = it.next();
        }
        if (r.done) {
          child.stdin.end(piece);
          return;
        }
        if (!child.stdin.write(piece)) {
          child.stdin.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

/**
 * Runs a program and hands each line of its stdout to `onLine` as it arrives, keeping none:
 * iptables-save of a 10,000-Service table is ~18 MB, and callers want a few lines of it.
 */
export function execProgramEachLine(cmd: string, args: string[], onLine: (line: string) => void): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const err: Buffer[] = [];
    let rest = Buffer.alloc(0);
    // Each line is decoded from its own bytes: a slice of a larger string would keep the whole
    // chunk alive for as long as the caller keeps the line.
    child.stdout.on('data', (d: Buffer) => {
      const buf = rest.length ? Buffer.concat([rest, d]) : d;
      let start = 0;
      for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
        onLine(buf.toString('utf8', start, nl));
        start = nl + 1;
      }
      rest = Buffer.from(buf.subarray(start));
    });
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (rest.length) onLine(rest.toString('utf8'));
      resolve({ code: code ?? 1, stderr: Buffer.concat(err).toString() });
    });
  });
}
