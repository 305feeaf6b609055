// The RBAC evaluation and request attributes on their own: the matching rules of
// kube-apiserver's RBAC authorizer (wildcards, subresources, resourceNames, non-resource URL
// prefixes, ServiceAccount subjects) and its RequestInfo derivation, table-driven.
import { describe, expect, it } from 'vitest';
import { requestAttributes, type Attributes } from '../../../src/apiserver/authz/attributes.js';
import { authorize, forbiddenMessage, ruleAllows, uncovered, type Binding, type PolicyRule, type PolicySource } from '../../../src/apiserver/authz/rbac.js';
import type { UserInfo } from '../../../src/apiserver/auth.js';
import { ClientCertAuthenticator, TokenAuthenticator, UnionAuthenticator, parseTokenFile } from '../../../src/apiserver/auth.js';

const alice: UserInfo = { name: 'alice', uid: '', groups: ['devs', 'system:authenticated'] };
const attrs = (method: string, url: string, user = alice): Attributes => {
  const u = new URL(url, 'http://x');
  return requestAttributes(user, method, u.pathname, u.searchParams);
};

describe('request attributes (RequestInfo)', () => {
  it.each([
    ['GET', '/api/v1/namespaces/default/pods', { verb: 'list', resource: 'pods', namespace: 'default', name: '' }],
    ['GET', '/api/v1/namespaces/default/pods?watch=true', { verb: 'watch', resource: 'pods' }],
    ['GET', '/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dweb', { verb: 'list', name: 'web' }],
    ['GET', '/api/v1/pods', { verb: 'list', resource: 'pods', namespace: '' }],
    ['GET', '/api/v1/namespaces/default/pods/web', { verb: 'get', name: 'web' }],
    ['POST', '/api/v1/namespaces/default/pods/web/binding', { verb: 'create', resource: 'pods', subresource: 'binding', name: 'web' }],
    ['PUT', '/apis/networking.k8s.io/v1/namespaces/a/ingresses/i/status', { verb: 'update', apiGroup: 'networking.k8s.io', resource: 'ingresses', subresource: 'status', namespace: 'a' }],
    ['PATCH', '/apis/apps/v1/namespaces/a/deployments/d/scale', { verb: 'patch', apiGroup: 'apps', subresource: 'scale' }],
    ['DELETE', '/api/v1/namespaces/a/configmaps', { verb: 'deletecollection' }],
    ['DELETE', '/api/v1/namespaces/a/configmaps/c', { verb: 'delete', name: 'c' }],
    // a namespace is its own namespace, so a RoleBinding there can grant `get` of it
    ['GET', '/api/v1/namespaces/team', { verb: 'get', resource: 'namespaces', name: 'team', namespace: 'team' }],
    ['PUT', '/api/v1/namespaces/team/finalize', { verb: 'update', resource: 'namespaces', subresource: 'finalize', namespace: 'team' }],
  ])('%s %s', (method, url, want) => {
    expect(attrs(method, url)).toMatchObject({ isResourceRequest: true, ...want });
  });
  it.each(['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/healthz', '/openapi/v3/apis/apps/v1', '/version'])('%s is a non-resource URL', (path) => {
    expect(attrs('GET', path)).toMatchObject({ isResourceRequest: false, verb: 'get', path });
  });
});

function policy(clusterRoles: Record<string, PolicyRule[]>, crbs: Binding[], roles: Record<string, PolicyRule[]> = {}, rbs: Binding[] = []): PolicySource {
  return {
    clusterRoleRules: (n) => clusterRoles[n],
    roleRules: (ns, n) => roles[`${ns}/${n}`],
    clusterRoleBindings: () => crbs,
    roleBindings: (ns) => rbs.filter((b) => b.namespace === ns),
  };
}

