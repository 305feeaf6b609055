// meta.k8s.io/v1 Table output, with the columns and cell values kube-apiserver's printers produce
// (kubernetes pkg/printers/internalversion/printers.go), so `kubectl get` prints what it prints
// against a real cluster. The server always renders the wide columns; kubectl hides priority>0
// columns unless `-o wide`.

import type { ResourceInfo } from '../api/resources.js';
import { labelSelectorString, selectorFromLabelSelector } from '../api/selectors.js';
import type { KubeObject, ObjectMeta } from '../api/types.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  object?: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions?: TableColumnDefinition[];
  rows: TableRow[];
}

export interface TableOptions {
  /** What rows[].object carries: PartialObjectMetadata (default), the full object, or nothing. */
  includeObject?: 'None' | 'Metadata' | 'Object';
  /** Omit columnDefinitions, as for every watch event after the first. */
  noHeaders?: boolean;
}

// ---- formatting helpers (apimachinery duration.HumanDuration, labels.FormatLabels, ...) ----

/** duration.HumanDuration: `5s`, `3m2s`, `15m`, `5h3m`, `2d`, `3y12d`. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  // Up to 2 s of clock skew counts as "now".
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(seconds / 3600);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    return dy === 0 ? `${Math.trunc(hours / 24 / 365)}y` : `${Math.trunc(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

function since(timestamp: unknown, now: Date): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now.getTime() - t);
}

/** labels.FormatLabels: sorted `k=v` pairs, or `<none>`. */
export function formatLabels(labels: Record<string, string> | undefined | null): string {
  const set = obj(labels);
  const keys = Object.keys(set).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${str(set[k])}`).join(',');
}

/** metav1.FormatLabelSelector: the selector's text, `<none>` when it selects nothing or everything. */
function formatLabelSelector(sel: unknown): string {
  try {
    const text = labelSelectorString(selectorFromLabelSelector(sel as never));
    return text.length === 0 ? '<none>' : text;
  } catch {
    return '<error>';
  }
}

function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
// Cell text from whatever a field holds, never throwing on a list or object where text belongs.
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');
const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : 0);

function layoutContainers(containers: unknown): [string, string] {
  const list = arr(containers).map(obj);
  return [list.map((c) => str(c.name)).join(','), list.map((c) => str(c.image)).join(',')];
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// ---- column definitions -----------------------------------------------------

const NAME_DOC =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const AGE_DOC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

function col(name: string, type: string, description: string, priority = 0, format = ''): TableColumnDefinition {
  return { name, type, format, description, priority };
}
const NAME = col('Name', 'string', NAME_DOC, 0, 'name');
const AGE = col('Age', 'string', AGE_DOC);
const CONTAINERS = col('Containers', 'string', 'Names of each container in the template.', 1);
const IMAGES = col('Images', 'string', 'Images referenced by each container in the template.', 1);
const SELECTOR_WIDE = (doc: string) => col('Selector', 'string', doc, 1);

type Printer = { columns: TableColumnDefinition[]; row: (o: Obj, now: Date) => TableRow };

// ---- per-kind printers --------------------------------------------------------

function printPod(pod: Obj, now: Date): TableRow {
  const spec = obj(pod.spec);
  const status = obj(pod.status);
  let restarts = 0;
  let sidecarRestarts = 0;
  let total = arr(spec.containers).length;
  let ready = 0;
  let lastRestart = 0;
  let lastSidecarRestart = 0;
  const phase = str(status.phase);
  let reason = status.reason ? str(status.reason) : phase;
  for (const c of arr(status.conditions)) if (c?.type === 'PodScheduled' && c?.reason === 'SchedulingGated') reason = 'SchedulingGated';
  const row: TableRow = { cells: [] };
  if (phase === 'Succeeded') row.conditions = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
  if (phase === 'Failed') row.conditions = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

  // Sidecars (init containers with restartPolicy Always) count as regular containers.
  const initSpecs = new Map<string, Obj>();
  const initList = arr(spec.initContainers).map(obj);
  for (const c of initList) {
    initSpecs.set(str(c.name), c);
    if (c.restartPolicy === 'Always') total++;
  }
  const finishedAt = (cs: Obj): number => {
    const t = Date.parse(str(cs.lastState?.terminated?.finishedAt));
    return Number.isNaN(t) ? 0 : t;
  };
  let initializing = false;
  const initStatuses = arr(status.initContainerStatuses).map(obj);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i]!;
    const state = obj(cs.state);
    const isSidecar = initSpecs.get(str(cs.name))?.restartPolicy === 'Always';
    restarts += int(cs.restartCount);
    lastRestart = Math.max(lastRestart, finishedAt(cs));
    if (isSidecar) {
      sidecarRestarts += int(cs.restartCount);
      lastSidecarRestart = Math.max(lastSidecarRestart, finishedAt(cs));
    }
    if (state.terminated && int(state.terminated.exitCode) === 0) continue;
    if (isSidecar && cs.started === true) {
      if (cs.ready) ready++;
      continue;
    }
    if (state.terminated) {
      const t = obj(state.terminated);
      if (!t.reason) reason = t.signal ? `Init:Signal:${int(t.signal)}` : `Init:ExitCode:${int(t.exitCode)}`;
      else reason = `Init:${str(t.reason)}`;
    } else if (state.waiting?.reason && state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(state.waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initList.length}`;
    }
    initializing = true;
    break;
  }

  const initialized = arr(status.conditions).some((c) => c?.type === 'Initialized' && c?.status === 'True');
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = arr(status.containerStatuses).map(obj);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i]!;
      const state = obj(cs.state);
      restarts += int(cs.restartCount);
      lastRestart = Math.max(lastRestart, finishedAt(cs));
      if (state.waiting?.reason) reason = str(state.waiting.reason);
      else if (state.terminated?.reason) reason = str(state.terminated.reason);
      else if (state.terminated) reason = state.terminated.signal ? `Signal:${int(state.terminated.signal)}` : `ExitCode:${int(state.terminated.exitCode)}`;
      else if (cs.ready && state.running) {
        hasRunning = true;
        ready++;
      }
    }
    // A pod whose last-listed container completed but another still runs is still running.
    if (reason === 'Completed' && hasRunning) {
      reason = arr(status.conditions).some((c) => c?.type === 'Ready' && c?.status === 'True') ? 'Running' : 'NotReady';
    }
  }

  const deleting = Boolean(pod.metadata?.deletionTimestamp);
  if (deleting && status.reason === 'NodeLost') reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart !== 0) restartsText = `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)`;

  const podIP = str(arr(status.podIPs)[0]?.ip) || '<none>';
  const nodeName = str(spec.nodeName) || '<none>';
  const nominated = str(status.nominatedNodeName) || '<none>';
  let gates = '<none>';
  const readinessGates = arr(spec.readinessGates);
  if (readinessGates.length > 0) {
    let trueCount = 0;
    for (const g of readinessGates) {
      const cond = arr(status.conditions).find((c) => c?.type === g?.conditionType);
      if (cond?.status === 'True') trueCount++;
    }
    gates = `${trueCount}/${readinessGates.length}`;
  }
  row.cells = [str(pod.metadata?.name), `${ready}/${total}`, reason, restartsText, since(pod.metadata?.creationTimestamp, now), podIP, nodeName, nominated, gates];
  return row;
}

