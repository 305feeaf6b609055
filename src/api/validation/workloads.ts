// Deployment, ReplicaSet and DaemonSet validation (pkg/apis/apps/validation, and the apps/v1
// strategies' rule that a selector never changes): a selector that exists, is not empty and
// matches the template; counts that are not negative; a usable rollout strategy.

import { matchesLabels, selectorFromLabelSelector, SelectorError } from '../selectors.js';
import { type FieldError, RawValue, deepEqual, forbidden, goIntOrString, goLabelSelector, goQuote, goStringMap, invalid, notSupported, required } from './errors.js';
import { validateLabelSelector, validateLabels, validateNonnegative, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { asString, nameIsDNSSubdomain, regexError } from './names.js';
import { validatePodSpec } from './pod.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

/** The template's labels must satisfy the selector; a nil selector (selects nothing) never does. */
function validateTemplateLabels(selector: unknown, template: Obj): FieldError[] {
  let matches: boolean;
  try {
    const sel = selectorFromLabelSelector(selector as never);
    if (!sel.nothing && sel.requirements.length === 0) return [];
    matches = matchesLabels(sel, obj(template.metadata?.labels) as Record<string, string>);
  } catch (e) {
    if (!(e instanceof SelectorError)) throw e;
    return [invalid('spec.selector', goLabelSelector(selector), 'invalid label selector')];
  }
  return matches ? [] : [invalid('spec.template.metadata.labels', goStringMap(template.metadata?.labels), '`selector` does not match template `labels`')];
}

/** ValidatePodTemplateSpec plus the controllers' restartPolicy and activeDeadlineSeconds rules. */
function validateTemplate(template: Obj, owner: 'ReplicaSet' | 'DaemonSet'): FieldError[] {
  const errs = validateLabels(template.metadata?.labels, 'spec.template.metadata.labels');
  errs.push(...validatePodSpec(template.spec, 'spec.template.spec'));
  const rp = template.spec?.restartPolicy;
  if (rp && rp !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', rp, ['Always']));
  if (template.spec?.activeDeadlineSeconds !== undefined && template.spec?.activeDeadlineSeconds !== null)
    errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', `activeDeadlineSeconds in ${owner} is not Supported`));
  return errs;
}

const PERCENT_FMT = '[0-9]+%';

/** ValidatePositiveIntOrPercent. */
function validateIntOrPercent(v: unknown, path: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'number') return validateNonnegative(v, path);
  if (typeof v === 'string') {
    if (/^[0-9]+%$/.test(v)) return [];
    return [invalid(path, goIntOrString(v), regexError("a valid percent string must be a numeric string followed by an ending '%'", PERCENT_FMT, '1%', '93%'))];
  }
  return [invalid(path, v, "must be an integer or percentage (e.g '5%')")];
}

/** getIntOrPercentValue: the number, or the percentage's number. */
function intOrPercentValue(v: unknown): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'string' && /^[0-9]+%$/.test(v)) return Number(v.slice(0, -1));
  return 0;
}

function notMoreThan100Percent(v: unknown, path: string): FieldError[] {
  if (typeof v === 'string' && /^[0-9]+%$/.test(v) && Number(v.slice(0, -1)) > 100) return [invalid(path, goIntOrString(v), 'must not be greater than 100%')];
  return [];
}

function goStrategy(type: string, strategy: Obj, rollingType: string): RawValue {
  const ru = strategy.rollingUpdate ? `(*apps.${rollingType})(0xc000000000)` : `(*apps.${rollingType})(nil)`;
  return new RawValue(`apps.${type}{Type:${goQuote(asString(strategy.type ?? ''))}, RollingUpdate:${ru}}`);
}

function selectorImmutable(spec: Obj, old: Obj | undefined): FieldError[] {
  if (!old || deepEqual(spec.selector, old.spec?.selector)) return [];
  return [invalid('spec.selector', goLabelSelector(spec.selector), 'field is immutable')];
}

/** Deployment and ReplicaSet share the selector rules (and the message naming deployments). */
function validateReplicatedSelector(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.selector === undefined || spec.selector === null) errs.push(required('spec.selector'));
  else {
    errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    const s = obj(spec.selector);
    if (Object.keys(obj(s.matchLabels)).length + (Array.isArray(s.matchExpressions) ? s.matchExpressions.length : 0) === 0)
      errs.push(invalid('spec.selector', goLabelSelector(spec.selector), 'empty selector is invalid for deployment'));
  }
  return errs;
}

