import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Lease } from '../../../src/api/types.js';
import { RestClient } from '../../../src/client/rest.js';
import { LeaderElector, LeaderElectionConfigError } from '../../../src/client/leaderelection.js';
import { waitFor } from '../../helpers/cli.js';

/** One Lease collection with create/get/update and resourceVersion conflicts, as the API defines them. */
function leaseServer(): { server: Server; leases: Map<string, Lease>; writes: Lease[] } {
  const leases = new Map<string, Lease>();
  const writes: Lease[] = [];
  let rv = 1;
  const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message });
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const send = (code: number, obj: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      const m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/?]+))?/.exec(req.url ?? '');
      if (!m) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      const key = `${m[1]}/${m[2] ?? ''}`;
      if (req.method === 'GET') {
        const l = leases.get(key);
        return l ? send(200, l) : send(404, status(404, 'NotFound', `leases.coordination.k8s.io "${m[2]}" not found`));
      }
      const obj = JSON.parse(body) as Lease;
      if (req.method === 'POST') {
        const k = `${m[1]}/${obj.metadata.name}`;
        if (leases.has(k)) return send(409, status(409, 'AlreadyExists', `leases.coordination.k8s.io "${obj.metadata.name}" already exists`));
        obj.metadata.resourceVersion = String(++rv);
        leases.set(k, obj);
        writes.push(obj);
        return send(201, obj);
      }
      if (req.method === 'PUT') {
        const cur = leases.get(key);
        if (!cur) return send(404, status(404, 'NotFound', 'not found'));
        if (obj.metadata.resourceVersion !== cur.metadata.resourceVersion) return send(409, status(409, 'Conflict', 'Operation cannot be fulfilled on leases.coordination.k8s.io: the object has been modified'));
        obj.metadata.resourceVersion = String(++rv);
        leases.set(key, obj);
        writes.push(obj);
        return send(200, obj);
      }
      send(405, status(405, 'MethodNotAllowed', 'no'));
    });
  });
  return { server, leases, writes };
}

describe('LeaderElector', () => {
  let s: ReturnType<typeof leaseServer>;
  let client: RestClient;
  const aborts: AbortController[] = [];
  const runs: Promise<void>[] = [];

  beforeEach(async () => {
    s = leaseServer();
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    client = new RestClient({ server: `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`, namespace: 'default', source: 't' });
  });
  afterEach(async () => {
    for (const a of aborts.splice(0)) a.abort();
    await Promise.all(runs.splice(0));
    await client.close();
    s.server.closeAllConnections();
    await new Promise<void>((r) => s.server.close(() => r()));
  });

  function candidate(identity: string, opts: { releaseOnCancel?: boolean } = {}) {
    const state = { leading: false, started: 0, stopped: 0, leaders: [] as string[] };
    const elector = new LeaderElector(client, {
      namespace: 'kube-system',
      name: 'kubeplane-controller-manager',
      identity,
      leaseDurationMs: 1500,
      renewDeadlineMs: 1000,
      retryPeriodMs: 200,
      releaseOnCancel: opts.releaseOnCancel ?? true,
      callbacks: {
        onStartedLeading: () => {
          state.leading = true;
          state.started++;
        },
        onStoppedLeading: () => {
          state.leading = false;
          state.stopped++;
        },
        onNewLeader: (id) => state.leaders.push(id),
      },
    });
    const ac = new AbortController();
    aborts.push(ac);
    const run = elector.run(ac.signal);
    runs.push(run);
    return { elector, state, ac, run };
  }

  it('elects exactly one of two candidates and keeps renewing', async () => {
    const a = candidate('a');
    const b = candidate('b');
    await waitFor(() => a.state.leading || b.state.leading, { what: 'a leader' });
    const [leader, follower] = a.state.leading ? [a, b] : [b, a];
    const lease = s.leases.get('kube-system/kubeplane-controller-manager')!;
    const firstRenew = lease.spec.renewTime;
    await waitFor(() => s.leases.get('kube-system/kubeplane-controller-manager')!.spec.renewTime !== firstRenew, { what: 'renewal' });
    expect(leader.state.leading).toBe(true);
    expect(follower.state.leading).toBe(false);
    const l = s.leases.get('kube-system/kubeplane-controller-manager')!;
    expect(l.spec.holderIdentity).toBe(leader.elector.getLeader());
    expect(l.spec.leaseDurationSeconds).toBe(2);
    expect(l.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(follower.state.leaders).toContain(l.spec.holderIdentity);
  });

  it('hands over at once when the leader releases on cancel', async () => {
    const a = candidate('a');
    await waitFor(() => a.state.leading);
    const b = candidate('b');
    await new Promise((r) => setTimeout(r, 300));
    expect(b.state.leading).toBe(false);
    a.ac.abort();
    await a.run;
    expect(a.state.stopped).toBe(1);
    await waitFor(() => b.state.leading, { what: 'b takes over' });
    const l = s.leases.get('kube-system/kubeplane-controller-manager')!;
    expect(l.spec.holderIdentity).toBe('b');
    expect(l.spec.leaseTransitions).toBe(1);
  });

  it('takes over only after the lease duration when the leader vanishes without releasing', async () => {
    const a = candidate('a', { releaseOnCancel: false });
    await waitFor(() => a.state.leading);
    const b = candidate('b');
    await new Promise((r) => setTimeout(r, 300));
    a.ac.abort();
    await a.run;
    const gone = Date.now();
    await waitFor(() => b.state.leading, { what: 'b takes over' });
    // b must have waited for the lease, by its own clock, since it last saw a renewal
    expect(Date.now() - gone).toBeGreaterThan(700);
  });

  it('rejects inconsistent timings as client-go does', () => {
    const base = { namespace: 'n', name: 'l', identity: 'x', callbacks: { onStartedLeading: () => undefined } };
    expect(() => new LeaderElector(client, { ...base, leaseDurationMs: 1000, renewDeadlineMs: 1000 })).toThrow(LeaderElectionConfigError);
    expect(() => new LeaderElector(client, { ...base, renewDeadlineMs: 2000, retryPeriodMs: 2000 })).toThrow(/renewDeadline/);
    expect(() => new LeaderElector(client, { ...base, identity: '' })).toThrow(/identity/);
  });
});
