// API discovery documents, in both the aggregated form (apidiscovery.k8s.io v2/v2beta1) that
// kubectl 1.30+ asks for first and the legacy per-group-version form older clients walk.
// Everything is derived from the served resource table, so a resource added there is
// discoverable without touching this file.

import { createHash } from 'node:crypto';
import { RESOURCES, apiVersionOf, type ResourceInfo } from '../api/resources.js';

export const DISCOVERY_V2_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const DISCOVERY_V2BETA1_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

export type DiscoveryFormat = 'v2' | 'v2beta1' | 'legacy';

interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

interface SubresourceFacts {
  responseKind: (info: ResourceInfo) => GroupVersionKind;
  verbs: string[];
}

// What each subresource returns and accepts, as kube-apiserver registers them.
const SUBRESOURCES: Record<string, SubresourceFacts> = {
  status: { responseKind: (i) => ({ group: i.group, version: i.version, kind: i.kind }), verbs: ['get', 'patch', 'update'] },
  scale: { responseKind: () => ({ group: 'autoscaling', version: 'v1', kind: 'Scale' }), verbs: ['get', 'patch', 'update'] },
  binding: { responseKind: () => ({ group: '', version: 'v1', kind: 'Binding' }), verbs: ['create'] },
  finalize: { responseKind: (i) => ({ group: i.group, version: i.version, kind: i.kind }), verbs: ['update'] },
};

function subresourceFacts(info: ResourceInfo, sub: string): { responseKind: GroupVersionKind; verbs: string[] } {
  const facts = SUBRESOURCES[sub];
  if (facts) return { responseKind: facts.responseKind(info), verbs: [...facts.verbs] };
  // Unknown subresources are described conservatively as read-only views of the parent kind.
  return { responseKind: { group: info.group, version: info.version, kind: info.kind }, verbs: ['get'] };
}

// Create-only review resources the server answers without storing anything; they are not in
// the storage table but kubectl (api-resources, auth can-i) and clients look them up here.
function review(group: string, resource: string, kind: string): ResourceInfo {
  return { group, version: 'v1', resource, singular: resource.replace(/s$/, ''), kind, listKind: '', namespaced: false, shortNames: [], categories: [], subresources: [], storagePrefix: '', tracksGeneration: false, verbs: ['create'] };
}
const REVIEWS: ResourceInfo[] = [
  review('authentication.k8s.io', 'selfsubjectreviews', 'SelfSubjectReview'),
  review('authorization.k8s.io', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview'),
  review('authorization.k8s.io', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview'),
];
/** Everything discovery lists: the stored resources and the review resources. */
export const SERVED_RESOURCES: ResourceInfo[] = [...RESOURCES, ...REVIEWS];
const SERVED = SERVED_RESOURCES;

/** Groups in the order kube-apiserver lists them (preference order), core excluded. */
function namedGroups(): string[] {
  const seen: string[] = [];
  for (const info of SERVED) if (info.group !== '' && !seen.includes(info.group)) seen.push(info.group);
  return seen;
}

function versionsOf(group: string): string[] {
  const seen: string[] = [];
  for (const info of SERVED) if (info.group === group && !seen.includes(info.version)) seen.push(info.version);
  return seen;
}

function resourcesOf(group: string, version: string): ResourceInfo[] {
  return SERVED.filter((i) => i.group === group && i.version === version).sort((a, b) => a.resource.localeCompare(b.resource));
}

function discoveryResource(info: ResourceInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {
    resource: info.resource,
    responseKind: { group: info.group, version: info.version, kind: info.kind },
    scope: info.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: info.singular,
    verbs: [...info.verbs],
  };
  // Upstream omits empty lists (omitempty); kubectl treats absent and empty alike.
  if (info.shortNames.length > 0) out.shortNames = [...info.shortNames];
  if (info.categories.length > 0) out.categories = [...info.categories];
  if (info.subresources.length > 0) {
    out.subresources = [...info.subresources].sort().map((sub) => ({ subresource: sub, ...subresourceFacts(info, sub) }));
  }
  return out;
}

function discoveryGroup(group: string): Record<string, unknown> {
  return {
    metadata: group === '' ? { creationTimestamp: null } : { name: group, creationTimestamp: null },
    versions: versionsOf(group).map((version) => ({
      version,
      resources: resourcesOf(group, version).map(discoveryResource),
      freshness: 'Current',
    })),
  };
}

/** The APIGroupDiscoveryList served at /api (core group only) or /apis (every named group). */
export function aggregatedDiscovery(root: 'api' | 'apis', version: 'v2' | 'v2beta1'): object {
  const groups = root === 'api' ? [''] : namedGroups();
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map(discoveryGroup),
  };
}

interface MediaRange {
  type: string;
  params: Map<string, string>;
  q: number;
  index: number;
}

function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  accept.split(',').forEach((part, index) => {
    const [type, ...rawParams] = part.split(';').map((s) => s.trim());
    if (!type) return;
    const params = new Map<string, string>();
    let q = 1;
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const key = p.slice(0, eq).trim().toLowerCase();
      const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (key === 'q') {
        const n = Number(value);
        q = Number.isFinite(n) ? n : 0;
      } else params.set(key, value);
    }
    ranges.push({ type: type.toLowerCase(), params, q, index });
  });
  // Highest quality first; ties keep the client's order, as kube-apiserver's negotiation does.
  return ranges.filter((r) => r.q > 0).sort((a, b) => b.q - a.q || a.index - b.index);
}

