// What the EndpointSlice controller wants to exist for one Service: the endpoints of the
// pods it selects, grouped by address family and by resolved port set, as
// kube-controller-manager's endpointslice reconciler groups them.

import type { Endpoint, EndpointPort, Node, Pod, Service, ServicePort } from '../../api/types.js';
import { isIPv4, isIPv6 } from 'node:net';

export type AddressType = 'IPv4' | 'IPv6';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';

/** Endpoints that share one resolved port set (pods may resolve named ports differently). */
export interface EndpointGroup {
  ports: EndpointPort[];
  /** by endpoint key (its address) */
  endpoints: Map<string, Endpoint>;
}

/** addressType → ports key → group */
export type DesiredEndpoints = Map<AddressType, Map<string, EndpointGroup>>;

export function portsKey(ports: readonly EndpointPort[]): string {
  return JSON.stringify([...ports].map((p) => [p.name ?? '', p.protocol ?? 'TCP', p.port, p.appProtocol ?? '']).sort());
}

export function labelsMatch(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Address families the Service's slices are kept for. */
export function addressTypesFor(svc: Service): AddressType[] {
  const fams = svc.spec.ipFamilies;
  if (fams && fams.length > 0) return fams.map((f) => (f === 'IPv6' ? 'IPv6' : 'IPv4'));
  const ip = svc.spec.clusterIP;
  if (ip && ip !== 'None') return [isIPv6(ip) ? 'IPv6' : 'IPv4'];
  return ['IPv4', 'IPv6'];
}

/** The container port a Service port's targetPort means for this pod (podutil.FindPort). */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? 'TCP';
  for (const c of pod.spec.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

function podIPFor(pod: Pod, family: AddressType): string | undefined {
  const ips = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
  // A malformed IP in one pod's status must not make every write of the Service's slices fail validation.
  return ips.find((ip) => (family === 'IPv6' ? isIPv6(ip) : isIPv4(ip)));
}

/** Whether a pod belongs in EndpointSlices at all: terminal pods and pods without an IP do not. */
function podIsCandidate(pod: Pod): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  return Boolean(pod.status?.podIP || pod.status?.podIPs?.length);
}

export function endpointFor(svc: Service, pod: Pod, ip: string, node: Node | undefined): Endpoint {
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  const podReady = isPodReady(pod);
  // A terminating pod is never "ready" unless the Service publishes not-ready addresses.
  const ready = svc.spec.publishNotReadyAddresses === true || (podReady && !terminating);
  const ep: Endpoint = {
    addresses: [ip],
    conditions: { ready, serving: podReady, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
  if (pod.spec.hostname && pod.spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace) ep.hostname = pod.spec.hostname;
  if (pod.spec.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata.labels?.[LABEL_ZONE];
  if (zone) ep.zone = zone;
  if (zone && svc.spec.trafficDistribution === 'PreferClose') ep.hints = { forZones: [{ name: zone }] };
  return ep;
}

/**
 * The desired endpoints of a Service with a selector. `nodes` resolves a node name to its
 * Node (for the zone). Services without a selector are not managed by this controller.
 */
export function desiredEndpoints(svc: Service, pods: readonly Pod[], nodes: (name: string) => Node | undefined): DesiredEndpoints {
  const out: DesiredEndpoints = new Map();
  const selector = svc.spec.selector;
  if (!selector) return out;
  const types = addressTypesFor(svc);
  for (const t of types) out.set(t, new Map());
  for (const pod of pods) {
    if (pod.metadata.namespace !== svc.metadata.namespace || !labelsMatch(selector, pod.metadata.labels) || !podIsCandidate(pod)) continue;
    const ports: EndpointPort[] = [];
    for (const sp of svc.spec.ports ?? []) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      ports.push(ep);
    }
    const key = portsKey(ports);
    const node = pod.spec.nodeName ? nodes(pod.spec.nodeName) : undefined;
    for (const t of types) {
      const ip = podIPFor(pod, t);
      if (!ip) continue;
      const groups = out.get(t)!;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { ports, endpoints: new Map() }));
      group.endpoints.set(ip, endpointFor(svc, pod, ip, node));
    }
  }
  return out;
}
