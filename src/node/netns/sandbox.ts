// One pod on a netns node: its network namespace (made by the Fabric) and, in it, one
// process per container, run and restarted as the kubelet would: `command`+`args` with the
// container's env ($(VAR) references expanded), output appended to <logDir>/<container>.log,
// restarts per restartPolicy with a capped backoff, readiness and liveness probes. There are
// no images: an image mapped with `up --image-command` gives the ENTRYPOINT. Each container
// gets its own mount namespace with its ConfigMap volumes and service account bind-mounted
// (volumes.ts writes them), and hostNetwork pods get KUBERNETES_SERVICE_HOST/PORT.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Container, ContainerStatus, Pod, PodStatus } from '../../api/types.js';
import type { NodeHelper } from './helper-client.js';
import { ProbeWorker, type ProbeTarget } from './probe.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_BACKOFF_MS = 30_000;

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface SandboxOptions {
  pod: Pod;
  podNs: string;
  podIP: string;
  hostIP: string;
  helper: NodeHelper;
  logDir: string;
  /** a file bind-mounted over /etc/resolv.conf for the containers (hostNetwork pods' ClusterFirstWithHostNet) */
  resolvConf?: string;
  /** image repository (no tag or digest) -> the command that stands in for its ENTRYPOINT */
  imageCommands?: Record<string, string[]>;
  /** pod volume name -> the directory holding its files (ConfigMap volumes, written by the agent) */
  volumes?: Record<string, string>;
  /** the directory holding token, ca.crt and namespace, mounted at SERVICE_ACCOUNT_MOUNT */
  serviceAccountDir?: string;
  /** makes the directories mounted over that the host lacks (removed when the agent stops) */
  mountPoints?: { ensure(dir: string): void };
  /** KUBERNETES_SERVICE_HOST/PORT as the kubelet sets them */
  apiServer?: { host: string; port: string };
  /** called whenever something the pod's status shows changed */
  onChange: () => void;
}

type State = ContainerStatus['state'];

export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** An image reference without its tag or digest: ghcr.io/x/y:1.0@sha256:.. -> ghcr.io/x/y. */
export function imageRepository(image: string): string {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/**
 * The argv a container runs, with Kubernetes' rules: command replaces the image's ENTRYPOINT
 * and args its CMD; an image mapped to a local command gives the ENTRYPOINT (there are no
 * images here, so no CMD: a container of a mapped image without args runs the bare command).
 */
export function containerArgv(c: Container, imageCommands: Record<string, string[]> = {}): string[] {
  if (c.command?.length) return [...c.command, ...(c.args ?? [])];
  const entrypoint = c.image ? imageCommands[imageRepository(c.image)] : undefined;
  if (entrypoint) return [...entrypoint, ...(c.args ?? [])];
  return [...(c.args ?? [])];
}

interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
}

export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** The container's bind mounts: resolv.conf, its ConfigMap volumeMounts, the service account. */
export function containerMounts(c: Container, o: Pick<SandboxOptions, 'resolvConf' | 'volumes' | 'serviceAccountDir'>): BindMount[] {
  const mounts: BindMount[] = [];
  if (o.resolvConf) mounts.push({ source: o.resolvConf, target: '/etc/resolv.conf', readOnly: false });
  for (const m of (c as Container & { volumeMounts?: VolumeMount[] }).volumeMounts ?? []) {
    const dir = o.volumes?.[m.name];
    // hostPath volumes are the same path inside: nothing to mount.
    if (dir) mounts.push({ source: m.subPath ? join(dir, m.subPath) : dir, target: m.mountPath, readOnly: true });
  }
  if (o.serviceAccountDir && !mounts.some((m) => m.target === SERVICE_ACCOUNT_MOUNT)) mounts.push({ source: o.serviceAccountDir, target: SERVICE_ACCOUNT_MOUNT, readOnly: true });
  return mounts;
}

// Runs in the container's own mount namespace (`ip netns exec` makes one, slave to the
// host's): each mount point is made if missing (an empty directory), the source bound over
// it, read-only where asked; then the program is exec'd, keeping the pid.
const MOUNT_SCRIPT =
  'while [ "$1" != -- ]; do if [ ! -e "$2" ]; then mkdir -p "$2" || exit 1; fi; mount --bind "$1" "$2" || exit 1; ' +
  'if [ "$3" = ro ]; then mount -o remount,bind,ro "$2" || exit 1; fi; shift 3; done; shift; exec "$@"';

