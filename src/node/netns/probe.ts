// Probes as the kubelet's prober runs them: the first after initialDelaySeconds, then one
// every periodSeconds, each bounded by timeoutSeconds; the result flips after
// successThreshold successes or failureThreshold failures in a row. tcpSocket and httpGet
// dial the pod from the node's network (through the node helper); exec runs in the pod.
import { spawn } from 'node:child_process';
import type { Container, Pod, Probe } from '../../api/types.js';
import type { NodeHelper } from './helper-client.js';

export interface ProbeTarget {
  pod: Pod;
  container: Container;
  podIP: string;
  podNs: string;
  env: Record<string, string>;
  helper: NodeHelper;
}

export interface ProbeOutcome {
  ok: boolean;
  message: string;
}

/** A named port resolves against the pod's containers' ports, as the kubelet does. */
export function resolvePort(port: number | string, pod: Pod, container: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const own = container.ports?.find((p) => p.name === port);
  if (own) return own.containerPort;
  for (const c of pod.spec.containers) {
    const p = c.ports?.find((q) => q.name === port);
    if (p) return p.containerPort;
  }
  return undefined;
}

export function execInNamespace(ns: string, argv: string[], env: Record<string, string>, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-1024)));
    child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-1024)));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, message: err.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) resolve({ ok: false, message: `command timed out after ${timeoutMs / 1000}s` });
      else resolve({ ok: code === 0, message: code === 0 ? '' : `command exited with ${code}: ${out.trim()}` });
    });
  });
}

export async function runProbe(probe: Probe, t: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec) {
    const argv = probe.exec.command ?? [];
    if (!argv.length) return { ok: false, message: 'exec probe has no command' };
    return execInNamespace(t.podNs, argv, t.env, timeoutMs);
  }
  const action = probe.httpGet ?? probe.tcpSocket;
  if (!action) return { ok: false, message: 'probe has no handler' };
  const port = resolvePort(action.port, t.pod, t.container);
  if (port === undefined) return { ok: false, message: `unable to resolve named port ${String(action.port)}` };
  const host = action.host || t.podIP;
  if (probe.httpGet) {
    return t.helper.probe({ kind: 'http', host, port, timeoutMs, path: probe.httpGet.path, scheme: probe.httpGet.scheme, headers: probe.httpGet.httpHeaders });
  }
  return t.helper.probe({ kind: 'tcp', host, port, timeoutMs });
}

/**
 * One probe loop for one container run. `onResult` is called with the thresholded result
 * each time it changes (readiness starts false, liveness starts true).
 */
export class ProbeWorker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  result: boolean;
  lastMessage = '';

  constructor(
    private readonly probe: Probe,
    private readonly target: ProbeTarget,
    initial: boolean,
    private readonly onResult: (ok: boolean, message: string) => void,
  ) {
    this.result = initial;
  }

  start(): void {
    this.schedule(Math.max(0, this.probe.initialDelaySeconds ?? 0) * 1000);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const out = await runProbe(this.probe, this.target).catch((err: unknown) => ({ ok: false, message: String(err) }));
    if (this.stopped) return;
    this.lastMessage = out.message;
    if (out.ok) {
      this.failures = 0;
      this.successes++;
      if (!this.result && this.successes >= Math.max(1, this.probe.successThreshold ?? 1)) {
        this.result = true;
        this.onResult(true, '');
      }
    } else {
      this.successes = 0;
      this.failures++;
      if (this.result && this.failures >= Math.max(1, this.probe.failureThreshold ?? 3)) {
        this.result = false;
        this.failures = 0;
        this.onResult(false, out.message);
      }
    }
    this.schedule(Math.max(1, this.probe.periodSeconds ?? 10) * 1000);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
