import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DISCOVERY_V2_CONTENT_TYPE,
  DISCOVERY_V2BETA1_CONTENT_TYPE,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  negotiateDiscovery,
  storageVersionHash,
  SERVED_RESOURCES,
} from '../../../src/apiserver/discovery.js';
import { RESOURCES } from '../../../src/api/resources.js';
import { describeE2E } from '../../helpers/e2e.js';
import { startKubectlStub, type KubectlStub } from './kubectl-stub.js';

type Json = Record<string, any>;

describe('negotiateDiscovery', () => {
  const kubectl132 = `${DISCOVERY_V2_CONTENT_TYPE},${DISCOVERY_V2BETA1_CONTENT_TYPE},application/json`;
  it.each([
    [kubectl132, 'v2'],
    [`${DISCOVERY_V2BETA1_CONTENT_TYPE},application/json`, 'v2beta1'],
    ['application/json, */*', 'legacy'],
    [undefined, 'legacy'],
    ['', 'legacy'],
    // quality values outrank order
    [`${DISCOVERY_V2_CONTENT_TYPE};q=0.5,${DISCOVERY_V2BETA1_CONTENT_TYPE}`, 'v2beta1'],
    [`application/json;q=0.9,${DISCOVERY_V2_CONTENT_TYPE}`, 'v2'],
    ['application/json,' + DISCOVERY_V2_CONTENT_TYPE, 'legacy'],
    ['application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList', 'legacy'],
    ['garbage;;;=,,', 'legacy'],
  ])('%s -> %s', (accept, want) => {
    expect(negotiateDiscovery(accept)).toBe(want);
  });
});

describe('aggregatedDiscovery', () => {
  it('serves the core group under /api with every core resource', () => {
    const doc = aggregatedDiscovery('api', 'v2') as Json;
    expect(doc.kind).toBe('APIGroupDiscoveryList');
    expect(doc.apiVersion).toBe('apidiscovery.k8s.io/v2');
    expect(doc.items).toHaveLength(1);
    expect(doc.items[0].metadata.name).toBeUndefined();
    const v1 = doc.items[0].versions[0];
    expect(v1.version).toBe('v1');
    expect(v1.freshness).toBe('Current');
    const names = v1.resources.map((r: Json) => r.resource);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['services', 'pods', 'namespaces', 'endpoints', 'nodes', 'secrets', 'configmaps']));
    const svc = v1.resources.find((r: Json) => r.resource === 'services');
    expect(svc).toEqual({
      resource: 'services',
      responseKind: { group: '', version: 'v1', kind: 'Service' },
      scope: 'Namespaced',
      singularResource: 'service',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['svc'],
      categories: ['all'],
      subresources: [{ subresource: 'status', responseKind: { group: '', version: 'v1', kind: 'Service' }, verbs: ['get', 'patch', 'update'] }],
    });
    const pods = v1.resources.find((r: Json) => r.resource === 'pods');
    expect(pods.subresources).toContainEqual({ subresource: 'binding', responseKind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'] });
    const ns = v1.resources.find((r: Json) => r.resource === 'namespaces');
    expect(ns.scope).toBe('Cluster');
    expect(ns.subresources.map((s: Json) => s.subresource)).toEqual(['finalize', 'status']);
  });

  it('serves named groups under /apis, scale as autoscaling/v1 Scale', () => {
    const doc = aggregatedDiscovery('apis', 'v2beta1') as Json;
    expect(doc.apiVersion).toBe('apidiscovery.k8s.io/v2beta1');
    const groups = doc.items.map((g: Json) => g.metadata.name);
    expect(groups).toEqual(expect.arrayContaining(['apps', 'discovery.k8s.io', 'networking.k8s.io', 'coordination.k8s.io']));
    expect(groups).not.toContain('');
    const apps = doc.items.find((g: Json) => g.metadata.name === 'apps');
    const deploy = apps.versions[0].resources.find((r: Json) => r.resource === 'deployments');
    expect(deploy.shortNames).toEqual(['deploy']);
    expect(deploy.subresources).toContainEqual({ subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] });
    const total = doc.items.reduce((n: number, g: Json) => n + g.versions[0].resources.length, 0);
    expect(total).toBe(SERVED_RESOURCES.filter((r) => r.group !== '').length);
  });
});