/** The value of an env var's fieldRef, for the fields a pod can know about itself. */
function fieldRef(path: string, o: SandboxOptions): string | undefined {
  const md = o.pod.metadata;
  switch (path) {
    case 'metadata.name':
      return md.name;
    case 'metadata.namespace':
      return md.namespace;
    case 'metadata.uid':
      return md.uid;
    case 'spec.nodeName':
      return o.pod.spec.nodeName;
    case 'spec.serviceAccountName':
      return (o.pod.spec as { serviceAccountName?: string }).serviceAccountName ?? 'default';
    case 'status.podIP':
      return o.podIP;
    case 'status.hostIP':
      return o.hostIP;
    default: {
      const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      if (m) return (md[m[1] as 'labels' | 'annotations'] ?? {})[m[2]!];
      return undefined;
    }
  }
}

/** Kubernetes' $(VAR) expansion: known names are replaced, $$ escapes, unknown ones stay. */
export function expandVars(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : name !== undefined && name in env ? env[name]! : m));
}

export function containerEnv(c: Container, o: SandboxOptions): Record<string, string> {
  // A hostNetwork pod shares the node's UTS namespace on a kubelet host: its hostname is the node's.
  const hostname = (o.pod.spec.hostNetwork ? o.pod.spec.nodeName : o.pod.metadata.name) ?? '';
  const env: Record<string, string> = { PATH: `${DEFAULT_PATH}:${dirname(process.execPath)}`, HOSTNAME: hostname, HOME: '/root' };
  if (o.apiServer) {
    env.KUBERNETES_SERVICE_HOST = o.apiServer.host;
    env.KUBERNETES_SERVICE_PORT = o.apiServer.port;
    env.KUBERNETES_SERVICE_PORT_HTTPS = o.apiServer.port;
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = expandVars(e.value, env);
    else {
      const ref = (e.valueFrom as { fieldRef?: { fieldPath?: string } } | undefined)?.fieldRef?.fieldPath;
      const v = ref ? fieldRef(ref, o) : undefined;
      env[e.name] = v ?? '';
    }
  }
  return env;
}

class ContainerRun {
  restartCount = 0;
  state: State = { waiting: { reason: 'ContainerCreating' } };
  lastState: State = {};
  ready = false;
  started = false;
  proc: ChildProcess | undefined;
  containerID = '';
  private readiness: ProbeWorker | undefined;
  private liveness: ProbeWorker | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private exitWaiters: (() => void)[] = [];
  /** set when the kubelet itself is stopping the container (liveness or pod deletion) */
  private killReason: string | undefined;

  constructor(
    readonly spec: Container,
    private readonly sb: PodSandbox,
  ) {}

  get running(): boolean {
    return this.proc !== undefined;
  }

