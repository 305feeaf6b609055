// The fields of each watched object the record index reads (records.ts), as informer
// transforms: everything else is dropped as the object enters the cache, as CoreDNS's
// plugin/kubernetes/object converts API objects to small structs. A field read in
// records.ts and missing here is a bug: trim.test.ts checks the index built from trimmed
// objects answers as the one built from whole objects.
import type { EndpointSlice, Namespace, Pod, Service } from '../api/types.js';
import { keepFields, type TransformFunc } from '../client/transform.js';

const port = { name: true, protocol: true, port: true } as const;

export const trimService: TransformFunc<Service> = keepFields<Service>({
  spec: { type: true, clusterIP: true, clusterIPs: true, externalName: true, ports: [port] },
});

export const trimEndpointSlice: TransformFunc<EndpointSlice> = keepFields<EndpointSlice>({
  metadata: { labels: { 'kubernetes.io/service-name': true } },
  addressType: true,
  endpoints: [{ addresses: true, conditions: { ready: true }, hostname: true, targetRef: { name: true } }],
  ports: [port],
});

export const trimNamespace: TransformFunc<Namespace> = keepFields<Namespace>({});

export const trimPod: TransformFunc<Pod> = keepFields<Pod>({
  metadata: { deletionTimestamp: true },
  status: { podIP: true, podIPs: [{ ip: true }] },
});
