// EndpointSlice validation (pkg/apis/discovery/validation).

import { type FieldError, immutable, invalid, invalidEach, notSupported, required, tooMany, duplicate } from './errors.js';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import {
  asString,
  fqdnErrors,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  nameIsDNSSubdomain,
  nonSpecialIPErrors,
  parseIP,
} from './names.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
export const MAX_ENDPOINTS = 1000;
export const MAX_ADDRESSES = 100;
export const MAX_PORTS = 100;
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ZONE_HINTS = 8;

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);

function validateAddress(addressType: string, address: unknown, path: string): FieldError[] {
  const a = typeof address === 'string' ? address : '';
  switch (addressType) {
    case 'IPv4': {
      const ip = parseIP(a);
      const errs = ip && ip.kind() === 'ipv4' && !a.includes(':') ? [] : [invalid(path, address, 'must be a valid IPv4 address')];
      return [...errs, ...invalidEach(path, address, ip ? nonSpecialIPErrors(a) : ['must be a valid IP address'])];
    }
    case 'IPv6': {
      const errs = a.includes(':') && parseIP(a)?.kind() === 'ipv6' ? [] : [invalid(path, address, 'must be a valid IPv6 address')];
      return [...errs, ...invalidEach(path, address, parseIP(a) ? nonSpecialIPErrors(a) : ['must be a valid IP address'])];
    }
    case 'FQDN': {
      const msgs = fqdnErrors(a);
      if (msgs.length === 1 && msgs[0] === 'Required value') return [required(path)];
      return invalidEach(path, address, msgs);
    }
    default:
      return [];
  }
}

function validateEndpoints(endpoints: unknown, addressType: string): FieldError[] {
  const list = arr(endpoints);
  if (list.length > MAX_ENDPOINTS) return [tooMany('endpoints', list.length, MAX_ENDPOINTS)];
  const errs: FieldError[] = [];
  list.forEach((ep: Obj, i) => {
    const p = `endpoints[${i}]`;
    const addrs = arr(ep?.addresses);
    if (addrs.length === 0) errs.push(required(`${p}.addresses`, 'must contain at least 1 address'));
    else if (addrs.length > MAX_ADDRESSES) errs.push(tooMany(`${p}.addresses`, addrs.length, MAX_ADDRESSES));
    addrs.forEach((a, j) => errs.push(...validateAddress(addressType, a, `${p}.addresses[${j}]`)));
    if (ep?.nodeName !== undefined && ep?.nodeName !== null) errs.push(...invalidEach(`${p}.nodeName`, ep.nodeName, isDNS1123Subdomain(asString(ep.nodeName))));
    const topo = ep?.deprecatedTopology;
    if (topo && typeof topo === 'object') {
      const n = Object.keys(topo).length;
      if (n > MAX_TOPOLOGY_LABELS) errs.push(tooMany(`${p}.deprecatedTopology`, n, MAX_TOPOLOGY_LABELS));
      errs.push(...validateLabels(topo, `${p}.deprecatedTopology`));
    }
    if (ep?.hostname !== undefined && ep?.hostname !== null) errs.push(...invalidEach(`${p}.hostname`, ep.hostname, isDNS1123Label(asString(ep.hostname))));
    const zones = arr(ep?.hints?.forZones);
    if (zones.length > MAX_ZONE_HINTS) errs.push(tooMany(`${p}.hints.forZones`, zones.length, MAX_ZONE_HINTS));
    const seenZones = new Set<string>();
    zones.forEach((z: Obj, j) => {
      const zp = `${p}.hints.forZones[${j}].name`;
      if (seenZones.has(z?.name)) errs.push(duplicate(zp, z?.name));
      else {
        seenZones.add(z?.name);
        errs.push(...validateLabels({ 'topology.kubernetes.io/zone': asString(z?.name ?? '') }, zp));
      }
    });
  });
  return errs;
}

function validatePorts(ports: unknown): FieldError[] {
  const list = arr(ports);
  if (list.length > MAX_PORTS) return [tooMany('ports', list.length, MAX_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((port: Obj, i) => {
    const p = `ports[${i}]`;
    const name = typeof port?.name === 'string' ? port.name : '';
    if (name.length > 0) errs.push(...invalidEach(`${p}.name`, name, isDNS1123Label(name)));
    if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
    else names.add(name);
    if (!port?.protocol) errs.push(required(`${p}.protocol`));
    else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
    if (port?.appProtocol !== undefined && port?.appProtocol !== null) errs.push(...invalidEach(`${p}.appProtocol`, port.appProtocol, isQualifiedName(asString(port.appProtocol))));
  });
  return errs;
}

export function validateEndpointSlice(es: Obj): FieldError[] {
  const errs = validateObjectMeta(es.metadata, true, nameIsDNSSubdomain);
  if (!es.addressType) errs.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(es.addressType)) errs.push(notSupported('addressType', es.addressType, ADDRESS_TYPES));
  errs.push(...validateEndpoints(es.endpoints, es.addressType));
  errs.push(...validatePorts(es.ports));
  return errs;
}

export function validateEndpointSliceUpdate(es: Obj, old: Obj): FieldError[] {
  return [...validateObjectMetaUpdate(es.metadata, old.metadata), ...validateEndpointSlice(es), ...immutable(es.addressType, old.addressType, 'addressType')];
}
