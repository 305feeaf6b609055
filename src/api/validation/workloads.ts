// Deployment, ReplicaSet and DaemonSet validation (pkg/apis/apps/validation): a selector that
// exists, is not empty, matches the template and never changes; counts that are not negative.

import { selectorFromLabelSelector, matchesLabels, SelectorError } from '../selectors.js';
import { type FieldError, forbidden, immutable, invalid, notSupported, required } from './errors.js';
import { validateLabels, validateNonnegative, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { nameIsDNSSubdomain } from './names.js';
import { validatePodSpec } from './pod.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

function validateSelectorAndTemplate(spec: Obj, emptyMessage: string): FieldError[] {
  const errs: FieldError[] = [];
  const sel = spec.selector;
  if (sel === undefined || sel === null) {
    errs.push(required('spec.selector'));
  } else {
    const s = obj(sel);
    errs.push(...validateLabels(s.matchLabels, 'spec.selector.matchLabels'));
    const empty = Object.keys(obj(s.matchLabels)).length === 0 && (!Array.isArray(s.matchExpressions) || s.matchExpressions.length === 0);
    if (empty) errs.push(invalid('spec.selector', sel, emptyMessage));
    else {
      try {
        const selector = selectorFromLabelSelector(s);
        const labels = obj(spec.template?.metadata?.labels) as Record<string, string>;
        if (!matchesLabels(selector, labels)) errs.push(invalid('spec.template.metadata.labels', spec.template?.metadata?.labels ?? null, '`selector` does not match template `labels`'));
      } catch (e) {
        if (!(e instanceof SelectorError)) throw e;
        errs.push(invalid('spec.selector', sel, `invalid label selector: ${e.message}`));
      }
    }
  }
  const template = obj(spec.template);
  errs.push(...validateLabels(template.metadata?.labels, 'spec.template.metadata.labels'));
  errs.push(...validatePodSpec(template.spec, 'spec.template.spec'));
  const rp = template.spec?.restartPolicy;
  if (rp && rp !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', rp, ['Always']));
  if (template.spec?.activeDeadlineSeconds !== undefined && template.spec?.activeDeadlineSeconds !== null)
    errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  return errs;
}

/** IntOrString percent/number: non-negative, percentages at most 100%. Returns the absolute value for the zero check. */
function validateIntOrPercent(v: unknown, path: string): { errs: FieldError[]; zero: boolean } {
  if (v === undefined || v === null) return { errs: [], zero: false };
  if (typeof v === 'number') return { errs: validateNonnegative(v, path), zero: v === 0 };
  if (typeof v === 'string') {
    const m = /^(\d+)%$/.exec(v);
    if (!m) return { errs: [invalid(path, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")], zero: false };
    const n = Number(m[1]);
    return { errs: n > 100 ? [invalid(path, v, 'must not be greater than 100%')] : [], zero: n === 0 };
  }
  return { errs: [invalid(path, v, 'must be an integer or percentage (e.g \'5%\')')], zero: false };
}

export function validateDeployment(d: Obj, old?: Obj): FieldError[] {
  const spec = obj(d.spec);
  const errs = old ? validateObjectMetaUpdate(d.metadata, old.metadata) : [];
  errs.push(...validateObjectMeta(d.metadata, true, nameIsDNSSubdomain));
  errs.push(...validateNonnegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateSelectorAndTemplate(spec, 'empty selector is invalid for deployment'));
  const strategy = obj(spec.strategy);
  if (!strategy.type) errs.push(required('spec.strategy.type'));
  else if (!['Recreate', 'RollingUpdate'].includes(strategy.type)) errs.push(notSupported('spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate']));
  if (strategy.type === 'Recreate' && strategy.rollingUpdate) errs.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
  if (strategy.type === 'RollingUpdate') {
    const ru = obj(strategy.rollingUpdate);
    const unavailable = validateIntOrPercent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable');
    const surge = validateIntOrPercent(ru.maxSurge, 'spec.strategy.rollingUpdate.maxSurge');
    errs.push(...unavailable.errs, ...surge.errs);
    if (unavailable.zero && surge.zero) errs.push(invalid('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  }
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateNonnegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (typeof spec.progressDeadlineSeconds === 'number') {
    errs.push(...validateNonnegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0))
      errs.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  if (old) errs.push(...immutable(spec.selector, old.spec?.selector, 'spec.selector'));
  return errs;
}

export function validateReplicaSet(rs: Obj, old?: Obj): FieldError[] {
  const spec = obj(rs.spec);
  const errs = old ? validateObjectMetaUpdate(rs.metadata, old.metadata) : [];
  errs.push(...validateObjectMeta(rs.metadata, true, nameIsDNSSubdomain));
  errs.push(...validateNonnegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateSelectorAndTemplate(spec, 'empty selector is invalid for deployment'));
  if (old) errs.push(...immutable(spec.selector, old.spec?.selector, 'spec.selector'));
  return errs;
}

export function validateDaemonSet(ds: Obj, old?: Obj): FieldError[] {
  const spec = obj(ds.spec);
  const errs = old ? validateObjectMetaUpdate(ds.metadata, old.metadata) : [];
  errs.push(...validateObjectMeta(ds.metadata, true, nameIsDNSSubdomain));
  errs.push(...validateSelectorAndTemplate(spec, 'empty selector is invalid for daemonset'));
  const strategy = obj(spec.updateStrategy);
  if (!strategy.type) errs.push(required('spec.updateStrategy.type'));
  else if (!['OnDelete', 'RollingUpdate'].includes(strategy.type)) errs.push(notSupported('spec.updateStrategy.type', strategy.type, ['OnDelete', 'RollingUpdate']));
  if (strategy.type === 'RollingUpdate') {
    const ru = obj(strategy.rollingUpdate);
    const unavailable = validateIntOrPercent(ru.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable');
    const surge = validateIntOrPercent(ru.maxSurge, 'spec.updateStrategy.rollingUpdate.maxSurge');
    errs.push(...unavailable.errs, ...surge.errs);
    if (unavailable.zero && (surge.zero || ru.maxSurge === undefined))
      errs.push(invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'cannot be 0 when maxSurge is 0'));
  }
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateNonnegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (old) errs.push(...immutable(spec.selector, old.spec?.selector, 'spec.selector'));
  return errs;
}