export function validateDeployment(d: Obj, old?: Obj): FieldError[] {
  const spec = obj(d.spec);
  const errs = old ? validateObjectMetaUpdate(d.metadata, old.metadata) : validateObjectMeta(d.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateNonnegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateReplicatedSelector(spec));
  const template = obj(spec.template);
  errs.push(...validateTemplateLabels(spec.selector, template), ...validateTemplate(template, 'ReplicaSet'));
  const strategy = obj(spec.strategy);
  switch (strategy.type) {
    case 'Recreate':
      if (strategy.rollingUpdate) errs.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
      break;
    case 'RollingUpdate': {
      if (!strategy.rollingUpdate) {
        errs.push(required('spec.strategy.rollingUpdate', 'this should be defaulted and never be nil'));
        break;
      }
      const ru = obj(strategy.rollingUpdate);
      const p = 'spec.strategy.rollingUpdate';
      errs.push(...validateIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`), ...validateIntOrPercent(ru.maxSurge, `${p}.maxSurge`));
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0)
        errs.push(invalid(`${p}.maxUnavailable`, goIntOrString(ru.maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`));
      break;
    }
    default:
      errs.push(notSupported('spec.strategy', goStrategy('DeploymentStrategy', strategy, 'RollingUpdateDeployment'), ['Recreate', 'RollingUpdate']));
  }
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateNonnegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (typeof spec.progressDeadlineSeconds === 'number') {
    errs.push(...validateNonnegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0))
      errs.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  errs.push(...selectorImmutable(spec, old));
  return errs;
}

export function validateReplicaSet(rs: Obj, old?: Obj): FieldError[] {
  const spec = obj(rs.spec);
  const errs = old ? validateObjectMetaUpdate(rs.metadata, old.metadata) : validateObjectMeta(rs.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateNonnegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateReplicatedSelector(spec));
  const template = obj(spec.template);
  errs.push(...validateTemplateLabels(spec.selector, template), ...validateTemplate(template, 'ReplicaSet'));
  errs.push(...selectorImmutable(spec, old));
  return errs;
}

export function validateDaemonSet(ds: Obj, old?: Obj): FieldError[] {
  const spec = obj(ds.spec);
  const errs = old ? validateObjectMetaUpdate(ds.metadata, old.metadata) : validateObjectMeta(ds.metadata, true, nameIsDNSSubdomain);
  if (spec.selector !== undefined && spec.selector !== null) errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const template = obj(spec.template);
  errs.push(...validateTemplateLabels(spec.selector, template));
  const s = obj(spec.selector);
  if (spec.selector && Object.keys(obj(s.matchLabels)).length + (Array.isArray(s.matchExpressions) ? s.matchExpressions.length : 0) === 0)
    errs.push(invalid('spec.selector', goLabelSelector(spec.selector), 'empty selector is invalid for daemonset'));
  errs.push(...validateTemplate(template, 'DaemonSet'));
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  const strategy = obj(spec.updateStrategy);
  switch (strategy.type) {
    case 'OnDelete':
      break;
    case 'RollingUpdate': {
      const p = 'spec.updateStrategy.rollingUpdate';
      if (!strategy.rollingUpdate) {
        errs.push(required(p));
        break;
      }
      const ru = obj(strategy.rollingUpdate);
      errs.push(...validateIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`), ...validateIntOrPercent(ru.maxSurge, `${p}.maxSurge`));
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`), ...notMoreThan100Percent(ru.maxSurge, `${p}.maxSurge`));
      // Exactly one of the two may be non-zero.
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalid(`${p}.maxSurge`, goIntOrString(ru.maxSurge), 'may not be set when maxUnavailable is non-zero'));
      if (!hasUnavailable && !hasSurge) errs.push(required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      break;
    }
    default:
      errs.push(notSupported('spec.updateStrategy', goStrategy('DaemonSetUpdateStrategy', strategy, 'RollingUpdateDaemonSet'), ['RollingUpdate', 'OnDelete']));
  }
  errs.push(...validateNonnegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  errs.push(...selectorImmutable(spec, old));
  return errs;
}
