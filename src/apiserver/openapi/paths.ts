// OpenAPI v3 path items for a served resource: list/create/deletecollection on the
// collection, get/replace/patch/delete on an item, and the subresources. kubectl's field
// validation probe looks for the PATCH operation's GVK and its fieldValidation parameter.

import { apiVersionOf, type ResourceInfo } from '../../api/resources.js';
import { definitionForKind } from './schema-table.js';
import { PATCH_SCHEMA, STATUS_SCHEMA } from './schemas.js';

const REF = '#/components/schemas/';
export const PATCH_CONTENT_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
const RESPONSE_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

function query(name: string, description: string, type: 'string' | 'boolean' | 'integer' = 'string'): object {
  return { name, in: 'query', description, schema: { type, uniqueItems: true } };
}

const DRY_RUN = query('dryRun', 'When present, modifications are not persisted. The only valid value is All.');
const FIELD_MANAGER = query('fieldManager', 'Name of the actor making the change; required for apply patches.');
const FIELD_VALIDATION = query('fieldValidation', 'How the server treats unknown and duplicate fields in the body: Ignore, Warn or Strict.');
const FORCE = query('force', 'Force an apply request to take ownership of conflicting fields.', 'boolean');
const PRETTY = query('pretty', "If 'true', the output is pretty printed.");
const LIST_PARAMS = [
  query('allowWatchBookmarks', 'Request watch events of type BOOKMARK.', 'boolean'),
  query('continue', 'Continue token from a previous paginated list.'),
  query('fieldSelector', 'Restrict the returned objects by their fields.'),
  query('labelSelector', 'Restrict the returned objects by their labels.'),
  query('limit', 'Maximum number of items to return.', 'integer'),
  query('resourceVersion', 'Constraint on which resource versions a request may be served from.'),
  query('resourceVersionMatch', 'How resourceVersion is applied to list calls.'),
  query('sendInitialEvents', 'Send synthetic events for the current state before the watch.', 'boolean'),
  query('timeoutSeconds', 'Timeout for the list or watch call.', 'integer'),
  query('watch', 'Watch for changes instead of listing.', 'boolean'),
];

function gvkOf(info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>): { group: string; version: string; kind: string } {
  return { group: info.group, kind: info.kind, version: info.version };
}

function responses(codes: string[], schemaName: string): object {
  const out: Record<string, object> = {};
  for (const code of codes) {
    out[code] = { description: code === '201' ? 'Created' : code === '202' ? 'Accepted' : 'OK', content: Object.fromEntries(RESPONSE_TYPES.map((t) => [t, { schema: { $ref: REF + schemaName } }])) };
  }
  out['401'] = { description: 'Unauthorized' };
  return out;
}

function body(schemaName: string): object {
  return { content: { '*/*': { schema: { $ref: REF + schemaName } } }, required: true };
}

function opId(verb: string, info: ResourceInfo, suffix = ''): string {
  const group = info.group === '' ? 'Core' : info.group.split('.')[0]!.replace(/^./, (c) => c.toUpperCase());
  const version = info.version.replace(/^./, (c) => c.toUpperCase());
  return `${verb}${group}${version}${info.namespaced ? 'Namespaced' : ''}${info.kind}${suffix}`;
}

function itemOperations(info: ResourceInfo, kind: { group: string; version: string; kind: string }, schemaName: string, suffix: string, verbs: string[]): Record<string, object> {
  const tags = [`${info.group === '' ? 'core' : info.group.split('.')[0]}_${info.version}`];
  const base = (action: string, description: string) => ({ tags, description, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': kind });
  const ops: Record<string, object> = {};
  if (verbs.includes('get')) ops.get = { ...base('get', `read the specified ${kind.kind}`), operationId: opId('read', info, suffix), responses: responses(['200'], schemaName) };
  if (verbs.includes('update'))
    ops.put = { ...base('put', `replace the specified ${kind.kind}`), operationId: opId('replace', info, suffix), parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], requestBody: body(schemaName), responses: responses(['200', '201'], schemaName) };
  if (verbs.includes('patch'))
    ops.patch = {
      ...base('patch', `partially update the specified ${kind.kind}`),
      operationId: opId('patch', info, suffix),
      parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE],
      requestBody: { content: Object.fromEntries(PATCH_CONTENT_TYPES.map((t) => [t, { schema: { $ref: REF + PATCH_SCHEMA } }])), required: true },
      responses: responses(['200', '201'], schemaName),
    };
  if (verbs.includes('delete') && suffix === '')
    ops.delete = { ...base('delete', `delete a ${kind.kind}`), operationId: opId('delete', info), parameters: [DRY_RUN, query('gracePeriodSeconds', 'Seconds before the object is deleted.', 'integer'), query('propagationPolicy', 'Orphan, Background or Foreground.')], responses: responses(['200', '202'], STATUS_SCHEMA) };
  return ops;
}

