// The files a netns pod's containers see, written as the kubelet's volume plugins write them:
// ConfigMap volumes (one file per key, or per item) and the projected service account
// (a token from the TokenRequest API bound to the pod, the cluster CA, the namespace), each
// in a directory under the pod's state dir that the sandbox bind-mounts into the containers.
// hostPath volumes need nothing: the containers see the host's filesystem.
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { KubeObject, Pod } from '../../api/types.js';
import { resourceFor } from '../../api/resources.js';
import { isNotFound } from '../../client/errors.js';
import type { RestClient } from '../../client/rest.js';

const configMapsResource = resourceFor('', 'configmaps')!;
/** as the kubelet's projected token: an hour, bound to the pod */
const TOKEN_EXPIRATION_SECONDS = 3607;

interface ConfigMapVolume {
  name: string;
  configMap?: { name: string; optional?: boolean; items?: { key: string; path: string }[] };
}

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export interface PodVolumes {
  /** volume name -> directory */
  volumes: Record<string, string>;
  serviceAccountDir?: string;
}

/** A relative path that stays inside its volume (the API server validates this too). */
function safePath(p: string): string {
  const n = normalize(p);
  if (n.startsWith('..') || n.startsWith('/')) throw new Error(`volume item path "${p}" leaves the volume`);
  return n;
}

async function writeConfigMap(client: RestClient, pod: Pod, v: ConfigMapVolume, dir: string): Promise<boolean> {
  const ref = v.configMap!;
  let cm: ConfigMap;
  try {
    cm = await client.get<ConfigMap>(configMapsResource, ref.name, { namespace: pod.metadata.namespace });
  } catch (err) {
    if (isNotFound(err) && ref.optional) return false;
    if (isNotFound(err)) throw new Error(`MountVolume.SetUp failed for volume "${v.name}": configmap "${ref.name}" not found`);
    throw err;
  }
  const files = new Map<string, Buffer>();
  for (const [k, val] of Object.entries(cm.data ?? {})) files.set(k, Buffer.from(val));
  for (const [k, val] of Object.entries(cm.binaryData ?? {})) files.set(k, Buffer.from(val, 'base64'));
  mkdirSync(dir, { recursive: true });
  const items = ref.items ?? [...files.keys()].map((key) => ({ key, path: key }));
  for (const it of items) {
    const content = files.get(it.key);
    if (content === undefined) throw new Error(`MountVolume.SetUp failed for volume "${v.name}": configmap references non-existent config key: ${it.key}`);
    const path = join(dir, safePath(it.path));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content, { mode: 0o644 });
  }
  return true;
}

interface TokenRequest {
  status?: { token?: string };
}

/**
 * The service account token from serviceaccounts/<name>/token, bound to the pod. A pod of the
 * implicit "default" ServiceAccount where none exists (nothing here creates them) runs without.
 */
async function writeServiceAccount(client: RestClient, pod: Pod, dir: string, ca: string | undefined): Promise<boolean> {
  const spec = pod.spec as { serviceAccountName?: string; automountServiceAccountToken?: boolean };
  if (spec.automountServiceAccountToken === false) return false;
  const sa = spec.serviceAccountName || 'default';
  const ns = pod.metadata.namespace ?? 'default';
  let tr: TokenRequest;
  try {
    tr = await client.request<TokenRequest>('POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/${encodeURIComponent(sa)}/token`, {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [], expirationSeconds: TOKEN_EXPIRATION_SECONDS, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } },
      },
    });
  } catch (err) {
    if (isNotFound(err) && sa === 'default') return false;
    throw err;
  }
  if (!tr.status?.token) throw new Error(`TokenRequest for serviceaccount ${ns}/${sa} returned no token`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'token'), tr.status.token, { mode: 0o600 });
  if (ca) writeFileSync(join(dir, 'ca.crt'), ca, { mode: 0o644 });
  writeFileSync(join(dir, 'namespace'), ns, { mode: 0o644 });
  return true;
}

/** Writes the pod's ConfigMap volumes and service account under podDir; throws while one is missing. */
export async function podVolumes(client: RestClient, pod: Pod, podDir: string, ca: string | undefined): Promise<PodVolumes> {
  const out: PodVolumes = { volumes: {} };
  for (const v of ((pod.spec as { volumes?: ConfigMapVolume[] }).volumes ?? [])) {
    if (!v.configMap) continue;
    const dir = join(podDir, 'volumes', v.name);
    if (await writeConfigMap(client, pod, v, dir)) out.volumes[v.name] = dir;
  }
  const saDir = join(podDir, 'serviceaccount');
  if (await writeServiceAccount(client, pod, saDir, ca)) out.serviceAccountDir = saDir;
  return out;
}

/**
 * Mount points the containers need that the host lacks (/var/run/secrets/..., a ConfigMap's
 * mountPath). The containers' mount namespaces share the host's filesystem, so an empty
 * directory has to exist there; the ones made here are removed when the agent stops (not
 * before: rmdir on a mount point detaches it from every running container using it).
 */
export class MountPoints {
  private readonly created: string[] = [];

  ensure(dir: string): void {
    let p = '';
    for (const part of dir.split('/').filter(Boolean)) {
      p += `/${part}`;
      if (existsSync(p)) continue;
      mkdirSync(p);
      this.created.push(p);
    }
  }

  removeAll(): void {
    for (const p of this.created.splice(0).reverse()) {
      try {
        rmdirSync(p);
      } catch {
        // not empty (something else wrote there) or gone: left alone
      }
    }
  }
}
