// The legacy core/v1 Endpoints object kube-controller-manager still maintains for each
// Service with a selector: ready and not-ready addresses, repacked into subsets of
// addresses that share the same ports.

import type { EndpointAddress, EndpointPort, Endpoints, Pod, Service } from '../../api/types.js';
import { isIPv6 } from 'node:net';
import { addressTypesFor, findPort, isPodReady, labelsMatch, LABEL_HEADLESS } from '../endpointslice/desired.js';

export const MAX_ENDPOINTS_CAPACITY = 1000;
export const ANNOTATION_OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';

type Subset = NonNullable<Endpoints['subsets']>[number];

function compareIP(a: EndpointAddress, b: EndpointAddress): number {
  return a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0;
}

/** The Endpoints object the Service should have, or undefined when it has no selector. */
export function desiredEndpointsObject(svc: Service, pods: readonly Pod[]): Endpoints | undefined {
  const selector = svc.spec.selector;
  if (!selector) return undefined;
  // Endpoints carry one family: the Service's primary one.
  const v6 = addressTypesFor(svc)[0] === 'IPv6';
  const tolerateUnready = svc.spec.publishNotReadyAddresses === true;
  // ports key -> subset under construction
  const subsets = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  let total = 0;
  for (const pod of pods) {
    if (pod.metadata.namespace !== svc.metadata.namespace || !labelsMatch(selector, pod.metadata.labels)) continue;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    if (pod.metadata.deletionTimestamp && !tolerateUnready) continue;
    const ips = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
    const ip = ips.find((x) => isIPv6(x) === v6);
    if (!ip) continue;
    const addr: EndpointAddress = { ip, targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid } };
    if (pod.spec.nodeName) addr.nodeName = pod.spec.nodeName;
    if (pod.spec.hostname && pod.spec.subdomain === svc.metadata.name) addr.hostname = pod.spec.hostname;
    const ports: EndpointPort[] = [];
    for (const sp of svc.spec.ports ?? []) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { name: sp.name || undefined, port, protocol: sp.protocol ?? 'TCP' };
      if (ep.name === undefined) delete ep.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      ports.push(ep);
    }
    // A headless Service without ports still lists its addresses.
    if (ports.length === 0 && (svc.spec.ports?.length ?? 0) > 0) continue;
    ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
    const key = JSON.stringify(ports);
    let s = subsets.get(key);
    if (!s) subsets.set(key, (s = { ports, ready: [], notReady: [] }));
    if (tolerateUnready || isPodReady(pod)) s.ready.push(addr);
    else s.notReady.push(addr);
    total++;
  }

  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (svc.spec.clusterIP === 'None') labels[LABEL_HEADLESS] = '';
  else delete labels[LABEL_HEADLESS];
  const ep: Endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels },
    subsets: [],
  };
  let budget = MAX_ENDPOINTS_CAPACITY;
  for (const s of [...subsets.values()].sort((a, b) => JSON.stringify(a.ports).localeCompare(JSON.stringify(b.ports)))) {
    const ready = s.ready.sort(compareIP).slice(0, budget);
    budget -= ready.length;
    const notReady = s.notReady.sort(compareIP).slice(0, budget);
    budget -= notReady.length;
    if (ready.length === 0 && notReady.length === 0) continue;
    const subset: Subset = {};
    if (ready.length > 0) subset.addresses = ready;
    if (notReady.length > 0) subset.notReadyAddresses = notReady;
    if (s.ports.length > 0) subset.ports = s.ports;
    ep.subsets!.push(subset);
  }
  if (total > MAX_ENDPOINTS_CAPACITY) ep.metadata.annotations = { [ANNOTATION_OVER_CAPACITY]: 'truncated' };
  return ep;
}

/** Whether two Endpoints objects say the same thing (the controller writes only on change). */
export function endpointsEqual(a: Endpoints, b: Endpoints): boolean {
  return (
    JSON.stringify(a.subsets ?? []) === JSON.stringify(b.subsets ?? []) &&
    JSON.stringify(a.metadata.labels ?? {}) === JSON.stringify(b.metadata.labels ?? {}) &&
    (a.metadata.annotations?.[ANNOTATION_OVER_CAPACITY] ?? '') === (b.metadata.annotations?.[ANNOTATION_OVER_CAPACITY] ?? '')
  );
}
