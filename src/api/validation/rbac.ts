// rbac.authorization.k8s.io/v1 validation, as kubernetes pkg/apis/rbac/validation does it.
// RBAC names are path segments (system:masters-style colons are allowed), roleRef is fixed
// at creation, and a rule is either about resources or about non-resource URLs, never both.

import { type FieldError, RawValue, goQuote, invalid, invalidEach, notSupported, required } from './errors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { isValidPathSegmentName, nameIsDNSSubdomain } from './names.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

function validateRules(rules: unknown, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(rules)) return errs;
  rules.forEach((r: Obj, i) => {
    const path = `rules[${i}]`;
    const rule = r ?? {};
    const len = (v: unknown) => (Array.isArray(v) ? v.length : 0);
    if (len(rule.verbs) === 0) errs.push(required(`${path}.verbs`, 'verbs must contain at least one value'));
    if (len(rule.nonResourceURLs) > 0) {
      if (namespaced) errs.push(invalid(`${path}.nonResourceURLs`, rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
      if (len(rule.apiGroups) > 0 || len(rule.resources) > 0) errs.push(invalid(`${path}.nonResourceURLs`, rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
      return;
    }
    if (len(rule.apiGroups) === 0) errs.push(required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
    if (len(rule.resources) === 0) errs.push(required(`${path}.resources`, 'resource rules must supply at least one resource'));
  });
  return errs;
}

function validateRoleLike(o: Obj, old: Obj | undefined, namespaced: boolean): FieldError[] {
  const errs = validateObjectMeta(o.metadata, namespaced, isValidPathSegmentName);
  errs.push(...validateRules(o.rules, namespaced));
  if (old) errs.push(...validateObjectMetaUpdate(o.metadata, old.metadata));
  return errs;
}

export const validateRole = (o: Obj, old?: Obj): FieldError[] => validateRoleLike(o, old, true);

export function validateClusterRole(o: Obj, old?: Obj): FieldError[] {
  const errs = validateRoleLike(o, old, false);
  const selectors = o.aggregationRule?.clusterRoleSelectors;
  if (o.aggregationRule && (!Array.isArray(selectors) || selectors.length === 0)) errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
  return errs;
}

function validateSubjects(subjects: unknown, clusterScoped: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!Array.isArray(subjects)) return errs;
  subjects.forEach((s: Obj, i) => {
    const path = `subjects[${i}]`;
    const subject = s ?? {};
    if (!subject.name) errs.push(required(`${path}.name`));
    switch (subject.kind) {
      case 'ServiceAccount':
        if (subject.name) errs.push(...invalidEach(`${path}.name`, subject.name, nameIsDNSSubdomain(subject.name, false)));
        if (subject.apiGroup) errs.push(notSupported(`${path}.apiGroup`, subject.apiGroup, ['']));
        if (clusterScoped && !subject.namespace) errs.push(required(`${path}.namespace`));
        break;
      case 'User':
      case 'Group':
        if (subject.apiGroup !== RBAC_GROUP) errs.push(notSupported(`${path}.apiGroup`, subject.apiGroup ?? '', [RBAC_GROUP]));
        if (subject.kind === 'Group' && subject.name) errs.push(...invalidEach(`${path}.name`, subject.name, isValidPathSegmentName(subject.name, false)));
        break;
      default:
        errs.push(notSupported(`${path}.kind`, subject.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  return errs;
}

/** a field's string value; anything else (user input can be any JSON) prints as empty */
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** `rbac.RoleRef{APIGroup:"...", Kind:"...", Name:"..."}`, as Go's %#v prints the value */
function goRoleRef(ref: Obj | undefined): RawValue {
  const r = ref ?? {};
  return new RawValue(`rbac.RoleRef{APIGroup:${goQuote(text(r.apiGroup))}, Kind:${goQuote(text(r.kind))}, Name:${goQuote(text(r.name))}}`);
}

function validateBindingLike(o: Obj, old: Obj | undefined, clusterScoped: boolean): FieldError[] {
  const errs = validateObjectMeta(o.metadata, !clusterScoped, isValidPathSegmentName);
  const ref: Obj = o.roleRef ?? {};
  if (ref.apiGroup !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = clusterScoped ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(required('roleRef.name'));
  else errs.push(...invalidEach('roleRef.name', ref.name, isValidPathSegmentName(ref.name, false)));
  errs.push(...validateSubjects(o.subjects, clusterScoped));
  if (old) {
    errs.push(...validateObjectMetaUpdate(o.metadata, old.metadata));
    const before: Obj = old.roleRef ?? {};
    if (before.apiGroup !== ref.apiGroup || before.kind !== ref.kind || before.name !== ref.name) errs.push(invalid('roleRef', goRoleRef(ref), 'cannot change roleRef'));
  }
  return errs;
}

export const validateRoleBinding = (o: Obj, old?: Obj): FieldError[] => validateBindingLike(o, old, false);
export const validateClusterRoleBinding = (o: Obj, old?: Obj): FieldError[] => validateBindingLike(o, old, true);
