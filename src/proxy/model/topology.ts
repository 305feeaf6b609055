import { usesClusterEndpoints, usesLocalEndpoints, type EndpointInfo, type NodeTopology, type ServicePortInfo } from './types.js';

export interface CategorizedEndpoints {
  /** endpoints for Cluster traffic policy (ready, narrowed by topology hints; else serving+terminating) */
  clusterEndpoints: EndpointInfo[];
  /** endpoints for Local traffic policy (local ready; else local serving+terminating) */
  localEndpoints: EndpointInfo[];
  /** union of the two: every endpoint some rule may send to, sorted by `ip:port` */
  allReachableEndpoints: EndpointInfo[];
  /** some endpoint is usable somewhere in the cluster */
  hasAnyEndpoints: boolean;
}

function canUseTopology(endpoints: readonly EndpointInfo[], node: NodeTopology): boolean {
  if (!node.zone) return false;
  let hasEndpointForZone = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    // Hints only count when every ready endpoint carries them: a half-hinted slice set is mid-update.
    if (!ep.zoneHints || ep.zoneHints.length === 0) return false;
    if (ep.zoneHints.includes(node.zone)) hasEndpointForZone = true;
  }
  return hasEndpointForZone;
}

/**
 * Which endpoints a service port's rules use on this node, as kube-proxy's
 * CategorizeEndpoints: readiness, the terminating-endpoint fallback, traffic policies and
 * topology hints. Pure.
 */
export function categorizeEndpoints(endpoints: readonly EndpointInfo[], svc: ServicePortInfo, node: NodeTopology): CategorizedEndpoints {
  let clusterEndpoints: EndpointInfo[] = [];
  let localEndpoints: EndpointInfo[] = [];
  let hasAnyEndpoints = false;
  let useTopology = false;
  let useServingTerminating = false;
  if (usesClusterEndpoints(svc)) {
    useTopology = canUseTopology(endpoints, node);
    clusterEndpoints = endpoints.filter((ep) => ep.ready && (!useTopology || (ep.zoneHints ?? []).includes(node.zone!)));
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter((ep) => ep.serving && ep.terminating);
    if (clusterEndpoints.length > 0) hasAnyEndpoints = true;
  }
  if (!usesLocalEndpoints(svc)) return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  let hasLocalReady = false;
  let hasLocalServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAnyEndpoints = true;
      if (ep.isLocal) hasLocalReady = true;
    } else if (ep.serving && ep.terminating) {
      hasAnyEndpoints = true;
      if (ep.isLocal) hasLocalServingTerminating = true;
    }
  }
  if (hasLocalReady) localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.ready);
  else if (hasLocalServingTerminating) {
    useServingTerminating = true;
    localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);
  }
  if (!usesClusterEndpoints(svc)) return { clusterEndpoints, localEndpoints, allReachableEndpoints: localEndpoints, hasAnyEndpoints };
  if (!useTopology && !useServingTerminating) return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  const merged = new Map<string, EndpointInfo>();
  for (const ep of clusterEndpoints) merged.set(ep.endpoint, ep);
  for (const ep of localEndpoints) merged.set(ep.endpoint, ep);
  const allReachableEndpoints = [...merged.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
  return { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints };
}