describe('rule matching', () => {
  const can = (rule: PolicyRule, method: string, url: string) => ruleAllows(attrs(method, url), rule);
  it('matches verbs, groups, resources and names, with * wildcards', () => {
    expect(can({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, 'GET', '/api/v1/namespaces/a/pods/p')).toBe(true);
    expect(can({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, 'GET', '/api/v1/namespaces/a/pods')).toBe(false);
    expect(can({ verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }, 'GET', '/api/v1/namespaces/a/pods/p')).toBe(false);
    expect(can({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, 'DELETE', '/apis/apps/v1/namespaces/a/deployments')).toBe(true);
    expect(can({ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['one'] }, 'GET', '/api/v1/namespaces/a/configmaps/one')).toBe(true);
    expect(can({ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['one'] }, 'GET', '/api/v1/namespaces/a/configmaps/two')).toBe(false);
    expect(can({ verbs: ['create'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['one'] }, 'POST', '/api/v1/namespaces/a/configmaps')).toBe(false);
  });
  it('treats subresources as resource/subresource, and */sub as every resource\'s sub', () => {
    const status: PolicyRule = { verbs: ['update'], apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'] };
    expect(can(status, 'PUT', '/apis/networking.k8s.io/v1/namespaces/a/ingresses/i/status')).toBe(true);
    expect(can(status, 'PUT', '/apis/networking.k8s.io/v1/namespaces/a/ingresses/i')).toBe(false);
    expect(can({ verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] }, 'PUT', '/api/v1/nodes/n/status')).toBe(true);
    expect(can({ verbs: ['create'], apiGroups: [''], resources: ['pods'] }, 'POST', '/api/v1/namespaces/a/pods/p/binding')).toBe(false);
  });
  it('matches non-resource URLs exactly or by a trailing * prefix', () => {
    const discovery: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/api', '/apis/*', '/healthz'] };
    expect(can(discovery, 'GET', '/api')).toBe(true);
    expect(can(discovery, 'GET', '/api/v1')).toBe(false);
    expect(can(discovery, 'GET', '/apis/apps/v1')).toBe(true);
    expect(can(discovery, 'POST', '/healthz')).toBe(false);
    expect(can({ verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, 'GET', '/healthz')).toBe(false);
  });
});

describe('authorize', () => {
  const reader: PolicyRule[] = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }];
  it('ClusterRoleBindings apply everywhere, RoleBindings in their namespace only', () => {
    const p = policy({ reader }, [], {}, [{ name: 'rb', namespace: 'a', roleRef: { kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'Group', name: 'devs' }] }]);
    expect(authorize(p, attrs('GET', '/api/v1/namespaces/a/pods'))).toEqual({ allowed: true, reason: 'RBAC: allowed by RoleBinding "rb/a" of ClusterRole "reader" to Group "devs"' });
    expect(authorize(p, attrs('GET', '/api/v1/namespaces/b/pods')).allowed).toBe(false);
    expect(authorize(p, attrs('GET', '/api/v1/pods')).allowed).toBe(false);
    const c = policy({ reader }, [{ name: 'crb', roleRef: { kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'User', name: 'alice' }] }]);
    expect(authorize(c, attrs('GET', '/api/v1/pods')).allowed).toBe(true);
    expect(authorize(c, attrs('GET', '/api/v1/pods', { name: 'bob', uid: '', groups: [] })).allowed).toBe(false);
  });
  it('ServiceAccount subjects default to the binding\'s namespace', () => {
    const sa: UserInfo = { name: 'system:serviceaccount:a:robot', uid: '', groups: ['system:serviceaccounts'] };
    const p = policy({}, [], { 'a/r': reader }, [{ name: 'rb', namespace: 'a', roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'robot' }] }]);
    expect(authorize(p, attrs('GET', '/api/v1/namespaces/a/pods', sa)).allowed).toBe(true);
  });
  it('reports bindings to missing roles in the reason', () => {
    const p = policy({}, [{ name: 'crb', roleRef: { kind: 'ClusterRole', name: 'gone' }, subjects: [{ kind: 'User', name: 'alice' }] }]);
    const d = authorize(p, attrs('GET', '/api/v1/pods'));
    expect(d).toEqual({ allowed: false, reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found' });
  });
  it('words the 403 as kube-apiserver', () => {
    expect(forbiddenMessage(attrs('GET', '/api/v1/namespaces/a/pods/p/log'))).toBe('User "alice" cannot get resource "pods/log" in API group "" in the namespace "a"');
    expect(forbiddenMessage(attrs('POST', '/metrics'))).toBe('User "alice" cannot post path "/metrics"');
  });
  it('finds what a requested rule grants beyond the owner\'s rules', () => {
    const owner: PolicyRule[] = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'services'] }, { verbs: ['*'], apiGroups: ['apps'], resources: ['*/scale'] }];
    expect(uncovered(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }])).toEqual([]);
    expect(uncovered(owner, [{ verbs: ['update'], apiGroups: ['apps'], resources: ['deployments/scale'] }])).toEqual([]);
    expect(uncovered(owner, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods'] }])).toEqual([{ verbs: ['delete'], apiGroups: [''], resources: ['pods'] }]);
    expect(uncovered(owner, [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }])).toEqual([{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]);
  });
});

describe('authentication', () => {
  it('reads CN as the user and O as groups from a verified client certificate, alongside tokens', () => {
    const auth = new UnionAuthenticator(new ClientCertAuthenticator(), new TokenAuthenticator(parseTokenFile('t,admin,1,"system:masters"\n')));
    expect(auth.authenticate(undefined, { subject: { CN: 'system:kubeplane-node:n1', O: 'system:kubeplane-nodes' } as never })).toEqual({ name: 'system:kubeplane-node:n1', uid: '', groups: ['system:kubeplane-nodes', 'system:authenticated'] });
    expect(auth.authenticate(undefined, { subject: { CN: 'x', O: ['a', 'b'] } as never })?.groups).toEqual(['a', 'b', 'system:authenticated']);
    // a server-only certificate is no client identity
    expect(auth.authenticate(undefined, { subject: { CN: 'x' } as never, extKeyUsage: ['1.3.6.1.5.5.7.3.1'] })).toBeUndefined();
    expect(auth.authenticate('Bearer t')?.name).toBe('admin');
    expect(auth.authenticate(undefined)).toBeUndefined();
  });
});

describe('ServiceAccount tokens', () => {
  it('issues ES256 tokens that authenticate as the ServiceAccount, and nothing tampered or foreign does', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { ServiceAccountTokens } = await import('../../../src/apiserver/auth-serviceaccount.js');
    const key = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const tokens = new ServiceAccountTokens(key());
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'kube-system', uid: 'u-1' } };
    const review = tokens.issue(sa, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {} } as never);
    const token = review.status.token as string;
    expect(review.spec.expirationSeconds).toBe(3600);
    expect(tokens.authenticate(`Bearer ${token}`)).toEqual({ name: 'system:serviceaccount:kube-system:robot', uid: 'u-1', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] });
    const [h, c, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(c!, 'base64url').toString()), sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url');
    expect(tokens.authenticate(`Bearer ${h}.${forged}.${s}`)).toBeUndefined();
    expect(new ServiceAccountTokens(key()).authenticate(`Bearer ${token}`)).toBeUndefined();
    const expired = tokens.issue(sa, { metadata: {}, spec: { expirationSeconds: 600 } } as never, Date.now() - 3600_000).status.token;
    expect(tokens.authenticate(`Bearer ${expired}`)).toBeUndefined();
    expect(() => tokens.issue(sa, { metadata: {}, spec: { expirationSeconds: 60 } } as never)).toThrow(/may not specify a duration less than 10 minutes/);
  });
});