function loadBalancerAddresses(ingress: unknown): string[] {
  const set = new Set<string>();
  for (const ing of arr(ingress)) {
    if (ing?.ip) set.add(str(ing.ip));
    else if (ing?.hostname) set.add(str(ing.hostname));
  }
  return [...set].sort();
}

function serviceExternalIP(svc: Obj): string {
  const spec = obj(svc.spec);
  const externalIPs = arr(spec.externalIPs).map(str);
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(svc.status?.loadBalancer?.ingress);
      if (externalIPs.length > 0) return [...lb, ...externalIPs].join(',');
      return lb.length > 0 ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
    default:
      return '<unknown>';
  }
}

function printService(svc: Obj, now: Date): TableRow {
  const spec = obj(svc.spec);
  const clusterIP = str(arr(spec.clusterIPs)[0]) || '<none>';
  const ports = arr(spec.ports)
    .map(obj)
    .map((p) => (int(p.nodePort) > 0 ? `${int(p.port)}:${int(p.nodePort)}/${str(p.protocol)}` : `${int(p.port)}/${str(p.protocol)}`))
    .join(',');
  return {
    cells: [str(svc.metadata?.name), str(spec.type), clusterIP, serviceExternalIP(svc), ports || '<none>', since(svc.metadata?.creationTimestamp, now), formatLabels(spec.selector)],
  };
}

