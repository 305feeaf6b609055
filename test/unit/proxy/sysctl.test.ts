// route_localnet: when kube-proxy's iptables mode needs it, and that it is written only on change.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureSysctl, needsRouteLocalnet, ROUTE_LOCALNET } from '../../../src/proxy/sysctl.js';
import { testConfig } from './helpers.js';

describe('route_localnet', () => {
  it('is needed only for IPv4 iptables mode with localhost NodePorts on a loopback-covering address set', () => {
    expect(needsRouteLocalnet(testConfig())).toBe(true);
    expect(needsRouteLocalnet(testConfig({ localhostNodePorts: false }))).toBe(false);
    expect(needsRouteLocalnet(testConfig({ mode: 'nftables' }))).toBe(false);
    expect(needsRouteLocalnet(testConfig({ nodeIPs: ['fd00::2'] }))).toBe(false);
    expect(needsRouteLocalnet(testConfig({ nodePortAddresses: ['192.168.0.0/24'] }))).toBe(false);
    expect(needsRouteLocalnet(testConfig({ nodePortAddresses: ['primary'] }))).toBe(false);
    expect(needsRouteLocalnet(testConfig({ nodePortAddresses: ['192.168.0.0/24', '127.0.0.0/8'] }))).toBe(true);
  });

  let root = '';
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });
  it('writes the value only when it differs, and reports failure instead of throwing', () => {
    root = mkdtempSync(join(tmpdir(), 'kp-sysctl-'));
    const path = join(root, ROUTE_LOCALNET);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '0\n');
    expect(ensureSysctl(ROUTE_LOCALNET, 1, root)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('1\n');
    writeFileSync(path, '1');
    expect(ensureSysctl(ROUTE_LOCALNET, 1, root)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('1');
    expect(ensureSysctl('net/no/such/key', 1, root)).toBe(false);
  });
});
