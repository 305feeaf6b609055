// Defaulting as kube-apiserver's SetDefaults_* functions do it for the kinds kubeplane serves
// (k8s.io/kubernetes pkg/apis/{core,apps,discovery}/v1/defaults.go). IP and port allocation is
// the server's job, not defaulting; so are status resets, which must happen before this runs.

import type { ResourceInfo } from './resources.js';
import type { KubeObject } from './types.js';
import { asString } from './validation/names.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function child(parent: Obj, key: string): Obj {
  if (!isObj(parent[key])) parent[key] = {};
  return parent[key] as Obj;
}

const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** Fills defaults into `obj` in place for the resource it belongs to. Idempotent. */
export function applyDefaults(info: Pick<ResourceInfo, 'group' | 'resource'>, obj: KubeObject): void {
  const o = obj as unknown as Obj;
  switch (`${info.group}/${info.resource}`) {
    case '/services':
      defaultService(o);
      break;
    case '/pods':
      defaultPod(o);
      break;
    case '/namespaces':
      defaultNamespace(o);
      break;
    case '/secrets':
      if (!o.type) o.type = 'Opaque';
      mergeStringData(o);
      break;
    case '/endpoints':
      for (const subset of arr(o.subsets)) for (const p of arr(subset.ports)) if (!p.protocol) p.protocol = 'TCP';
      break;
    case '/nodes':
      defaultNode(o);
      break;
    case 'discovery.k8s.io/endpointslices':
      for (const p of arr(o.ports)) {
        if (p.name === undefined || p.name === null) p.name = '';
        if (!p.protocol) p.protocol = 'TCP';
      }
      break;
    case 'apps/deployments':
      defaultDeployment(o);
      break;
    case 'apps/replicasets':
      if (!isObj(o.spec)) o.spec = {};
      if (o.spec.replicas === undefined || o.spec.replicas === null) o.spec.replicas = 1;
      defaultPodTemplate(o.spec);
      break;
    case 'apps/daemonsets':
      defaultDaemonSet(o);
      break;
    case 'networking.k8s.io/ingressclasses':
      // Parameters without a scope refer to a cluster-scoped resource.
      if (isObj(o.spec?.parameters) && (o.spec.parameters.scope === undefined || o.spec.parameters.scope === null)) o.spec.parameters.scope = 'Cluster';
      break;
    default:
      // ConfigMap, ServiceAccount, Event, Ingress, Lease: nothing to default.
      break;
  }
}

/** A service reachable from outside the cluster: the kinds for which externalTrafficPolicy applies. */
export function externallyAccessible(spec: Obj | undefined): boolean {
  if (!spec) return false;
  return (
    spec.type === 'LoadBalancer' ||
    spec.type === 'NodePort' ||
    (spec.type === 'ClusterIP' && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0)
  );
}

function defaultService(o: Obj): void {
  const spec = child(o, 'spec');
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (t === undefined || t === null) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const p of arr(spec.ports)) {
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(spec) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (!spec.internalTrafficPolicy && ['ClusterIP', 'NodePort', 'LoadBalancer'].includes(spec.type)) spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null) spec.allocateLoadBalancerNodePorts = true;
    for (const ing of arr(o.status?.loadBalancer?.ingress)) if (ing.ip && !ing.ipMode) ing.ipMode = 'VIP';
  }
  // A client that sets only the singular clusterIP gets the list filled, as the strategy does on create.
  if (spec.clusterIP && (!Array.isArray(spec.clusterIPs) || spec.clusterIPs.length === 0)) spec.clusterIPs = [spec.clusterIP];
}

/**
 * Keeps spec.clusterIP and spec.clusterIPs in step as the service strategy's normalizeClusterIPs
 * does, so a client may set either: a lone clusterIP seeds clusterIPs, a changed clusterIP
 * replaces a single-entry clusterIPs. Call it before validation, with the stored object on update.
 */