function printEndpoints(ep: Obj, now: Date): TableRow {
  const subsets = arr(ep.subsets).map(obj);
  let text: string;
  if (subsets.length === 0) text = '<none>';
  else {
    const list: string[] = [];
    const max = 3;
    let more = false;
    let count = 0;
    for (const ss of subsets) {
      const addrs = arr(ss.addresses).map(obj);
      const ports = arr(ss.ports).map(obj);
      if (ports.length === 0) {
        // Headless services may have no ports.
        count += addrs.length;
        for (const a of addrs) {
          if (list.length === max) {
            more = true;
            break;
          }
          list.push(str(a.ip));
        }
        continue;
      }
      for (const port of ports) {
        count += addrs.length;
        for (const a of addrs) {
          if (list.length === max) {
            more = true;
            break;
          }
          list.push(joinHostPort(str(a.ip), int(port.port)));
        }
      }
    }
    text = more ? `${list.join(',')} + ${count - max} more...` : list.join(',');
  }
  return { cells: [str(ep.metadata?.name), text, since(ep.metadata?.creationTimestamp, now)] };
}

function printEndpointSlice(es: Obj, now: Date): TableRow {
  const max = 3;
  const portList: string[] = [];
  let portCount = 0;
  let portMore = false;
  for (const p of arr(es.ports).map(obj)) {
    if (portList.length < max) portList.push(typeof p.port === 'number' ? String(p.port) : p.name !== undefined && p.name !== null ? str(p.name) : '*');
    else if (portList.length === max) portMore = true;
    portCount++;
  }
  const addrList: string[] = [];
  let addrCount = 0;
  let addrMore = false;
  for (const ep of arr(es.endpoints).map(obj)) {
    for (const a of arr(ep.addresses)) {
      if (addrList.length < max) addrList.push(str(a));
      else if (addrList.length === max) addrMore = true;
      addrCount++;
    }
  }
  return {
    cells: [
      str(es.metadata?.name),
      str(es.addressType),
      listWithMore(portList, portMore, portCount, max),
      listWithMore(addrList, addrMore, addrCount, max),
      since(es.metadata?.creationTimestamp, now),
    ],
  };
}

function printIngress(ing: Obj, now: Date): TableRow {
  const spec = obj(ing.spec);
  const rules = arr(spec.rules).map(obj);
  const list: string[] = [];
  const max = 3;
  let more = false;
  for (const r of rules) {
    if (list.length === max) more = true;
    if (!more && r.host) list.push(str(r.host));
  }
  let hosts = list.length === 0 ? '*' : list.join(',');
  if (more) hosts = `${list.join(',')} + ${rules.length - max} more...`;
  const address = loadBalancerAddresses(ing.status?.loadBalancer?.ingress).join(',');
  const ports = arr(spec.tls).length > 0 ? '80, 443' : '80';
  const className = spec.ingressClassName !== undefined && spec.ingressClassName !== null ? str(spec.ingressClassName) : '<none>';
  return { cells: [str(ing.metadata?.name), className, hosts, address, ports, since(ing.metadata?.creationTimestamp, now)] };
}

function printIngressClass(ic: Obj, now: Date): TableRow {
  const spec = obj(ic.spec);
  let parameters = '<none>';
  if (spec.parameters && typeof spec.parameters === 'object') {
    const p = obj(spec.parameters);
    parameters = str(p.kind);
    if (p.apiGroup !== undefined && p.apiGroup !== null) parameters += `.${str(p.apiGroup)}`;
    parameters += `/${str(p.name)}`;
  }
  return { cells: [str(ic.metadata?.name), str(spec.controller), parameters, since(ic.metadata?.creationTimestamp, now)] };
}

