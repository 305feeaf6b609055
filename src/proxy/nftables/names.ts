import { sha256Base32 } from '../iptables/names.js';

/** knftables' name limit (256) minus headroom, as kube-proxy truncates. */
const NAME_LENGTH_MAX = 240;

export function hashAndTruncate(name: string): string {
  const s = sha256Base32(name).slice(0, 8) + '-' + name;
  return s.length > NAME_LENGTH_MAX ? s.slice(0, NAME_LENGTH_MAX - 3) + '...' : s;
}

/** `ns/name/proto/portName`, the readable part of per-service chain names. */
export function servicePortChainNameBase(namespace: string, name: string, protocol: string, portName: string): string {
  return `${namespace}/${name}/${protocol.toLowerCase()}/${portName}`;
}

export function servicePortEndpointChainNameBase(base: string, ip: string, port: number): string {
  return `${base}__${ip.replaceAll(':', '.')}/${port}`;
}
