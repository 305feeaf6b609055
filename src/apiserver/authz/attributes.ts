// Authorization attributes of a request, derived from its method and URL the way
// kube-apiserver's RequestInfoFactory does, before routing: an unknown resource is still
// authorized (and gets 403 before it could get 404), and discovery paths are non-resource URLs.
import { isValidPathSegmentName } from '../../api/validation/names.js';
import type { UserInfo } from '../auth.js';

export interface Attributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  /** non-resource requests: the URL path */
  path: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

const METHOD_VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
// /namespaces/{ns}/{these} are the namespace's own subresources, not resources inside it
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function nameFromFieldSelector(selector: string | null): string | undefined {
  if (!selector) return undefined;
  for (const term of selector.split(',')) {
    const m = /^\s*metadata\.name\s*(==|=)\s*(.*?)\s*$/.exec(term);
    if (m && m[2] !== '' && isValidPathSegmentName(m[2]!, false).length === 0) return m[2];
  }
  return undefined;
}

export function requestAttributes(user: UserInfo, method: string, pathname: string, query: URLSearchParams): Attributes {
  const base: Attributes = { user, verb: method.toLowerCase(), isResourceRequest: false, path: pathname, apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '' };
  let parts: string[];
  try {
    parts = pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    return base;
  }
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return base;
  let rest = parts.slice(1);
  let apiGroup = '';
  if (parts[0] === 'apis') {
    if (rest.length < 3) return base;
    apiGroup = rest[0]!;
    rest = rest.slice(1);
  }
  const apiVersion = rest[0]!;
  rest = rest.slice(1);
  let verb = METHOD_VERBS[method.toUpperCase()] ?? '';
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1]!;
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
  }
  const resource = rest[0] ?? '';
  let name = rest[1] ?? '';
  const subresource = rest[2] ?? '';
  if (name === '' && verb === 'get') {
    const watch = query.get('watch');
    verb = watch === 'true' || watch === '1' ? 'watch' : 'list';
    name = nameFromFieldSelector(query.get('fieldSelector')) ?? '';
  }
  if (name === '' && verb === 'delete') verb = 'deletecollection';
  return { ...base, verb, isResourceRequest: true, apiGroup, apiVersion, namespace, resource, subresource, name };
}
