import { execFileSync } from 'node:child_process';
import { describe, it } from 'vitest';

/** What an end-to-end test needs from the machine. */
export interface E2ENeeds {
  root?: boolean;
  /** `ip netns add` works */
  netns?: boolean;
  /** executables that must be on PATH */
  commands?: string[];
}

function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let netnsWorks: boolean | undefined;
function canCreateNetns(): boolean {
  if (netnsWorks !== undefined) return netnsWorks;
  const name = `kp-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    netnsWorks = true;
  } catch {
    netnsWorks = false;
  }
  return netnsWorks;
}

/** Why the test cannot run here, or undefined when it can. */
export function e2eSkipReason(needs: E2ENeeds): string | undefined {
  if ((needs.root || needs.netns) && process.getuid?.() !== 0) return 'needs root';
  for (const c of needs.commands ?? []) if (!hasCommand(c)) return `needs ${c} on PATH`;
  if (needs.netns && !canCreateNetns()) return 'cannot create network namespaces (ip netns add failed)';
  return undefined;
}

/**
 * `describe` for tests that need root, network namespaces or external programs: they skip
 * with a one-line reason where those are missing, and fail instead when
 * KUBEPLANE_E2E=required (as .ci/run sets it), so CI runs every test.
 */
export function describeE2E(name: string, needs: E2ENeeds, fn: () => void): void {
  const reason = e2eSkipReason(needs);
  if (reason === undefined) {
    describe(name, fn);
    return;
  }
  if (process.env.KUBEPLANE_E2E === 'required') {
    describe(name, () => {
      it(`requires: ${reason}`, () => {
        throw new Error(`KUBEPLANE_E2E=required but this test cannot run: ${reason}`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: ${reason})`, fn);
}
