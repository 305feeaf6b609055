// Service validation as kube-apiserver's ValidateService / ValidateServiceUpdate
// (pkg/apis/core/validation) plus the IP-family consistency checks its allocator applies.

import { externallyAccessible } from '../defaults.js';
import { type FieldError, RawValue, duplicate, forbidden, invalid, invalidEach, notSupported, required } from './errors.js';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import {
  asString,
  isDNS1123Label,
  isDNS1123Subdomain,
  isIPv6String,
  isQualifiedName,
  isValidPortName,
  isValidPortNum,
  nameIsDNS1035Label,
  nonSpecialIPErrors,
  parseCIDR,
  parseIP,
} from './names.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const AFFINITIES = ['ClientIP', 'None'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const TRAFFIC_DISTRIBUTIONS = ['PreferClose'];
const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;
const TOPOLOGY_MODE_ANNOTATION = 'service.kubernetes.io/topology-mode';
const TOPOLOGY_HINTS_ANNOTATION = 'service.kubernetes.io/topology-aware-hints';
const SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';
const CIDR_MSG = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

export interface ServiceValidationOptions {
  /** Skip checks on values the server allocates (healthCheckNodePort), for a pre-allocation pass. */
  beforeAllocation?: boolean;
}

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
// Headless means clusterIPs is exactly [None] (isHeadlessService), after clusterIP/clusterIPs are synced.
const isHeadless = (spec: Obj): boolean => Array.isArray(spec.clusterIPs) && spec.clusterIPs.length === 1 && spec.clusterIPs[0] === 'None';

/** Go's rendering of the (protocol, port) key upstream reports for a duplicate service port. */
function goServicePortKey(protocol: unknown, port: unknown): RawValue {
  return new RawValue(
    `core.ServicePort{Name:"", Protocol:${JSON.stringify(asString(protocol ?? ''))}, AppProtocol:(*string)(nil), Port:${Number(port) || 0}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`,
  );
}

function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return invalidEach(path, port, isValidPortNum(port));
  if (typeof port === 'string') return invalidEach(path, port, isValidPortName(port));
  return [invalid(path, port, 'must be an integer or a string')];
}

function validateServicePort(sp: Obj, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = typeof sp.name === 'string' ? sp.name : '';
  if (requireName && name.length === 0) errs.push(required(`${path}.name`));
  else if (name.length > 0) {
    errs.push(...invalidEach(`${path}.name`, name, isDNS1123Label(name)));
    if (names.has(name)) errs.push(duplicate(`${path}.name`, name));
    else names.add(name);
  }
  errs.push(...invalidEach(`${path}.port`, sp.port, isValidPortNum(sp.port)));
  if (!sp.protocol) errs.push(required(`${path}.protocol`));
  else if (!PROTOCOLS.includes(sp.protocol)) errs.push(notSupported(`${path}.protocol`, sp.protocol, PROTOCOLS));
  errs.push(...validatePortNumOrName(sp.targetPort, `${path}.targetPort`));
  if (sp.appProtocol !== undefined && sp.appProtocol !== null) errs.push(...invalidEach(`${path}.appProtocol`, sp.appProtocol, isQualifiedName(asString(sp.appProtocol))));
  return errs;
}