describe('legacy discovery', () => {
  it('APIVersions and APIGroupList', () => {
    expect(apiVersions('10.0.0.1:6443')).toEqual({
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '10.0.0.1:6443' }],
    });
    const list = apiGroupList() as Json;
    const apps = list.groups.find((g: Json) => g.name === 'apps');
    expect(apps).toEqual({ kind: 'APIGroup', apiVersion: 'v1', name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } });
  });

  it('APIGroup for a served group only', () => {
    expect(apiGroup('networking.k8s.io')).toMatchObject({ kind: 'APIGroup', name: 'networking.k8s.io', preferredVersion: { groupVersion: 'networking.k8s.io/v1', version: 'v1' } });
    expect(apiGroup('nope.example.com')).toBeUndefined();
    expect(apiGroup('')).toBeUndefined();
  });

  it('APIResourceList with subresources as their own entries', () => {
    const core = apiResourceList('', 'v1') as Json;
    expect(core.groupVersion).toBe('v1');
    const svc = core.resources.find((r: Json) => r.name === 'services');
    expect(svc).toMatchObject({ singularName: 'service', namespaced: true, kind: 'Service', shortNames: ['svc'], categories: ['all'] });
    expect(svc.storageVersionHash).toMatch(/^[A-Za-z0-9+/]{11}=$/);
    expect(core.resources.find((r: Json) => r.name === 'services/status')).toEqual({ name: 'services/status', singularName: '', namespaced: true, kind: 'Service', verbs: ['get', 'patch', 'update'] });
    const apps = apiResourceList('apps', 'v1') as Json;
    expect(apps.groupVersion).toBe('apps/v1');
    expect(apps.resources.find((r: Json) => r.name === 'deployments/scale')).toEqual({
      name: 'deployments/scale',
      singularName: '',
      namespaced: true,
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: ['get', 'patch', 'update'],
    });
    expect(apiResourceList('apps', 'v2')).toBeUndefined();
    expect(apiResourceList('nope.example.com', 'v1')).toBeUndefined();
  });

  it('storage version hashes differ per kind and are stable', () => {
    const hashes = new Set(RESOURCES.map((r) => storageVersionHash(r)));
    expect(hashes.size).toBe(RESOURCES.length);
    expect(storageVersionHash({ group: '', version: 'v1', kind: 'Service' })).toBe(storageVersionHash({ group: '', version: 'v1', kind: 'Service' }));
  });
});

describeE2E('kubectl api-resources against served discovery', { commands: ['kubectl'] }, () => {
  for (const legacy of [false, true]) {
    describe(legacy ? 'legacy per-group discovery' : 'aggregated discovery', () => {
      let stub: KubectlStub;
      beforeAll(async () => {
        stub = await startKubectlStub({ legacyDiscovery: legacy });
      });
      afterAll(async () => {
        await stub?.close();
      });

      it('lists every served resource with short names and kinds', async () => {
        const out = await stub.kubectl(['api-resources', '--no-headers']);
        expect(out.stderr).toBe('');
        expect(out.code).toBe(0);
        const rows = out.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
        expect(rows).toHaveLength(SERVED_RESOURCES.length);
        expect(rows).toContainEqual(['services', 'svc', 'v1', 'true', 'Service']);
        expect(rows).toContainEqual(['deployments', 'deploy', 'apps/v1', 'true', 'Deployment']);
        expect(rows).toContainEqual(['endpointslices', 'discovery.k8s.io/v1', 'true', 'EndpointSlice']);
        expect(rows).toContainEqual(['nodes', 'no', 'v1', 'false', 'Node']);
        const discovery = stub.requests.filter((r) => r.url.startsWith('/api'));
        if (legacy) expect(discovery.map((r) => r.url.split('?')[0])).toContain('/apis/apps/v1');
        else expect(discovery.every((r) => ['/api', '/apis'].includes(r.url.split('?')[0]!))).toBe(true);
      });

      it('resolves short names and categories from discovery', async () => {
        stub.requests.length = 0;
        await stub.kubectl(['get', 'svc', '-o', 'name']);
        expect(stub.requests.some((r) => r.url.startsWith('/api/v1/namespaces/default/services'))).toBe(true);
        stub.requests.length = 0;
        await stub.kubectl(['get', 'all', '-o', 'name']);
        const urls = stub.requests.map((r) => r.url.split('?')[0]);
        expect(urls).toEqual(expect.arrayContaining(['/api/v1/namespaces/default/pods', '/api/v1/namespaces/default/services', '/apis/apps/v1/namespaces/default/deployments']));
      });
    });
  }
});
