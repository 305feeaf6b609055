// ServiceAccount tokens, as kube-apiserver's TokenRequest API and service-account token
// authenticator: `POST .../serviceaccounts/<name>/token` (what `kubectl create token` sends)
// returns an ES256 JWT signed with the server's service-account key; a request bearing one
// is the user system:serviceaccount:<ns>:<name> in groups system:serviceaccounts and
// system:serviceaccounts:<ns>.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { KubeObject } from '../api/types.js';
import type { Authenticator, UserInfo } from './auth.js';
import { ApiError } from './errors.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const DEFAULT_EXPIRATION_SECONDS = 3600;
// kube-apiserver's floor for expirationSeconds
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 48 * 3600;

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export class ServiceAccountTokens implements Authenticator {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  constructor(signingKeyPem: string) {
    this.privateKey = createPrivateKey(signingKeyPem);
    this.publicKey = createPublicKey(this.privateKey);
  }

  /** TokenRequest for ServiceAccount `sa`: the request with its status (token, expiry) filled in. */
  issue(sa: KubeObject, request: KubeObject, now = Date.now()): Obj {
    const req = request as unknown as Obj;
    const spec: Obj = req.spec ?? {};
    let seconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < MIN_EXPIRATION_SECONDS) {
      throw new ApiError(422, 'Invalid', `TokenRequest.authentication.k8s.io "${sa.metadata.name}" is invalid: spec.expirationSeconds: Invalid value: ${JSON.stringify(seconds)}: may not specify a duration less than 10 minutes`, {
        name: sa.metadata.name,
        group: 'authentication.k8s.io',
        kind: 'TokenRequest',
        causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: may not specify a duration less than 10 minutes', field: 'spec.expirationSeconds' }],
      });
    }
    seconds = Math.min(seconds, MAX_EXPIRATION_SECONDS);
    const iat = Math.floor(now / 1000);
    const audiences: string[] = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences : [SERVICE_ACCOUNT_ISSUER];
    const ns = sa.metadata.namespace!;
    const claims = {
      aud: audiences,
      exp: iat + seconds,
      iat,
      iss: SERVICE_ACCOUNT_ISSUER,
      nbf: iat,
      sub: `system:serviceaccount:${ns}:${sa.metadata.name}`,
      'kubernetes.io': { namespace: ns, serviceaccount: { name: sa.metadata.name, uid: sa.metadata.uid } },
    };
    const head = `${b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(head), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: sa.metadata.name, namespace: ns, creationTimestamp: null },
      spec: { audiences, expirationSeconds: seconds, boundObjectRef: spec.boundObjectRef ?? null },
      status: { token: `${head}.${b64url(signature)}`, expirationTimestamp: new Date((iat + seconds) * 1000).toISOString().replace(/\.\d+Z$/, 'Z') },
    };
  }

  authenticate(authorization: string | undefined): UserInfo | undefined {
    const m = /^Bearer\s+([\w-]+)\.([\w-]+)\.([\w-]+)\s*$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const ok = verify('sha256', Buffer.from(`${m[1]}.${m[2]}`), { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(m[3]!, 'base64url'));
    if (!ok) return undefined;
    let claims: Obj;
    try {
      claims = JSON.parse(Buffer.from(m[2]!, 'base64url').toString('utf8')) as Obj;
    } catch {
      return undefined;
    }
    const now = Date.now() / 1000;
    if (claims.iss !== SERVICE_ACCOUNT_ISSUER || typeof claims.exp !== 'number' || claims.exp < now || (typeof claims.nbf === 'number' && claims.nbf > now + 60)) return undefined;
    const sm = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(String(claims.sub ?? ''));
    if (!sm) return undefined;
    return { name: claims.sub, uid: String(claims['kubernetes.io']?.serviceaccount?.uid ?? ''), groups: ['system:serviceaccounts', `system:serviceaccounts:${sm[1]}`, 'system:authenticated'] };
  }
}

/** `/api/v1/namespaces/<ns>/serviceaccounts/<name>/token`, or undefined */
export function tokenRequestPath(path: string): { namespace: string; name: string } | undefined {
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)\/token$/.exec(path);
  return m ? { namespace: decodeURIComponent(m[1]!), name: decodeURIComponent(m[2]!) } : undefined;
}
