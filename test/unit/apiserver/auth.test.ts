import { describe, expect, it } from 'vitest';
import { TokenAuthenticator, TokenFileError, parseTokenFile } from '../../../src/apiserver/auth.js';
import { PortRange, ServiceCIDR } from '../../../src/apiserver/registry/services.js';
import { decodeContinue, encodeContinue } from '../../../src/apiserver/registry/registry.js';
import { parseResourcePath, negotiate } from '../../../src/apiserver/request.js';

describe('token file', () => {
  it('parses kube-apiserver token CSV with quoted groups', () => {
    const tokens = parseTokenFile('# comment\nabc,alice,1,"dev,ops"\n\nxyz,bob,2\n');
    expect(tokens.get('abc')).toEqual({ name: 'alice', uid: '1', groups: ['dev', 'ops'] });
    expect(tokens.get('xyz')).toEqual({ name: 'bob', uid: '2', groups: [] });
    const auth = new TokenAuthenticator(tokens);
    expect(auth.authenticate('Bearer abc')?.name).toBe('alice');
    expect(auth.authenticate('Bearer abc')?.groups).toContain('system:authenticated');
    expect(auth.authenticate('Bearer nope')).toBeUndefined();
    expect(auth.authenticate('Basic abc')).toBeUndefined();
    expect(auth.authenticate(undefined)).toBeUndefined();
  });
  it('names the line of a bad entry', () => {
    expect(() => parseTokenFile('a,b\n')).toThrow(TokenFileError);
    expect(() => parseTokenFile('ok,u,1\nok,v,2\n', 'tokens.csv')).toThrow('tokens.csv:2: duplicate token');
    expect(() => parseTokenFile('t,u,1,"unterminated\n')).toThrow(/unterminated quote/);
  });
});

describe('service ranges', () => {
  it('knows the first address, bands and membership of a CIDR', () => {
    const c = new ServiceCIDR('10.96.0.0/12');
    expect(c.firstIP()).toBe('10.96.0.1');
    expect(c.staticBand).toBe(256);
    expect(c.offsetOf('10.96.0.10')).toBe(10);
    expect(c.offsetOf('10.96.0.0')).toBeUndefined();
    expect(c.offsetOf('10.111.255.255')).toBeUndefined();
    expect(c.offsetOf('10.112.0.1')).toBeUndefined();
    expect(new ServiceCIDR('10.0.0.0/24').staticBand).toBe(16);
    expect(new ServiceCIDR('10.0.0.77/24').firstIP()).toBe('10.0.0.1');
    expect(() => new ServiceCIDR('10.0.0.0/33')).toThrow(/invalid CIDR/);
    expect(() => new ServiceCIDR('fd00::/108')).toThrow(/IPv4/);
  });
  it('parses node port ranges', () => {
    const r = PortRange.parse('30000-32767');
    expect([r.base, r.size, r.staticBand]).toEqual([30000, 2768, 86]);
    expect(r.contains(32767)).toBe(true);
    expect(r.contains(32768)).toBe(false);
    expect(PortRange.parse('30000+10').size).toBe(11);
    expect(() => PortRange.parse('5-3')).toThrow();
    expect(() => PortRange.parse('abc')).toThrow();
  });
});

describe('requests', () => {
  it('routes resource paths', () => {
    expect(parseResourcePath('/api/v1/namespaces/default/services/web/status')).toMatchObject({ kind: 'resource', path: { namespace: 'default', name: 'web', subresource: 'status', info: { resource: 'services' } } });
    expect(parseResourcePath('/api/v1/namespaces/team')).toMatchObject({ kind: 'resource', path: { name: 'team', info: { resource: 'namespaces' } } });
    expect(parseResourcePath('/api/v1/namespaces/team/finalize')).toMatchObject({ kind: 'resource', path: { name: 'team', subresource: 'finalize' } });
    expect(parseResourcePath('/apis/apps/v1/namespaces/x/deployments/d/scale')).toMatchObject({ path: { subresource: 'scale', info: { group: 'apps' } } });
    expect(parseResourcePath('/api/v1/services')).toMatchObject({ path: { namespace: undefined, name: undefined } });
    expect(parseResourcePath('/api/v1/namespaces/x/gadgets')).toEqual({ kind: 'unknown' });
    expect(parseResourcePath('/api/v1/namespaces/x/services/a/bogus')).toEqual({ kind: 'unknown' });
    expect(parseResourcePath('/apis/apps/v2/deployments')).toEqual({ kind: 'unknown' });
    expect(parseResourcePath('/healthz')).toBeUndefined();
  });
  it('negotiates Table, JSON and nothing acceptable', () => {
    expect(negotiate('application/json;as=Table;v=v1;g=meta.k8s.io,application/json', true, null)).toEqual({ kind: 'table', includeObject: 'Metadata' });
    expect(negotiate('application/json;as=Table;v=v1;g=meta.k8s.io,application/json', false, null)).toEqual({ kind: 'json' });
    expect(negotiate('application/vnd.kubernetes.protobuf,application/json', true, null)).toEqual({ kind: 'protobuf' });
    expect(negotiate(undefined, true, null)).toEqual({ kind: 'json' });
    expect(negotiate('text/html', true, null)).toBeUndefined();
  });
  it('round-trips continue tokens in kube-apiserver format', () => {
    const t = encodeContinue(42, 'web\u0000');
    expect(JSON.parse(Buffer.from(t, 'base64url').toString())).toEqual({ v: 'meta.k8s.io/v1', rv: 42, start: 'web\u0000' });
    expect(decodeContinue(t)).toEqual({ v: 'meta.k8s.io/v1', rv: 42, start: 'web\u0000' });
    expect(() => decodeContinue('not-a-token')).toThrow(/continue key is not valid/);
  });
});