export function normalizeClusterIPs(svc: KubeObject, old?: KubeObject): void {
  const spec = (svc as unknown as Obj).spec as Obj | undefined;
  if (!isObj(spec)) return;
  const oldSpec = (old as unknown as Obj | undefined)?.spec as Obj | undefined;
  const ips: unknown[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  if (!oldSpec) {
    if (spec.clusterIP && ips.length === 0) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  const oldIPs: unknown[] = Array.isArray(oldSpec.clusterIPs) ? oldSpec.clusterIPs : [];
  const sameIPs = ips.length === oldIPs.length && ips.every((v, i) => v === oldIPs[i]);
  if (spec.clusterIP !== oldSpec.clusterIP && sameIPs) {
    // The user changed only the singular field: follow it (clearing it clears both).
    if (!spec.clusterIP) delete spec.clusterIPs;
    else if (ips.length <= 1) spec.clusterIPs = [spec.clusterIP];
  } else if (!spec.clusterIP && ips.length > 0 && !sameIPs) {
    spec.clusterIP = ips[0];
  } else if (spec.clusterIP && ips.length === 0) {
    spec.clusterIPs = [spec.clusterIP];
  }
}

/**
 * stringData is write-only: the v1→internal conversion copies each entry over data (base64 in
 * JSON) and the stored object carries data alone.
 */
function mergeStringData(o: Obj): void {
  if (!isObj(o.stringData)) {
    delete o.stringData;
    return;
  }
  const data = child(o, 'data');
  for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(asString(v), 'utf8').toString('base64');
  delete o.stringData;
}

function defaultNamespace(o: Obj): void {
  const name = o.metadata?.name;
  if (name) child(child(o, 'metadata'), 'labels')['kubernetes.io/metadata.name'] = name;
  const spec = child(o, 'spec');
  if (!Array.isArray(spec.finalizers)) spec.finalizers = ['kubernetes'];
  const status = child(o, 'status');
  if (!status.phase) status.phase = 'Active';
}

function defaultNode(o: Obj): void {
  const status = o.status;
  if (isObj(status) && isObj(status.capacity) && !isObj(status.allocatable)) status.allocatable = { ...status.capacity };
}

function defaultPod(o: Obj): void {
  const spec = child(o, 'spec');
  for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
    // Limits without requests: the limits become the requests.
    const res = c.resources;
    if (isObj(res) && isObj(res.limits)) {
      const req = child(res, 'requests');
      for (const [k, v] of Object.entries(res.limits)) if (!(k in req)) req[k] = v;
    }
  }
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  defaultPodSpec(spec);
}

/** The pod template part of a workload, which gets PodSpec defaults but not Pod-only ones. */
function defaultPodTemplate(workloadSpec: Obj): void {
  const template = child(workloadSpec, 'template');
  defaultPodSpec(child(template, 'spec'));
}

function defaultPodSpec(spec: Obj): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (!isObj(spec.securityContext)) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) spec.terminationGracePeriodSeconds = 30;
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler';
  for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) defaultContainer(c, spec.hostNetwork === true);
  for (const v of arr(spec.volumes)) defaultVolume(v);
}

/** The tag ParseImageName finds: `latest` when neither tag nor digest is given. */
export function imageTag(image: string): string {
  // An unparsable reference yields no tag upstream (so IfNotPresent); the empty one is the common case.
  if (image === '' || /\s/.test(image)) return '';
  if (image.includes('@')) {
    const [name] = image.split('@');
    return tagOf(name!);
  }
  return tagOf(image) || 'latest';
}

function tagOf(name: string): string {
  const lastSlash = name.lastIndexOf('/');
  const lastColon = name.lastIndexOf(':');
  return lastColon > lastSlash ? name.slice(lastColon + 1) : '';
}

function defaultContainer(c: Obj, hostNetwork: boolean): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(typeof c.image === 'string' ? c.image : '') === 'latest' ? 'Always' : 'IfNotPresent';
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  for (const p of arr(c.ports)) {
    if (!p.protocol) p.protocol = 'TCP';
    if (hostNetwork && !p.hostPort) p.hostPort = p.containerPort;
  }
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) if (isObj(probe)) defaultProbe(probe);
  for (const hook of [c.lifecycle?.postStart, c.lifecycle?.preStop]) if (isObj(hook) && isObj(hook.httpGet)) defaultHTTPGet(hook.httpGet);
  for (const e of arr(c.env)) if (isObj(e.valueFrom?.fieldRef) && !e.valueFrom.fieldRef.apiVersion) e.valueFrom.fieldRef.apiVersion = 'v1';
}

function defaultProbe(p: Obj): void {
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  if (isObj(p.httpGet)) defaultHTTPGet(p.httpGet);
}

function defaultHTTPGet(h: Obj): void {
  if (!h.path) h.path = '/';
  if (!h.scheme) h.scheme = 'HTTP';
}

const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi',
  'ephemeral', 'image',
];

function defaultVolume(v: Obj): void {
  if (!VOLUME_SOURCES.some((k) => v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    if (isObj(v[k]) && (v[k].defaultMode === undefined || v[k].defaultMode === null)) v[k].defaultMode = 0o644;
  }
  if (isObj(v.hostPath) && v.hostPath.type === undefined) v.hostPath.type = '';
}

function defaultDeployment(o: Obj): void {
  const spec = child(o, 'spec');
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  const strategy = child(spec, 'strategy');
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    if (ru.maxUnavailable === undefined || ru.maxUnavailable === null) ru.maxUnavailable = '25%';
    if (ru.maxSurge === undefined || ru.maxSurge === null) ru.maxSurge = '25%';
  }
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  if (spec.progressDeadlineSeconds === undefined || spec.progressDeadlineSeconds === null) spec.progressDeadlineSeconds = 600;
  defaultPodTemplate(spec);
}

function defaultDaemonSet(o: Obj): void {
  const spec = child(o, 'spec');
  const strategy = child(spec, 'updateStrategy');
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    if (ru.maxUnavailable === undefined || ru.maxUnavailable === null) ru.maxUnavailable = 1;
    if (ru.maxSurge === undefined || ru.maxSurge === null) ru.maxSurge = 0;
  }
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  defaultPodTemplate(spec);
}
