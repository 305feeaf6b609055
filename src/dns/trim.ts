// Informer transforms for the DNS's own informers: each object is turned into the record
// the index keeps (records.ts) as it enters the cache, and the cache keeps only a stub
// around that record (identity, resourceVersion, the record), as CoreDNS's
// plugin/kubernetes/object converts API objects to its own small structs. The index then
// holds the one copy; nothing of the API object survives. trim.test.ts checks the index built
// from these answers as the one built from whole objects.
import type { EndpointSlice, KubeObject, Namespace, Pod, Service } from '../api/types.js';
import { keepFields, type TransformFunc } from '../client/transform.js';
import { DNS_RECORD, serviceRecord, sliceRecord, type ProjectedObject } from './records.js';

/** What the cache keeps of an object besides its record: enough to key, compare and replace it. */
function stub<T extends KubeObject>(obj: T): T {
  const m = obj.metadata;
  const metadata: KubeObject['metadata'] = { name: m.name };
  if (m.namespace !== undefined) metadata.namespace = m.namespace;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata } as T;
}

export const trimService: TransformFunc<Service> = (svc) => {
  const out = stub(svc) as Service & ProjectedObject<unknown>;
  out[DNS_RECORD] = serviceRecord(svc);
  return out;
};

/** The slice's record depends on `endpoint_pod_names` (the label of endpoints without a hostname). */
export function trimEndpointSliceFor(endpointPodNames: boolean): TransformFunc<EndpointSlice> {
  return (slice) => {
    const out = stub(slice) as EndpointSlice & ProjectedObject<unknown>;
    // undefined too: a slice DNS does not serve (no service label, FQDN) is carried as such.
    out[DNS_RECORD] = sliceRecord(slice, endpointPodNames);
    return out;
  };
}

export const trimEndpointSlice: TransformFunc<EndpointSlice> = trimEndpointSliceFor(false);

export const trimNamespace: TransformFunc<Namespace> = keepFields<Namespace>({});

export const trimPod: TransformFunc<Pod> = keepFields<Pod>({
  metadata: { deletionTimestamp: true },
  status: { podIP: true, podIPs: [{ ip: true }] },
});
