// The one description of the served kinds' fields. OpenAPI documents, field validation,
// strategic-merge-patch list keys, server-side-apply list semantics and the protobuf
// message definitions are all generated from this table, so they cannot disagree.
//
// A field is [type, protobuf field number (0 = not in protobuf), description, extras?].
// Types: 'string' | 'int32' | 'int64' | 'boolean' | 'double' | 'bytes' (base64 in JSON) |
// 'IntOrString' | 'Quantity' | 'Time' | 'MicroTime' | 'object' (free-form, not validated) |
// '@<Definition>' | '[]<type>' | 'map[<type>]' (string keys).

import { RBAC_DEFINITIONS } from './schema-rbac.js';

export interface FieldExtras {
  /** x-kubernetes-patch-merge-key */
  mergeKey?: string;
  /** x-kubernetes-patch-strategy: 'merge', 'retainKeys', 'merge,retainKeys', 'replace' */
  patchStrategy?: string;
  /** x-kubernetes-list-type; lists without one are atomic for server-side apply. */
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys?: string[];
  /** x-kubernetes-map-type of a map/struct field; 'atomic' makes apply own it as one value. */
  mapType?: 'atomic' | 'granular';
  required?: boolean;
  /** JSON hoists the embedded struct's fields (Go embedding), protobuf keeps it as one message. */
  inline?: boolean;
  /** Allowed values, as upstream's schema lists them (kubectl explain prints them). */
  enum?: string[];
}

export type FieldTuple = [type: string, proto: number, description: string, extras?: FieldExtras];

export interface Definition {
  description: string;
  fields: Record<string, FieldTuple>;
  gvk?: { group: string; version: string; kind: string };
  /** struct-level x-kubernetes-map-type */
  mapType?: 'atomic';
}

const M = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const C = 'io.k8s.api.core.v1.';
const A = 'io.k8s.api.apps.v1.';
const D = 'io.k8s.api.discovery.v1.';
const N = 'io.k8s.api.networking.v1.';
const L = 'io.k8s.api.coordination.v1.';
const S = 'io.k8s.api.autoscaling.v1.';
export const PREFIXES = { meta: M, core: C, apps: A, discovery: D, networking: N, coordination: L, autoscaling: S };

const byName: FieldExtras = { mergeKey: 'name', patchStrategy: 'merge', listType: 'map', listMapKeys: ['name'] };
const byType: FieldExtras = { mergeKey: 'type', patchStrategy: 'merge', listType: 'map', listMapKeys: ['type'] };
const atomic: FieldExtras = { listType: 'atomic' };
const meta = (kind: string): FieldTuple => ['@' + M + 'ObjectMeta', 1, `Standard object's metadata of this ${kind}.`];
const typeMeta = {
  apiVersion: ['string', 0, 'The versioned schema of this representation of an object; servers convert to their latest internal value.'] as FieldTuple,
  kind: ['string', 0, 'The REST resource this object represents, in CamelCase; inferred from the endpoint a client submits to.'] as FieldTuple,
};

function top(group: string, version: string, kind: string, description: string, fields: Record<string, FieldTuple>): Definition {
  return { description, gvk: { group, version, kind }, fields: { ...typeMeta, metadata: meta(kind), ...fields } };
}

