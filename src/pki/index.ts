// A small X.509 toolkit: node:crypto makes the keys and signatures, the certificate DER is
// built here, so the API server and the ingress controller need no openssl binary.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import * as der from './der.js';

export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

export interface ServingCertOptions {
  ca: CertKeyPair;
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  /** default 365 days */
  validityDays?: number;
  /** also allow use as a TLS client certificate */
  clientAuth?: boolean;
  /** subject organizations (O=), e.g. a client cert's groups */
  organizations?: string[];
}

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

// Clock skew between machines should not make a fresh certificate "not yet valid".
const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;

function name(commonName: string, organizations: string[] = []): Uint8Array {
  const rdns = organizations.map((o) => der.set(der.sequence(der.oid(OID.organization), der.utf8String(o))));
  rdns.push(der.set(der.sequence(der.oid(OID.commonName), der.utf8String(commonName))));
  return der.sequence(...rdns);
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? der.sequence(der.oid(id), der.boolean(true), der.octetString(value)) : der.sequence(der.oid(id), der.octetString(value));
}

function newKey(): { privateKey: KeyObject; spki: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })) };
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits */
function keyIdentifier(spki: Uint8Array): Uint8Array {
  const [, bits] = der.children(der.children(spki)[0]!.body);
  return new Uint8Array(createHash('sha1').update(bits!.body.subarray(1)).digest());
}

function serialNumber(): Uint8Array {
  const b = randomBytes(16);
  b[0]! &= 0x7f; // positive
  return new Uint8Array(b);
}

function pem(label: string, body: Uint8Array): string {
  const b64 = Buffer.from(body).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

function unpem(text: string): Uint8Array {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  if (!m) throw new Error('no PEM certificate found');
  return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

interface Parts {
  issuer: Uint8Array;
  subject: Uint8Array;
  spki: Uint8Array;
  issuerKey: KeyObject;
  issuerSpki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  extensions: Uint8Array[];
}

function signCertificate(p: Parts): Uint8Array {
  const algorithm = der.sequence(der.oid(OID.ecdsaWithSHA256));
  const exts = [
    ...p.extensions,
    extension(OID.subjectKeyIdentifier, false, der.octetString(keyIdentifier(p.spki))),
    extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicit(0, keyIdentifier(p.issuerSpki)))),
  ];
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)), // v3
    der.integer(serialNumber()),
    algorithm,
    p.issuer,
    der.sequence(der.time(p.notBefore), der.time(p.notAfter)),
    p.subject,
    p.spki,
    der.explicit(3, der.sequence(...exts)),
  );
  const signature = sign('sha256', tbs, p.issuerKey); // ECDSA signatures come out DER-encoded
  return der.sequence(tbs, algorithm, der.bitString(new Uint8Array(signature)));
}

/** A self-signed CA (EC P-256, ten years by default). */
export function createCA(commonName: string, opts: { validityDays?: number } = {}): CertKeyPair {
  const { privateKey, spki } = newKey();
  const now = Date.now();
  const subject = name(commonName);
  const cert = signCertificate({
    issuer: subject,
    subject,
    spki,
    issuerKey: privateKey,
    issuerSpki: spki,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + (opts.validityDays ?? 3650) * DAY_MS),
    extensions: [
      extension(OID.basicConstraints, true, der.sequence(der.boolean(true))),
      // digitalSignature(0), keyCertSign(5), cRLSign(6)
      extension(OID.keyUsage, true, der.bitString(Uint8Array.of(0x86), 1)),
    ],
  });
  return { certPem: pem('CERTIFICATE', cert), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** A leaf certificate signed by `ca`, valid for the given DNS names and IP addresses. */
export function createServingCert(opts: ServingCertOptions): CertKeyPair {
  const caDer = unpem(opts.ca.certPem);
  const caKey = createPrivateKey(opts.ca.keyPem);
  // issuer = the CA's subject bytes exactly as encoded, so chain building matches byte for byte
  const caTbs = der.children(der.children(caDer)[0]!.body)[0]!;
  const tbsFields = der.children(caTbs.body);
  const caSubject = tbsFields[5]!.raw;
  const caSpki = tbsFields[6]!.raw;

  const sans: Uint8Array[] = [];
  for (const dns of opts.dnsNames ?? []) sans.push(der.implicit(2, new TextEncoder().encode(dns)));
  for (const ip of opts.ipAddresses ?? []) {
    if (!ipaddr.isValid(ip)) throw new Error(`invalid IP address ${JSON.stringify(ip)}`);
    sans.push(der.implicit(7, Uint8Array.from(ipaddr.parse(ip).toByteArray())));
  }
  const usages = [der.oid(OID.serverAuth)];
  if (opts.clientAuth) usages.push(der.oid(OID.clientAuth));
  const extensions = [
    extension(OID.basicConstraints, true, der.sequence()),
    // digitalSignature(0), keyEncipherment(2)
    extension(OID.keyUsage, true, der.bitString(Uint8Array.of(0xa0), 5)),
    extension(OID.extKeyUsage, false, der.sequence(...usages)),
  ];
  if (sans.length) extensions.push(extension(OID.subjectAltName, false, der.sequence(...sans)));

  const { privateKey, spki } = newKey();
  const now = Date.now();
  const cert = signCertificate({
    issuer: caSubject,
    subject: name(opts.commonName, opts.organizations),
    spki,
    issuerKey: caKey,
    issuerSpki: caSpki,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + (opts.validityDays ?? 365) * DAY_MS),
    extensions,
  });
  return { certPem: pem('CERTIFICATE', cert), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}
