// Kubernetes protobuf bodies (application/vnd.kubernetes.protobuf): the `k8s\0` magic, a
// runtime.Unknown envelope naming apiVersion/kind, and the kind's generated.proto message.
// Decoding yields the JSON shape Go's encoding/json would have produced for the same object:
// camelCase names, IntOrString as number or string, Quantity and Time as strings, and empty
// values dropped where the Go field is omitempty.

import type { KubeObject } from '../../api/types.js';
import { DEFINITIONS, definitionForKind, parseType, type ParsedType } from '../openapi/schema-table.js';
import { messageName, protoRoot } from './messages.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export class ProtobufDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufDecodeError';
  }
}

/** The object uses a field whose protobuf schema kubeplane does not define; JSON works. */
export class ProtobufUnsupportedError extends ProtobufDecodeError {
  constructor(readonly field: string) {
    super(`protobuf encoding of ${field} is not supported by this server; send the object as application/json`);
    this.name = 'ProtobufUnsupportedError';
  }
}

function jsonFieldName(path: string): string {
  return path.replace(/^io\.k8s\.[a-z.]+\.v1\./, '');
}

// Pointer scalars in the Go types: on the wire only when set, so a zero there is meaningful
// (replicas: 0). Non-pointer scalars are always written, so their zero means "unset".
const POINTER_SCALARS = new Set([
  'io.k8s.api.apps.v1.DeploymentSpec.replicas',
  'io.k8s.api.apps.v1.DeploymentSpec.revisionHistoryLimit',
  'io.k8s.api.apps.v1.DeploymentSpec.progressDeadlineSeconds',
  'io.k8s.api.apps.v1.DeploymentSpec.podReplacementPolicy',
  'io.k8s.api.apps.v1.DeploymentStatus.terminatingReplicas',
  'io.k8s.api.apps.v1.ReplicaSetStatus.terminatingReplicas',
  'io.k8s.api.apps.v1.ReplicaSetSpec.replicas',
  'io.k8s.api.apps.v1.DaemonSetSpec.revisionHistoryLimit',
  'io.k8s.api.core.v1.PodSpec.terminationGracePeriodSeconds',
  'io.k8s.api.core.v1.PodSpec.activeDeadlineSeconds',
  'io.k8s.api.core.v1.PodSpec.automountServiceAccountToken',
  'io.k8s.api.core.v1.PodSpec.shareProcessNamespace',
  'io.k8s.api.core.v1.PodSpec.priority',
  'io.k8s.api.core.v1.PodSpec.enableServiceLinks',
  'io.k8s.api.core.v1.PodSpec.setHostnameAsFQDN',
  'io.k8s.api.core.v1.PodSpec.hostUsers',
  'io.k8s.api.core.v1.ServiceAccount.automountServiceAccountToken',
  'io.k8s.api.core.v1.ConfigMap.immutable',
  'io.k8s.api.core.v1.Secret.immutable',
  'io.k8s.api.core.v1.ServiceSpec.allocateLoadBalancerNodePorts',
  'io.k8s.api.core.v1.ClientIPConfig.timeoutSeconds',
  'io.k8s.api.core.v1.Toleration.tolerationSeconds',
  'io.k8s.api.core.v1.Probe.terminationGracePeriodSeconds',
  'io.k8s.api.core.v1.KeyToPath.mode',
  'io.k8s.api.core.v1.SecretVolumeSource.defaultMode',
  'io.k8s.api.core.v1.SecretVolumeSource.optional',
  'io.k8s.api.core.v1.ConfigMapVolumeSource.defaultMode',
  'io.k8s.api.core.v1.ConfigMapVolumeSource.optional',
  'io.k8s.api.core.v1.ConfigMapKeySelector.optional',
  'io.k8s.api.core.v1.SecretKeySelector.optional',
  'io.k8s.api.core.v1.ConfigMapEnvSource.optional',
  'io.k8s.api.core.v1.SecretEnvSource.optional',
  'io.k8s.api.core.v1.GRPCAction.service',
  'io.k8s.api.core.v1.SecurityContext.privileged',
  'io.k8s.api.core.v1.SecurityContext.runAsUser',
  'io.k8s.api.core.v1.SecurityContext.runAsGroup',
  'io.k8s.api.core.v1.SecurityContext.runAsNonRoot',
  'io.k8s.api.core.v1.SecurityContext.readOnlyRootFilesystem',
  'io.k8s.api.core.v1.SecurityContext.allowPrivilegeEscalation',
  'io.k8s.api.core.v1.SecurityContext.procMount',
  'io.k8s.api.core.v1.PodSecurityContext.runAsUser',
  'io.k8s.api.core.v1.PodSecurityContext.runAsGroup',
  'io.k8s.api.core.v1.PodSecurityContext.runAsNonRoot',
  'io.k8s.api.core.v1.PodSecurityContext.fsGroup',
  'io.k8s.api.core.v1.PodSecurityContext.fsGroupChangePolicy',
  'io.k8s.api.core.v1.PodSecurityContext.supplementalGroupsPolicy',
  'io.k8s.api.core.v1.PodSecurityContext.seLinuxChangePolicy',
  'io.k8s.api.core.v1.SeccompProfile.localhostProfile',
  'io.k8s.api.core.v1.AppArmorProfile.localhostProfile',
  'io.k8s.api.core.v1.WindowsSecurityContextOptions.gmsaCredentialSpecName',
  'io.k8s.api.core.v1.WindowsSecurityContextOptions.gmsaCredentialSpec',
  'io.k8s.api.core.v1.WindowsSecurityContextOptions.runAsUserName',
  'io.k8s.api.core.v1.WindowsSecurityContextOptions.hostProcess',
  'io.k8s.api.core.v1.PodDNSConfigOption.value',
  'io.k8s.api.networking.v1.IngressClassParametersReference.scope',
  'io.k8s.api.networking.v1.IngressClassParametersReference.namespace',
  'io.k8s.api.networking.v1.IngressPortStatus.error',
  'io.k8s.api.core.v1.Event.series',
  'io.k8s.api.discovery.v1.EndpointConditions.ready',
  'io.k8s.api.discovery.v1.EndpointConditions.serving',
  'io.k8s.api.discovery.v1.EndpointConditions.terminating',
  'io.k8s.api.discovery.v1.EndpointPort.port',
  'io.k8s.api.discovery.v1.EndpointPort.name',
  'io.k8s.api.discovery.v1.EndpointPort.protocol',
  'io.k8s.api.discovery.v1.EndpointPort.appProtocol',
  'io.k8s.api.discovery.v1.Endpoint.hostname',
  'io.k8s.api.discovery.v1.Endpoint.nodeName',
  'io.k8s.api.discovery.v1.Endpoint.zone',
  'io.k8s.api.coordination.v1.LeaseSpec.leaseDurationSeconds',
  'io.k8s.api.coordination.v1.LeaseSpec.leaseTransitions',
  'io.k8s.api.coordination.v1.LeaseSpec.holderIdentity',
  'io.k8s.api.coordination.v1.LeaseSpec.strategy',
  'io.k8s.api.coordination.v1.LeaseSpec.preferredHolder',
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta.deletionGracePeriodSeconds',
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference.controller',
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference.blockOwnerDeletion',
]);

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function timeToJson(v: { seconds?: number; nanos?: number }, micro: boolean): string | null {
  const seconds = Number(v.seconds ?? 0);
  const nanos = Number(v.nanos ?? 0);
  if (seconds === 0 && nanos === 0) return null; // Go's zero metav1.Time encodes as null
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${iso}.${pad(Math.floor(nanos / 1000), 6)}Z` : `${iso}Z`;
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0);
}

function fromWire(p: ParsedType, v: unknown, path: string): unknown {
  if (p.kind === 'list') return (v as unknown[]).map((x) => fromWire(p.item, x, path));
  if (p.kind === 'map') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = fromWire(p.value, x, path);
    return out;
  }
  if (p.kind === 'ref') return messageToJson(p.name, v as Record<string, unknown>);
  const w = v as Record<string, unknown>;
  switch (p.name) {
    case 'Time':
      return timeToJson(w, false);
    case 'MicroTime':
      return timeToJson(w, true);
    case 'IntOrString':
      return Number(w.type ?? 0) === 1 ? (w.strVal ?? '') : (w.intVal ?? 0);
    case 'Quantity':
      return w.string ?? '';
    case 'object':
      if (path === 'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry.fieldsV1') {
        const raw = w.Raw as Uint8Array | undefined;
        return raw && raw.length > 0 ? JSON.parse(Buffer.from(raw).toString('utf8')) : {};
      }
      if ((v as Uint8Array).length > 0) throw new ProtobufUnsupportedError(jsonFieldName(path));
      return {};
    case 'bytes':
      return Buffer.from(v as Uint8Array).toString('base64');
    case 'int64':
      return Number(v);
    default:
      return v;
  }
}

function messageToJson(defName: string, msg: Record<string, unknown>): Record<string, unknown> {
  const def = DEFINITIONS[defName];
  const out: Record<string, unknown> = {};
  if (!def) return out;
  for (const [name, [type, id, , extras]] of Object.entries(def.fields)) {
    if (id === 0 || !(name in msg) || msg[name] === undefined || msg[name] === null) continue;
    const parsed = parseType(type);
    const path = `${defName}.${name}`;
    const value = fromWire(parsed, msg[name], path);
    if (parsed.kind === 'map' && Object.keys(value as object).length === 0) continue;
    // IntOrString is a struct in Go, so encoding/json never omits it: a 0 on the wire stays.
    const isStruct = parsed.kind === 'ref' || (parsed.kind === 'scalar' && parsed.name === 'IntOrString');
    if (isZero(value) && !isStruct && !POINTER_SCALARS.has(path) && !extras?.required) continue;
    if (extras?.inline && typeof value === 'object' && value !== null) Object.assign(out, value);
    else out[name] = value;
  }
  return out;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Decodes a `k8s\0`-framed protobuf body into the object's JSON form. */
export function decodeProtobuf(body: Uint8Array): KubeObject {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new ProtobufDecodeError('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  const root = protoRoot();
  let envelope: Record<string, any>;
  try {
    envelope = root.lookupType('k8s_Unknown').decode(buf.subarray(4)) as unknown as Record<string, any>;
  } catch (e) {
    throw new ProtobufDecodeError(`unable to decode the protobuf envelope: ${(e as Error).message}`);
  }
  const apiVersion = String(envelope.typeMeta?.apiVersion ?? '');
  const kind = String(envelope.typeMeta?.kind ?? '');
  if (!apiVersion || !kind) throw new ProtobufDecodeError('protobuf envelope does not name an apiVersion and kind');
  if (envelope.contentEncoding) throw new ProtobufDecodeError(`unsupported protobuf content encoding ${JSON.stringify(envelope.contentEncoding)}`);
  const { group, version } = splitApiVersion(apiVersion);
  const defName = definitionForKind(group, version, kind);
  if (!defName) throw new ProtobufDecodeError(`no protobuf decoder for ${apiVersion}, Kind=${kind}`);
  let msg: Record<string, unknown>;
  try {
    const type = root.lookupType(messageName(defName));
    msg = type.toObject(type.decode(envelope.raw ?? new Uint8Array()), { longs: Number, defaults: false, arrays: false, objects: false }) as Record<string, unknown>;
  } catch (e) {
    throw new ProtobufDecodeError(`unable to decode ${apiVersion}, Kind=${kind} from protobuf: ${(e as Error).message}`);
  }
  const json = messageToJson(defName, msg);
  return { apiVersion, kind, ...json, metadata: (json.metadata as KubeObject['metadata']) ?? {} } as KubeObject;
}

function timeToWire(v: unknown): Record<string, number> | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return undefined;
  const frac = /\.(\d+)Z$/.exec(v)?.[1] ?? '';
  return { seconds: Math.floor(ms / 1000), nanos: frac ? Number(frac.padEnd(9, '0').slice(0, 9)) : 0 };
}

function toWire(p: ParsedType, v: unknown, path: string): unknown {
  if (v === null || v === undefined) return undefined;
  if (p.kind === 'list') return Array.isArray(v) ? v.map((x) => toWire(p.item, x, path)) : undefined;
  if (p.kind === 'map') {
    if (typeof v !== 'object') return undefined;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toWire(p.value, x, path);
    return out;
  }
  if (p.kind === 'ref') return typeof v === 'object' ? jsonToMessage(p.name, v as Record<string, unknown>) : undefined;
  switch (p.name) {
    case 'Time':
    case 'MicroTime':
      return timeToWire(v);
    case 'IntOrString':
      return typeof v === 'string' ? { type: 1, strVal: v } : { type: 0, intVal: Number(v) };
    case 'Quantity':
      return { string: String(v) };
    case 'object':
      if (path === 'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry.fieldsV1') return { Raw: Buffer.from(JSON.stringify(v)) };
      if (typeof v === 'object' && Object.keys(v as object).length > 0) throw new ProtobufUnsupportedError(jsonFieldName(path));
      return Buffer.alloc(0);
    case 'bytes':
      return Buffer.from(String(v), 'base64');
    default:
      return v;
  }
}

function jsonToMessage(defName: string, obj: Record<string, unknown>): Record<string, unknown> {
  const def = DEFINITIONS[defName];
  const out: Record<string, unknown> = {};
  if (!def) return out;
  for (const [name, [type, id, , extras]] of Object.entries(def.fields)) {
    if (id === 0) continue;
    const parsed = parseType(type);
    // Embedded structs take their fields from the enclosing JSON object.
    const source = extras?.inline && parsed.kind === 'ref' ? obj : obj[name];
    const wire = toWire(parsed, source, `${defName}.${name}`);
    if (wire !== undefined) out[name] = wire;
  }
  return out;
}

/** Encodes an object of a served kind as a `k8s\0`-framed protobuf body. */
export function encodeProtobuf(obj: KubeObject): Uint8Array {
  const apiVersion = obj.apiVersion ?? '';
  const kind = obj.kind ?? '';
  const { group, version } = splitApiVersion(apiVersion);
  const defName = definitionForKind(group, version, kind);
  if (!defName) throw new ProtobufDecodeError(`no protobuf encoder for ${apiVersion}, Kind=${kind}`);
  const root = protoRoot();
  const type = root.lookupType(messageName(defName));
  const raw = type.encode(type.fromObject(jsonToMessage(defName, obj as unknown as Record<string, unknown>))).finish();
  const unknownType = root.lookupType('k8s_Unknown');
  const envelope = unknownType.encode(unknownType.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish();
  return Buffer.concat([MAGIC, envelope]);
}

/** Whether a Content-Type header names Kubernetes protobuf. */
export function isProtobufContentType(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;
}