function printNode(node: Obj, now: Date): TableRow {
  const status = obj(node.status);
  const info = obj(status.nodeInfo);
  const ready = arr(status.conditions).find((c) => c?.type === 'Ready');
  const parts: string[] = [];
  if (ready) parts.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (parts.length === 0) parts.push('Unknown');
  if (node.spec?.unschedulable === true) parts.push('SchedulingDisabled');
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(obj(node.metadata?.labels))) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(str(v));
  }
  const address = (type: string) => str(arr(status.addresses).find((a) => a?.type === type)?.address) || '<none>';
  return {
    cells: [
      str(node.metadata?.name),
      parts.join(','),
      roles.size > 0 ? [...roles].sort().join(',') : '<none>',
      since(node.metadata?.creationTimestamp, now),
      str(info.kubeletVersion),
      address('InternalIP'),
      address('ExternalIP'),
      str(info.osImage) || '<unknown>',
      str(info.kernelVersion) || '<unknown>',
      str(info.containerRuntimeVersion) || '<unknown>',
    ],
  };
}

function printEvent(ev: Obj, now: Date): TableRow {
  let first = since(ev.firstTimestamp, now);
  if (!ev.firstTimestamp) first = since(ev.eventTime, now);
  let last = since(ev.lastTimestamp, now);
  if (!ev.lastTimestamp) last = first;
  let count = int(ev.count);
  if (ev.series && typeof ev.series === 'object') {
    last = since(ev.series.lastObservedTime, now);
    count = int(ev.series.count);
  } else if (count === 0) {
    // Singleton events carry no count in the events.k8s.io API.
    count = 1;
  }
  const involved = obj(ev.involvedObject);
  const kind = str(involved.kind).toLowerCase();
  const target = involved.name ? `${kind}/${str(involved.name)}` : kind;
  const source = obj(ev.source);
  const component = str(source.component) || str(ev.reportingComponent);
  const instance = str(source.host) || str(ev.reportingInstance);
  return {
    cells: [last, str(ev.type), str(ev.reason), target, str(involved.fieldPath), instance ? `${component}, ${instance}` : component, str(ev.message).trim(), first, count, str(ev.metadata?.name)],
  };
}

function printDeployment(d: Obj, now: Date): TableRow {
  const spec = obj(d.spec);
  const status = obj(d.status);
  const [names, images] = layoutContainers(spec.template?.spec?.containers);
  let selector: string;
  try {
    selector = labelSelectorString(selectorFromLabelSelector(spec.selector));
  } catch {
    selector = '<invalid>';
  }
  return {
    cells: [
      str(d.metadata?.name),
      `${int(status.readyReplicas)}/${int(spec.replicas)}`,
      int(status.updatedReplicas),
      int(status.availableReplicas),
      since(d.metadata?.creationTimestamp, now),
      names,
      images,
      selector,
    ],
  };
}

function printReplicaSet(rs: Obj, now: Date): TableRow {
  const spec = obj(rs.spec);
  const status = obj(rs.status);
  const [names, images] = layoutContainers(spec.template?.spec?.containers);
  return {
    cells: [str(rs.metadata?.name), int(spec.replicas), int(status.replicas), int(status.readyReplicas), since(rs.metadata?.creationTimestamp, now), names, images, formatLabelSelector(spec.selector)],
  };
}

function printDaemonSet(ds: Obj, now: Date): TableRow {
  const spec = obj(ds.spec);
  const status = obj(ds.status);
  const [names, images] = layoutContainers(spec.template?.spec?.containers);
  return {
    cells: [
      str(ds.metadata?.name),
      int(status.desiredNumberScheduled),
      int(status.currentNumberScheduled),
      int(status.numberReady),
      int(status.updatedNumberScheduled),
      int(status.numberAvailable),
      formatLabels(spec.template?.spec?.nodeSelector),
      since(ds.metadata?.creationTimestamp, now),
      names,
      images,
      formatLabelSelector(spec.selector),
    ],
  };
}