export const DEFINITIONS: Record<string, Definition> = {
  // ---- meta/v1 ------------------------------------------------------------
  [M + 'ObjectMeta']: {
    description: 'Metadata every persisted resource carries, including the objects users create.',
    fields: {
      name: ['string', 1, 'Unique name within a namespace; required when creating, cannot be updated.'],
      generateName: ['string', 2, 'Prefix the server uses to generate a unique name when name is not given.'],
      namespace: ['string', 3, 'The namespace the object lives in; empty for cluster-scoped objects.'],
      selfLink: ['string', 4, 'Deprecated; never set by the server.'],
      uid: ['string', 5, 'Unique identity of this object in time and space, set by the server on creation.'],
      resourceVersion: ['string', 6, 'Opaque internal version of this object, used for optimistic concurrency and watches.'],
      generation: ['int64', 7, 'Sequence number of a specific generation of the desired state, set by the system.'],
      creationTimestamp: ['Time', 8, 'When the server created this object (RFC 3339, UTC).'],
      deletionTimestamp: ['Time', 9, 'When this object will be deleted; set by the server when a graceful deletion is requested.'],
      deletionGracePeriodSeconds: ['int64', 10, 'Seconds allowed for graceful termination before the object is removed.'],
      labels: ['map[string]', 11, 'Map of string keys and values that can be used to organize and select objects.'],
      annotations: ['map[string]', 12, 'Unstructured key value map set by external tools to store arbitrary metadata.'],
      ownerReferences: ['[]@' + M + 'OwnerReference', 13, 'Objects this one depends on; garbage collection removes it when they are all gone.', { mergeKey: 'uid', patchStrategy: 'merge', listType: 'map', listMapKeys: ['uid'] }],
      finalizers: ['[]string', 14, 'Must be empty before the object is deleted from the registry.', { patchStrategy: 'merge', listType: 'set' }],
      managedFields: ['[]@' + M + 'ManagedFieldsEntry', 17, 'Which field manager owns which fields; maintained by the server.', atomic],
    },
  },
  [M + 'OwnerReference']: {
    description: 'Enough information to identify an owning object in the same namespace.',
    mapType: 'atomic',
    fields: {
      apiVersion: ['string', 5, 'API version of the referent.', { required: true }],
      kind: ['string', 1, 'Kind of the referent.', { required: true }],
      name: ['string', 3, 'Name of the referent.', { required: true }],
      uid: ['string', 4, 'UID of the referent.', { required: true }],
      controller: ['boolean', 6, 'If true, this reference points to the managing controller.'],
      blockOwnerDeletion: ['boolean', 7, 'If true, the owner cannot be deleted from storage until this reference is removed.'],
    },
  },
  [M + 'ManagedFieldsEntry']: {
    description: 'A workflow-id (manager), a FieldSet and the group version of the resource that the fieldset applies to.',
    fields: {
      manager: ['string', 1, 'Identifier of the workflow managing these fields.'],
      operation: ['string', 2, 'The type of operation which led to this entry being created: Apply or Update.'],
      apiVersion: ['string', 3, 'Version of the resource this field set applies to.'],
      time: ['Time', 4, 'When the entry was added; changes when a field is added or the manager changes a value.'],
      fieldsType: ['string', 6, 'Discriminator for the field format; the only valid value is FieldsV1.'],
      fieldsV1: ['object', 7, 'The field set, in FieldsV1 format.'],
      subresource: ['string', 8, 'Name of the subresource used to update the object, empty for the main resource.'],
    },
  },
  [M + 'LabelSelector']: {
    description: 'A label query over a set of resources; the requirements are ANDed. An empty selector matches all objects.',
    mapType: 'atomic',
    fields: {
      matchLabels: ['map[string]', 1, 'Map of {key,value} pairs, each equivalent to an "In" requirement with a single value.'],
      matchExpressions: ['[]@' + M + 'LabelSelectorRequirement', 2, 'List of label selector requirements, ANDed.', atomic],
    },
  },
  [M + 'LabelSelectorRequirement']: {
    description: 'A selector with a key, values and an operator relating them.',
    fields: {
      key: ['string', 1, 'The label key the selector applies to.', { required: true }],
      operator: ['string', 2, 'Relationship of the key to the values: In, NotIn, Exists or DoesNotExist.', { required: true }],
      values: ['[]string', 3, 'Values for In/NotIn; must be empty for Exists/DoesNotExist.', atomic],
    },
  },
  [M + 'Condition']: {
    description: 'One aspect of the current state of a resource.',
    fields: {
      type: ['string', 1, 'Type of condition in CamelCase.', { required: true }],
      status: ['string', 2, 'True, False or Unknown.', { required: true }],
      observedGeneration: ['int64', 3, 'The metadata.generation the condition was set for.'],
      lastTransitionTime: ['Time', 4, 'Last time the condition changed from one status to another.', { required: true }],
      reason: ['string', 5, 'Programmatic identifier of the reason for the last transition.', { required: true }],
      message: ['string', 6, 'Human readable message about the transition.', { required: true }],
    },
  },

  // ---- core/v1: Namespace, ConfigMap, Secret, ServiceAccount ----------------
  [C + 'Namespace']: top('', 'v1', 'Namespace', 'Namespace provides a scope for names.', {
    spec: ['@' + C + 'NamespaceSpec', 2, 'Behaviour of the namespace.'],
    status: ['@' + C + 'NamespaceStatus', 3, 'Current status of the namespace, read-only.'],
  }),
  [C + 'NamespaceSpec']: {
    description: 'Attributes on a namespace.',
    fields: { finalizers: ['[]string', 1, 'Opaque values that must be empty to permanently remove the namespace.', atomic] },
  },
  [C + 'NamespaceStatus']: {
    description: 'Information about the observed status of a namespace.',
    fields: {
      phase: ['string', 1, 'Current lifecycle phase of the namespace: Active or Terminating.', { enum: ['Active', 'Terminating'] }],
      conditions: ['[]@' + C + 'NamespaceCondition', 2, 'Latest observations of the namespace state.', byType],
    },
  },
  [C + 'NamespaceCondition']: {
    description: 'The state of a namespace at a point in time.',
    fields: {
      type: ['string', 1, 'Type of namespace controller condition.', { required: true }],
      status: ['string', 2, 'True, False or Unknown.', { required: true }],
      lastTransitionTime: ['Time', 4, 'Last time the condition transitioned.'],
      reason: ['string', 5, 'Unique, one-word, CamelCase reason for the last transition.'],
      message: ['string', 6, 'Human-readable message about the last transition.'],
    },
  },
  [C + 'ConfigMap']: top('', 'v1', 'ConfigMap', 'ConfigMap holds configuration data for pods to consume.', {
    data: ['map[string]', 2, 'Configuration data as UTF-8 strings.'],
    binaryData: ['map[bytes]', 3, 'Binary configuration data; keys must not overlap with data.'],
    immutable: ['boolean', 4, 'If true, the data cannot be updated (only metadata can).'],
  }),
  [C + 'Secret']: top('', 'v1', 'Secret', 'Secret holds secret data of a certain type; values are base64 encoded.', {
    data: ['map[bytes]', 2, 'Secret data; values are base64-encoded bytes.'],
    stringData: ['map[string]', 4, 'Write-only convenience field of non-binary data, merged into data on write.'],
    type: ['string', 3, 'Used to facilitate programmatic handling of secret data.'],
    immutable: ['boolean', 5, 'If true, the data cannot be updated (only metadata can).'],
  }),
  [C + 'ServiceAccount']: top('', 'v1', 'ServiceAccount', 'ServiceAccount binds together a name, a principal for users and systems, and a set of secrets.', {
    secrets: ['[]@' + C + 'ObjectReference', 2, 'Secrets in the same namespace that pods running as this account may use.', { mergeKey: 'name', patchStrategy: 'merge', listType: 'atomic' }],
    imagePullSecrets: ['[]@' + C + 'LocalObjectReference', 3, 'References to secrets used for pulling images of pods that reference this account.', atomic],
    automountServiceAccountToken: ['boolean', 4, 'Whether pods running as this account get an API token mounted automatically.'],
  }),
  [C + 'ObjectReference']: {
    description: 'Enough information to let you inspect or modify the referred object.',
    mapType: 'atomic',
    fields: {
      kind: ['string', 1, 'Kind of the referent.'],
      namespace: ['string', 2, 'Namespace of the referent.'],
      name: ['string', 3, 'Name of the referent.'],
      uid: ['string', 4, 'UID of the referent.'],
      apiVersion: ['string', 5, 'API version of the referent.'],
      resourceVersion: ['string', 6, 'Specific resourceVersion to which this reference is made, if any.'],
      fieldPath: ['string', 7, 'A piece of an object instead of the whole object, e.g. spec.containers{name}.'],
    },
  },
  [C + 'LocalObjectReference']: {
    description: 'Enough information to locate the referenced object inside the same namespace.',
    mapType: 'atomic',
    fields: { name: ['string', 1, 'Name of the referent.'] },
  },

  // ---- core/v1: Service ------------------------------------------------------
  [C + 'Service']: top('', 'v1', 'Service', 'Service is a named abstraction of a software service: a local port that the proxy listens on and the selector that determines which pods answer requests sent through it.', {
    spec: ['@' + C + 'ServiceSpec', 2, 'Behaviour of the service.'],
    status: ['@' + C + 'ServiceStatus', 3, 'Most recently observed status of the service, read-only.'],
  }),
  [C + 'ServiceSpec']: {
    description: 'Attributes a user creates on a service.',
    fields: {
      ports: ['[]@' + C + 'ServicePort', 1, 'The list of ports exposed by this service.', { mergeKey: 'port', patchStrategy: 'merge', listType: 'map', listMapKeys: ['port', 'protocol'] }],
      selector: ['map[string]', 2, 'Route traffic to pods whose labels match this selector; ignored for ExternalName services.', { mapType: 'atomic' }],
      clusterIP: ['string', 3, 'The IP address of the service, usually assigned randomly; "None" makes a headless service.'],
      clusterIPs: ['[]string', 18, 'IP addresses assigned to this service; the first equals clusterIP.', atomic],
      type: ['string', 4, 'How the service is exposed: ClusterIP (default), NodePort, LoadBalancer or ExternalName.', { enum: ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] }],
      externalIPs: ['[]string', 5, 'IP addresses for which nodes also accept traffic for this service.', atomic],
      sessionAffinity: ['string', 7, 'ClientIP or None (default): whether connections from one client stick to one endpoint.', { enum: ['ClientIP', 'None'] }],
      loadBalancerIP: ['string', 8, 'Deprecated: requested load balancer IP, where the implementation supports it.'],
      loadBalancerSourceRanges: ['[]string', 9, 'Client IP ranges a cloud load balancer restricts traffic to.', atomic],
      externalName: ['string', 10, 'The DNS name returned as a CNAME for ExternalName services.'],
      externalTrafficPolicy: ['string', 11, 'How externally-originated traffic is distributed: Cluster or Local (node-local endpoints only).', { enum: ['Cluster', 'Local'] }],
      healthCheckNodePort: ['int32', 12, 'Health check node port for LoadBalancer services with externalTrafficPolicy Local.'],
      publishNotReadyAddresses: ['boolean', 13, 'Publish addresses of endpoints regardless of their readiness.'],
      sessionAffinityConfig: ['@' + C + 'SessionAffinityConfig', 14, 'Configuration of session affinity.'],
      ipFamilies: ['[]string', 19, 'IP families (IPv4, IPv6) assigned to this service.', atomic],
      ipFamilyPolicy: ['string', 17, 'SingleStack, PreferDualStack or RequireDualStack.', { enum: ['PreferDualStack', 'RequireDualStack', 'SingleStack'] }],
      allocateLoadBalancerNodePorts: ['boolean', 20, 'Whether node ports are allocated for LoadBalancer services.'],
      loadBalancerClass: ['string', 21, 'The class of load balancer implementation this service belongs to.'],
      internalTrafficPolicy: ['string', 22, 'How cluster-internal traffic is distributed: Cluster or Local.', { enum: ['Cluster', 'Local'] }],
      trafficDistribution: ['string', 23, 'Preference for how traffic is distributed among endpoints, e.g. PreferClose.'],
    },
  },
  [C + 'ServicePort']: {
    description: 'Information on a service port.',
    fields: {
      name: ['string', 1, 'Name of this port within the service; must be a DNS_LABEL and unique when there are several ports.'],
      protocol: ['string', 2, 'The IP protocol for this port: TCP (default), UDP or SCTP.', { enum: ['SCTP', 'TCP', 'UDP'] }],
      appProtocol: ['string', 6, 'The application protocol for this port, used as a hint by implementations.'],
      port: ['int32', 3, 'The port exposed by this service.', { required: true }],
      targetPort: ['IntOrString', 4, 'Number or name of the port to access on the pods; defaults to port.'],
      nodePort: ['int32', 5, 'The port on each node on which this service is exposed when type is NodePort or LoadBalancer.'],
    },
  },
  [C + 'SessionAffinityConfig']: {
    description: 'Configurations of session affinity.',
    fields: { clientIP: ['@' + C + 'ClientIPConfig', 1, 'Configuration of ClientIP based session affinity.'] },
  },
  [C + 'ClientIPConfig']: {
    description: 'Configurations of ClientIP based session affinity.',
    fields: { timeoutSeconds: ['int32', 1, 'Seconds of ClientIP session stickiness, 1 to 86400 (default 10800).'] },
  },
  [C + 'ServiceStatus']: {
    description: 'The current status of a service.',
    fields: {
      loadBalancer: ['@' + C + 'LoadBalancerStatus', 1, 'Status of the load balancer, if one is present.'],
      conditions: ['[]@' + M + 'Condition', 2, 'Current service state.', byType],
    },
  },
  [C + 'LoadBalancerStatus']: {
    description: 'Status of a load balancer.',
    fields: { ingress: ['[]@' + C + 'LoadBalancerIngress', 1, 'Ingress points for the load balancer.', atomic] },
  },
  [C + 'LoadBalancerIngress']: {
    description: 'An ingress point for a load balancer.',
    fields: {
      ip: ['string', 1, 'IP for load-balancer ingress points that are IP based.'],
      hostname: ['string', 2, 'Hostname for load-balancer ingress points that are DNS based.'],
      ipMode: ['string', 3, 'How the load balancer IP behaves: VIP or Proxy.'],
      ports: ['[]@' + C + 'PortStatus', 4, 'Records of the service ports.', atomic],
    },
  },
  [C + 'PortStatus']: {
    description: 'The status of a service port.',
    fields: {
      port: ['int32', 1, 'Port number of the service port.', { required: true }],
      protocol: ['string', 2, 'Protocol of the service port.', { required: true, enum: ['SCTP', 'TCP', 'UDP'] }],
      error: ['string', 3, 'Problem with the service port, in CamelCase.'],
    },
  },

  // ---- core/v1: Endpoints ------------------------------------------------------
  [C + 'Endpoints']: top('', 'v1', 'Endpoints', 'Endpoints is a collection of endpoints that implement the actual service (deprecated in favour of EndpointSlice).', {
    subsets: ['[]@' + C + 'EndpointSubset', 2, 'The set of all endpoints is the union of all subsets.', atomic],
  }),
  [C + 'EndpointSubset']: {
    description: 'A group of addresses with a common set of ports.',
    fields: {
      addresses: ['[]@' + C + 'EndpointAddress', 1, 'IP addresses which offer the related ports and are ready.', atomic],
      notReadyAddresses: ['[]@' + C + 'EndpointAddress', 2, 'IP addresses which offer the related ports but are not ready.', atomic],
      ports: ['[]@' + C + 'EndpointPort', 3, 'Port numbers available on the related IP addresses.', atomic],
    },
  },
  [C + 'EndpointAddress']: {
    description: 'A single IP address.',
    mapType: 'atomic',
    fields: {
      ip: ['string', 1, 'The IP of this endpoint.', { required: true }],
      hostname: ['string', 3, 'The hostname of this endpoint.'],
      nodeName: ['string', 4, 'The node hosting this endpoint.'],
      targetRef: ['@' + C + 'ObjectReference', 2, 'Reference to the object providing the endpoint.'],
    },
  },
  [C + 'EndpointPort']: {
    description: 'A port used by an endpoint.',
    mapType: 'atomic',
    fields: {
      name: ['string', 1, 'The name of this port; must match the ServicePort name.'],
      port: ['int32', 2, 'The port number of the endpoint.', { required: true }],
      protocol: ['string', 3, 'The IP protocol for this port.', { enum: ['SCTP', 'TCP', 'UDP'] }],
      appProtocol: ['string', 4, 'The application protocol for this port.'],
    },
  },

  // ---- core/v1: Node ------------------------------------------------------------
  [C + 'Node']: top('', 'v1', 'Node', 'Node is a worker node in Kubernetes.', {
    spec: ['@' + C + 'NodeSpec', 2, 'Behaviour of a node.'],
    status: ['@' + C + 'NodeStatus', 3, 'Most recently observed status of the node.'],
  }),
  [C + 'NodeSpec']: {
    description: 'Attributes a node is created with.',
    fields: {
      podCIDR: ['string', 1, 'The pod IP range assigned to the node.'],
      podCIDRs: ['[]string', 7, 'The IP ranges assigned to the node for pods, one per family.', { patchStrategy: 'merge', listType: 'set' }],
      providerID: ['string', 3, 'ID of the node assigned by the cloud provider.'],
      unschedulable: ['boolean', 4, 'Whether new pods may be scheduled onto this node.'],
      taints: ['[]@' + C + 'Taint', 5, 'Taints of the node.', atomic],
      configSource: ['object', 6, 'Deprecated.'],
      externalID: ['string', 2, 'Deprecated.'],
    },
  },
  [C + 'Taint']: {
    description: 'A taint repels pods that do not tolerate it.',
    fields: {
      key: ['string', 1, 'The taint key to be applied to a node.', { required: true }],
      value: ['string', 2, 'The taint value corresponding to the taint key.'],
      effect: ['string', 3, 'NoSchedule, PreferNoSchedule or NoExecute.', { required: true, enum: ['NoExecute', 'NoSchedule', 'PreferNoSchedule'] }],
      timeAdded: ['Time', 4, 'When the taint was added (NoExecute only).'],
    },
  },
  [C + 'NodeStatus']: {
    description: 'Current status of a node.',
    fields: {
      capacity: ['map[Quantity]', 1, 'Total resources of the node.'],
      allocatable: ['map[Quantity]', 2, 'Resources of a node available for scheduling.'],
      phase: ['string', 3, 'Deprecated lifecycle phase.'],
      conditions: ['[]@' + C + 'NodeCondition', 4, 'Current observed node conditions.', byType],
      addresses: ['[]@' + C + 'NodeAddress', 5, 'Addresses reachable to the node.', byType],
      daemonEndpoints: ['object', 6, 'Endpoints of daemons running on the node.'],
      nodeInfo: ['object', 7, 'General information about the node.'],
      images: ['object', 8, 'Container images on this node.'],
      volumesInUse: ['[]string', 9, 'Attachable volumes in use by the node.', atomic],
      volumesAttached: ['object', 10, 'Volumes attached to the node.'],
      config: ['object', 11, 'Status of the assigned node config.'],
      runtimeHandlers: ['object', 12, 'The available runtime handlers.'],
      features: ['object', 13, 'Features implemented by the CRI.'],
    },
  },
  [C + 'NodeCondition']: {
    description: 'Condition information for a node.',
    fields: {
      type: ['string', 1, 'Type of node condition.', { required: true }],
      status: ['string', 2, 'True, False or Unknown.', { required: true }],
      lastHeartbeatTime: ['Time', 3, 'Last time the condition was probed.'],
      lastTransitionTime: ['Time', 4, 'Last time the condition transitioned.'],
      reason: ['string', 5, 'Reason for the last transition.'],
      message: ['string', 6, 'Details about the last transition.'],
    },
  },
  [C + 'NodeAddress']: {
    description: 'Information for the node\'s address.',
    fields: {
      type: ['string', 1, 'Hostname, ExternalIP, InternalIP, ExternalDNS or InternalDNS.', { required: true, enum: ['ExternalDNS', 'ExternalIP', 'Hostname', 'InternalDNS', 'InternalIP'] }],
      address: ['string', 2, 'The node address.', { required: true }],
    },
  },

  // ---- core/v1: Event --------------------------------------------------------------
  [C + 'Event']: top('', 'v1', 'Event', 'Event is a report of an event somewhere in the cluster.', {
    involvedObject: ['@' + C + 'ObjectReference', 2, 'The object this event is about.', { required: true }],
    reason: ['string', 3, 'Short, machine understandable reason for the transition.'],
    message: ['string', 4, 'Human-readable description of the status of this operation.'],
    source: ['@' + C + 'EventSource', 5, 'The component reporting this event.'],
    firstTimestamp: ['Time', 6, 'When the event was first recorded.'],
    lastTimestamp: ['Time', 7, 'When the most recent occurrence was recorded.'],
    count: ['int32', 8, 'How many times this event occurred.'],
    type: ['string', 9, 'Normal or Warning.'],
    eventTime: ['MicroTime', 10, 'When this event was first observed.'],
    series: ['object', 11, 'Data about the event series this event represents.'],
    action: ['string', 12, 'What action was taken or failed regarding the object.'],
    related: ['@' + C + 'ObjectReference', 13, 'Optional secondary object for more complex actions.'],
    reportingComponent: ['string', 14, 'Name of the controller that emitted this event.'],
    reportingInstance: ['string', 15, 'ID of the controller instance.'],
  }),
  [C + 'EventSource']: {
    description: 'Contains information for an event.',
    fields: {
      component: ['string', 1, 'Component from which the event is generated.'],
      host: ['string', 2, 'Node name on which the event is generated.'],
    },
  },

  // ---- core/v1: Pod -------------------------------------------------------------------
  [C + 'Pod']: top('', 'v1', 'Pod', 'Pod is a collection of containers that can run on a host.', {
    spec: ['@' + C + 'PodSpec', 2, 'Specification of the desired behaviour of the pod.'],
    status: ['@' + C + 'PodStatus', 3, 'Most recently observed status of the pod.'],
  }),
  [C + 'PodTemplateSpec']: {
    description: 'Describes the data a pod should have when created from a template.',
    fields: {
      metadata: meta('pod template'),
      spec: ['@' + C + 'PodSpec', 2, 'Specification of the desired behaviour of the pod.'],
    },
  },
  [C + 'PodSpec']: {
    description: 'A description of a pod.',
    fields: {
      volumes: ['[]@' + C + 'Volume', 1, 'Volumes that can be mounted by containers of this pod.', { mergeKey: 'name', patchStrategy: 'merge,retainKeys', listType: 'map', listMapKeys: ['name'] }],
      initContainers: ['[]@' + C + 'Container', 20, 'Containers run to completion, in order, before the app containers start.', byName],
      containers: ['[]@' + C + 'Container', 2, 'Containers belonging to the pod; at least one.', { ...byName, required: true }],
      ephemeralContainers: ['[]@' + C + 'EphemeralContainer', 34, 'Ephemeral containers run in this pod for user-initiated debugging.', byName],
      restartPolicy: ['string', 3, 'Always (default), OnFailure or Never.', { enum: ['Always', 'Never', 'OnFailure'] }],
      terminationGracePeriodSeconds: ['int64', 4, 'Seconds the pod needs to terminate gracefully (default 30).'],
      activeDeadlineSeconds: ['int64', 5, 'Seconds the pod may be active before the system fails it.'],
      dnsPolicy: ['string', 6, 'ClusterFirstWithHostNet, ClusterFirst (default), Default or None.', { enum: ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] }],
      nodeSelector: ['map[string]', 7, 'Labels a node must have for the pod to fit on it.', { mapType: 'atomic' }],
      serviceAccountName: ['string', 8, 'Name of the ServiceAccount used to run this pod.'],
      serviceAccount: ['string', 9, 'Deprecated alias for serviceAccountName.'],
      automountServiceAccountToken: ['boolean', 21, 'Whether a service account token is mounted automatically.'],
      nodeName: ['string', 10, 'Request to schedule this pod onto a specific node.'],
      hostNetwork: ['boolean', 11, 'Use the host\'s network namespace.'],
      hostPID: ['boolean', 12, 'Use the host\'s pid namespace.'],
      hostIPC: ['boolean', 13, 'Use the host\'s ipc namespace.'],
      shareProcessNamespace: ['boolean', 27, 'Share a single process namespace between all containers.'],
      securityContext: ['@' + C + 'PodSecurityContext', 14, 'Pod-level security attributes and common container settings.'],
      imagePullSecrets: ['[]@' + C + 'LocalObjectReference', 15, 'Secrets used to pull images of this pod.', byName],
      hostname: ['string', 16, 'Hostname of the pod; defaults to a system-defined value.'],
      subdomain: ['string', 17, 'Subdomain: the pod\'s FQDN becomes <hostname>.<subdomain>.<namespace>.svc.<cluster domain>.'],
      affinity: ['@' + C + 'Affinity', 18, 'Scheduling constraints.'],
      schedulerName: ['string', 19, 'The scheduler to dispatch the pod to.'],
      tolerations: ['[]@' + C + 'Toleration', 22, 'The pod\'s tolerations.', atomic],
      hostAliases: ['[]@' + C + 'HostAlias', 23, 'Hosts file entries injected into the pod.', { mergeKey: 'ip', patchStrategy: 'merge', listType: 'map', listMapKeys: ['ip'] }],
      priorityClassName: ['string', 24, 'The pod\'s priority class.'],
      priority: ['int32', 25, 'The priority value, filled from priorityClassName.'],
      dnsConfig: ['@' + C + 'PodDNSConfig', 26, 'DNS parameters of a pod, merged with those dnsPolicy generates.'],
      readinessGates: ['[]@' + C + 'PodReadinessGate', 28, 'Conditions that must be True, besides container readiness, for the pod to be ready.', atomic],
      runtimeClassName: ['string', 29, 'RuntimeClass used to run this pod.'],
      enableServiceLinks: ['boolean', 30, 'Whether service information is injected as environment variables.'],
      preemptionPolicy: ['string', 31, 'Never or PreemptLowerPriority.', { enum: ['Never', 'PreemptLowerPriority'] }],
      overhead: ['map[Quantity]', 32, 'Resource overhead of running the pod.'],
      topologySpreadConstraints: ['[]@' + C + 'TopologySpreadConstraint', 33, 'How pods spread across topology domains.', { mergeKey: 'topologyKey', patchStrategy: 'merge', listType: 'map', listMapKeys: ['topologyKey', 'whenUnsatisfiable'] }],
      setHostnameAsFQDN: ['boolean', 35, 'Set the pod\'s hostname to its FQDN.'],
      os: ['object', 36, 'The OS of the containers in the pod.'],
      hostUsers: ['boolean', 37, 'Use the host\'s user namespace.'],
      schedulingGates: ['[]object', 38, 'Gates that block scheduling while present.', byName],
      resourceClaims: ['[]object', 39, 'Resource claims of the pod.', { mergeKey: 'name', patchStrategy: 'merge,retainKeys', listType: 'map', listMapKeys: ['name'] }],
      resources: ['@' + C + 'ResourceRequirements', 40, 'Total resources of the pod.'],
    },
  },
  [C + 'Container']: {
    description: 'A single application container to run within a pod.',
    fields: {
      name: ['string', 1, 'Name of the container, a DNS_LABEL unique within the pod.', { required: true }],
      image: ['string', 2, 'Container image name.'],
      command: ['[]string', 3, 'Entrypoint array; not run in a shell.', atomic],
      args: ['[]string', 4, 'Arguments to the entrypoint.', atomic],
      workingDir: ['string', 5, 'Container\'s working directory.'],
      ports: ['[]@' + C + 'ContainerPort', 6, 'Ports to expose from the container (informational).', { mergeKey: 'containerPort', patchStrategy: 'merge', listType: 'map', listMapKeys: ['containerPort', 'protocol'] }],
      envFrom: ['[]@' + C + 'EnvFromSource', 19, 'Sources to populate environment variables from.', atomic],
      env: ['[]@' + C + 'EnvVar', 7, 'Environment variables to set in the container.', byName],
      resources: ['@' + C + 'ResourceRequirements', 8, 'Compute resources required by this container.'],
      resizePolicy: ['[]object', 23, 'Resize policy for the container.', atomic],
      restartPolicy: ['string', 24, 'Restart behaviour of an individual (init) container.'],
      volumeMounts: ['[]@' + C + 'VolumeMount', 9, 'Pod volumes to mount into the container\'s filesystem.', { mergeKey: 'mountPath', patchStrategy: 'merge', listType: 'map', listMapKeys: ['mountPath'] }],
      volumeDevices: ['[]object', 21, 'Block devices to be used by the container.', { mergeKey: 'devicePath', patchStrategy: 'merge', listType: 'map', listMapKeys: ['devicePath'] }],
      livenessProbe: ['@' + C + 'Probe', 10, 'Periodic probe of container liveness; the container restarts when it fails.'],
      readinessProbe: ['@' + C + 'Probe', 11, 'Periodic probe of container service readiness.'],
      startupProbe: ['@' + C + 'Probe', 22, 'Probe that must succeed before other probes run.'],
      lifecycle: ['@' + C + 'Lifecycle', 12, 'Actions the system takes in response to container lifecycle events.'],
      terminationMessagePath: ['string', 13, 'File the container\'s termination message is read from.'],
      terminationMessagePolicy: ['string', 20, 'File or FallbackToLogsOnError.', { enum: ['FallbackToLogsOnError', 'File'] }],
      imagePullPolicy: ['string', 14, 'Always, Never or IfNotPresent.', { enum: ['Always', 'IfNotPresent', 'Never'] }],
      securityContext: ['@' + C + 'SecurityContext', 15, 'Security options the container runs with; they override the pod\'s.'],
      stdin: ['boolean', 16, 'Allocate a buffer for stdin.'],
      stdinOnce: ['boolean', 17, 'Close stdin after the first attach.'],
      tty: ['boolean', 18, 'Allocate a TTY.'],
    },
  },
  [C + 'EphemeralContainer']: {
    description: 'A container added temporarily to a running pod for user-initiated activities such as debugging.',
    fields: {
      ephemeralContainerCommon: ['@' + C + 'Container', 1, 'The container fields shared with regular containers.', { inline: true }],
      targetContainerName: ['string', 2, 'The container whose namespaces (IPC, PID, ...) this one joins.'],
    },
  },
  [C + 'PodReadinessGate']: {
    description: 'A pod condition that must be True for the pod to be ready.',
    fields: { conditionType: ['string', 1, 'Type of the pod condition to check.', { required: true }] },
  },
  [C + 'PodDNSConfig']: {
    description: 'DNS parameters of a pod in addition to those generated from dnsPolicy.',
    fields: {
      nameservers: ['[]string', 1, 'Name server IP addresses, appended to the generated ones.', atomic],
      searches: ['[]string', 2, 'Search domains for host-name lookup.', atomic],
      options: ['[]@' + C + 'PodDNSConfigOption', 3, 'Resolver options, merged with the generated ones.', atomic],
    },
  },
  [C + 'PodDNSConfigOption']: {
    description: 'A DNS resolver option of a pod.',
    fields: {
      name: ['string', 1, 'Name of the option, e.g. ndots.'],
      value: ['string', 2, 'Value of the option.'],
    },
  },
  [C + 'SecurityContext']: {
    description: 'Security configuration applied to a container; set fields override the pod\'s security context.',
    fields: {
      capabilities: ['@' + C + 'Capabilities', 1, 'POSIX capabilities to add or drop.'],
      privileged: ['boolean', 2, 'Run the container privileged (root-equivalent on the host).'],
      seLinuxOptions: ['@' + C + 'SELinuxOptions', 3, 'SELinux context of the container.'],
      windowsOptions: ['@' + C + 'WindowsSecurityContextOptions', 10, 'Windows-specific settings.'],
      runAsUser: ['int64', 4, 'UID the entrypoint runs as.'],
      runAsGroup: ['int64', 8, 'GID the entrypoint runs as.'],
      runAsNonRoot: ['boolean', 5, 'Refuse to start the container as UID 0.'],
      readOnlyRootFilesystem: ['boolean', 6, 'Mount the root filesystem read-only.'],
      allowPrivilegeEscalation: ['boolean', 7, 'Whether a process may gain more privileges than its parent (no_new_privs).'],
      procMount: ['string', 9, 'Type of proc mount: Default or Unmasked.'],
      seccompProfile: ['@' + C + 'SeccompProfile', 11, 'Seccomp options of the container.'],
      appArmorProfile: ['@' + C + 'AppArmorProfile', 12, 'AppArmor options of the container.'],
    },
  },
  [C + 'PodSecurityContext']: {
    description: 'Pod-level security attributes and common container settings.',
    fields: {
      seLinuxOptions: ['@' + C + 'SELinuxOptions', 1, 'SELinux context applied to all containers.'],
      windowsOptions: ['@' + C + 'WindowsSecurityContextOptions', 8, 'Windows-specific settings applied to all containers.'],
      runAsUser: ['int64', 2, 'UID the containers\' entrypoints run as.'],
      runAsGroup: ['int64', 6, 'GID the containers\' entrypoints run as.'],
      runAsNonRoot: ['boolean', 3, 'Refuse to start containers as UID 0.'],
      supplementalGroups: ['[]int64', 4, 'Groups added to the first process of each container.', atomic],
      supplementalGroupsPolicy: ['string', 12, 'How supplemental groups of the first process are calculated: Merge or Strict.'],
      fsGroup: ['int64', 5, 'Group that owns supported volumes, applied to all containers.'],
      sysctls: ['[]@' + C + 'Sysctl', 7, 'Namespaced sysctls set for the pod.', atomic],
      fsGroupChangePolicy: ['string', 9, 'When volume ownership is changed: OnRootMismatch or Always.'],
      seccompProfile: ['@' + C + 'SeccompProfile', 10, 'Seccomp options of the containers.'],
      appArmorProfile: ['@' + C + 'AppArmorProfile', 11, 'AppArmor options of the containers.'],
      seLinuxChangePolicy: ['string', 13, 'How the SELinux context is applied to volumes: Recursive or MountOption.'],
    },
  },
  [C + 'Capabilities']: {
    description: 'POSIX capabilities added to or removed from running containers.',
    fields: {
      add: ['[]string', 1, 'Capabilities to add.', atomic],
      drop: ['[]string', 2, 'Capabilities to remove.', atomic],
    },
  },
  [C + 'SELinuxOptions']: {
    description: 'SELinux labels applied to a container.',
    fields: {
      user: ['string', 1, 'SELinux user label.'],
      role: ['string', 2, 'SELinux role label.'],
      type: ['string', 3, 'SELinux type label.'],
      level: ['string', 4, 'SELinux level label.'],
    },
  },
  [C + 'SeccompProfile']: {
    description: 'A pod or container\'s seccomp profile; only one source may be set.',
    fields: {
      type: ['string', 1, 'Localhost, RuntimeDefault or Unconfined.', { required: true, enum: ['Localhost', 'RuntimeDefault', 'Unconfined'] }],
      localhostProfile: ['string', 2, 'Path of a profile on the node, for type Localhost.'],
    },
  },
  [C + 'AppArmorProfile']: {
    description: 'A pod or container\'s AppArmor profile.',
    fields: {
      type: ['string', 1, 'Localhost, RuntimeDefault or Unconfined.', { required: true }],
      localhostProfile: ['string', 2, 'Name of a profile loaded on the node, for type Localhost.'],
    },
  },
  [C + 'WindowsSecurityContextOptions']: {
    description: 'Windows-specific options and credentials.',
    fields: {
      gmsaCredentialSpecName: ['string', 1, 'Name of the GMSA credential spec to use.'],
      gmsaCredentialSpec: ['string', 2, 'Contents of the GMSA credential spec.'],
      runAsUserName: ['string', 3, 'Windows user name the entrypoint runs as.'],
      hostProcess: ['boolean', 4, 'Run the container as a Windows host process.'],
    },
  },
  [C + 'Sysctl']: {
    description: 'A kernel parameter to be set.',
    fields: {
      name: ['string', 1, 'Name of the property.', { required: true }],
      value: ['string', 2, 'Value of the property.', { required: true }],
    },
  },
  [C + 'Affinity']: {
    description: 'A group of affinity scheduling rules.',
    fields: {
      nodeAffinity: ['@' + C + 'NodeAffinity', 1, 'Node affinity scheduling rules.'],
      podAffinity: ['@' + C + 'PodAffinity', 2, 'Rules to co-locate this pod with other pods.'],
      podAntiAffinity: ['@' + C + 'PodAntiAffinity', 3, 'Rules to keep this pod away from other pods.'],
    },
  },
  [C + 'NodeAffinity']: {
    description: 'Node affinity scheduling rules.',
    fields: {
      requiredDuringSchedulingIgnoredDuringExecution: ['@' + C + 'NodeSelector', 1, 'Rules a node must satisfy for the pod to be scheduled there.'],
      preferredDuringSchedulingIgnoredDuringExecution: ['[]@' + C + 'PreferredSchedulingTerm', 2, 'Weighted preferences for nodes.', atomic],
    },
  },
  [C + 'NodeSelector']: {
    description: 'The union (OR) of node selector terms.',
    mapType: 'atomic',
    fields: { nodeSelectorTerms: ['[]@' + C + 'NodeSelectorTerm', 1, 'The terms, ORed.', { ...atomic, required: true }] },
  },
  [C + 'NodeSelectorTerm']: {
    description: 'Node selector requirements, ANDed; an empty term matches no objects.',
    mapType: 'atomic',
    fields: {
      matchExpressions: ['[]@' + C + 'NodeSelectorRequirement', 1, 'Requirements on node labels.', atomic],
      matchFields: ['[]@' + C + 'NodeSelectorRequirement', 2, 'Requirements on node fields.', atomic],
    },
  },
  [C + 'NodeSelectorRequirement']: {
    description: 'A key, an operator and values relating them.',
    fields: {
      key: ['string', 1, 'The label key the selector applies to.', { required: true }],
      operator: ['string', 2, 'In, NotIn, Exists, DoesNotExist, Gt or Lt.', { required: true, enum: ['DoesNotExist', 'Exists', 'Gt', 'In', 'Lt', 'NotIn'] }],
      values: ['[]string', 3, 'Values for the operator.', atomic],
    },
  },
  [C + 'PreferredSchedulingTerm']: {
    description: 'A weighted node selector term.',
    fields: {
      weight: ['int32', 1, 'Weight of the term, 1 to 100.', { required: true }],
      preference: ['@' + C + 'NodeSelectorTerm', 2, 'The node selector term.', { required: true }],
    },
  },
  [C + 'PodAffinity']: {
    description: 'Inter-pod affinity scheduling rules.',
    fields: {
      requiredDuringSchedulingIgnoredDuringExecution: ['[]@' + C + 'PodAffinityTerm', 1, 'Terms that must all be satisfied.', atomic],
      preferredDuringSchedulingIgnoredDuringExecution: ['[]@' + C + 'WeightedPodAffinityTerm', 2, 'Weighted preferences.', atomic],
    },
  },
  [C + 'PodAntiAffinity']: {
    description: 'Inter-pod anti-affinity scheduling rules.',
    fields: {
      requiredDuringSchedulingIgnoredDuringExecution: ['[]@' + C + 'PodAffinityTerm', 1, 'Terms that must all be satisfied.', atomic],
      preferredDuringSchedulingIgnoredDuringExecution: ['[]@' + C + 'WeightedPodAffinityTerm', 2, 'Weighted preferences.', atomic],
    },
  },
  [C + 'PodAffinityTerm']: {
    description: 'A set of pods this pod should (or should not) run in the same topology domain as.',
    fields: {
      labelSelector: ['@' + M + 'LabelSelector', 1, 'Label query over pods.'],
      namespaces: ['[]string', 2, 'Namespaces the term applies to.', atomic],
      topologyKey: ['string', 3, 'Node label key defining the topology domain.', { required: true }],
      namespaceSelector: ['@' + M + 'LabelSelector', 4, 'Label query over namespaces the term applies to.'],
      matchLabelKeys: ['[]string', 5, 'Pod label keys whose values are added to labelSelector.', atomic],
      mismatchLabelKeys: ['[]string', 6, 'Pod label keys whose values are excluded by labelSelector.', atomic],
    },
  },
  [C + 'WeightedPodAffinityTerm']: {
    description: 'A pod affinity term with a weight.',
    fields: {
      weight: ['int32', 1, 'Weight of the term, 1 to 100.', { required: true }],
      podAffinityTerm: ['@' + C + 'PodAffinityTerm', 2, 'The pod affinity term.', { required: true }],
    },
  },
  [C + 'ContainerPort']: {
    description: 'A network port in a single container.',
    fields: {
      name: ['string', 1, 'IANA_SVC_NAME unique within the pod; services can refer to it.'],
      hostPort: ['int32', 2, 'Port to expose on the host.'],
      containerPort: ['int32', 3, 'Port to expose on the pod\'s IP address.', { required: true }],
      protocol: ['string', 4, 'UDP, TCP (default) or SCTP.', { enum: ['SCTP', 'TCP', 'UDP'] }],
      hostIP: ['string', 5, 'Host IP to bind the external port to.'],
    },
  },
  [C + 'EnvVar']: {
    description: 'An environment variable present in a container.',
    fields: {
      name: ['string', 1, 'Name of the environment variable.', { required: true }],
      value: ['string', 2, 'Value, with $(VAR_NAME) references expanded.'],
      valueFrom: ['@' + C + 'EnvVarSource', 3, 'Source for the variable\'s value; not with value.'],
    },
  },
  [C + 'EnvVarSource']: {
    description: 'A source for the value of an environment variable.',
    fields: {
      fieldRef: ['@' + C + 'ObjectFieldSelector', 1, 'A field of the pod, e.g. metadata.name or status.podIP.'],
      resourceFieldRef: ['@' + C + 'ResourceFieldSelector', 2, 'A resource limit or request of the container.'],
      configMapKeyRef: ['@' + C + 'ConfigMapKeySelector', 3, 'A key of a config map.'],
      secretKeyRef: ['@' + C + 'SecretKeySelector', 4, 'A key of a secret in the pod\'s namespace.'],
    },
  },
  [C + 'ObjectFieldSelector']: {
    description: 'Selects a field of the pod.',
    mapType: 'atomic',
    fields: {
      apiVersion: ['string', 1, 'Schema version the fieldPath is written in (default v1).'],
      fieldPath: ['string', 2, 'Path of the field to select.', { required: true }],
    },
  },
  [C + 'ResourceFieldSelector']: {
    description: 'Selects a container resource (limits.cpu, requests.memory, ...).',
    mapType: 'atomic',
    fields: {
      containerName: ['string', 1, 'Container name; required for volumes.'],
      resource: ['string', 2, 'Resource to select.', { required: true }],
      divisor: ['Quantity', 3, 'Output format of the exposed resources (default 1).'],
    },
  },
  [C + 'ConfigMapKeySelector']: {
    description: 'Selects a key from a config map.',
    mapType: 'atomic',
    fields: {
      localObjectReference: ['@' + C + 'LocalObjectReference', 1, 'The config map.', { inline: true }],
      key: ['string', 2, 'The key to select.', { required: true }],
      optional: ['boolean', 3, 'Whether the config map or its key may be missing.'],
    },
  },
  [C + 'SecretKeySelector']: {
    description: 'Selects a key of a secret.',
    mapType: 'atomic',
    fields: {
      localObjectReference: ['@' + C + 'LocalObjectReference', 1, 'The secret.', { inline: true }],
      key: ['string', 2, 'The key of the secret to select.', { required: true }],
      optional: ['boolean', 3, 'Whether the secret or its key may be missing.'],
    },
  },
  [C + 'EnvFromSource']: {
    description: 'A source of a set of environment variables.',
    fields: {
      prefix: ['string', 1, 'Identifier prepended to each key.'],
      configMapRef: ['@' + C + 'ConfigMapEnvSource', 2, 'The config map to select from.'],
      secretRef: ['@' + C + 'SecretEnvSource', 3, 'The secret to select from.'],
    },
  },
  [C + 'ConfigMapEnvSource']: {
    description: 'Selects a config map whose keys become environment variables.',
    fields: {
      localObjectReference: ['@' + C + 'LocalObjectReference', 1, 'The config map.', { inline: true }],
      optional: ['boolean', 2, 'Whether the config map may be missing.'],
    },
  },
  [C + 'SecretEnvSource']: {
    description: 'Selects a secret whose keys become environment variables.',
    fields: {
      localObjectReference: ['@' + C + 'LocalObjectReference', 1, 'The secret.', { inline: true }],
      optional: ['boolean', 2, 'Whether the secret may be missing.'],
    },
  },
  [C + 'ResourceRequirements']: {
    description: 'Compute resource requirements.',
    fields: {
      limits: ['map[Quantity]', 1, 'Maximum amount of compute resources allowed.'],
      requests: ['map[Quantity]', 2, 'Minimum amount of compute resources required.'],
      claims: ['[]object', 3, 'Names of resource claims used by this container.', { listType: 'map', listMapKeys: ['name'] }],
    },
  },
  [C + 'VolumeMount']: {
    description: 'Mounting of a volume within a container.',
    fields: {
      name: ['string', 1, 'Must match the name of a volume.', { required: true }],
      readOnly: ['boolean', 2, 'Mounted read-only if true.'],
      recursiveReadOnly: ['string', 7, 'Whether read-only mounts are read-only recursively.'],
      mountPath: ['string', 3, 'Path within the container to mount the volume at.', { required: true }],
      subPath: ['string', 4, 'Path within the volume to mount instead of its root.'],
      mountPropagation: ['string', 5, 'How mounts propagate between host and container.'],
      subPathExpr: ['string', 6, 'Expanded path within the volume to mount.'],
    },
  },
  [C + 'Volume']: {
    description: 'A named volume in a pod that any container in the pod may access; exactly one source backs it.',
    fields: {
      name: ['string', 1, 'Name of the volume, a DNS_LABEL unique within the pod.', { required: true }],
      volumeSource: ['@' + C + 'VolumeSource', 2, 'Where the volume\'s contents come from.', { inline: true }],
    },
  },
  [C + 'VolumeSource']: {
    description: 'The source of a volume to mount; only one of its members may be set.',
    fields: {
      hostPath: ['@' + C + 'HostPathVolumeSource', 1, 'A file or directory on the host, exposed to the container.'],
      emptyDir: ['@' + C + 'EmptyDirVolumeSource', 2, 'A temporary directory that shares the pod\'s lifetime.'],
      gcePersistentDisk: ['object', 3, 'Deprecated: a GCE persistent disk.'],
      awsElasticBlockStore: ['object', 4, 'Deprecated: an AWS EBS disk.'],
      gitRepo: ['object', 5, 'Deprecated: a git repository at a revision.'],
      secret: ['@' + C + 'SecretVolumeSource', 6, 'A secret that should populate this volume.'],
      nfs: ['object', 7, 'An NFS mount on the host that shares the pod\'s lifetime.'],
      iscsi: ['object', 8, 'An iSCSI disk attached to the host.'],
      glusterfs: ['object', 9, 'Deprecated: a Glusterfs mount.'],
      persistentVolumeClaim: ['@' + C + 'PersistentVolumeClaimVolumeSource', 10, 'A reference to a PersistentVolumeClaim in the same namespace.'],
      rbd: ['object', 11, 'Deprecated: a Rados Block Device mount.'],
      flexVolume: ['object', 12, 'Deprecated: a volume provisioned by an exec based plugin.'],
      cinder: ['object', 13, 'Deprecated: a Cinder volume.'],
      cephfs: ['object', 14, 'Deprecated: a CephFS mount.'],
      flocker: ['object', 15, 'Deprecated: a Flocker volume.'],
      downwardAPI: ['object', 16, 'Downward API information about the pod.'],
      fc: ['object', 17, 'A Fibre Channel volume.'],
      azureFile: ['object', 18, 'Deprecated: an Azure File Service mount.'],
      configMap: ['@' + C + 'ConfigMapVolumeSource', 19, 'A config map that should populate this volume.'],
      vsphereVolume: ['object', 20, 'Deprecated: a vSphere volume.'],
      quobyte: ['object', 21, 'Deprecated: a Quobyte mount.'],
      azureDisk: ['object', 22, 'Deprecated: an Azure data disk.'],
      photonPersistentDisk: ['object', 23, 'Deprecated: a PhotonController persistent disk.'],
      portworxVolume: ['object', 24, 'Deprecated: a Portworx volume.'],
      scaleIO: ['object', 25, 'Deprecated: a ScaleIO volume.'],
      projected: ['object', 26, 'Items for all-in-one resources: secrets, config maps, downward API and service account tokens.'],
      storageos: ['object', 27, 'Deprecated: a StorageOS volume.'],
      csi: ['object', 28, 'Ephemeral storage handled by a CSI driver.'],
      ephemeral: ['object', 29, 'A volume handled by a cluster storage driver for the pod\'s lifetime.'],
      image: ['object', 30, 'An OCI object (image or artifact) pulled on the host.'],
    },
  },
  [C + 'HostPathVolumeSource']: {
    description: 'A host path mapped into a pod.',
    fields: {
      path: ['string', 1, 'Path of the directory on the host; symlinks are followed.', { required: true }],
      type: ['string', 2, 'Type of the host path: "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice.', { enum: ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'] }],
    },
  },
  [C + 'EmptyDirVolumeSource']: {
    description: 'An empty directory for a pod.',
    fields: {
      medium: ['string', 1, 'Storage medium backing the directory: "" (node default) or Memory.'],
      sizeLimit: ['Quantity', 2, 'Total amount of local storage the directory may use.'],
    },
  },
  [C + 'KeyToPath']: {
    description: 'Maps a string key to a path within a volume.',
    fields: {
      key: ['string', 1, 'The key to project.', { required: true }],
      path: ['string', 2, 'Relative path of the file to map the key to.', { required: true }],
      mode: ['int32', 3, 'Permission bits of this file (0000 to 0777).'],
    },
  },
  [C + 'SecretVolumeSource']: {
    description: 'Adapts a secret into a volume: each data key becomes a file.',
    fields: {
      secretName: ['string', 1, 'Name of the secret in the pod\'s namespace.'],
      items: ['[]@' + C + 'KeyToPath', 2, 'Which keys to project, and to which paths.', atomic],
      defaultMode: ['int32', 3, 'Permission bits of the created files (default 0644).'],
      optional: ['boolean', 4, 'Whether the secret or its keys may be missing.'],
    },
  },
  [C + 'ConfigMapVolumeSource']: {
    description: 'Adapts a config map into a volume: each data key becomes a file.',
    fields: {
      localObjectReference: ['@' + C + 'LocalObjectReference', 1, 'The config map.', { inline: true }],
      items: ['[]@' + C + 'KeyToPath', 2, 'Which keys to project, and to which paths.', atomic],
      defaultMode: ['int32', 3, 'Permission bits of the created files (default 0644).'],
      optional: ['boolean', 4, 'Whether the config map or its keys may be missing.'],
    },
  },
  [C + 'PersistentVolumeClaimVolumeSource']: {
    description: 'References a PersistentVolumeClaim in the same namespace.',
    fields: {
      claimName: ['string', 1, 'Name of the PersistentVolumeClaim.', { required: true }],
      readOnly: ['boolean', 2, 'Force read-only mounts.'],
    },
  },
  [C + 'Probe']: {
    description: 'A health check performed against a container.',
    fields: {
      handler: ['@' + C + 'ProbeHandler', 1, 'The action taken.', { inline: true }],
      initialDelaySeconds: ['int32', 2, 'Seconds after the container started before probes are initiated.'],
      timeoutSeconds: ['int32', 3, 'Seconds after which the probe times out (default 1).'],
      periodSeconds: ['int32', 4, 'How often to perform the probe, in seconds (default 10).'],
      successThreshold: ['int32', 5, 'Consecutive successes for the probe to count as successful after a failure.'],
      failureThreshold: ['int32', 6, 'Consecutive failures for the probe to count as failed.'],
      terminationGracePeriodSeconds: ['int64', 7, 'Optional grace period when the probe fails.'],
    },
  },
  [C + 'ProbeHandler']: {
    description: 'The action taken by a probe; exactly one must be set.',
    fields: {
      exec: ['@' + C + 'ExecAction', 1, 'Run a command in the container.'],
      httpGet: ['@' + C + 'HTTPGetAction', 2, 'Perform an HTTP GET request.'],
      tcpSocket: ['@' + C + 'TCPSocketAction', 3, 'Connect to a TCP port.'],
      grpc: ['@' + C + 'GRPCAction', 4, 'Perform a gRPC health check.'],
    },
  },
  [C + 'LifecycleHandler']: {
    description: 'An action taken on a container lifecycle event; exactly one must be set.',
    fields: {
      exec: ['@' + C + 'ExecAction', 1, 'Run a command in the container.'],
      httpGet: ['@' + C + 'HTTPGetAction', 2, 'Perform an HTTP GET request.'],
      tcpSocket: ['@' + C + 'TCPSocketAction', 3, 'Deprecated: connect to a TCP port.'],
      sleep: ['object', 4, 'Sleep for a number of seconds.'],
    },
  },
  [C + 'Lifecycle']: {
    description: 'Actions the system takes in response to container lifecycle events.',
    fields: {
      postStart: ['@' + C + 'LifecycleHandler', 1, 'Called right after the container is created.'],
      preStop: ['@' + C + 'LifecycleHandler', 2, 'Called right before the container is terminated.'],
      stopSignal: ['string', 3, 'The signal sent to stop the container.'],
    },
  },
  [C + 'ExecAction']: {
    description: 'A command run inside the container; exit status 0 counts as success.',
    fields: { command: ['[]string', 1, 'Command line to run, not in a shell.', atomic] },
  },
  [C + 'HTTPGetAction']: {
    description: 'An HTTP GET request against the container.',
    fields: {
      path: ['string', 1, 'Path to access on the HTTP server.'],
      port: ['IntOrString', 2, 'Name or number of the port to access on the container.', { required: true }],
      host: ['string', 3, 'Host name to connect to; defaults to the pod IP.'],
      scheme: ['string', 4, 'HTTP (default) or HTTPS.', { enum: ['HTTP', 'HTTPS'] }],
      httpHeaders: ['[]@' + C + 'HTTPHeader', 5, 'Custom headers to set in the request.', atomic],
    },
  },
  [C + 'HTTPHeader']: {
    description: 'A custom header used in HTTP probes.',
    fields: {
      name: ['string', 1, 'The header field name.', { required: true }],
      value: ['string', 2, 'The header field value.', { required: true }],
    },
  },
  [C + 'TCPSocketAction']: {
    description: 'Opening a TCP connection to the container.',
    fields: {
      port: ['IntOrString', 1, 'Number or name of the port to connect to.', { required: true }],
      host: ['string', 2, 'Host name to connect to; defaults to the pod IP.'],
    },
  },
  [C + 'GRPCAction']: {
    description: 'A gRPC health check against the container.',
    fields: {
      port: ['int32', 1, 'Port number of the gRPC service.', { required: true }],
      service: ['string', 2, 'Service name placed in the gRPC HealthCheckRequest.'],
    },
  },
  [C + 'Toleration']: {
    description: 'Attached to a pod, lets it tolerate any taint that matches the triple <key,value,effect>.',
    fields: {
      key: ['string', 1, 'Taint key the toleration applies to; empty matches all keys.'],
      operator: ['string', 2, 'Exists or Equal (default).', { enum: ['Equal', 'Exists'] }],
      value: ['string', 3, 'Taint value the toleration matches.'],
      effect: ['string', 4, 'Taint effect to match; empty matches all effects.', { enum: ['NoExecute', 'NoSchedule', 'PreferNoSchedule'] }],
      tolerationSeconds: ['int64', 5, 'How long a NoExecute taint is tolerated.'],
    },
  },
  [C + 'HostAlias']: {
    description: 'An entry for the pod\'s hosts file.',
    fields: {
      ip: ['string', 1, 'IP address of the host file entry.', { required: true }],
      hostnames: ['[]string', 2, 'Hostnames for the IP address.', atomic],
    },
  },
  [C + 'TopologySpreadConstraint']: {
    description: 'How to spread matching pods among the given topology.',
    fields: {
      maxSkew: ['int32', 1, 'Degree to which pods may be unevenly distributed.', { required: true }],
      topologyKey: ['string', 2, 'Node label key; nodes with the same value are in the same domain.', { required: true }],
      whenUnsatisfiable: ['string', 3, 'DoNotSchedule (default) or ScheduleAnyway.', { required: true, enum: ['DoNotSchedule', 'ScheduleAnyway'] }],
      labelSelector: ['@' + M + 'LabelSelector', 4, 'Finds matching pods.'],
      minDomains: ['int32', 5, 'Minimum number of eligible domains.'],
      nodeAffinityPolicy: ['string', 6, 'Honor or Ignore the pod\'s node affinity.'],
      nodeTaintsPolicy: ['string', 7, 'Honor or Ignore node taints.'],
      matchLabelKeys: ['[]string', 8, 'Pod label keys to select pods over which spreading is calculated.', atomic],
    },
  },
  [C + 'PodStatus']: {
    description: 'Information about the status of a pod; may trail the actual state of the system.',
    fields: {
      phase: ['string', 1, 'Pending, Running, Succeeded, Failed or Unknown.', { enum: ['Failed', 'Pending', 'Running', 'Succeeded', 'Unknown'] }],
      conditions: ['[]@' + C + 'PodCondition', 2, 'Current service state of the pod.', byType],
      message: ['string', 3, 'Why the pod is in this condition.'],
      reason: ['string', 4, 'Brief CamelCase reason for the pod\'s state.'],
      nominatedNodeName: ['string', 11, 'Node the pod was nominated to by preemption.'],
      hostIP: ['string', 5, 'IP address of the host the pod is assigned to.'],
      hostIPs: ['[]object', 16, 'IP addresses allocated to the host.', { patchStrategy: 'merge', mergeKey: 'ip', listType: 'atomic' }],
      podIP: ['string', 6, 'IP address allocated to the pod.'],
      podIPs: ['[]@' + C + 'PodIP', 12, 'IP addresses allocated to the pod.', { mergeKey: 'ip', patchStrategy: 'merge', listType: 'map', listMapKeys: ['ip'] }],
      startTime: ['Time', 7, 'When the kubelet acknowledged the pod.'],
      initContainerStatuses: ['[]object', 10, 'Statuses of init containers.', atomic],
      containerStatuses: ['[]object', 8, 'Statuses of containers.', atomic],
      ephemeralContainerStatuses: ['[]object', 13, 'Statuses of ephemeral containers.', atomic],
      qosClass: ['string', 9, 'Quality of Service class assigned to the pod.', { enum: ['BestEffort', 'Burstable', 'Guaranteed'] }],
      resize: ['string', 14, 'Status of a pod resize.'],
      resourceClaimStatuses: ['[]object', 15, 'Status of resource claims.', byName],
      observedGeneration: ['int64', 17, 'The pod generation observed by the kubelet.'],
    },
  },
  [C + 'PodCondition']: {
    description: 'The state of a pod at a point in time.',
    fields: {
      type: ['string', 1, 'Type of the condition.', { required: true }],
      observedGeneration: ['int64', 7, 'The pod generation the condition was set for.'],
      status: ['string', 2, 'True, False or Unknown.', { required: true }],
      lastProbeTime: ['Time', 3, 'Last time the condition was probed.'],
      lastTransitionTime: ['Time', 4, 'Last time the condition transitioned.'],
      reason: ['string', 5, 'Reason for the last transition.'],
      message: ['string', 6, 'Details about the last transition.'],
    },
  },
  [C + 'PodIP']: {
    description: 'An IP address allocated to the pod.',
    fields: { ip: ['string', 1, 'The IP address.', { required: true }] },
  },
  [C + 'Binding']: top('', 'v1', 'Binding', 'Binding ties one object to another, e.g. a pod to a node by a scheduler.', {
    target: ['@' + C + 'ObjectReference', 2, 'The object to bind to.', { required: true }],
  }),

  // ---- apps/v1 -------------------------------------------------------------------------
  [A + 'Deployment']: top('apps', 'v1', 'Deployment', 'Deployment enables declarative updates for pods and replica sets.', {
    spec: ['@' + A + 'DeploymentSpec', 2, 'Desired behaviour of the deployment.'],
    status: ['@' + A + 'DeploymentStatus', 3, 'Most recently observed status of the deployment.'],
  }),
  [A + 'DeploymentSpec']: {
    description: 'The specification of the desired behaviour of a deployment.',
    fields: {
      replicas: ['int32', 1, 'Number of desired pods (default 1).'],
      selector: ['@' + M + 'LabelSelector', 2, 'Label selector for pods; must match the template\'s labels.', { required: true }],
      template: ['@' + C + 'PodTemplateSpec', 3, 'Template describing the pods that will be created.', { required: true }],
      strategy: ['@' + A + 'DeploymentStrategy', 4, 'The deployment strategy used to replace existing pods with new ones.', { patchStrategy: 'retainKeys' }],
      minReadySeconds: ['int32', 5, 'Seconds a new pod must be ready without crashing to count as available.'],
      revisionHistoryLimit: ['int32', 6, 'Old replica sets kept to allow rollback (default 10).'],
      paused: ['boolean', 7, 'Whether the deployment is paused.'],
      progressDeadlineSeconds: ['int32', 9, 'Seconds for the deployment to make progress before it is considered failed.'],
      podReplacementPolicy: ['string', 10, 'When replacement pods are created: TerminationStarted or TerminationComplete.'],
    },
  },
  [A + 'DeploymentStrategy']: {
    description: 'How to replace existing pods with new ones.',
    fields: {
      type: ['string', 1, 'Recreate or RollingUpdate (default).', { enum: ['Recreate', 'RollingUpdate'] }],
      rollingUpdate: ['@' + A + 'RollingUpdateDeployment', 2, 'Rolling update parameters; present only if type is RollingUpdate.'],
    },
  },
  [A + 'RollingUpdateDeployment']: {
    description: 'Controls the desired behaviour of a rolling update.',
    fields: {
      maxUnavailable: ['IntOrString', 1, 'Maximum number of pods that can be unavailable during the update.'],
      maxSurge: ['IntOrString', 2, 'Maximum number of pods that can be scheduled above the desired number.'],
    },
  },
  [A + 'DeploymentStatus']: {
    description: 'The most recently observed status of the deployment.',
    fields: {
      observedGeneration: ['int64', 1, 'The generation observed by the deployment controller.'],
      replicas: ['int32', 2, 'Total number of non-terminating pods targeted by this deployment.'],
      updatedReplicas: ['int32', 3, 'Non-terminating pods that have the desired template spec.'],
      readyReplicas: ['int32', 7, 'Non-terminating pods with a Ready condition.'],
      availableReplicas: ['int32', 4, 'Available non-terminating pods.'],
      unavailableReplicas: ['int32', 5, 'Total number of unavailable pods.'],
      terminatingReplicas: ['int32', 9, 'Pods being terminated.'],
      conditions: ['[]@' + A + 'DeploymentCondition', 6, 'Latest observations of the deployment\'s state.', byType],
      collisionCount: ['int32', 8, 'Count of hash collisions for the deployment.'],
    },
  },
  [A + 'DeploymentCondition']: {
    description: 'The state of a deployment at a point in time.',
    fields: {
      type: ['string', 1, 'Type of deployment condition.', { required: true }],
      status: ['string', 2, 'True, False or Unknown.', { required: true }],
      lastUpdateTime: ['Time', 6, 'The last time this condition was updated.'],
      lastTransitionTime: ['Time', 7, 'Last time the condition transitioned.'],
      reason: ['string', 4, 'Reason for the last transition.'],
      message: ['string', 5, 'Details about the transition.'],
    },
  },
  [A + 'ReplicaSet']: top('apps', 'v1', 'ReplicaSet', 'ReplicaSet ensures that a specified number of pod replicas are running at any given time.', {
    spec: ['@' + A + 'ReplicaSetSpec', 2, 'Specification of the desired behaviour of the replica set.'],
    status: ['@' + A + 'ReplicaSetStatus', 3, 'Most recently observed status of the replica set.'],
  }),
  [A + 'ReplicaSetSpec']: {
    description: 'The specification of a replica set.',
    fields: {
      replicas: ['int32', 1, 'Number of desired pods (default 1).'],
      minReadySeconds: ['int32', 4, 'Seconds a new pod must be ready to count as available.'],
      selector: ['@' + M + 'LabelSelector', 2, 'Label query over pods that should match the replica count.', { required: true }],
      template: ['@' + C + 'PodTemplateSpec', 3, 'The pod template used when too few replicas exist.'],
    },
  },
  [A + 'ReplicaSetStatus']: {
    description: 'The current status of a replica set.',
    fields: {
      replicas: ['int32', 1, 'Most recently observed number of non-terminating replicas.', { required: true }],
      fullyLabeledReplicas: ['int32', 2, 'Pods whose labels match the template\'s labels.'],
      readyReplicas: ['int32', 4, 'Pods with a Ready condition.'],
      availableReplicas: ['int32', 5, 'Available pods.'],
      terminatingReplicas: ['int32', 7, 'Pods being terminated.'],
      observedGeneration: ['int64', 3, 'Generation of the most recently observed replica set.'],
      conditions: ['[]@' + A + 'ReplicaSetCondition', 6, 'Latest observations of the replica set\'s state.', byType],
    },
  },
  [A + 'DaemonSet']: top('apps', 'v1', 'DaemonSet', 'DaemonSet represents the configuration of a daemon set: a pod on every eligible node.', {
    spec: ['@' + A + 'DaemonSetSpec', 2, 'The desired behaviour of this daemon set.'],
    status: ['@' + A + 'DaemonSetStatus', 3, 'The current status of this daemon set.'],
  }),
  [A + 'DaemonSetSpec']: {
    description: 'The specification of a daemon set.',
    fields: {
      selector: ['@' + M + 'LabelSelector', 1, 'Label query over pods managed by the daemon set.', { required: true }],
      template: ['@' + C + 'PodTemplateSpec', 2, 'Pod template; exactly one copy runs on every eligible node.', { required: true }],
      updateStrategy: ['@' + A + 'DaemonSetUpdateStrategy', 3, 'Strategy to replace existing daemon pods with new ones.'],
      minReadySeconds: ['int32', 4, 'Seconds a new pod must be ready to count as available.'],
      revisionHistoryLimit: ['int32', 6, 'Old history kept to allow rollback (default 10).'],
    },
  },
  [A + 'DaemonSetUpdateStrategy']: {
    description: 'Controls the replacement strategy of a daemon set.',
    fields: {
      type: ['string', 1, 'RollingUpdate (default) or OnDelete.', { enum: ['OnDelete', 'RollingUpdate'] }],
      rollingUpdate: ['@' + A + 'RollingUpdateDaemonSet', 2, 'Rolling update config parameters; only with type RollingUpdate.'],
    },
  },
  [A + 'DaemonSetStatus']: {
    description: 'The current status of a daemon set.',
    fields: {
      currentNumberScheduled: ['int32', 1, 'Nodes running at least one daemon pod that should.', { required: true }],
      numberMisscheduled: ['int32', 2, 'Nodes running the daemon pod that should not.', { required: true }],
      desiredNumberScheduled: ['int32', 3, 'Nodes that should be running the daemon pod.', { required: true }],
      numberReady: ['int32', 4, 'Nodes with a ready daemon pod.', { required: true }],
      observedGeneration: ['int64', 5, 'Most recent generation observed by the controller.'],
      updatedNumberScheduled: ['int32', 6, 'Nodes running the updated daemon pod.'],
      numberAvailable: ['int32', 7, 'Nodes with an available daemon pod.'],
      numberUnavailable: ['int32', 8, 'Nodes that should run an available daemon pod but do not.'],
      collisionCount: ['int32', 9, 'Count of hash collisions.'],
      conditions: ['[]@' + A + 'DaemonSetCondition', 10, 'Latest observations of the daemon set\'s state.', byType],
    },
  },
  [A + 'ReplicaSetCondition']: {
    description: 'The state of a replica set at a point in time.',
    fields: {
      type: ['string', 1, 'Type of replica set condition.', { required: true }],
      status: ['string', 2, 'True, False or Unknown.', { required: true }],
      lastTransitionTime: ['Time', 3, 'Last time the condition transitioned.'],
      reason: ['string', 4, 'Reason for the last transition.'],
      message: ['string', 5, 'Details about the transition.'],
    },
  },
  [A + 'DaemonSetCondition']: {
    description: 'The state of a daemon set at a point in time.',
    fields: {
      type: ['string', 1, 'Type of daemon set condition.', { required: true }],
      status: ['string', 2, 'True, False or Unknown.', { required: true }],
      lastTransitionTime: ['Time', 3, 'Last time the condition transitioned.'],
      reason: ['string', 4, 'Reason for the last transition.'],
      message: ['string', 5, 'Details about the transition.'],
    },
  },
  [A + 'RollingUpdateDaemonSet']: {
    description: 'Controls the desired behaviour of a daemon set rolling update.',
    fields: {
      maxUnavailable: ['IntOrString', 1, 'Maximum number of daemon pods that can be unavailable during the update.'],
      maxSurge: ['IntOrString', 2, 'Maximum number of nodes that can run an updated pod next to the old one.'],
    },
  },

  // ---- autoscaling/v1 Scale: the scale subresource of deployments and replica sets ----------
  [S + 'Scale']: top('autoscaling', 'v1', 'Scale', 'Scale represents a scaling request for a resource.', {
    spec: ['@' + S + 'ScaleSpec', 2, 'Desired behaviour of the scale.'],
    status: ['@' + S + 'ScaleStatus', 3, 'Current status of the scale; read-only.'],
  }),
  [S + 'ScaleSpec']: {
    description: 'Attributes of a scale subresource.',
    fields: { replicas: ['int32', 1, 'Desired number of instances for the scaled object.'] },
  },
  [S + 'ScaleStatus']: {
    description: 'Current status of a scale subresource.',
    fields: {
      replicas: ['int32', 1, 'Actual number of observed instances of the scaled object.', { required: true }],
      selector: ['string', 2, 'Label query over pods that should match the replicas count, in string form.'],
    },
  },

  // ---- discovery.k8s.io/v1 --------------------------------------------------------------
  [D + 'EndpointSlice']: top('discovery.k8s.io', 'v1', 'EndpointSlice', 'EndpointSlice represents a set of service endpoints; the EndpointSlice controller creates them for services with selectors.', {
    addressType: ['string', 4, 'Type of address carried by this slice: IPv4, IPv6 or FQDN.', { required: true, enum: ['FQDN', 'IPv4', 'IPv6'] }],
    endpoints: ['[]@' + D + 'Endpoint', 2, 'Unique endpoints in this slice (at most 1000).', { ...atomic, required: true }],
    ports: ['[]@' + D + 'EndpointPort', 3, 'Network ports exposed by each endpoint in this slice.', atomic],
  }),
  [D + 'Endpoint']: {
    description: 'A single logical backend implementing a service.',
    fields: {
      addresses: ['[]string', 1, 'Addresses of this endpoint, of the slice\'s addressType.', { listType: 'set', required: true }],
      conditions: ['@' + D + 'EndpointConditions', 2, 'Current state of the endpoint.'],
      hostname: ['string', 3, 'Hostname of this endpoint.'],
      targetRef: ['@' + C + 'ObjectReference', 4, 'Reference to the object representing this endpoint.'],
      deprecatedTopology: ['map[string]', 5, 'Deprecated topology information.'],
      nodeName: ['string', 6, 'Name of the node hosting this endpoint.'],
      zone: ['string', 7, 'Name of the zone this endpoint exists in.'],
      hints: ['@' + D + 'EndpointHints', 8, 'How the endpoint should be consumed.'],
    },
  },
  [D + 'EndpointConditions']: {
    description: 'The current condition of an endpoint.',
    fields: {
      ready: ['boolean', 1, 'Whether the endpoint is ready for traffic; unknown state should be treated as ready.'],
      serving: ['boolean', 2, 'Like ready, but also set for terminating endpoints.'],
      terminating: ['boolean', 3, 'Whether the endpoint is terminating.'],
    },
  },
  [D + 'EndpointHints']: {
    description: 'Hints describing how an endpoint should be consumed.',
    fields: {
      forZones: ['[]@' + D + 'ForZone', 1, 'Zones this endpoint should be consumed by.', atomic],
      forNodes: ['[]@' + D + 'ForNode', 2, 'Nodes this endpoint should be consumed by.', atomic],
    },
  },
  [D + 'ForZone']: { description: 'A zone this endpoint should be consumed by.', fields: { name: ['string', 1, 'Name of the zone.', { required: true }] } },
  [D + 'ForNode']: { description: 'A node this endpoint should be consumed by.', fields: { name: ['string', 1, 'Name of the node.', { required: true }] } },
  [D + 'EndpointPort']: {
    description: 'A port used by an EndpointSlice.',
    mapType: 'atomic',
    fields: {
      name: ['string', 1, 'Name of this port; must match a service port name.'],
      protocol: ['string', 2, 'IP protocol for this port (default TCP).', { enum: ['SCTP', 'TCP', 'UDP'] }],
      port: ['int32', 3, 'Port number of the endpoint; unset means all ports.'],
      appProtocol: ['string', 4, 'Application protocol for this port.'],
    },
  },

  // ---- networking.k8s.io/v1 --------------------------------------------------------------
  [N + 'Ingress']: top('networking.k8s.io', 'v1', 'Ingress', 'Ingress is a collection of rules that allow inbound connections to reach the endpoints defined by a backend.', {
    spec: ['@' + N + 'IngressSpec', 2, 'The desired state of the ingress.'],
    status: ['@' + N + 'IngressStatus', 3, 'The current state of the ingress.'],
  }),
  [N + 'IngressSpec']: {
    description: 'The ingress the user wishes to exist.',
    fields: {
      ingressClassName: ['string', 4, 'Name of an IngressClass cluster resource.'],
      defaultBackend: ['@' + N + 'IngressBackend', 1, 'Backend for requests that match no rule.'],
      tls: ['[]@' + N + 'IngressTLS', 2, 'TLS configuration.', atomic],
      rules: ['[]@' + N + 'IngressRule', 3, 'Host rules used to configure the ingress.', atomic],
    },
  },
  [N + 'IngressBackend']: {
    description: 'The referenced service and port combination.',
    fields: {
      service: ['@' + N + 'IngressServiceBackend', 4, 'A referenced service; mutually exclusive with resource.'],
      resource: ['@' + C + 'TypedLocalObjectReference', 3, 'An object reference to another resource in the namespace.'],
    },
  },
  [C + 'TypedLocalObjectReference']: {
    description: 'Enough information to locate the typed referenced object inside the same namespace.',
    mapType: 'atomic',
    fields: {
      apiGroup: ['string', 1, 'API group of the resource being referenced.'],
      kind: ['string', 2, 'Type of resource being referenced.', { required: true }],
      name: ['string', 3, 'Name of resource being referenced.', { required: true }],
    },
  },
  [N + 'IngressServiceBackend']: {
    description: 'References a Kubernetes Service as a backend.',
    fields: {
      name: ['string', 1, 'The referenced service, in the same namespace as the ingress.', { required: true }],
      port: ['@' + N + 'ServiceBackendPort', 2, 'Port of the referenced service.'],
    },
  },
  [N + 'ServiceBackendPort']: {
    description: 'The service port being referenced, by name or number.',
    fields: {
      name: ['string', 1, 'Name of the port on the service; mutually exclusive with number.'],
      number: ['int32', 2, 'Numerical port number; mutually exclusive with name.'],
    },
  },
  [N + 'IngressTLS']: {
    description: 'The transport layer security associated with an ingress.',
    fields: {
      hosts: ['[]string', 1, 'Hosts included in the TLS certificate.', atomic],
      secretName: ['string', 2, 'Secret used to terminate TLS on port 443.'],
    },
  },
  [N + 'IngressRule']: {
    description: 'Maps the paths under a host to backends.',
    fields: {
      host: ['string', 1, 'Fully qualified domain name of a network host, optionally with a leading wildcard label.'],
      ingressRuleValue: ['@' + N + 'IngressRuleValue', 2, 'How requests for this host are routed.', { inline: true }],
    },
  },
  [N + 'IngressRuleValue']: {
    description: 'A rule to route requests; exactly one kind of rule must be set.',
    fields: { http: ['@' + N + 'HTTPIngressRuleValue', 1, 'HTTP routing rules.'] },
  },
  [N + 'HTTPIngressRuleValue']: {
    description: 'A list of HTTP selectors pointing to backends.',
    fields: { paths: ['[]@' + N + 'HTTPIngressPath', 1, 'Paths that map requests to backends.', { ...atomic, required: true }] },
  },
  [N + 'HTTPIngressPath']: {
    description: 'Associates a path with a backend.',
    fields: {
      path: ['string', 1, 'Matched against the path of an incoming request; must begin with /.'],
      pathType: ['string', 3, 'How the path is matched: Exact, Prefix or ImplementationSpecific.', { required: true, enum: ['Exact', 'ImplementationSpecific', 'Prefix'] }],
      backend: ['@' + N + 'IngressBackend', 2, 'Where matching traffic is sent.', { required: true }],
    },
  },
  [N + 'IngressStatus']: {
    description: 'The current state of the ingress.',
    fields: { loadBalancer: ['@' + N + 'IngressLoadBalancerStatus', 1, 'The current state of the load balancer.'] },
  },
  [N + 'IngressLoadBalancerStatus']: {
    description: 'The status of the load balancer.',
    fields: { ingress: ['[]@' + N + 'IngressLoadBalancerIngress', 1, 'Ingress points for the load balancer.', atomic] },
  },
  [N + 'IngressLoadBalancerIngress']: {
    description: 'An ingress point for the load balancer.',
    fields: {
      ip: ['string', 1, 'IP for IP-based load-balancer ingress points.'],
      hostname: ['string', 2, 'Hostname for DNS-based load-balancer ingress points.'],
      ports: ['[]@' + N + 'IngressPortStatus', 4, 'Information about the ports of this ingress point.', atomic],
    },
  },
  [N + 'IngressClass']: top('networking.k8s.io', 'v1', 'IngressClass', 'IngressClass represents the class of an ingress, referenced by ingress spec.ingressClassName.', {
    spec: ['@' + N + 'IngressClassSpec', 2, 'The desired state of the ingress class.'],
  }),
  [N + 'IngressClassSpec']: {
    description: 'The configuration of an ingress class.',
    fields: {
      controller: ['string', 1, 'Name of the controller that should handle this class.'],
      parameters: ['@' + N + 'IngressClassParametersReference', 2, 'Link to a custom resource with additional configuration for the controller.'],
    },
  },
  [N + 'IngressClassParametersReference']: {
    description: 'Identifies an API object holding a controller\'s configuration, cluster or namespace scoped.',
    fields: {
      apiGroup: ['string', 1, 'API group of the referenced resource; empty for core.'],
      kind: ['string', 2, 'Kind of the referenced resource.', { required: true }],
      name: ['string', 3, 'Name of the referenced resource.', { required: true }],
      scope: ['string', 4, 'Cluster (default) or Namespace.'],
      namespace: ['string', 5, 'Namespace of the resource, when scope is Namespace.'],
    },
  },
  [N + 'IngressPortStatus']: {
    description: 'The error condition of an ingress port.',
    fields: {
      port: ['int32', 1, 'Port number of the ingress port.', { required: true }],
      protocol: ['string', 2, 'Protocol of the ingress port: TCP, UDP or SCTP.', { required: true }],
      error: ['string', 3, 'Problem with the port, in CamelCase.'],
    },
  },

  // ---- coordination.k8s.io/v1 --------------------------------------------------------------
  [L + 'Lease']: top('coordination.k8s.io', 'v1', 'Lease', 'Lease defines a lease concept.', {
    spec: ['@' + L + 'LeaseSpec', 2, 'Specification of the lease.'],
  }),
  [L + 'LeaseSpec']: {
    description: 'The specification of a lease.',
    fields: {
      holderIdentity: ['string', 1, 'Identity of the current holder of the lease.'],
      leaseDurationSeconds: ['int32', 2, 'Duration candidates wait before forcefully acquiring the lease.'],
      acquireTime: ['MicroTime', 3, 'When the current lease was acquired.'],
      renewTime: ['MicroTime', 4, 'When the current holder last renewed the lease.'],
      leaseTransitions: ['int32', 5, 'Number of transitions of a lease between holders.'],
      strategy: ['string', 6, 'Strategy for picking the leader in coordinated leader election.'],
      preferredHolder: ['string', 7, 'Signals to a lease holder that the lease has a more optimal holder.'],
    },
  },

  // ---- scheduling.k8s.io/v1 ---------------------------------------------------------------
  ['io.k8s.api.scheduling.v1.PriorityClass']: top('scheduling.k8s.io', 'v1', 'PriorityClass', 'PriorityClass defines mapping from a priority class name to the priority integer value.', {
    value: ['int32', 2, 'The integer priority of pods of this class.', { required: true }],
    globalDefault: ['boolean', 3, 'Whether this class is the default for pods without a priorityClassName.'],
    description: ['string', 4, 'When this priority class should be used.'],
    preemptionPolicy: ['string', 5, 'Never or PreemptLowerPriority (default).', { enum: ['Never', 'PreemptLowerPriority'] }],
  }),

  // rbac.authorization.k8s.io/v1 and authorization.k8s.io/v1 live in their own file
  ...RBAC_DEFINITIONS,
};

const byGvk = new Map<string, string>();
for (const [name, def] of Object.entries(DEFINITIONS)) if (def.gvk) byGvk.set(`${def.gvk.group}/${def.gvk.version}/${def.gvk.kind}`, name);

/** The definition name for a served kind, e.g. io.k8s.api.core.v1.Service. */
export function definitionForKind(group: string, version: string, kind: string): string | undefined {
  return byGvk.get(`${group}/${version}/${kind}`);
}

/** The type of a field once list/map wrappers are removed. */
export type ParsedType =
  | { kind: 'scalar'; name: string }
  | { kind: 'ref'; name: string }
  | { kind: 'list'; item: ParsedType }
  | { kind: 'map'; value: ParsedType };

export function parseType(t: string): ParsedType {
  if (t.startsWith('[]')) return { kind: 'list', item: parseType(t.slice(2)) };
  if (t.startsWith('map[') && t.endsWith(']')) return { kind: 'map', value: parseType(t.slice(4, -1)) };
  if (t.startsWith('@')) return { kind: 'ref', name: t.slice(1) };
  return { kind: 'scalar', name: t };
}

const jsonFieldsCache = new Map<string, Readonly<Record<string, FieldTuple>>>();

/** A definition's JSON fields with inline (embedded) structs hoisted, as JSON sees them. */
export function jsonFields(defName: string): Readonly<Record<string, FieldTuple>> {
  const cached = jsonFieldsCache.get(defName);
  if (cached) return cached;
  const def = DEFINITIONS[defName];
  const out: Record<string, FieldTuple> = {};
  for (const [name, field] of Object.entries(def?.fields ?? {})) {
    const parsed = parseType(field[0]);
    if (field[3]?.inline && parsed.kind === 'ref') Object.assign(out, jsonFields(parsed.name));
    else out[name] = field;
  }
  // Request paths call this per field of every object, so it is computed once per definition.
  jsonFieldsCache.set(defName, out);
  return out;
}