/**
 * Which discovery document to answer with for a request's Accept header: the aggregated
 * form only when the client names it explicitly, otherwise the legacy APIVersions/APIGroupList.
 */
export function negotiateDiscovery(accept: string | undefined): DiscoveryFormat {
  if (!accept) return 'legacy';
  for (const range of parseAccept(accept)) {
    if (range.type !== 'application/json') continue;
    const g = range.params.get('g');
    const v = range.params.get('v');
    const as = range.params.get('as');
    if (g === undefined && v === undefined && as === undefined) return 'legacy';
    if (g === 'apidiscovery.k8s.io' && as === 'APIGroupDiscoveryList') {
      if (v === 'v2') return 'v2';
      if (v === 'v2beta1') return 'v2beta1';
    }
  }
  return 'legacy';
}

/** The Content-Type that goes with an aggregated discovery answer. */
export function discoveryContentType(format: DiscoveryFormat): string {
  if (format === 'v2') return DISCOVERY_V2_CONTENT_TYPE;
  if (format === 'v2beta1') return DISCOVERY_V2BETA1_CONTENT_TYPE;
  return 'application/json';
}

/** Legacy /api: the core group's versions. */
export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: versionsOf(''),
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** Legacy /apis: every named group with its versions, the first being preferred. */
export function apiGroupList(): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: namedGroups().map((g) => apiGroup(g)!),
  };
}

/** Legacy /apis/<group>: one APIGroup, or undefined for a group that is not served. */
export function apiGroup(group: string): object | undefined {
  if (!isServedGroup(group)) return undefined;
  const versions = versionsOf(group).map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] };
}

export function isServedGroup(group: string): boolean {
  return group !== '' && SERVED.some((i) => i.group === group);
}

/**
 * kube-apiserver's storage version hash: the first 8 bytes of sha256("<group>/<version>/<kind>"),
 * base64. Clients only compare it for equality, to notice storage version changes.
 */
export function storageVersionHash(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>): string {
  return createHash('sha256').update(`${info.group}/${info.version}/${info.kind}`).digest().subarray(0, 8).toString('base64');
}

/** Legacy /api/v1 or /apis/<group>/<version>: an APIResourceList, or undefined for an unknown GV. */
export function apiResourceList(group: string, version: string): object | undefined {
  const infos = resourcesOf(group, version);
  if (infos.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const info of infos) {
    const main: Record<string, unknown> = {
      name: info.resource,
      singularName: info.singular,
      namespaced: info.namespaced,
      kind: info.kind,
      verbs: [...info.verbs],
    };
    if (info.shortNames.length > 0) main.shortNames = [...info.shortNames];
    if (info.categories.length > 0) main.categories = [...info.categories];
    main.storageVersionHash = storageVersionHash(info);
    resources.push(main);
    for (const sub of [...info.subresources].sort()) {
      const { responseKind, verbs } = subresourceFacts(info, sub);
      const entry: Record<string, unknown> = { name: `${info.resource}/${sub}`, singularName: '', namespaced: info.namespaced };
      // group/version appear only when the subresource's kind lives in another group-version.
      if (responseKind.group !== info.group || responseKind.version !== info.version) {
        entry.group = responseKind.group;
        entry.version = responseKind.version;
      }
      entry.kind = responseKind.kind;
      entry.verbs = verbs;
      resources.push(entry);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}