const SUBRESOURCE_VERBS: Record<string, string[]> = { status: ['get', 'patch', 'update'], scale: ['get', 'patch', 'update'], binding: ['create'], finalize: ['update'] };

/** The path items for one served resource, keyed by URL path. */
export function resourcePaths(info: ResourceInfo): Record<string, object> {
  const schemaName = definitionForKind(info.group, info.version, info.kind)!;
  const root = info.group === '' ? `/api/${info.version}` : `/apis/${apiVersionOf(info)}`;
  const scope = info.namespaced ? '/namespaces/{namespace}' : '';
  const collection = `${root}${scope}/${info.resource}`;
  const item = `${collection}/{name}`;
  const pathParams = [
    ...(info.namespaced ? [{ name: 'namespace', in: 'path', description: 'object name and auth scope, such as for teams and projects', required: true, schema: { type: 'string', uniqueItems: true } }] : []),
    PRETTY,
  ];
  const nameParam = { name: 'name', in: 'path', description: `name of the ${info.kind}`, required: true, schema: { type: 'string', uniqueItems: true } };
  const kind = gvkOf(info);
  const tags = [`${info.group === '' ? 'core' : info.group.split('.')[0]}_${info.version}`];
  const paths: Record<string, object> = {};

  const collectionOps: Record<string, object> = { parameters: pathParams };
  if (info.verbs.includes('list'))
    collectionOps.get = { tags, description: `list or watch objects of kind ${info.kind}`, operationId: opId('list', info), parameters: LIST_PARAMS, 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': kind, responses: responses(['200'], schemaName) };
  if (info.verbs.includes('create'))
    collectionOps.post = { tags, description: `create a ${info.kind}`, operationId: opId('create', info), parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': kind, requestBody: body(schemaName), responses: responses(['200', '201', '202'], schemaName) };
  if (info.verbs.includes('deletecollection'))
    collectionOps.delete = { tags, description: `delete collection of ${info.kind}`, operationId: opId('deletecollection', info), parameters: LIST_PARAMS, 'x-kubernetes-action': 'deletecollection', 'x-kubernetes-group-version-kind': kind, responses: responses(['200'], STATUS_SCHEMA) };
  paths[collection] = collectionOps;
  paths[item] = { parameters: [nameParam, ...pathParams], ...itemOperations(info, kind, schemaName, '', info.verbs) };
  if (info.namespaced && info.verbs.includes('list')) paths[`${root}/${info.resource}`] = { parameters: [PRETTY], get: { ...(collectionOps.get as object), operationId: opId('list', { ...info, namespaced: false }, 'ForAllNamespaces') } };

  for (const sub of info.subresources) {
    const verbs = SUBRESOURCE_VERBS[sub] ?? ['get'];
    const subKind = sub === 'scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : sub === 'binding' ? { group: '', version: 'v1', kind: 'Binding' } : kind;
    const subSchema = definitionForKind(subKind.group, subKind.version, subKind.kind) ?? schemaName;
    const suffix = sub.replace(/^./, (c) => c.toUpperCase());
    const ops: Record<string, object> = { parameters: [nameParam, ...pathParams], ...itemOperations(info, subKind, subSchema, suffix, verbs) };
    if (verbs.includes('create'))
      ops.post = { tags, description: `create ${sub} of a ${info.kind}`, operationId: opId('create', info, suffix), parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': subKind, requestBody: body(subSchema), responses: responses(['200', '201', '202'], subSchema) };
    paths[`${item}/${sub}`] = ops;
  }
  return paths;
}
