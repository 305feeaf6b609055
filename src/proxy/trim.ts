// What the proxy reads of each object, as informer transforms (client/transform.ts): a
// standalone `kubeplane proxy` keeps only these fields in its caches. Informers shared with
// DNS or ingress (kubeplane node) are not trimmed here: those components read other fields.
import type { EndpointSlice, Node, Service } from '../api/types.js';
import { keepFields, type TransformFunc } from '../client/transform.js';
import { SERVICE_NAME_LABEL } from './model/endpoints.js';
import { ZONE_LABEL } from './model/snapshot.js';

const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

export const trimService: TransformFunc<Service> = keepFields<Service>({
  spec: {
    type: true,
    clusterIP: true,
    clusterIPs: true,
    externalIPs: true,
    loadBalancerSourceRanges: true,
    externalTrafficPolicy: true,
    internalTrafficPolicy: true,
    healthCheckNodePort: true,
    sessionAffinity: true,
    sessionAffinityConfig: true,
    ports: [{ name: true, port: true, protocol: true, nodePort: true }],
  },
  status: { loadBalancer: { ingress: [{ ip: true, ipMode: true }] } },
});

export const trimEndpointSlice: TransformFunc<EndpointSlice> = keepFields<EndpointSlice>({
  metadata: { labels: { [SERVICE_NAME_LABEL]: true }, annotations: { [TRIGGER_TIME_ANNOTATION]: true } },
  addressType: true,
  endpoints: [{ addresses: true, conditions: true, nodeName: true, hints: true }],
  ports: [{ name: true, port: true, protocol: true }],
});

export const trimNode: TransformFunc<Node> = keepFields<Node>({ metadata: { labels: { [ZONE_LABEL]: true } } });