function validateClientIPAffinity(config: Obj | undefined, path: string): FieldError[] {
  const when = 'when session affinity type is ClientIP';
  if (!config) return [required(path, when)];
  if (!config.clientIP) return [required(`${path}.clientIP`, when)];
  const t = config.clientIP.timeoutSeconds;
  if (t === undefined || t === null) return [required(`${path}.clientIP.timeoutSeconds`, when)];
  if (typeof t !== 'number' || t <= 0 || t > MAX_CLIENT_IP_AFFINITY_SECONDS)
    return [invalid(`${path}.clientIP.timeoutSeconds`, t, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`)];
  return [];
}

/** ValidateServiceClusterIPsRelatedFields plus the allocator's policy/family agreement checks. */
function validateClusterIPFields(spec: Obj): FieldError[] {
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips: unknown[] = arr(spec.clusterIPs);
  const families: unknown[] = arr(spec.ipFamilies);
  if (spec.clusterIP) {
    if (ips.length === 0) errs.push(required('spec.clusterIPs'));
    else if (ips[0] !== spec.clusterIP) errs.push(invalid('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  } else if (ips.length > 0) {
    errs.push(invalid('spec.clusterIPs', ips, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<unknown>();
  families.forEach((f, i) => {
    if (!IP_FAMILIES.includes(f as string)) errs.push(notSupported(`spec.ipFamilies[${i}]`, f, IP_FAMILIES));
    if (seen.has(f)) errs.push(duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  const policy = spec.ipFamilyPolicy;
  if (policy !== undefined && policy !== null && !IP_FAMILY_POLICIES.includes(policy)) errs.push(notSupported('spec.ipFamilyPolicy', policy, IP_FAMILY_POLICIES));
  let badIPs = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        badIPs = true;
        errs.push(invalid('spec.clusterIPs', ips, "'None' must be the first and only value"));
      }
      return;
    }
    if (typeof ip !== 'string' || !parseIP(ip)) {
      badIPs = true;
      errs.push(invalid(`spec.clusterIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    }
  });
  if (ips.length > 2) errs.push(invalid('spec.clusterIPs', ips, 'may only hold up to 2 values'));
  if (badIPs) return errs;
  if (ips.length > 1 && isIPv6String(ips[0] as string) === isIPv6String(ips[1] as string))
    errs.push(invalid('spec.clusterIPs', ips, 'may specify no more than one IP for each IP family'));
  if (!isHeadless(spec)) {
    ips.forEach((ip, i) => {
      if (i >= families.length) return;
      const v6 = isIPv6String(ip as string);
      if (families[i] === 'IPv4' && v6) errs.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && !v6) errs.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  if (policy === 'SingleStack') {
    if (families.length > 1) errs.push(invalid('spec.ipFamilyPolicy', policy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
    if (ips.length > 1) errs.push(invalid('spec.ipFamilyPolicy', policy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple 'clusterIPs' are specified"));
  }
  return errs;
}

export function validateServiceSpec(svc: Obj, opts: ServiceValidationOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  const spec: Obj = svc.spec && typeof svc.spec === 'object' ? svc.spec : {};
  const ports: Obj[] = arr(spec.ports).map((p) => (p && typeof p === 'object' ? p : {}));
  const headless = isHeadless(spec);

  const annotations: Obj = svc.metadata?.annotations && typeof svc.metadata.annotations === 'object' ? svc.metadata.annotations : {};
  const topologyMode = annotations[TOPOLOGY_MODE_ANNOTATION];
  const topologyHints = annotations[TOPOLOGY_HINTS_ANNOTATION];
  if (topologyMode !== undefined && topologyHints !== undefined && topologyMode !== topologyHints)
    errs.push(invalid(`metadata.annotations[${TOPOLOGY_MODE_ANNOTATION}]`, topologyMode, `must match annotations[${TOPOLOGY_HINTS_ANNOTATION}] when both are specified`));

  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errs.push(required('spec.ports'));
  switch (spec.type) {
    case 'LoadBalancer':
      if (headless) errs.push(invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for LoadBalancer services"));
      break;
    case 'NodePort':
      if (headless) errs.push(invalid('spec.clusterIPs[0]', 'None', "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if (arr(spec.clusterIPs).length > 0) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if (arr(spec.ipFamilies).length > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      // A trailing dot marks the CNAME fully qualified.
      const cname = typeof spec.externalName === 'string' ? spec.externalName.replace(/\.$/, '') : '';
      if (cname.length > 0) errs.push(...invalidEach('spec.externalName', cname, isDNS1123Subdomain(cname)));
      else errs.push(required('spec.externalName'));
      break;
    }
  }

  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, `spec.ports[${i}]`)));

  if (spec.selector !== undefined && spec.selector !== null) errs.push(...validateLabels(spec.selector, 'spec.selector'));

  if (!spec.sessionAffinity) errs.push(required('spec.sessionAffinity'));
  else if (!AFFINITIES.includes(spec.sessionAffinity)) errs.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, AFFINITIES));
  if (spec.sessionAffinity === 'ClientIP') errs.push(...validateClientIPAffinity(spec.sessionAffinityConfig, 'spec.sessionAffinityConfig'));
  else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig)
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));

  errs.push(...validateClusterIPFields(spec));

  arr(spec.externalIPs).forEach((ip, i) => {
    const p = `spec.externalIPs[${i}]`;
    if (typeof ip !== 'string' || !parseIP(ip)) errs.push(invalid(p, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    else errs.push(...invalidEach(p, ip, nonSpecialIPErrors(ip)));
  });

  if (!spec.type) errs.push(required('spec.type'));
  else if (!SERVICE_TYPES.includes(spec.type)) errs.push(notSupported('spec.type', spec.type, SERVICE_TYPES));

  if (spec.type === 'ClusterIP')
    ports.forEach((p, i) => {
      if (p.nodePort) errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });

  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p.nodePort) return;
    const key = `${asString(p.protocol)}/${asString(p.nodePort)}`;
    if (nodePorts.has(key)) errs.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${asString(p.protocol)}/${asString(p.port)}`;
    if (portKeys.has(key)) errs.push(duplicate(`spec.ports[${i}]`, goServicePortKey(p.protocol, p.port)));
    portKeys.add(key);
  });

  const ranges = arr(spec.loadBalancerSourceRanges);
  if (ranges.length > 0) {
    // Upstream's path keeps the Go field name here.
    const p = 'spec.LoadBalancerSourceRanges';
    if (spec.type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => {
      // Space padding is tolerated, a leftover of the annotation this field replaced.
      const v = typeof r === 'string' ? r.trim() : r;
      if (typeof v !== 'string' || !parseCIDR(v)) errs.push(invalid(`${p}[${i}]`, v, CIDR_MSG));
    });
  } else if (typeof annotations[SOURCE_RANGES_ANNOTATION] === 'string') {
    // The annotation this field replaced: comma-separated CIDRs, LoadBalancer only.
    const p = `metadata.annotations[${SOURCE_RANGES_ANNOTATION}]`;
    if (spec.type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    const val = asString(annotations[SOURCE_RANGES_ANNOTATION]).trim();
    if (val !== '') for (const r of val.split(',')) if (!parseCIDR(r.trim())) errs.push(invalid(p, r.trim(), CIDR_MSG));
  }

  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null && spec.type !== 'LoadBalancer')
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  if (spec.type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null))
    errs.push(required('allocateLoadBalancerNodePorts'));

  if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null) {
    if (spec.type !== 'LoadBalancer') errs.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
    else errs.push(...invalidEach('spec.loadBalancerClass', spec.loadBalancerClass, isQualifiedName(asString(spec.loadBalancerClass))));
  }

  // externalTrafficPolicy and healthCheckNodePort
  if (!externallyAccessible(spec)) {
    if (spec.externalTrafficPolicy) errs.push(invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (!spec.externalTrafficPolicy) errs.push(required('spec.externalTrafficPolicy'));
  else if (!TRAFFIC_POLICIES.includes(spec.externalTrafficPolicy)) errs.push(notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, TRAFFIC_POLICIES));
  const needsHealthCheck = spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
  if (!needsHealthCheck) {
    if (spec.healthCheckNodePort)
      errs.push(invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (!spec.healthCheckNodePort) {
    if (!opts.beforeAllocation) errs.push(required('spec.healthCheckNodePort'));
  } else errs.push(...invalidEach('spec.healthCheckNodePort', spec.healthCheckNodePort, isValidPortNum(spec.healthCheckNodePort)));

  // internalTrafficPolicy: required where it is defaulted; not forbidden elsewhere, for old stored objects.
  const itp = spec.internalTrafficPolicy;
  if ((itp === undefined || itp === null) && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) errs.push(required('spec.internalTrafficPolicy'));
  if (itp !== undefined && itp !== null && !TRAFFIC_POLICIES.includes(itp)) errs.push(notSupported('spec.internalTrafficPolicy', itp, TRAFFIC_POLICIES));

  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== null && !TRAFFIC_DISTRIBUTIONS.includes(spec.trafficDistribution))
    errs.push(notSupported('spec.trafficDistribution', spec.trafficDistribution, TRAFFIC_DISTRIBUTIONS));
  return errs;
}

export function validateService(svc: Obj, opts: ServiceValidationOptions = {}): FieldError[] {
  return [...validateObjectMeta(svc.metadata, true, nameIsDNS1035Label), ...validateServiceSpec(svc, opts)];
}

/** ipFamilyPolicy as field.Error prints the dereferenced pointer: the string, or "null". */
const policyValue = (spec: Obj): unknown => (typeof spec.ipFamilyPolicy === 'string' ? spec.ipFamilyPolicy : null);

/**
 * validateUpgradeDowngradeClusterIPs: a secondary cluster IP may be added (dual-stack upgrade)
 * or released (only with SingleStack), the primary never changes; ExternalName moves are exempt.
 */
function validateClusterIPsUpgrade(spec: Obj, old: Obj): FieldError[] {
  if (old.type === 'ExternalName' || spec.type === 'ExternalName') return [];
  if (isHeadless(old) && isHeadless(spec)) return [];
  const errs: FieldError[] = [];
  const cur = arr(spec.clusterIPs);
  const prev = arr(old.clusterIPs);
  if (prev.length === cur.length) {
    prev.forEach((ip, i) => {
      if (ip !== cur[i]) errs.push(invalid(`spec.clusterIPs[${i}]`, cur, 'may not change once set'));
    });
  } else if (prev.length > cur.length) {
    if (cur.length === 0) errs.push(invalid('spec.clusterIPs[0]', cur, 'primary clusterIP can not be unset'));
    if (prev.length > 0 && cur.length > 0 && cur[0] !== prev[0]) errs.push(invalid('spec.clusterIPs[0]', cur, 'may not change once set'));
    if (cur.length === 1 && spec.ipFamilyPolicy !== 'SingleStack')
      errs.push(invalid('spec.ipFamilyPolicy', policyValue(spec), "must be set to 'SingleStack' when releasing the secondary clusterIP"));
  } else if (prev.length > 0 && cur[0] !== prev[0]) {
    errs.push(invalid('spec.clusterIPs[0]', cur, 'may not change once set'));
  }
  return errs;
}

/** validateUpgradeDowngradeIPFamilies, including upstream's choice of values to print. */
function validateIPFamiliesUpgrade(spec: Obj, old: Obj): FieldError[] {
  if (old.type === 'ExternalName' || spec.type === 'ExternalName') return [];
  // Headless services may change families, and moves to or from headless are not checked.
  if (isHeadless(old) || isHeadless(spec)) return [];
  const errs: FieldError[] = [];
  const cur = arr(spec.ipFamilies);
  const prev = arr(old.ipFamilies);
  const ips = arr(spec.clusterIPs);
  if (prev.length === cur.length) {
    prev.forEach((f, i) => {
      if (f !== cur[i]) errs.push(invalid('spec.ipFamilies[0]', cur, 'may not change once set'));
    });
  } else if (prev.length > cur.length) {
    if (ips.length === 0) errs.push(invalid('spec.ipFamilies[0]', cur, 'primary ipFamily can not be unset'));
    if (cur.length > 0 && cur[0] !== prev[0]) errs.push(invalid('spec.ipFamilies[0]', ips, 'may not change once set'));
    if (cur.length === 1 && spec.ipFamilyPolicy !== 'SingleStack')
      errs.push(invalid('spec.ipFamilyPolicy', policyValue(spec), "must be set to 'SingleStack' when releasing the secondary ipFamily"));
  } else if (prev.length > 0 && cur.length > 0 && cur[0] !== prev[0]) {
    errs.push(invalid('spec.ipFamilies[0]', ips, 'may not change once set'));
  }
  return errs;
}

export function validateServiceUpdate(svc: Obj, old: Obj, opts: ServiceValidationOptions = {}): FieldError[] {
  const spec: Obj = svc.spec ?? {};
  const oldSpec: Obj = old.spec ?? {};
  const errs = [
    ...validateObjectMetaUpdate(svc.metadata, old.metadata),
    ...validateClusterIPsUpgrade(spec, oldSpec),
    ...validateIPFamiliesUpgrade(spec, oldSpec),
  ];
  // loadBalancerClass is fixed once a LoadBalancer has one.
  if (oldSpec.type === 'LoadBalancer' && spec.type === 'LoadBalancer' && (oldSpec.loadBalancerClass ?? null) !== (spec.loadBalancerClass ?? null))
    errs.push(invalid('spec.loadBalancerClass', typeof spec.loadBalancerClass === 'string' ? spec.loadBalancerClass : null, 'may not change once set'));
  // healthCheckNodePort stays as allocated while the service keeps needing one.
  const needsHC = (x: Obj) => x.type === 'LoadBalancer' && x.externalTrafficPolicy === 'Local';
  if (needsHC(spec) && needsHC(oldSpec) && (spec.healthCheckNodePort ?? 0) !== (oldSpec.healthCheckNodePort ?? 0))
    errs.push(forbidden('spec.healthCheckNodePort', 'field is immutable'));
  errs.push(...validateService(svc, opts));
  return errs;
}

const IP_MODES = ['Proxy', 'VIP'];

/** ValidateServiceStatusUpdate: what a write to services/status may carry. */
export function validateServiceStatusUpdate(svc: Obj, old: Obj): FieldError[] {
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata);
  const ingress = arr(svc.status?.loadBalancer?.ingress);
  const p = 'status.loadBalancer.ingress';
  if (svc.spec?.type !== 'LoadBalancer' && ingress.length > 0) return [...errs, forbidden(p, "may only be used when `spec.type` is 'LoadBalancer'")];
  ingress.forEach((ing: Obj, i) => {
    const ip = typeof ing?.ip === 'string' ? ing.ip : '';
    if (ip && !parseIP(ip)) errs.push(invalid(`${p}[${i}].ip`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    if (ing?.ipMode === undefined || ing?.ipMode === null) {
      if (ip) errs.push(required(`${p}[${i}].ipMode`, 'must be specified when `ip` is set'));
    } else if (!ip) errs.push(forbidden(`${p}[${i}].ipMode`, 'may not be specified when `ip` is not set'));
    else if (!IP_MODES.includes(ing.ipMode)) errs.push(notSupported(`${p}[${i}].ipMode`, ing.ipMode, IP_MODES));
    const hostname = typeof ing?.hostname === 'string' ? ing.hostname : '';
    if (hostname) {
      errs.push(...invalidEach(`${p}[${i}].hostname`, hostname, isDNS1123Subdomain(hostname)));
      if (parseIP(hostname)) errs.push(invalid(`${p}[${i}].hostname`, hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}