const PRINTERS: Record<string, Printer> = {
  '/namespaces': {
    columns: [NAME, col('Status', 'string', 'The status of the namespace'), AGE],
    row: (o, now) => ({ cells: [str(o.metadata?.name), str(o.status?.phase), since(o.metadata?.creationTimestamp, now)] }),
  },
  '/services': {
    columns: [
      NAME,
      col('Type', 'string', 'type determines how the Service is exposed.'),
      col('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
      col('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
      col('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
      AGE,
      SELECTOR_WIDE('Route service traffic to pods with label keys and values matching this selector.'),
    ],
    row: printService,
  },
  '/endpoints': {
    columns: [NAME, col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'), AGE],
    row: printEndpoints,
  },
  '/pods': {
    columns: [
      NAME,
      col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE,
      col('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
      col('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
      col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', 1),
      col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
    ],
    row: printPod,
  },
  '/nodes': {
    columns: [
      NAME,
      col('Status', 'string', 'The status of the node'),
      col('Roles', 'string', 'The roles of the node'),
      AGE,
      col('Version', 'string', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
      col('External-IP', 'string', 'List of addresses reachable to the node.', 1),
      col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      col('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      col('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
    ],
    row: printNode,
  },
  '/secrets': {
    columns: [NAME, col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'), col('Data', 'string', 'Data contains the secret data.'), AGE],
    row: (o, now) => ({ cells: [str(o.metadata?.name), str(o.type), Object.keys(obj(o.data)).length, since(o.metadata?.creationTimestamp, now)] }),
  },
  '/configmaps': {
    columns: [NAME, col('Data', 'string', 'Data contains the configuration data.'), AGE],
    row: (o, now) => ({ cells: [str(o.metadata?.name), Object.keys(obj(o.data)).length + Object.keys(obj(o.binaryData)).length, since(o.metadata?.creationTimestamp, now)] }),
  },
  '/serviceaccounts': {
    columns: [NAME, col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE],
    row: (o, now) => ({ cells: [str(o.metadata?.name), arr(o.secrets).length, since(o.metadata?.creationTimestamp, now)] }),
  },
  '/events': {
    columns: [
      col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
      col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
      col('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
      col('Object', 'string', 'The object that this event is about.'),
      col('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', 1),
      col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
      col('Message', 'string', 'A human-readable description of the status of this operation.'),
      col('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
      col('Count', 'string', 'The number of times this event has occurred.', 1),
      col('Name', 'string', NAME_DOC, 1, 'name'),
    ],
    row: printEvent,
  },
  'discovery.k8s.io/endpointslices': {
    columns: [
      NAME,
      col('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice.'),
      col('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
      col('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice.'),
      AGE,
    ],
    row: printEndpointSlice,
  },
  'networking.k8s.io/ingresses': {
    columns: [
      NAME,
      col('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
      col('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
      col('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
      col('Ports', 'string', 'Ports of TLS configurations that open'),
      AGE,
    ],
    row: printIngress,
  },
  'networking.k8s.io/ingressclasses': {
    columns: [
      NAME,
      col('Controller', 'string', 'Controller that is responsible for handling this class'),
      col('Parameters', 'string', 'A reference to a resource with additional parameters'),
      AGE,
    ],
    row: printIngressClass,
  },
  'scheduling.k8s.io/priorityclasses': {
    columns: [
      NAME,
      col('Value', 'integer', 'value is the integer value of this priority class.'),
      col('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority.'),
      AGE,
      col('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority.'),
    ],
    row: (o, now) => ({ cells: [str(o.metadata?.name), o.value ?? 0, o.globalDefault === true, since(o.metadata?.creationTimestamp, now), str(o.preemptionPolicy)] }),
  },
  'coordination.k8s.io/leases': {
    columns: [NAME, col('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'), AGE],
    row: (o, now) => ({ cells: [str(o.metadata?.name), str(o.spec?.holderIdentity), since(o.metadata?.creationTimestamp, now)] }),
  },
  'apps/deployments': {
    columns: [
      NAME,
      col('Ready', 'string', 'Number of the pod with ready state'),
      col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR_WIDE('Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.'),
    ],
    row: printDeployment,
  },
  'apps/replicasets': {
    columns: [
      NAME,
      col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
      col('Current', 'integer', 'Replicas is the most recently oberved number of replicas.'),
      col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR_WIDE('Selector is a label query over pods that should match the replica count.'),
    ],
    row: printReplicaSet,
  },
  'apps/daemonsets': {
    columns: [
      NAME,
      col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).'),
      col('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
      col('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
      col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
      col('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)'),
      col('Node Selector', 'string', "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node."),
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR_WIDE("A label query over pods that are managed by the daemon set. Must match in order to be controlled."),
    ],
    row: printDaemonSet,
  },
};

// printRoleBinding / printClusterRoleBinding: `Kind/name` of the role, subjects by kind in the wide columns.
function bindingPrinter(scope: string, roleRefDoc: string): Printer {
  return {
    columns: [
      NAME,
      col('Role', 'string', roleRefDoc),
      AGE,
      col('Users', 'string', `Users in the ${scope}`, 1),
      col('Groups', 'string', `Groups in the ${scope}`, 1),
      col('ServiceAccounts', 'string', `ServiceAccounts in the ${scope}`, 1),
    ],
    row: (o, now) => {
      const subjects = arr(o.subjects);
      const names = (kind: string) => subjects.filter((s) => s?.kind === kind).map((s) => (kind === 'ServiceAccount' ? `${str(s.namespace)}:${str(s.name)}` : str(s.name))).join(', ');
      return { cells: [str(o.metadata?.name), `${str(o.roleRef?.kind)}/${str(o.roleRef?.name)}`, since(o.metadata?.creationTimestamp, now), names('User'), names('Group'), names('ServiceAccount')] };
    },
  };
}
PRINTERS['rbac.authorization.k8s.io/rolebindings'] = bindingPrinter(
  'roleBinding',
  'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.',
);
PRINTERS['rbac.authorization.k8s.io/clusterrolebindings'] = bindingPrinter(
  'clusterRoleBinding',
  'RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.',
);

/** rest.NewDefaultTableConvertor: NAME and a `Created At` date, for kinds without a printer. */
const DEFAULT_PRINTER: Printer = {
  columns: [NAME, col('Created At', 'date', AGE_DOC)],
  row: (o) => ({ cells: [str(o.metadata?.name), str(o.metadata?.creationTimestamp) ? new Date(Date.parse(o.metadata.creationTimestamp)).toISOString().replace(/\.\d{3}Z$/, 'Z') : null] }),
};

/** The column definitions for a resource, as a Table's first response carries them. */
export function tableColumns(info: Pick<ResourceInfo, 'group' | 'resource'>): TableColumnDefinition[] {
  return (PRINTERS[`${info.group}/${info.resource}`] ?? DEFAULT_PRINTER).columns.map((c) => ({ ...c }));
}

/**
 * PartialObjectMetadata for rows[].object, as includeObject=Metadata (the default) returns it.
 * It shares the object's metadata rather than copying it: a Table is built to be serialized.
 */
export function partialObjectMetadata(o: KubeObject): { kind: 'PartialObjectMetadata'; apiVersion: 'meta.k8s.io/v1'; metadata: ObjectMeta } {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata ?? {} };
}

/**
 * Renders objects as a meta.k8s.io/v1 Table. For a single GET pass one object and its
 * resourceVersion in `listMeta`; for a list pass the list's metadata.
 */
export function toTable(
  info: Pick<ResourceInfo, 'group' | 'resource'>,
  objs: KubeObject[],
  opts: TableOptions,
  listMeta: { resourceVersion?: string; continue?: string; remainingItemCount?: number },
  now: Date,
): Table {
  const printer = PRINTERS[`${info.group}/${info.resource}`] ?? DEFAULT_PRINTER;
  const metadata: Table['metadata'] = {};
  if (listMeta.resourceVersion) metadata.resourceVersion = listMeta.resourceVersion;
  if (listMeta.continue) metadata.continue = listMeta.continue;
  if (listMeta.remainingItemCount !== undefined && listMeta.remainingItemCount !== null) metadata.remainingItemCount = listMeta.remainingItemCount;
  const include = opts.includeObject ?? 'Metadata';
  const rows = objs.map((o) => {
    const row = printer.row(o as unknown as Obj, now);
    if (include === 'Metadata') row.object = partialObjectMetadata(o);
    else if (include === 'Object') row.object = o;
    return row;
  });
  const table: Table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata, rows };
  if (!opts.noHeaders) table.columnDefinitions = tableColumns(info);
  // Key order as kube-apiserver writes it: columnDefinitions before rows.
  return opts.noHeaders ? table : { kind: table.kind, apiVersion: table.apiVersion, metadata, columnDefinitions: table.columnDefinitions, rows };
}
