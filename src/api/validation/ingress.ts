// Ingress and IngressClass validation (pkg/apis/networking/validation).

import { type FieldError, RawValue, forbidden, immutable, invalid, invalidEach, notSupported, required, tooLong } from './errors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import {
  isDNS1123Label,
  isDNS1035Label,
  isDNS1123Subdomain,
  isValidPathSegmentName,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  nameIsDNSSubdomain,
  parseIP,
  regexError,
} from './names.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
const MAX_CONTROLLER_LEN = 250;
const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function validateHost(host: string, path: string): FieldError[] {
  if (host.includes('*')) return invalidEach(path, host, isWildcardDNS1123Subdomain(host));
  return invalidEach(path, host, isDNS1123Subdomain(host));
}

function validateBackend(b: Obj | undefined, path: string): FieldError[] {
  const backend = b ?? {};
  const hasResource = backend.resource !== undefined && backend.resource !== null;
  const hasService = backend.service !== undefined && backend.service !== null;
  if (hasResource && hasService) return [invalid(path, '', 'cannot set both resource and service backends')];
  const errs: FieldError[] = [];
  if (hasResource) {
    const r: Obj = backend.resource;
    const rp = `${path}.resource`;
    if (r.apiGroup !== undefined && r.apiGroup !== null) errs.push(...invalidEach(`${rp}.apiGroup`, r.apiGroup, isDNS1123Subdomain(str(r.apiGroup))));
    if (!r.kind) errs.push(required(`${rp}.kind`, 'kind is required'));
    else errs.push(...invalidEach(`${rp}.kind`, r.kind, isValidPathSegmentName(str(r.kind), false)));
    if (!r.name) errs.push(required(`${rp}.name`, 'name is required'));
    else errs.push(...invalidEach(`${rp}.name`, r.name, isValidPathSegmentName(str(r.name), false)));
    return errs;
  }
  if (hasService) {
    const s: Obj = backend.service;
    const name = str(s.name);
    if (name.length === 0) errs.push(required(`${path}.service.name`));
    else errs.push(...invalidEach(`${path}.service.name`, name, isDNS1035Label(name)));
    const portName = str(s.port?.name);
    const portNumber = typeof s.port?.number === 'number' ? s.port.number : 0;
    if (portName && portNumber) errs.push(invalid(path, '', 'cannot set both port name & port number'));
    else if (portName) errs.push(...invalidEach(`${path}.service.port.name`, portName, isValidPortName(portName)));
    else if (portNumber) errs.push(...invalidEach(`${path}.service.port.number`, portNumber, isValidPortNum(portNumber)));
    else errs.push(required(path, 'port name or number is required'));
    return errs;
  }
  return [invalid(path, '', 'resource or service backend is required')];
}

