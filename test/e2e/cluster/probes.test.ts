// Probes and restarts on a netns node, as the kubelet runs them: a failing readiness probe
// takes the pod out of its Service's EndpointSlice and a recovering one brings it back; a
// failing liveness probe restarts the container; exec and tcpSocket probes; restartPolicy
// decides what an exit means.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { waitFor } from '../../helpers/cli.js';
import { NETNS_CLUSTER_NEEDS, startNetnsCluster, type NetnsCluster } from '../../helpers/netns-up.js';

const SERVER = fileURLToPath(new URL('./web-server.mjs', import.meta.url));

interface PodView {
  status: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { ready: boolean; restartCount: number; state: Record<string, { exitCode?: number; reason?: string }>; lastState: Record<string, { exitCode?: number; message?: string }> }[];
  };
}

describeE2E('netns cluster: probes and restarts', NETNS_CLUSTER_NEEDS, () => {
  let c: NetnsCluster;
  const readyFile = join(tmpdir(), `kp-probe-ready-${process.pid}`);

  const pod = async (name: string): Promise<PodView> => JSON.parse(await c.kubectlOk(['get', 'pod', name, '-o', 'json'])) as PodView;
  const podReady = (p: PodView) => p.status.conditions?.find((x) => x.type === 'Ready')?.status === 'True';
  const readyEndpoints = async (svc: string) => {
    const slices = JSON.parse(await c.kubectlOk(['get', 'endpointslices', '-l', `kubernetes.io/service-name=${svc}`, '-o', 'json'])) as { items: { endpoints: { conditions: { ready?: boolean } }[] | null }[] };
    const eps = slices.items.flatMap((s) => s.endpoints ?? []);
    return { total: eps.length, ready: eps.filter((e) => e.conditions.ready).length };
  };

  beforeAll(async () => {
    c = await startNetnsCluster({ nodes: 1, tag: 'kpprb', dataPlane: false });
  }, 90_000);

  afterAll(async () => {
    rmSync(readyFile, { force: true });
    await c?.stop();
  }, 60_000);

  it('a failing readiness probe takes the pod out of the slice; a failing liveness probe restarts the container', async () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'http', labels: { app: 'http' } },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: 'web',
            image: 'none',
            command: [process.execPath, SERVER],
            env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
            livenessProbe: { httpGet: { path: '/livez', port: 8080 }, periodSeconds: 1, failureThreshold: 2 },
          },
        ],
      },
    };
    await c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    await c.kubectlOk(['create', 'service', 'clusterip', 'http', '--tcp=80:8080']);
    await waitFor(async () => podReady(await pod('http')) && (await readyEndpoints('http')).ready === 1, { what: 'ready endpoint', timeoutMs: 30_000 });

    const flip = (path: string) => c.execInPod('http', ['curl', '-s', '-m', '3', `http://127.0.0.1:8080${path}`]);
    await flip('/fail-ready');
    await waitFor(async () => {
      const eps = await readyEndpoints('http');
      return eps.total === 1 && eps.ready === 0 && !podReady(await pod('http'));
    }, { what: 'endpoint not ready after the readiness probe fails', timeoutMs: 30_000 });
    expect((await pod('http')).status.containerStatuses![0]!.restartCount).toBe(0);
    await flip('/recover-ready');
    await waitFor(async () => (await readyEndpoints('http')).ready === 1, { what: 'endpoint ready again', timeoutMs: 30_000 });

    await flip('/fail-live');
    const restarted = await waitFor(async () => {
      const p = await pod('http');
      const s = p.status.containerStatuses![0]!;
      return s.restartCount === 1 && podReady(p) ? s : undefined;
    }, { what: 'container restarted by the liveness probe and Ready again', timeoutMs: 40_000 });
    expect(restarted.lastState.terminated?.message).toMatch(/failed liveness probe/);
    // The new process has fresh state: it answers its name again on the pod's IP.
    expect((await flip('/')).stdout.trim()).toBe('http');
    expect((await readyEndpoints('http')).ready).toBe(1);
  }, 120_000);

  it('runs exec readiness and tcpSocket liveness probes', async () => {
    rmSync(readyFile, { force: true });
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'exec', labels: { app: 'exec' } },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: 'web',
            image: 'none',
            command: [process.execPath, SERVER],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { exec: { command: ['test', '-f', readyFile] }, periodSeconds: 1, failureThreshold: 1 },
            // The server needs a moment to listen: without the delay and threshold the kubelet would restart it too.
            livenessProbe: { tcpSocket: { port: 'http' }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 3 },
          },
        ],
      },
    };
    await c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    await waitFor(async () => (await pod('exec')).status.phase === 'Running', { what: 'exec pod running', timeoutMs: 30_000 });
    // No file, no readiness; the tcpSocket liveness probe passes meanwhile (no restarts).
    await new Promise((r) => setTimeout(r, 2500));
    let p = await pod('exec');
    expect(podReady(p)).toBe(false);
    expect(p.status.containerStatuses![0]!.restartCount).toBe(0);
    writeFileSync(readyFile, '');
    await waitFor(async () => podReady(await pod('exec')), { what: 'exec probe passes', timeoutMs: 30_000 });
    rmSync(readyFile);
    expect(existsSync(readyFile)).toBe(false);
    await waitFor(async () => !podReady(await pod('exec')), { what: 'exec probe fails again', timeoutMs: 30_000 });
    p = await pod('exec');
    expect(p.status.containerStatuses![0]!.restartCount).toBe(0);
  }, 90_000);

  it('honours restartPolicy: Never fails, OnFailure succeeds, Always restarts with back-off', async () => {
    const one = (name: string, restartPolicy: string, script: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { restartPolicy, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'none', command: ['sh', '-c', script] }] },
    });
    const docs = [one('never', 'Never', 'echo bye; exit 3'), one('onfailure', 'OnFailure', 'exit 0'), one('always', 'Always', 'exit 1')];
    for (const d of docs) await c.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(d) });
    const never = await waitFor(async () => {
      const p = await pod('never');
      return p.status.phase === 'Failed' ? p : undefined;
    }, { what: 'Never pod Failed', timeoutMs: 30_000 });
    expect(never.status.containerStatuses![0]!.state.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(never.status.containerStatuses![0]!.restartCount).toBe(0);
    expect(c.podLog('never', 'main')).toBe('bye\n');
    const ok = await waitFor(async () => {
      const p = await pod('onfailure');
      return p.status.phase === 'Succeeded' ? p : undefined;
    }, { what: 'OnFailure pod Succeeded', timeoutMs: 30_000 });
    expect(ok.status.containerStatuses![0]!.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const always = await waitFor(async () => {
      const p = await pod('always');
      return p.status.containerStatuses?.[0]!.restartCount! >= 2 ? p : undefined;
    }, { what: 'Always pod restarted twice', timeoutMs: 30_000 });
    expect(always.status.phase).toBe('Running');
    expect(always.status.containerStatuses![0]!.lastState.terminated?.exitCode).toBe(1);
    // Deleting the pods removes them for good (their sandboxes with them).
    await c.kubectlOk(['delete', 'pod', 'never', 'onfailure', 'always', '--wait=true', '--timeout=30s'], { timeoutMs: 40_000 });
  }, 90_000);
});
