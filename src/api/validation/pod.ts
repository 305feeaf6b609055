// Pod and pod template validation: the parts of ValidatePodSpec (pkg/apis/core/validation) that
// matter to objects kubeplane schedules and serves, and the rule that a pod's spec is fixed
// after creation except for a few fields.

import { parseQuantity } from '../quantity.js';
import { type FieldError, deepEqual, duplicate, forbidden, invalid, invalidEach, notSupported, required } from './errors.js';
import { validateLabels, validateNonnegative, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import {
  asString,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidPortName,
  isValidPortNum,
  nameIsDNSSubdomain,
} from './names.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['FallbackToLogsOnError', 'File'];
const TOLERATION_OPERATORS = ['Equal', 'Exists'];
const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];
const STANDARD_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage', 'storage', 'pods']);

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return invalidEach(path, port, isValidPortNum(port));
  if (typeof port === 'string') return invalidEach(path, port, isValidPortName(port));
  return [required(path)];
}

function validateProbe(probe: unknown, path: string, mustSucceedOnce: boolean): FieldError[] {
  if (probe === undefined || probe === null) return [];
  const p = obj(probe);
  const errs: FieldError[] = [];
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => p[h] !== undefined && p[h] !== null);
  if (handlers.length === 0) errs.push(required(path, 'must specify a handler type'));
  else if (handlers.length > 1) errs.push(forbidden(`${path}.${handlers[1]}`, 'may not specify more than 1 handler type'));
  if (p.exec) {
    if (arr(p.exec.command).length === 0) errs.push(required(`${path}.exec.command`));
  }
  if (p.httpGet) {
    errs.push(...validatePortNumOrName(p.httpGet.port, `${path}.httpGet.port`));
    if (p.httpGet.scheme && !['HTTP', 'HTTPS'].includes(p.httpGet.scheme)) errs.push(notSupported(`${path}.httpGet.scheme`, p.httpGet.scheme, ['HTTP', 'HTTPS']));
  }
  if (p.tcpSocket) errs.push(...validatePortNumOrName(p.tcpSocket.port, `${path}.tcpSocket.port`));
  if (p.grpc) errs.push(...invalidEach(`${path}.grpc.port`, p.grpc.port, isValidPortNum(p.grpc.port)));
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) errs.push(...validateNonnegative(p[f], `${path}.${f}`));
  if (mustSucceedOnce && p.successThreshold !== undefined && p.successThreshold !== 1) errs.push(invalid(`${path}.successThreshold`, p.successThreshold, 'must be 1'));
  return errs;
}

function isResourceName(name: string): boolean {
  if (STANDARD_RESOURCES.has(name) || name.startsWith('hugepages-')) return true;
  return name.includes('/') && isQualifiedName(name).length === 0;
}

