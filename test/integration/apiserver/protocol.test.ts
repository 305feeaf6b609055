// The API protocol details kubectl does not exercise but informers and controllers rely on:
// watch semantics (selectors, 410, initial events, timeouts), list paging and
// resourceVersion rules, dry-run, no-op writes, status/generation rules, pods, namespaces.
// An in-process server over plain HTTP on loopback with the real SQLite store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../src/apiserver/server.js';
import { TokenAuthenticator, parseTokenFile } from '../../../src/apiserver/auth.js';
import { PortRange, ServiceCIDR } from '../../../src/apiserver/registry/services.js';
import { openSqliteStore } from '../../../src/apiserver/storage/sqlite.js';
import type { Store } from '../../../src/apiserver/storage/interface.js';
import { runKubeplane } from '../../helpers/cli.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

describe('API protocol', () => {
  const dir = mkdtempSync(join(tmpdir(), `kp-apiserver-proto-${process.pid}-`));
  let store: Store;
  let server: ApiServer;
  let base = '';
  const auth = { authorization: 'Bearer t0k3n' };

  async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Obj; headers: Record<string, unknown> }> {
    const res = await request(base + path, {
      method: method as 'GET',
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    });
    const text = await res.body.text();
    return { status: res.statusCode, json: text ? (JSON.parse(text) as Obj) : {}, headers: res.headers };
  }

  /** reads watch events until `until` says stop (or the server ends the stream) */
  async function watch(path: string, until: (events: Obj[]) => boolean, act?: () => Promise<void>): Promise<Obj[]> {
    const ac = new AbortController();
    const res = await request(base + path, { headers: auth, signal: ac.signal });
    expect(res.statusCode).toBe(200);
    const events: Obj[] = [];
    let buf = '';
    const reading = (async () => {
      try {
        for await (const chunk of res.body) {
          buf += chunk.toString();
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            events.push(JSON.parse(buf.slice(0, i)) as Obj);
            buf = buf.slice(i + 1);
          }
          if (until(events)) break;
        }
      } catch {
        // aborted
      }
    })();
    if (act) await act();
    const timer = setTimeout(() => ac.abort(), 10_000);
    await reading;
    clearTimeout(timer);
    ac.abort();
    return events;
  }

  const cm = (name: string, labels: Record<string, string> = {}, ns = 'default') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data: { a: '1' } });

  beforeAll(async () => {
    store = await openSqliteStore(join(dir, 'data'), { compactInterval: 0 });
    server = new ApiServer({
      store,
      authenticator: new TokenAuthenticator(parseTokenFile('t0k3n,admin,1,"system:masters"\n')),
      serviceCIDR: new ServiceCIDR('10.0.0.0/24'),
      nodePorts: new PortRange(30000, 100),
      bindAddress: '127.0.0.1',
      port: 0,
      advertiseAddress: '10.1.2.3',
    });
    const addr = await server.start();
    base = `http://127.0.0.1:${addr.port}`;
  });

  afterAll(async () => {
    await server?.stop();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bootstraps namespaces and the kubernetes Service with its endpoints', async () => {
    const ns = await api('GET', '/api/v1/namespaces');
    expect(ns.json.items.map((n: Obj) => n.metadata.name).sort()).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(ns.json.items[0].metadata.labels['kubernetes.io/metadata.name']).toBe(ns.json.items[0].metadata.name);
    const svc = await api('GET', '/api/v1/namespaces/default/services/kubernetes');
    expect(svc.json.spec.clusterIP).toBe('10.0.0.1');
    const ep = await api('GET', '/api/v1/namespaces/default/endpoints/kubernetes');
    expect(ep.json.subsets[0].addresses[0].ip).toBe('10.1.2.3');
    const slice = await api('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes');
    expect(slice.json.endpoints[0].addresses).toEqual(['10.1.2.3']);
    expect((await api('GET', '/version')).json.minor).toBe('32');
    expect((await request(`${base}/healthz`)).statusCode).toBe(200);
    expect((await request(`${base}/readyz`, { headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
  });

  it('watch: selectors turn entering/leaving objects into ADDED/DELETED', async () => {
    const list = await api('GET', '/api/v1/namespaces/default/configmaps');
    const rv = list.json.metadata.resourceVersion;
    const events = await watch(
      `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}&labelSelector=app%3Dweb`,
      (ev) => ev.length >= 4,
      async () => {
        await api('POST', '/api/v1/namespaces/default/configmaps', cm('w1'));
        await api('PATCH', '/api/v1/namespaces/default/configmaps/w1', { metadata: { labels: { app: 'web' } } }, { 'content-type': 'application/merge-patch+json' });
        await api('PATCH', '/api/v1/namespaces/default/configmaps/w1', { data: { b: '2' } }, { 'content-type': 'application/merge-patch+json' });
        await api('PATCH', '/api/v1/namespaces/default/configmaps/w1', { metadata: { labels: { app: 'db' } } }, { 'content-type': 'application/merge-patch+json' });
        await api('POST', '/api/v1/namespaces/default/configmaps', cm('w2', { app: 'web' }));
      },
    );
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1', 'ADDED w2']);
    expect(events[2].object.metadata.labels.app).toBe('db');
  });

  it('watch without a resourceVersion starts with the current state; timeoutSeconds ends it', async () => {
    const events = await watch('/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Dw2', () => false);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED w2']);
  });

  it('watch with sendInitialEvents ends the initial events with the annotated bookmark', async () => {
    const bad = await api('GET', '/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true');
    expect(bad.status).toBe(422);
    const events = await watch('/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector=app', (ev) => ev.some((e) => e.type === 'BOOKMARK'));
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'ADDED', 'BOOKMARK']);
    const bm = events[2].object;
    expect(bm.kind).toBe('ConfigMap');
    expect(bm.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    expect(Number(bm.metadata.resourceVersion)).toBeGreaterThan(0);
  });

  it('watch from a compacted revision gets a 410 Expired ERROR event', async () => {
    const first = (await api('POST', '/api/v1/namespaces/default/configmaps', cm('old'))).json.metadata.resourceVersion;
    await api('POST', '/api/v1/namespaces/default/configmaps', cm('newer'));
    await store.compact(await store.currentRevision());
    const events = await watch(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${Number(first) - 1}`, (ev) => ev.length > 0);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    expect(events[0].object.message).toMatch(/too old resource version/);
    const exact = await api('GET', `/api/v1/namespaces/default/configmaps?resourceVersion=${first}&resourceVersionMatch=Exact`);
    expect(exact.status).toBe(410);
  });

  it('lists page with limit/continue at one snapshot, and reject bad resourceVersion parameters', async () => {
    for (let i = 0; i < 7; i++) await api('POST', '/api/v1/namespaces/default/configmaps', cm(`page-${i}`, { page: 'yes' }));
    const seen: string[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    let pages = 0;
    do {
      const r = await api('GET', `/api/v1/namespaces/default/configmaps?labelSelector=page&limit=3${cont ? `&continue=${cont}` : ''}`);
      expect(r.status).toBe(200);
      rv ??= r.json.metadata.resourceVersion;
      expect(r.json.metadata.resourceVersion).toBe(rv);
      seen.push(...r.json.items.map((o: Obj) => o.metadata.name));
      cont = r.json.metadata.continue;
      pages++;
      // a write between pages does not show up in this list
      if (pages === 1) await api('POST', '/api/v1/namespaces/default/configmaps', cm('page-late', { page: 'yes' }));
    } while (cont);
    expect(seen).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
    expect(pages).toBe(3);
    const token = JSON.parse(Buffer.from((await api('GET', '/api/v1/namespaces/default/configmaps?limit=1')).json.metadata.continue, 'base64url').toString());
    expect(token).toMatchObject({ v: 'meta.k8s.io/v1', rv: expect.any(Number), start: expect.any(String) });
    expect((await api('GET', '/api/v1/namespaces/default/configmaps?continue=garbage')).status).toBe(400);
    expect((await api('GET', '/api/v1/namespaces/default/configmaps?resourceVersionMatch=Exact')).status).toBe(422);
    expect((await api('GET', '/api/v1/namespaces/default/configmaps?labelSelector=a%20b%20c')).status).toBe(400);
    const future = await api('GET', '/api/v1/namespaces/default/configmaps?resourceVersion=99999999&resourceVersionMatch=NotOlderThan');
    expect(future.status).toBe(504);
    expect(future.json.details.causes[0].reason).toBe('ResourceVersionTooLarge');
  });

  it('no-op writes keep the resourceVersion; dryRun writes nothing', async () => {
    const created = (await api('POST', '/api/v1/namespaces/default/configmaps', cm('noop'))).json;
    const same = await api('PUT', '/api/v1/namespaces/default/configmaps/noop', created);
    expect(same.json.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    const patched = await api('PATCH', '/api/v1/namespaces/default/configmaps/noop', { data: { a: '1' } }, { 'content-type': 'application/merge-patch+json' });
    expect(patched.json.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    const dry = await api('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', cm('dry'));
    expect(dry.status).toBe(201);
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/dry')).status).toBe(404);
    const dryDel = await api('DELETE', '/api/v1/namespaces/default/configmaps/noop?dryRun=All');
    expect(dryDel.status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/noop')).status).toBe(200);
    const gen = await api('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } });
    expect(gen.json.metadata.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('status subresource and generation rules', async () => {
    const dep = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
      status: { replicas: 9 },
    };
    const created = (await api('POST', '/apis/apps/v1/namespaces/default/deployments', dep)).json;
    expect(created.metadata.generation).toBe(1);
    expect(created.status).toEqual({});
    const st = await api('PUT', '/apis/apps/v1/namespaces/default/deployments/d/status', { ...created, spec: { ...created.spec, replicas: 5 }, status: { replicas: 1 } });
    expect(st.json.status.replicas).toBe(1);
    expect(st.json.spec.replicas).toBe(1);
    expect(st.json.metadata.generation).toBe(1);
    const main = await api('PUT', '/apis/apps/v1/namespaces/default/deployments/d', { ...st.json, spec: { ...st.json.spec, replicas: 2 }, status: { replicas: 7 } });
    expect(main.json.spec.replicas).toBe(2);
    expect(main.json.status.replicas).toBe(1);
    expect(main.json.metadata.generation).toBe(2);
    const labelOnly = await api('PATCH', '/apis/apps/v1/namespaces/default/deployments/d', { metadata: { labels: { x: 'y' } } }, { 'content-type': 'application/merge-patch+json' });
    expect(labelOnly.json.metadata.generation).toBe(2);
    const mf = labelOnly.json.metadata.managedFields.map((m: Obj) => m.manager);
    expect(mf.length).toBeGreaterThan(0);
  });

  it('pods: binding, graceful deletion, and a namespace being terminated refuses new content', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
    const created = (await api('POST', '/api/v1/namespaces/default/pods', pod)).json;
    expect(created.status.phase).toBe('Pending');
    const bind = await api('POST', '/api/v1/namespaces/default/pods/p/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1' } });
    expect(bind.status).toBe(201);
    const again = await api('POST', '/api/v1/namespaces/default/pods/p/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'n2' } });
    expect(again.status).toBe(409);
    expect(again.json.message).toContain('is already assigned to node "n1"');
    const bound = (await api('GET', '/api/v1/namespaces/default/pods/p')).json;
    expect(bound.spec.nodeName).toBe('n1');
    expect(bound.status.conditions.find((c: Obj) => c.type === 'PodScheduled').status).toBe('True');
    expect((await api('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1')).json.items).toHaveLength(1);
    const del = await api('DELETE', '/api/v1/namespaces/default/pods/p');
    expect(del.status).toBe(202);
    expect(del.json.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await api('GET', '/api/v1/namespaces/default/pods/p')).status).toBe(200);
    const final = await api('DELETE', '/api/v1/namespaces/default/pods/p', { gracePeriodSeconds: 0, preconditions: { uid: created.metadata.uid } });
    expect(final.status).toBe(200);
    expect((await api('GET', '/api/v1/namespaces/default/pods/p')).status).toBe(404);

    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    await api('POST', '/api/v1/namespaces/doomed/configmaps', { ...cm('held', {}, 'doomed'), metadata: { name: 'held', finalizers: ['example.com/x'] } });
    const nsDel = await api('DELETE', '/api/v1/namespaces/doomed');
    expect(nsDel.json.status.phase).toBe('Terminating');
    const refused = await api('POST', '/api/v1/namespaces/doomed/configmaps', cm('new', {}, 'doomed'));
    expect(refused.status).toBe(403);
    expect(refused.json.message).toContain('unable to create new content in namespace doomed because it is being terminated');
    await api('PATCH', '/api/v1/namespaces/doomed/configmaps/held', { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
    for (let i = 0; i < 300 && (await api('GET', '/api/v1/namespaces/doomed')).status !== 404; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await api('GET', '/api/v1/namespaces/doomed')).status).toBe(404);
    expect((await api('POST', '/api/v1/namespaces/doomed/configmaps', cm('x', {}, 'doomed'))).status).toBe(404);
    expect((await api('DELETE', '/api/v1/namespaces/default')).status).toBe(403);
  });

  it('services keep, allocate and release IPs and ports across updates', async () => {
    const put = (svc: Obj) => api('PUT', `/api/v1/namespaces/default/services/${svc.metadata.name}`, svc);
    const created = (await api('POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'flip' }, spec: { ports: [{ port: 80 }] } })).json;
    const ip = created.spec.clusterIP;
    // a replace without clusterIP keeps the allocated one (as kubectl replace relies on)
    const { clusterIP: _a, clusterIPs: _b, ...specWithoutIP } = created.spec;
    let r = await put({ ...created, spec: specWithoutIP });
    expect(r.status).toBe(200);
    expect(r.json.spec.clusterIP).toBe(ip);
    // ClusterIP -> NodePort allocates a node port, back to ClusterIP releases it
    r = await put({ ...r.json, spec: { ...r.json.spec, type: 'NodePort', externalTrafficPolicy: 'Cluster' } });
    expect(r.status).toBe(200);
    const nodePort = r.json.spec.ports[0].nodePort;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    const { externalTrafficPolicy: _e, ...clusterSpec } = r.json.spec;
    r = await put({ ...r.json, spec: { ...clusterSpec, type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] } });
    expect(r.status).toBe(200);
    expect(r.json.spec.ports[0].nodePort).toBeUndefined();
    const reuse = await api('POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reuse' }, spec: { type: 'NodePort', ports: [{ port: 1, nodePort }] } });
    expect(reuse.status).toBe(201);
    // to ExternalName releases the cluster IP
    r = await put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'flip', resourceVersion: r.json.metadata.resourceVersion }, spec: { type: 'ExternalName', externalName: 'example.com' } });
    expect(r.status).toBe(200);
    expect(r.json.spec.clusterIP).toBeUndefined();
    const taken = await api('POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'takes-ip' }, spec: { clusterIP: ip, ports: [{ port: 80 }] } });
    expect(taken.status).toBe(201);
    // a stale resourceVersion on update is a 409
    const stale = await put({ ...taken.json, metadata: { ...taken.json.metadata, resourceVersion: '1' } });
    expect(stale.status).toBe(409);
  });

  it('answers Table, and negotiates content types', async () => {
    const t = await api('GET', '/api/v1/namespaces/default/services', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    expect(t.headers['content-type']).toBe('application/json;as=Table;v=v1;g=meta.k8s.io');
    expect(t.json.columnDefinitions.map((c: Obj) => c.name)).toEqual(['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
    expect((await api('GET', '/api/v1/namespaces', undefined, { accept: 'text/html' })).status).toBe(406);
    const ad = await request(`${base}/apis`, { headers: { ...auth, accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
    expect(ad.headers['content-type']).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    await ad.body.text();
    const warn = await api('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', { ...cm('warned'), bogus: 1 });
    expect(warn.status).toBe(201);
    expect(warn.headers.warning).toBe('299 - "unknown field \\"bogus\\""');
    expect(warn.json.bogus).toBeUndefined();
  });
});

describe('kubeplane apiserver flags', () => {
  it('a bad flag value is one clear line and exit code 2', async () => {
    for (const [args, msg] of [
      [['--service-cluster-ip-range', '10.0.0.0/33'], '--service-cluster-ip-range'],
      [['--service-node-port-range', '5-3'], '--service-node-port-range'],
      [['--bind-address', 'nowhere'], '--bind-address'],
      [['--storage-backend', 'mongo'], '--storage-backend'],
      [['--no-such-flag'], 'no-such-flag'],
    ] as const) {
      const r = await runKubeplane(['apiserver', ...args, '--data-dir', join(tmpdir(), `kp-apiserver-flags-${process.pid}`)]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')[0]).toContain(msg);
    }
    rmSync(join(tmpdir(), `kp-apiserver-flags-${process.pid}`), { recursive: true, force: true });
  });
});