  start(): void {
    const o = this.sb.opts;
    const env = containerEnv(this.spec, o);
    let argv = containerArgv(this.spec, o.imageCommands).map((a) => expandVars(a, env));
    if (!argv.length) {
      this.state = { waiting: { reason: 'CreateContainerError', message: `container has no command or args and image "${this.spec.image ?? ''}" has no --image-command mapping (there are no images to take them from)` } };
      this.sb.opts.onChange();
      return;
    }
    // `ip netns exec` gives the process a mount namespace of its own (slave to the host's), so
    // this mount is the container's alone; sh execs the program, keeping the pid.
    const mounts = containerMounts(this.spec, o);
    try {
      for (const m of mounts) if (m.target !== '/etc/resolv.conf') o.mountPoints?.ensure(m.target);
    } catch (err) {
      this.state = { waiting: { reason: 'CreateContainerError', message: `making mount points: ${(err as Error).message}` } };
      o.onChange();
      return;
    }
    if (mounts.length) argv = ['/bin/sh', '-c', MOUNT_SCRIPT, 'sh', ...mounts.flatMap((m) => [m.source, m.target, m.readOnly ? 'ro' : 'rw']), '--', ...argv];
    const logPath = join(o.logDir, `${this.spec.name}.log`);
    mkdirSync(o.logDir, { recursive: true });
    const fd = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      // Its own process group, so stopping the container stops whatever it forked.
      child = spawn('ip', ['netns', 'exec', o.podNs, ...argv], { env, cwd: '/', stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    this.proc = child;
    this.killReason = undefined;
    this.containerID = `netns://${o.podNs}/${this.spec.name}/${child.pid ?? 0}`;
    const startedAt = now();
    this.state = { running: { startedAt } };
    this.started = true;
    this.ready = !this.spec.readinessProbe;
    child.on('error', () => undefined); // 'exit' follows with the code
    child.on('exit', (code, signal) => this.onExit(code, signal, startedAt));
    this.startProbes(env);
    o.onChange();
  }

  private startProbes(env: Record<string, string>): void {
    const o = this.sb.opts;
    const target: ProbeTarget = { pod: o.pod, container: this.spec, podIP: o.podIP, podNs: o.podNs, env, helper: o.helper };
    if (this.spec.readinessProbe) {
      this.readiness = new ProbeWorker(this.spec.readinessProbe, target, false, (ok) => {
        this.ready = ok;
        o.onChange();
      });
      this.readiness.start();
    }
    if (this.spec.livenessProbe && !this.sb.terminating) {
      this.liveness = new ProbeWorker(this.spec.livenessProbe, target, true, (ok, message) => {
        if (ok || this.sb.terminating) return;
        // Liveness failed: the kubelet kills the container and restartPolicy decides what next.
        this.killReason = `Container ${this.spec.name} failed liveness probe, will be restarted: ${message}`;
        void this.kill(this.sb.gracePeriodSeconds());
      });
      this.liveness.start();
    }
  }

  private stopProbes(): void {
    this.readiness?.stop();
    this.liveness?.stop();
    this.readiness = this.liveness = undefined;
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, startedAt: string): void {
    this.stopProbes();
    this.proc = undefined;
    this.ready = false;
    const exitCode = code ?? 128 + (signal ? (({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 }) as Record<string, number>)[signal] ?? 1 : 1);
    const terminated = {
      exitCode,
      ...(signal ? { signal: ({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[signal] } : {}),
      reason: exitCode === 0 ? 'Completed' : 'Error',
      ...(this.killReason ? { message: this.killReason } : {}),
      startedAt,
      finishedAt: now(),
      containerID: this.containerID,
    };
    this.state = { terminated };
    for (const w of this.exitWaiters.splice(0)) w();
    const policy = this.sb.opts.pod.spec.restartPolicy ?? 'Always';
    const restart = !this.sb.terminating && (policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0));
    if (restart) {
      // The kubelet keeps the last run in lastState and backs off between crashes.
      const delay = Math.min(MAX_BACKOFF_MS, this.restartCount === 0 ? 0 : 1000 * 2 ** (this.restartCount - 1));
      // restartCount counts restarts done, so it moves when the new run starts.
      this.lastState = { terminated };
      if (delay > 0) this.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container=${this.spec.name} pod=${this.sb.opts.pod.metadata.name}` } };
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (this.sb.terminating) return;
        this.restartCount++;
        this.start();
      }, delay);
    }
    this.sb.opts.onChange();
  }

  /** SIGTERM to the container's process group, SIGKILL after the grace period; resolves on exit. */
  kill(graceSeconds: number): Promise<void> {
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    const proc = this.proc;
    if (!proc) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-proc.pid!, sig);
      } catch {
        // the group is gone
      }
    };
    signal('SIGTERM');
    const t = setTimeout(() => signal('SIGKILL'), Math.max(0, graceSeconds) * 1000);
    return exited.then(() => clearTimeout(t));
  }

  status(image: string): ContainerStatus {
    return {
      name: this.spec.name,
      image,
      imageID: '',
      containerID: this.containerID,
      ready: this.ready,
      started: this.running,
      restartCount: this.restartCount,
      state: this.state,
      lastState: this.lastState,
    };
  }
}

export class PodSandbox {
  terminating = false;
  readonly startTime = now();
  private readonly containers: ContainerRun[];

  constructor(readonly opts: SandboxOptions) {
    this.containers = opts.pod.spec.containers.map((c) => new ContainerRun(c, this));
  }

  gracePeriodSeconds(): number {
    return this.opts.pod.spec.terminationGracePeriodSeconds ?? 30;
  }

  /** The pod object changes (labels, deletion); the containers keep running. */
  updatePod(pod: Pod): void {
    this.opts.pod = pod;
  }

  start(): void {
    for (const c of this.containers) c.start();
  }

  /** Pod deletion: no more restarts, every container stopped within the grace period. */
  async terminate(graceSeconds: number): Promise<void> {
    this.terminating = true;
    await Promise.all(this.containers.map((c) => c.kill(graceSeconds)));
  }

  allExited(): boolean {
    return this.containers.every((c) => !c.running);
  }

  /** The kubelet's view of the pod: phase, conditions' inputs and containerStatuses. */
  status(): Pick<PodStatus, 'phase' | 'containerStatuses'> & { ready: boolean } {
    const statuses = this.containers.map((c) => c.status(c.spec.image ?? ''));
    const policy = this.opts.pod.spec.restartPolicy ?? 'Always';
    const allTerminated = statuses.every((s) => s.state && 'terminated' in s.state);
    let phase: PodStatus['phase'] = 'Running';
    if (statuses.every((s) => s.state && 'waiting' in s.state && s.restartCount === 0)) phase = 'Pending';
    else if (allTerminated && !this.terminating && policy !== 'Always') {
      const codes = statuses.map((s) => (s.state!.terminated as { exitCode: number }).exitCode);
      if (codes.every((c) => c === 0)) phase = 'Succeeded';
      else if (policy === 'Never') phase = 'Failed';
    }
    return { phase, containerStatuses: statuses, ready: statuses.length > 0 && statuses.every((s) => s.ready) };
  }
}
