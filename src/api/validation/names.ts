// String-format checks with apimachinery's wording (k8s.io/apimachinery/pkg/util/validation).
// Each returns the list of problems as message fragments; an empty list means valid.
// The wording matters: kubectl users and scripts match on these exact messages.

import ipaddr from 'ipaddr.js';

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const WILDCARD_DNS1123_SUBDOMAIN_FMT = `\\*\\.${DNS1123_SUBDOMAIN_FMT}`;
const C_IDENTIFIER_FMT = '[A-Za-z_][A-Za-z0-9_]*';
const CONFIG_MAP_KEY_FMT = '[-._a-zA-Z0-9]+';

const dns1123LabelRe = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const dns1123SubdomainRe = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const dns1035LabelRe = new RegExp(`^${DNS1035_LABEL_FMT}$`);
const qualifiedNameRe = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const labelValueRe = new RegExp(`^${LABEL_VALUE_FMT}$`);
const wildcardRe = new RegExp(`^${WILDCARD_DNS1123_SUBDOMAIN_FMT}$`);
const cIdentifierRe = new RegExp(`^${C_IDENTIFIER_FMT}$`);
const configMapKeyRe = new RegExp(`^${CONFIG_MAP_KEY_FMT}$`);

export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;
export const LABEL_VALUE_MAX = 63;
export const QUALIFIED_NAME_MAX = 63;

export function maxLenError(n: number): string {
  return `must be no more than ${n} characters`;
}

export function emptyError(): string {
  return 'must be non-empty';
}

export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

/** apimachinery's RegexError: the message, examples, then the regex. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  let out = `${msg} (e.g. `;
  examples.forEach((ex, i) => {
    if (i > 0) out += ' or ';
    out += `'${ex}', `;
  });
  return `${out}regex used for validation is '${fmt}')`;
}

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * A field's text, without ever throwing: strings as they are, numbers and booleans printed,
 * anything else (a list or object where text belongs) as "" so the caller reports it.
 */
export function asString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return '';
}

/** What the checks below report for a non-string, as a decoder would refuse it. */
const NOT_A_STRING = ['must be a string'];

export function isDNS1123Label(value: string): string[] {
  if (typeof value !== 'string') return NOT_A_STRING;
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX) errs.push(maxLenError(DNS1123_LABEL_MAX));
  if (!dns1123LabelRe.test(value)) {
    // A valid subdomain that is not a valid label can only differ by its dots.
    if (dns1123SubdomainRe.test(value)) errs.push('must not contain dots');
    else
      errs.push(
        regexError(
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
          DNS1123_LABEL_FMT,
          'my-name',
          '123-abc',
        ),
      );
  }
  return errs;
}

export function isDNS1123Subdomain(value: string): string[] {
  if (typeof value !== 'string') return NOT_A_STRING;
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!dns1123SubdomainRe.test(value))
    errs.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        DNS1123_SUBDOMAIN_FMT,
        'example.com',
      ),
    );
  return errs;
}

export function isDNS1035Label(value: string): string[] {
  if (typeof value !== 'string') return NOT_A_STRING;
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX) errs.push(maxLenError(DNS1123_LABEL_MAX));
  if (!dns1035LabelRe.test(value))
    errs.push(
      regexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        DNS1035_LABEL_FMT,
        'my-name',
        'abc-123',
      ),
    );
  return errs;
}

export function isWildcardDNS1123Subdomain(value: string): string[] {
  if (typeof value !== 'string') return NOT_A_STRING;
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!wildcardRe.test(value))
    errs.push(
      regexError(
        "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
        WILDCARD_DNS1123_SUBDOMAIN_FMT,
        '*.example.com',
      ),
    );
  return errs;
}

const QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** Label keys, annotation keys, finalizers, appProtocol: `[prefix/]name`. */
export function isQualifiedName(value: string): string[] {
  if (typeof value !== 'string') return NOT_A_STRING;
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else for (const m of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLength(name) > QUALIFIED_NAME_MAX) errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX)}`);
  if (!qualifiedNameRe.test(name)) errs.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

export function isValidLabelValue(value: string): string[] {
  if (typeof value !== 'string') return NOT_A_STRING;
  const errs: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX) errs.push(maxLenError(LABEL_VALUE_MAX));
  if (!labelValueRe.test(value))
    errs.push(
      regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        LABEL_VALUE_FMT,
        'MyValue',
        'my_value',
        '12345',
      ),
    );
  return errs;
}

export function isCIdentifier(value: string): string[] {
  if (typeof value !== 'string') return NOT_A_STRING;
  if (cIdentifierRe.test(value)) return [];
  return [
    regexError(
      "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'",
      C_IDENTIFIER_FMT,
      'my_name',
      'MY_NAME',
      'MyName',
    ),
  ];
}

/** ConfigMap and Secret data keys. */
export function isConfigMapKey(value: string): string[] {
  if (typeof value !== 'string') return NOT_A_STRING;
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!configMapKeyRe.test(value))
    errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", CONFIG_MAP_KEY_FMT, 'key.name', 'KEY_NAME', 'key-name'));
  if (value === '.') errs.push("must not be '.'");
  else if (value === '..') errs.push("must not be '..'");
  else if (value.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

export function isValidPortNum(port: unknown): string[] {
  if (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535) return [];
  return [inclusiveRangeError(1, 65535)];
}

/** IANA_SVC_NAME: the named form of a container port or Service targetPort. */
export function isValidPortName(port: string): string[] {
  if (typeof port !== 'string') return NOT_A_STRING;
  const errs: string[] = [];
  if (port.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

// Go's net.ParseIP accepts only plain dotted-quad IPv4 (no shorthand, octal or hex forms),
// which ipaddr.js's lenient parser would take; check the shape first.
const ipv4Re = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIP(value: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  if (value.includes(':')) {
    if (value.includes('%') || !ipaddr.IPv6.isValid(value)) return undefined;
    const ip = ipaddr.IPv6.parse(value);
    return ip.isIPv4MappedAddress() ? ip.toIPv4Address() : ip;
  }
  const m = ipv4Re.exec(value);
  if (!m) return undefined;
  if (m.slice(1).some((o) => Number(o) > 255)) return undefined;
  return ipaddr.IPv4.parse(value);
}

export function isIPv6String(value: string): boolean {
  const ip = parseIP(value);
  return ip !== undefined && ip.kind() === 'ipv6';
}

export function isIPv4String(value: string): boolean {
  const ip = parseIP(value);
  return ip !== undefined && ip.kind() === 'ipv4';
}

export function parseCIDR(value: string): { ip: ipaddr.IPv4 | ipaddr.IPv6; prefix: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const slash = value.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(value.slice(0, slash));
  const bits = value.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(bits)) return undefined;
  const prefix = Number(bits);
  const isV6 = value.slice(0, slash).includes(':');
  if (prefix > (isV6 ? 128 : 32)) return undefined;
  return { ip, prefix };
}

/** Special-range checks from ValidateNonSpecialIP: endpoints and external IPs may not point at these. */
export function nonSpecialIPErrors(value: string): string[] {
  const ip = parseIP(value);
  if (!ip) return ['must be a valid IP address'];
  const errs: string[] = [];
  const v4 = ip.kind() === 'ipv4';
  // Go's net.IP predicates, which are narrower than ipaddr.js's named ranges (0.0.0.0/8 is not "unspecified").
  const unspecified = v4 ? ip.toString() === '0.0.0.0' : (ip as ipaddr.IPv6).parts.every((p) => p === 0);
  const loopback = v4 ? ip.match(ipaddr.IPv4.parse('127.0.0.0'), 8) : ip.toString() === '::1';
  const linkLocal = v4 ? ip.match(ipaddr.IPv4.parse('169.254.0.0'), 16) : ((ip as ipaddr.IPv6).parts[0]! & 0xffc0) === 0xfe80;
  if (unspecified) errs.push(`may not be unspecified (${value})`);
  if (loopback) errs.push('may not be in the loopback range (127.0.0.0/8, ::1/128)');
  if (linkLocal) errs.push('may not be in the link-local range (169.254.0.0/16, fe80::/10)');
  if (isLinkLocalMulticast(ip)) errs.push('may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
  return errs;
}

function isLinkLocalMulticast(ip: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (ip.kind() === 'ipv4') return ip.match(ipaddr.IPv4.parse('224.0.0.0'), 24);
  const parts = (ip as ipaddr.IPv6).parts;
  return (parts[0]! & 0xff0f) === 0xff02;
}

/** A domain name with at least two labels, each a DNS-1123 label, as IsFullyQualifiedDomainName. */
export function fqdnErrors(value: string): string[] {
  if (typeof value !== 'string') return NOT_A_STRING;
  let name = value;
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length === 0) return ['Required value'];
  const errs = isDNS1123Subdomain(name);
  if (errs.length > 0) return errs;
  if (name.split('.').length < 2) return ['should be a domain with at least two segments separated by dots'];
  for (const label of name.split('.')) {
    const le = isDNS1123Label(label);
    if (le.length > 0) return le;
  }
  return [];
}

/** NameIsDNSSubdomain & co. take `prefix` for generateName, whose trailing '-' the random suffix completes. */
export type NameValidator = (name: string, prefix: boolean) => string[];

function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

export const nameIsDNSSubdomain: NameValidator = (name, prefix) => (typeof name !== 'string' ? NOT_A_STRING : isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name));
export const nameIsDNSLabel: NameValidator = (name, prefix) => (typeof name !== 'string' ? NOT_A_STRING : isDNS1123Label(prefix ? maskTrailingDash(name) : name));
export const nameIsDNS1035Label: NameValidator = (name, prefix) => (typeof name !== 'string' ? NOT_A_STRING : isDNS1035Label(prefix ? maskTrailingDash(name) : name));

/** Path segment names (ValidatePathSegmentName): what every name must at least satisfy to fit a URL. */
export function isValidPathSegmentName(name: string, prefix: boolean): string[] {
  if (typeof name !== 'string') return NOT_A_STRING;
  const errs: string[] = [];
  if (!prefix && (name === '.' || name === '..')) errs.push(`may not be '${name}'`);
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}
