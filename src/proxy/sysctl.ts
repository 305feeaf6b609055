// Kernel settings kube-proxy ensures at start-up (proxyutil.EnsureSysctl): read, and write
// only when the value differs, so an operator's own setting is logged before it changes.
import { readFileSync, writeFileSync } from 'node:fs';
import { logger } from '../observability/log.js';
import type { ProxyConfig } from './config.js';
import { families } from './render.js';

const log = logger('proxy');

export const ROUTE_LOCALNET = 'net/ipv4/conf/all/route_localnet';

/** Sets /proc/sys/<name> to `value` unless it already is; returns false when it could not. */
export function ensureSysctl(name: string, value: number, root = '/proc/sys'): boolean {
  const path = `${root}/${name}`;
  try {
    const cur = readFileSync(path, 'utf8').trim();
    if (cur === String(value)) return true;
    log.info('Updating sysctl', { name, from: cur, to: value });
    writeFileSync(path, `${value}\n`);
    return true;
  } catch (err) {
    log.error('Failed to set sysctl', err, { name, value });
    return false;
  }
}

/**
 * Whether NodePorts must answer on 127.0.0.1, which needs route_localnet (iptables mode, IPv4,
 * --iptables-localhost-nodeports, and --nodeport-addresses empty or covering 127.0.0.1).
 */
export function needsRouteLocalnet(cfg: ProxyConfig): boolean {
  if (cfg.mode !== 'iptables' || !cfg.localhostNodePorts || !families(cfg).includes('IPv4')) return false;
  if (cfg.nodePortAddresses.length === 0) return true;
  return cfg.nodePortAddresses.some((c) => {
    const [net, bits] = c.split('/');
    if (!net || net.includes(':')) return false;
    const b = Number(bits ?? 32);
    const toNum = (a: string): number => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const div = 2 ** (32 - b);
    return Math.floor(toNum('127.0.0.1') / div) === Math.floor(toNum(net) / div);
  });
}

/** The sysctls kube-proxy's iptables proxier sets before its first sync. */
export function ensureProxySysctls(cfg: ProxyConfig): void {
  if (needsRouteLocalnet(cfg)) {
    log.info('Setting route_localnet=1 to allow node-ports on localhost; to change this either disable --iptables-localhost-nodeports or set --nodeport-addresses to filter loopback addresses');
    ensureSysctl(ROUTE_LOCALNET, 1);
  }
}
