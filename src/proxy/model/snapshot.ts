import type { EndpointSlice, KubeObject, Node, Service } from '../../api/types.js';
import { EndpointsChangeTracker, ServiceChangeTracker } from './change-tracker.js';
import type { EndpointsMap, Family, NodeTopology, ServicePortMap } from './types.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export function nodeTopology(nodeName: string, node: Node | undefined): NodeTopology {
  return { name: nodeName, zone: node?.metadata.labels?.[ZONE_LABEL] };
}

export interface ProxyState {
  services: ServicePortMap;
  endpoints: EndpointsMap;
  node: NodeTopology;
}

/** The model for a fixed set of objects (offline render): the same trackers a running proxy feeds. */
export function stateFromObjects(objects: readonly KubeObject[], family: Family, nodeName: string): ProxyState {
  const svcTracker = new ServiceChangeTracker(family);
  const epTracker = new EndpointsChangeTracker(family, nodeName);
  let node: Node | undefined;
  for (const o of objects) {
    if (o.kind === 'Service') svcTracker.update(undefined, o as Service);
    else if (o.kind === 'EndpointSlice') epTracker.update(undefined, o as EndpointSlice);
    else if (o.kind === 'Node' && o.metadata.name === nodeName) node = o as Node;
  }
  const services: ServicePortMap = new Map();
  const endpoints: EndpointsMap = new Map();
  svcTracker.apply(services);
  epTracker.apply(endpoints);
  return { services, endpoints, node: nodeTopology(nodeName, node) };
}