function validateResources(res: unknown, path: string): FieldError[] {
  const r = obj(res);
  const errs: FieldError[] = [];
  const parsed: Record<'limits' | 'requests', Record<string, number>> = { limits: {}, requests: {} };
  for (const kind of ['limits', 'requests'] as const) {
    const list = obj(r[kind]);
    for (const name of Object.keys(list).sort()) {
      const p = `${path}.${kind}[${name}]`;
      if (!isResourceName(name)) errs.push(invalid(p, name, 'must be a standard resource type or fully qualified'));
      let q: number;
      try {
        q = parseQuantity(list[name]);
      } catch {
        errs.push(invalid(p, list[name], "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
        continue;
      }
      if (q < 0) errs.push(invalid(p, asString(list[name]), 'must be greater than or equal to 0'));
      parsed[kind][name] = q;
    }
  }
  for (const [name, req] of Object.entries(parsed.requests)) {
    const lim = parsed.limits[name];
    if (lim !== undefined && req > lim)
      errs.push(invalid(`${path}.requests`, asString(obj(r.requests)[name]), `must be less than or equal to ${name} limit of ${asString(obj(r.limits)[name])}`));
  }
  return errs;
}

function validateContainer(c: Obj, path: string, volumes: Set<string>, hostNetwork: boolean, isInit: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.image) errs.push(required(`${path}.image`));
  else if (typeof c.image === 'string' && c.image.trim() !== c.image) errs.push(invalid(`${path}.image`, c.image, 'must not have leading or trailing whitespace'));
  if (!c.terminationMessagePolicy) errs.push(required(`${path}.terminationMessagePolicy`));
  else if (!TERMINATION_MESSAGE_POLICIES.includes(c.terminationMessagePolicy))
    errs.push(notSupported(`${path}.terminationMessagePolicy`, c.terminationMessagePolicy, TERMINATION_MESSAGE_POLICIES));
  if (!c.imagePullPolicy) errs.push(required(`${path}.imagePullPolicy`));
  else if (!PULL_POLICIES.includes(c.imagePullPolicy)) errs.push(notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  const portNames = new Set<string>();
  arr(c.ports).forEach((port: Obj, i) => {
    const p = `${path}.ports[${i}]`;
    const name = typeof port?.name === 'string' ? port.name : '';
    if (name.length > 0) {
      const msgs = isValidPortName(name);
      if (msgs.length > 0) errs.push(...invalidEach(`${p}.name`, name, msgs));
      else if (portNames.has(name)) errs.push(duplicate(`${p}.name`, name));
      else portNames.add(name);
    }
    if (!port?.containerPort) errs.push(required(`${p}.containerPort`));
    else errs.push(...invalidEach(`${p}.containerPort`, port.containerPort, isValidPortNum(port.containerPort)));
    if (port?.hostPort) {
      errs.push(...invalidEach(`${p}.hostPort`, port.hostPort, isValidPortNum(port.hostPort)));
      if (hostNetwork && port.hostPort !== port.containerPort) errs.push(invalid(`${p}.hostPort`, port.hostPort, 'must match `containerPort` when `hostNetwork` is true'));
    }
    if (!port?.protocol) errs.push(required(`${p}.protocol`));
    else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
  });
  arr(c.env).forEach((e: Obj, i) => {
    if (!e?.name) errs.push(required(`${path}.env[${i}].name`));
  });
  arr(c.volumeMounts).forEach((m: Obj, i) => {
    const p = `${path}.volumeMounts[${i}]`;
    if (!m?.name) errs.push(required(`${p}.name`));
    else if (!volumes.has(m.name)) errs.push({ type: 'FieldValueNotFound', field: `${p}.name`, value: m.name, detail: '' });
    if (!m?.mountPath) errs.push(required(`${p}.mountPath`));
  });
  if (isInit) {
    // Regular init containers may not carry probes; sidecars (restartPolicy Always) may.
    const sidecar = c.restartPolicy === 'Always';
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'])
      if (c[probe] && !sidecar) errs.push(forbidden(`${path}.${probe}`, 'may not be set for init containers without restartPolicy=Always'));
  }
  errs.push(...validateProbe(c.livenessProbe, `${path}.livenessProbe`, true));
  errs.push(...validateProbe(c.readinessProbe, `${path}.readinessProbe`, false));
  errs.push(...validateProbe(c.startupProbe, `${path}.startupProbe`, true));
  errs.push(...validateResources(c.resources, `${path}.resources`));
  return errs;
}

/** ValidatePodSpec, for pods and pod templates alike; `path` is `spec` or `spec.template.spec`. */
export function validatePodSpec(specIn: unknown, path: string): FieldError[] {
  const spec = obj(specIn);
  const errs: FieldError[] = [];
  const volumes = new Set<string>();
  arr(spec.volumes).forEach((v: Obj, i) => {
    const p = `${path}.volumes[${i}].name`;
    if (!v?.name) errs.push(required(p));
    else {
      errs.push(...invalidEach(p, v.name, isDNS1123Label(asString(v.name))));
      if (volumes.has(v.name)) errs.push(duplicate(p, v.name));
      volumes.add(v.name);
    }
  });
  const containers = arr(spec.containers);
  const allNames = new Set<string>();
  const hostNetwork = spec.hostNetwork === true;
  // Container names are unique across init and regular containers.
  const checkName = (c: Obj, p: string): void => {
    if (!c?.name) {
      errs.push(required(`${p}.name`));
      return;
    }
    errs.push(...invalidEach(`${p}.name`, c.name, isDNS1123Label(c.name)));
    if (allNames.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
    allNames.add(c.name);
  };
  arr(spec.initContainers).forEach((c: Obj, i) => {
    checkName(c, `${path}.initContainers[${i}]`);
    errs.push(...validateContainer(obj(c), `${path}.initContainers[${i}]`, volumes, hostNetwork, true));
  });
  if (containers.length === 0) errs.push(required(`${path}.containers`));
  containers.forEach((c: Obj, i) => {
    checkName(c, `${path}.containers[${i}]`);
    errs.push(...validateContainer(obj(c), `${path}.containers[${i}]`, volumes, hostNetwork, false));
  });
  if (!spec.restartPolicy) errs.push(required(`${path}.restartPolicy`));
  else if (!RESTART_POLICIES.includes(spec.restartPolicy)) errs.push(notSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  if (!spec.dnsPolicy) errs.push(required(`${path}.dnsPolicy`));
  else if (!DNS_POLICIES.includes(spec.dnsPolicy)) errs.push(notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  if (spec.dnsPolicy === 'None' && !spec.dnsConfig) errs.push(required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  if (spec.nodeSelector) errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  if (spec.nodeName) errs.push(...invalidEach(`${path}.nodeName`, spec.nodeName, isDNS1123Subdomain(asString(spec.nodeName))));
  if (spec.hostname) errs.push(...invalidEach(`${path}.hostname`, spec.hostname, isDNS1123Label(asString(spec.hostname))));
  if (spec.subdomain) errs.push(...invalidEach(`${path}.subdomain`, spec.subdomain, isDNS1123Label(asString(spec.subdomain))));
  if (spec.serviceAccountName) errs.push(...invalidEach(`${path}.serviceAccountName`, spec.serviceAccountName, isDNS1123Subdomain(asString(spec.serviceAccountName))));
  if (typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds <= 0)
    errs.push(invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  arr(spec.tolerations).forEach((t: Obj, i) => {
    const p = `${path}.tolerations[${i}]`;
    if (t?.key) errs.push(...invalidEach(`${p}.key`, t.key, isQualifiedName(asString(t.key))));
    if (t?.operator && !TOLERATION_OPERATORS.includes(t.operator)) errs.push(notSupported(`${p}.operator`, t.operator, TOLERATION_OPERATORS));
    if (!t?.key && t?.operator !== 'Exists') errs.push(invalid(`${p}.operator`, t?.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t?.operator === 'Exists' && t?.value) errs.push(invalid(`${p}.operator`, t.value, 'value must be empty when `operator` is \'Exists\''));
    if (t?.effect && !TAINT_EFFECTS.includes(t.effect)) errs.push(notSupported(`${p}.effect`, t.effect, TAINT_EFFECTS));
    if (t?.tolerationSeconds !== undefined && t?.tolerationSeconds !== null && t?.effect !== 'NoExecute')
      errs.push(invalid(`${p}.effect`, t?.effect ?? '', 'effect must be \'NoExecute\' when `tolerationSeconds` is set'));
  });
  return errs;
}

export function validatePod(pod: Obj): FieldError[] {
  return [...validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain), ...validatePodSpec(pod.spec, 'spec')];
}

const POD_UPDATE_MESSAGE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** Masks the fields a pod update may change, so the rest can be compared whole. */
function mutableMasked(spec: Obj, old: Obj): Obj {
  const m = structuredClone(spec);
  const maskImages = (key: 'containers' | 'initContainers') => {
    const mine = arr(m[key]);
    const theirs = arr(old[key]);
    mine.forEach((c: Obj, i) => {
      if (c && theirs[i]) c.image = theirs[i].image;
    });
  };
  maskImages('containers');
  maskImages('initContainers');
  m.activeDeadlineSeconds = old.activeDeadlineSeconds;
  // Tolerations may only grow: the old ones must still be there.
  const oldTol = arr(old.tolerations);
  const newTol = arr(m.tolerations);
  if (oldTol.every((t) => newTol.some((n) => deepEqual(n, t)))) m.tolerations = old.tolerations;
  if (typeof old.terminationGracePeriodSeconds === 'number' && old.terminationGracePeriodSeconds < 0 && m.terminationGracePeriodSeconds === 1)
    m.terminationGracePeriodSeconds = old.terminationGracePeriodSeconds;
  // Scheduling gates may be removed.
  const oldGates = arr(old.schedulingGates);
  if (arr(m.schedulingGates).every((g) => oldGates.some((o) => deepEqual(o, g)))) m.schedulingGates = old.schedulingGates;
  return m;
}

export function validatePodUpdate(pod: Obj, old: Obj): FieldError[] {
  const errs = [...validateObjectMetaUpdate(pod.metadata, old.metadata), ...validatePod(pod)];
  const spec = obj(pod.spec);
  const oldSpec = obj(old.spec);
  if (arr(spec.containers).length !== arr(oldSpec.containers).length) {
    errs.push(forbidden('spec.containers', 'pod updates may not add or remove containers'));
    return errs;
  }
  arr(spec.containers).forEach((c: Obj, i) => {
    if (!c?.image && arr(oldSpec.containers)[i]?.image) errs.push(required(`spec.containers[${i}].image`));
  });
  if (!deepEqual(mutableMasked(spec, oldSpec), oldSpec)) errs.push(forbidden('spec', POD_UPDATE_MESSAGE));
  return errs;
}
