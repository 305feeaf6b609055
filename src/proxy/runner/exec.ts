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
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
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
