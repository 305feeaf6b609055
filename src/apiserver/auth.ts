// Authentication, as kube-apiserver's union of authenticators: client certificates signed by
// the client CA (CN = user, O = groups) and bearer tokens from a token file in
// kube-apiserver's --token-auth-file format (CSV lines `token,user,uid[,"group1,group2"]`).
// Every authenticated user is in system:authenticated; a request nobody vouches for gets 401.
import { readFileSync } from 'node:fs';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface UserInfo {
  name: string;
  uid: string;
  groups: string[];
}

export class TokenFileError extends Error {
  override name = 'TokenFileError';
}

/** Splits one CSV line, honouring double quotes (encoding/csv semantics, enough for this file). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new TokenFileError('unterminated quote');
  out.push(cur);
  return out;
}

export function parseTokenFile(text: string, source = 'token file'): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    let f: string[];
    try {
      f = csvFields(line);
    } catch (e) {
      throw new TokenFileError(`${source}:${i + 1}: ${(e as Error).message}`);
    }
    if (f.length < 3) throw new TokenFileError(`${source}:${i + 1}: need at least 3 columns (token,user,uid), found ${f.length}`);
    const [token, name, uid] = f.map((s) => s.trim()) as [string, string, string];
    if (!token) throw new TokenFileError(`${source}:${i + 1}: empty token`);
    if (tokens.has(token)) throw new TokenFileError(`${source}:${i + 1}: duplicate token`);
    const groups = f.length > 3 ? f[3]!.split(',').map((g) => g.trim()).filter(Boolean) : [];
    tokens.set(token, { name, uid, groups });
  }
  return tokens;
}

export function readTokenFile(path: string): Map<string, UserInfo> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TokenFileError(`cannot read token file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseTokenFile(text, path);
}

/** What the TLS layer proved about the client: a certificate that chains to the client CA. */
export interface VerifiedClientCertificate {
  subject: PeerCertificate['subject'];
  /** extended key usage OIDs; clientAuth (1.3.6.1.5.5.7.3.2) is required */
  extKeyUsage?: string[];
  serialNumber?: string;
}

export interface Authenticator {
  /** the user, or undefined when the request must get 401 */
  authenticate(authorization: string | undefined, clientCert?: VerifiedClientCertificate): UserInfo | undefined;
}

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** x509 authentication: CN is the user name, each O a group (kube-apiserver's CommonNameUserConversion). */
export class ClientCertAuthenticator implements Authenticator {
  authenticate(_authorization: string | undefined, cert?: VerifiedClientCertificate): UserInfo | undefined {
    if (!cert) return undefined;
    if (cert.extKeyUsage && !cert.extKeyUsage.includes(CLIENT_AUTH_OID)) return undefined;
    const name = asList(cert.subject?.CN)[0];
    if (!name) return undefined;
    return { name, uid: '', groups: [...asList(cert.subject?.O), 'system:authenticated'] };
  }
}

/** The first authenticator that knows the request wins, as kube-apiserver's union does. */
export class UnionAuthenticator implements Authenticator {
  private readonly all: Authenticator[];
  constructor(...all: Authenticator[]) {
    this.all = all;
  }
  authenticate(authorization: string | undefined, cert?: VerifiedClientCertificate): UserInfo | undefined {
    for (const a of this.all) {
      const user = a.authenticate(authorization, cert);
      if (user) return user;
    }
    return undefined;
  }
}

// getPeerCertificate() builds a fresh object each call; a connection's certificate never changes.
const verifiedBySocket = new WeakMap<TLSSocket, VerifiedClientCertificate | null>();

/** The client certificate of a TLS connection when it verified against the client CA, else undefined. */
export function verifiedClientCertificate(socket: unknown): VerifiedClientCertificate | undefined {
  const tls = socket as TLSSocket;
  if (typeof tls?.getPeerCertificate !== 'function' || !tls.authorized) return undefined;
  let v = verifiedBySocket.get(tls);
  if (v === undefined) {
    const peer = tls.getPeerCertificate();
    v = peer && peer.subject ? { subject: peer.subject, extKeyUsage: (peer as PeerCertificate & { ext_key_usage?: string[] }).ext_key_usage, serialNumber: peer.serialNumber } : null;
    verifiedBySocket.set(tls, v);
  }
  return v ?? undefined;
}

export class TokenAuthenticator implements Authenticator {
  constructor(private readonly tokens: Map<string, UserInfo>) {}
  authenticate(authorization: string | undefined): UserInfo | undefined {
    if (!authorization) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return undefined;
    const user = this.tokens.get(m[1]!);
    return user ? { ...user, groups: [...user.groups, 'system:authenticated'] } : undefined;
  }
}

/** For --insecure-serving without a token file: everyone is the same anonymous admin. */
export const allowAll: Authenticator = {
  authenticate: () => ({ name: 'system:anonymous', uid: '', groups: ['system:unauthenticated'] }),
};
