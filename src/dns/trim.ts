// Informer transforms for the DNS's own informers: each object is turned into the record
// the index keeps (records.ts) as it enters the cache, and the cache keeps only a stub
// around that record (identity, resourceVersion, the record), as CoreDNS's
// plugin/kubernetes/object converts API objects to its own small structs. The index then
// holds the one copy; nothing of the API object survives. trim.test.ts checks the index built
// from these answers as the one built from whole objects.
import type { EndpointSlice, KubeObject, Namespace, Pod, Service } from '../api/types.js';
import { keepFields, type TransformFunc } from '../client/transform.js';
import { DNS_RECORD, serviceRecord, sliceRecord, type ProjectedObject } from './records.js';

/**
 * What the cache keeps of an object: enough to key, compare and replace it, and the record.
 * Built as one literal so every field sits inside the object (20,000 of them): no property
 * array added afterwards. An absent namespace or resourceVersion stays undefined, which
 * keys, comparisons and JSON treat as absent.
 */
function stub<T extends KubeObject>(obj: T, record: unknown): T {
  const m = obj.metadata;
  return { apiVersion: typeName(obj.apiVersion), kind: typeName(obj.kind), metadata: { name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion }, [DNS_RECORD]: record } as ProjectedObject<unknown> as T;
}

// One copy of each apiVersion and kind string: every object parsed brings its own.
const typeNames = new Map<string, string>();

function typeName(s: string | undefined): string | undefined {
  if (s === undefined) return s;
  const known = typeNames.get(s);
  if (known !== undefined) return known;
  if (typeNames.size < 64) typeNames.set(s, s);
  return s;
}

export const trimService: TransformFunc<Service> = (svc) => stub(svc, serviceRecord(svc));

/** The slice's record depends on `endpoint_pod_names` (the label of endpoints without a hostname). */
export function trimEndpointSliceFor(endpointPodNames: boolean): TransformFunc<EndpointSlice> {
  // undefined too: a slice DNS does not serve (no service label, FQDN) is carried as such.
  return (slice) => stub(slice, sliceRecord(slice, endpointPodNames));
}

export const trimEndpointSlice: TransformFunc<EndpointSlice> = trimEndpointSliceFor(false);

export const trimNamespace: TransformFunc<Namespace> = keepFields<Namespace>({});

export const trimPod: TransformFunc<Pod> = keepFields<Pod>({
  metadata: { deletionTimestamp: true },
  status: { podIP: true, podIPs: [{ ip: true }] },
});
