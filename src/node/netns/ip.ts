// Runs iproute2 and friends. Every network change the netns sandbox makes goes through here,
// so a failure names the exact command that failed.
import { execFile } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly stderr: string,
    readonly code: number | null,
  ) {
    super(`${argv.join(' ')}: ${stderr.trim() || `exit ${code}`}`);
  }
}

export function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new CommandError([cmd, ...args], stderr || err.message, typeof err.code === 'number' ? err.code : null));
      else resolve(stdout);
    });
  });
}

export const ip = (...args: string[]): Promise<string> => run('ip', args);

/** `ip -n NS ...`: configures a namespace without entering it. */
export const ipIn = (ns: string, ...args: string[]): Promise<string> => run('ip', ['-n', ns, ...args]);

export const execIn = (ns: string, cmd: string, ...args: string[]): Promise<string> => run('ip', ['netns', 'exec', ns, cmd, ...args]);

export async function listNamespaces(): Promise<string[]> {
  const out = await ip('netns', 'list');
  // "name (id: 3)" or just "name"
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** SIGKILLs every process still in the namespace: a namespace with processes outlives `ip netns del`. */
export async function killNamespacePids(ns: string): Promise<number> {
  let out = '';
  try {
    out = await ip('netns', 'pids', ns);
  } catch {
    return 0;
  }
  let n = 0;
  for (const pid of out.split(/\s+/).filter(Boolean).map(Number)) {
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch {
      // already gone
    }
  }
  return n;
}

export async function deleteNamespace(ns: string): Promise<void> {
  await killNamespacePids(ns);
  try {
    await ip('netns', 'del', ns);
  } catch (err) {
    if (!(err instanceof CommandError && /No such file|not found|Invalid argument/i.test(err.stderr))) throw err;
  }
}
