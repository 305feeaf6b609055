// User impersonation (`kubectl --as`, `--as-group`), as kube-apiserver's impersonation filter:
// the Impersonate-User / Impersonate-Group headers replace the requester's identity when the
// requester may `impersonate` each of them (users, groups, or the ServiceAccount named).
import type { IncomingHttpHeaders } from 'node:http';
import type { UserInfo } from '../auth.js';
import type { Attributes } from './attributes.js';
import { badRequest } from '../errors.js';
import { forbiddenError, type Authorizer } from './index.js';

const SA_PREFIX = 'system:serviceaccount:';

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const v = headers[name];
  return v === undefined ? [] : Array.isArray(v) ? v : v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** The identity the request acts as: the requester's own, or the impersonated one. */
export function impersonate(authorizer: Authorizer, requester: UserInfo, headers: IncomingHttpHeaders): UserInfo {
  const userHeader = headers['impersonate-user'];
  const name = Array.isArray(userHeader) ? userHeader[0] : userHeader;
  const groups = headerValues(headers, 'impersonate-group');
  if (name === undefined) {
    if (groups.length > 0) throw badRequest('requested groups without impersonating a user');
    return requester;
  }
  const mustAllow = (a: Attributes): void => {
    const d = authorizer.authorize(a);
    if (!d.allowed) throw forbiddenError(a, d.reason);
  };
  const sa = name.startsWith(SA_PREFIX) ? name.slice(SA_PREFIX.length).split(':') : undefined;
  const out: UserInfo = { name, uid: '', groups: [...groups] };
  if (sa && sa.length === 2) {
    mustAllow(check(requester, 'serviceaccounts', '', sa[0]!, sa[1]!));
    out.groups.push('system:serviceaccounts', `system:serviceaccounts:${sa[0]}`);
  } else mustAllow(check(requester, 'users', '', '', name));
  for (const g of groups) mustAllow(check(requester, 'groups', '', '', g));
  if (name !== 'system:anonymous' && !out.groups.includes('system:authenticated')) out.groups.push('system:authenticated');
  return out;
}

function check(user: UserInfo, resource: string, apiGroup: string, namespace: string, name: string): Attributes {
  return { user, verb: 'impersonate', isResourceRequest: true, path: '', apiGroup, apiVersion: '', namespace, resource, subresource: '', name };
}