function validatePath(p: Obj, path: string): FieldError[] {
  if (p.pathType === undefined || p.pathType === null || p.pathType === '') return [required(`${path}.pathType`, 'pathType must be specified')];
  const errs: FieldError[] = [];
  const value = str(p.path);
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errs.push(invalid(`${path}.path`, value, 'must be an absolute path'));
      if (value.length > 0) {
        for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) errs.push(invalid(`${path}.path`, value, `must not contain '${seq}'`));
        for (const suf of INVALID_PATH_SUFFIXES) if (value.endsWith(suf)) errs.push(invalid(`${path}.path`, value, `cannot end with '${suf}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value.length > 0 && !value.startsWith('/')) errs.push(invalid(`${path}.path`, value, 'must be an absolute path'));
      break;
    default:
      errs.push(notSupported(`${path}.pathType`, p.pathType, PATH_TYPES));
  }
  errs.push(...validateBackend(p.backend, `${path}.backend`));
  return errs;
}

function validateRules(rules: Obj[]): FieldError[] {
  const errs: FieldError[] = [];
  rules.forEach((rule, i) => {
    const p = `spec.rules[${i}]`;
    const host = str(rule?.host);
    if (host.length > 0) {
      if (parseIP(host)) errs.push(invalid(`${p}.host`, host, 'must be a DNS name, not an IP address'));
      errs.push(...validateHost(host, `${p}.host`));
    }
    const http = rule?.http;
    if (http !== undefined && http !== null) {
      const paths = arr(http.paths);
      if (paths.length === 0) errs.push(required(`${p}.http.paths`));
      paths.forEach((hp, j) => errs.push(...validatePath(hp ?? {}, `${p}.http.paths[${j}]`)));
    }
  });
  return errs;
}

function validateIngressSpec(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const rules = arr(spec.rules);
  const hasDefault = spec.defaultBackend !== undefined && spec.defaultBackend !== null;
  if (rules.length === 0 && !hasDefault)
    errs.push(invalid('spec', new RawValue(Array.isArray(spec.rules) ? '[]networking.IngressRule{}' : '[]networking.IngressRule(nil)'), 'either `defaultBackend` or `rules` must be specified'));
  if (hasDefault) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  if (rules.length > 0) errs.push(...validateRules(rules));
  arr(spec.tls).forEach((tls: Obj, i) => {
    arr(tls?.hosts).forEach((h, j) => errs.push(...validateHost(str(h), `spec.tls[${i}].hosts[${j}]`)));
    const secret = str(tls?.secretName);
    if (secret.length > 0) errs.push(...invalidEach(`spec.tls[${i}].secretName`, secret, nameIsDNSSubdomain(secret, false)));
  });
  if (spec.ingressClassName !== undefined && spec.ingressClassName !== null)
    errs.push(...invalidEach('spec.ingressClassName', spec.ingressClassName, nameIsDNSSubdomain(str(spec.ingressClassName), false)));
  return errs;
}

export function validateIngress(ing: Obj, old?: Obj): FieldError[] {
  const spec: Obj = ing.spec && typeof ing.spec === 'object' ? ing.spec : {};
  const errs = old ? validateObjectMetaUpdate(ing.metadata, old.metadata) : validateObjectMeta(ing.metadata, true, nameIsDNSSubdomain);
  errs.push(...validateIngressSpec(spec));
  const annotation = ing.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION];
  if (!old && annotation !== undefined && spec.ingressClassName !== undefined && spec.ingressClassName !== null && annotation !== spec.ingressClassName)
    errs.push(invalid(`annotations.${INGRESS_CLASS_ANNOTATION}`, annotation, 'must match `ingressClassName` when both are specified'));
  return errs;
}

/** IsDomainPrefixedPath: `example.com/path`, as an IngressClass controller name. */
function validateDomainPrefixedPath(value: string, path: string): FieldError[] {
  if (value.length === 0) return [required(path)];
  const slash = value.indexOf('/');
  if (slash <= 0 || slash === value.length - 1) return [invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const host = value.slice(0, slash);
  const rest = value.slice(slash + 1);
  const errs = invalidEach(path, host, isDNS1123Subdomain(host));
  const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
  if (!new RegExp(`^${httpPathFmt}$`).test(rest)) errs.push(invalid(path, rest, regexError('Invalid path', httpPathFmt)));
  return errs;
}

export function validateIngressClass(ic: Obj, old?: Obj): FieldError[] {
  const spec: Obj = ic.spec && typeof ic.spec === 'object' ? ic.spec : {};
  const errs: FieldError[] = [];
  if (old) {
    errs.push(...validateObjectMetaUpdate(ic.metadata, old.metadata));
    errs.push(...immutable(str(spec.controller), str(old.spec?.controller), 'spec.controller'));
  }
  errs.push(...validateObjectMeta(ic.metadata, false, nameIsDNSSubdomain));
  const controller = str(spec.controller);
  if (controller.length > MAX_CONTROLLER_LEN) errs.push(tooLong('spec.controller', MAX_CONTROLLER_LEN));
  errs.push(...validateDomainPrefixedPath(controller, 'spec.controller'));
  const params = spec.parameters;
  if (params && typeof params === 'object') {
    const p = 'spec.parameters';
    if (params.apiGroup !== undefined && params.apiGroup !== null) errs.push(...invalidEach(`${p}.apiGroup`, params.apiGroup, isDNS1123Subdomain(str(params.apiGroup))));
    if (!params.kind) errs.push(required(`${p}.kind`, 'kind is required'));
    else errs.push(...invalidEach(`${p}.kind`, params.kind, isValidPathSegmentName(str(params.kind), false)));
    if (!params.name) errs.push(required(`${p}.name`, 'name is required'));
    else errs.push(...invalidEach(`${p}.name`, params.name, isValidPathSegmentName(str(params.name), false)));
    const scope = params.scope;
    if (scope === undefined || scope === null) errs.push(required(`${p}.scope`));
    else if (!['Cluster', 'Namespace'].includes(scope)) errs.push(notSupported(`${p}.scope`, scope, ['Cluster', 'Namespace']));
    else if (scope === 'Namespace') {
      if (params.namespace === undefined || params.namespace === null) errs.push(required(`${p}.namespace`, "`parameters.scope` is set to 'Namespace'"));
      else errs.push(...invalidEach(`${p}.namespace`, params.namespace, isDNS1123Label(str(params.namespace))));
    } else if (params.namespace !== undefined && params.namespace !== null) {
      errs.push(forbidden(`${p}.namespace`, "`parameters.scope` is set to 'Cluster'"));
    }
  }
  return errs;
}

/** ValidateIngressStatusUpdate: load-balancer addresses an ingress controller reports. */
export function validateIngressStatusUpdate(ing: Obj, old: Obj): FieldError[] {
  const errs = validateObjectMetaUpdate(ing.metadata, old.metadata);
  arr(ing.status?.loadBalancer?.ingress).forEach((lb: Obj, i) => {
    const p = `status.loadBalancer.ingress[${i}]`;
    const ip = str(lb?.ip);
    if (ip && !parseIP(ip)) errs.push(invalid(`${p}.ip`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    const hostname = str(lb?.hostname);
    if (hostname) {
      errs.push(...invalidEach(`${p}.hostname`, hostname, isDNS1123Subdomain(hostname)));
      if (parseIP(hostname)) errs.push(invalid(`${p}.hostname`, hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}
