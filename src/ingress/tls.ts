import { createSecureContext, type SecureContext } from 'node:tls';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Secret } from '../api/types.js';
import { createCA, createServingCert } from '../pki/index.js';
import { logger } from '../observability/log.js';

const log = logger('ingress-tls');

export interface KeyPair {
  cert: string;
  key: string;
}

/** TLS 1.2 and 1.3 only, as ingress-nginx's default ssl-protocols. */
export const TLS_MIN_VERSION = 'TLSv1.2' as const;

export function secretKeyPair(secret: Secret): KeyPair | string {
  if (secret.type !== undefined && secret.type !== 'kubernetes.io/tls') return `type is ${secret.type}, not kubernetes.io/tls`;
  const crt = secret.data?.['tls.crt'] ?? (secret.stringData?.['tls.crt'] !== undefined ? Buffer.from(secret.stringData['tls.crt']).toString('base64') : undefined);
  const key = secret.data?.['tls.key'] ?? (secret.stringData?.['tls.key'] !== undefined ? Buffer.from(secret.stringData['tls.key']).toString('base64') : undefined);
  if (!crt || !key) return 'missing tls.crt or tls.key';
  return { cert: Buffer.from(crt, 'base64').toString('utf8'), key: Buffer.from(key, 'base64').toString('utf8') };
}

/** A secure context for a key pair, or an error string when the pair is unusable (key mismatch, bad PEM). */
export function secureContextFor(pair: KeyPair): SecureContext | string {
  try {
    const x = new X509Certificate(pair.cert);
    if (!x.checkPrivateKey(createPrivateKey(pair.key))) return 'tls.key does not match tls.crt';
    return createSecureContext({ cert: pair.cert, key: pair.key, minVersion: TLS_MIN_VERSION });
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Secure contexts per TLS Secret, built on first use and dropped when the Secret
 * changes, so a renewed certificate is served on the next handshake without a restart.
 */
export class CertificateStore {
  private readonly contexts = new Map<string, SecureContext | null>();

  constructor(
    private readonly secret: (key: string) => Secret | undefined,
    readonly defaultContext: SecureContext,
  ) {}

  invalidate(key: string): void {
    this.contexts.delete(key);
  }

  /** The context for a Secret key ('' or unusable → the default certificate). */
  contextFor(key: string | undefined): SecureContext {
    if (!key) return this.defaultContext;
    let ctx = this.contexts.get(key);
    if (ctx === undefined) {
      ctx = null;
      const s = this.secret(key);
      if (!s) log.warn('TLS Secret not found, serving the default certificate', { secret: key });
      else {
        const pair = secretKeyPair(s);
        const built = typeof pair === 'string' ? pair : secureContextFor(pair);
        if (typeof built === 'string') log.warn('Unusable TLS Secret, serving the default certificate', { secret: key, reason: built });
        else ctx = built;
      }
      this.contexts.set(key, ctx);
    }
    return ctx ?? this.defaultContext;
  }
}

/**
 * ingress-nginx's "Kubernetes Ingress Controller Fake Certificate": made at startup when
 * no --default-ssl-certificate is given (a throwaway CA signs it, as ingress-nginx does).
 */
export function generateDefaultCertificate(): KeyPair {
  const ca = createCA('Kubernetes Ingress Controller Fake CA', { validityDays: 365 });
  const leaf = createServingCert({ ca, commonName: 'Kubernetes Ingress Controller Fake Certificate', dnsNames: ['ingress.local'] });
  return { cert: leaf.certPem, key: leaf.keyPem };
}
