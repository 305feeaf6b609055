// The smaller core/v1 kinds: Namespace, Node, ConfigMap, Secret, ServiceAccount, Event,
// Endpoints, and coordination/v1 Lease.

import { type FieldError, duplicate, forbidden, immutable, invalid, invalidEach, notSupported, required, tooLong } from './errors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import {
  asString,
  isConfigMapKey,
  isDNS1123Label,
  isQualifiedName,
  isValidPortNum,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  nonSpecialIPErrors,
  parseCIDR,
  parseIP,
} from './names.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

export const MAX_SECRET_SIZE = 1024 * 1024;
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

export function validateNamespace(ns: Obj, old?: Obj): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(ns.metadata, old.metadata) : validateObjectMeta(ns.metadata, false, nameIsDNSLabel);
  for (const f of arr(ns.spec?.finalizers)) errs.push(...invalidEach('spec.finalizers', f, isQualifiedName(asString(f))));
  return errs;
}

export function validateNode(node: Obj, old?: Obj): FieldError[] {
  const spec = obj(node.spec);
  const errs = old ? validateObjectMetaUpdate(node.metadata, old.metadata) : validateObjectMeta(node.metadata, false, nameIsDNSSubdomain);
  const cidrs = arr(spec.podCIDRs);
  cidrs.forEach((c, i) => {
    if (typeof c !== 'string' || !parseCIDR(c)) errs.push(invalid(`spec.podCIDRs[${i}]`, c, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
  });
  if (cidrs.length > 2) errs.push(invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
  else if (cidrs.length === 2 && asString(cidrs[0]).includes(':') === asString(cidrs[1]).includes(':'))
    errs.push(invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
  if (spec.podCIDR && cidrs.length > 0 && spec.podCIDR !== cidrs[0]) errs.push(invalid('spec.podCIDR', spec.podCIDR, 'must match first element of `podCIDRs`'));
  arr(spec.taints).forEach((t: Obj, i) => {
    const p = `spec.taints[${i}]`;
    if (!t?.key) errs.push(required(`${p}.key`));
    else errs.push(...invalidEach(`${p}.key`, t.key, isQualifiedName(asString(t.key))));
    if (!t?.effect) errs.push(required(`${p}.effect`));
    else if (!TAINT_EFFECTS.includes(t.effect)) errs.push(notSupported(`${p}.effect`, t.effect, TAINT_EFFECTS));
  });
  if (old) {
    const oldSpec = obj(old.spec);
    if (arr(oldSpec.podCIDRs).length > 0 && JSON.stringify(arr(oldSpec.podCIDRs)) !== JSON.stringify(cidrs))
      errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
    if (oldSpec.providerID && oldSpec.providerID !== spec.providerID) errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  return errs;
}

/** Data keys and total size, shared by ConfigMap and Secret. Secret data is base64, so size is decoded length. */
function validateDataKeys(o: Obj, field: 'data' | 'binaryData' | 'stringData', other: Obj | undefined, otherName: string, base64: boolean): { errs: FieldError[]; size: number } {
  const errs: FieldError[] = [];
  let size = 0;
  const data = obj(o[field]);
  for (const key of Object.keys(data).sort()) {
    errs.push(...invalidEach(`${field}[${key}]`, key, isConfigMapKey(key)));
    if (other && key in other) errs.push(invalid(`${field}[${key}]`, key, `duplicate of key present in ${otherName}`));
    const v = asString(data[key] ?? '');
    size += base64 ? Buffer.from(v, 'base64').length : Buffer.byteLength(v);
  }
  return { errs, size };
}

export function validateConfigMap(cm: Obj, old?: Obj): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(cm.metadata, old.metadata) : validateObjectMeta(cm.metadata, true, nameIsDNSSubdomain);
  const d = validateDataKeys(cm, 'data', obj(cm.binaryData), 'binaryData', false);
  const b = validateDataKeys(cm, 'binaryData', obj(cm.data), 'data', true);
  errs.push(...d.errs, ...b.errs);
  if (d.size + b.size > MAX_SECRET_SIZE) errs.push(tooLong('', MAX_SECRET_SIZE));
  if (old) errs.push(...immutableContent(cm, old, ['data', 'binaryData']));
  return errs;
}

function immutableContent(o: Obj, old: Obj, fields: string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (o.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) if (JSON.stringify(obj(o[f])) !== JSON.stringify(obj(old[f]))) errs.push(forbidden(f, 'field is immutable when `immutable` is set'));
  return errs;
}

export function validateSecret(s: Obj, old?: Obj): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(s.metadata, old.metadata) : validateObjectMeta(s.metadata, true, nameIsDNSSubdomain);
  const d = validateDataKeys(s, 'data', undefined, '', true);
  errs.push(...d.errs);
  if (d.size > MAX_SECRET_SIZE) errs.push(tooLong('data', MAX_SECRET_SIZE));
  const data = obj(s.data);
  const has = (k: string) => k in data || k in obj(s.stringData);
  switch (s.type) {
    case 'kubernetes.io/tls':
      if (!has('tls.key')) errs.push(required('data[tls.key]'));
      if (!has('tls.crt')) errs.push(required('data[tls.crt]'));
      break;
    case 'kubernetes.io/service-account-token':
      if (!s.metadata?.annotations?.['kubernetes.io/service-account.name']) errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
      break;
    case 'kubernetes.io/dockerconfigjson':
      if (!has('.dockerconfigjson')) errs.push(required('data[.dockerconfigjson]'));
      break;
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) errs.push(required('data[username]'));
      break;
    case 'kubernetes.io/ssh-auth':
      if (!has('ssh-privatekey')) errs.push(required('data[ssh-privatekey]'));
      break;
  }
  if (old) {
    errs.push(...immutable(s.type ?? 'Opaque', old.type ?? 'Opaque', 'type'));
    errs.push(...immutableContent(s, old, ['data']));
  }
  return errs;
}

export function validateServiceAccount(sa: Obj, old?: Obj): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(sa.metadata, old.metadata) : validateObjectMeta(sa.metadata, true, nameIsDNSSubdomain);
  return errs;
}

export function validateEvent(ev: Obj, old?: Obj): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(ev.metadata, old.metadata) : validateObjectMeta(ev.metadata, true, nameIsDNSSubdomain);
  const involvedNs = ev.involvedObject?.namespace;
  if (involvedNs && ev.metadata?.namespace && involvedNs !== ev.metadata.namespace)
    errs.push(invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
  if (ev.type && !['Normal', 'Warning'].includes(ev.type)) errs.push(notSupported('type', ev.type, ['Normal', 'Warning']));
  return errs;
}

export function validateEndpoints(ep: Obj, old?: Obj): FieldError[] {
  const errs = old ? validateObjectMetaUpdate(ep.metadata, old.metadata) : validateObjectMeta(ep.metadata, true, nameIsDNSSubdomain);
  arr(ep.subsets).forEach((ss: Obj, i) => {
    const p = `subsets[${i}]`;
    const addrs = [...arr(ss?.addresses).map((a, j) => [a, `${p}.addresses[${j}]`] as const), ...arr(ss?.notReadyAddresses).map((a, j) => [a, `${p}.notReadyAddresses[${j}]`] as const)];
    for (const [a, ap] of addrs) {
      const ip = a?.ip;
      if (typeof ip !== 'string' || !parseIP(ip)) errs.push(invalid(`${ap}.ip`, ip ?? '', 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
      else errs.push(...invalidEach(`${ap}.ip`, ip, nonSpecialIPErrors(ip)));
      if (a?.hostname) errs.push(...invalidEach(`${ap}.hostname`, a.hostname, isDNS1123Label(asString(a.hostname))));
    }
    const ports = arr(ss?.ports);
    const names = new Set<string>();
    ports.forEach((port: Obj, j) => {
      const pp = `${p}.ports[${j}]`;
      const name = typeof port?.name === 'string' ? port.name : '';
      if (ports.length > 1 && !name) errs.push(required(`${pp}.name`));
      else if (name) {
        errs.push(...invalidEach(`${pp}.name`, name, isDNS1123Label(name)));
        if (names.has(name)) errs.push(duplicate(`${pp}.name`, name));
        names.add(name);
      }
      errs.push(...invalidEach(`${pp}.port`, port?.port, isValidPortNum(port?.port)));
      if (!port?.protocol) errs.push(required(`${pp}.protocol`));
      else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(`${pp}.protocol`, port.protocol, PROTOCOLS));
    });
  });
  return errs;
}

export function validateLease(lease: Obj, old?: Obj): FieldError[] {
  const spec = obj(lease.spec);
  const errs = old ? validateObjectMetaUpdate(lease.metadata, old.metadata) : validateObjectMeta(lease.metadata, true, nameIsDNSSubdomain);
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds !== null && !(spec.leaseDurationSeconds > 0))
    errs.push(invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0)
    errs.push(invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
  return errs;
}
