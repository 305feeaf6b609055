// Shared test plan for proxy unit tests (the addresses kube-proxy's own tests use):
// node `test-node` 192.168.0.2, pods 10.0.0.0/8, cluster IPs 172.30.0.0/16, external clients 203.0.113.0/24.
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { readObjectsFile } from '../../../src/api/objects-file.js';
import type { KubeObject } from '../../../src/api/types.js';
import type { ProxyConfig } from '../../../src/proxy/config.js';

export const here = dirname(fileURLToPath(import.meta.url));

export function loadObjects(name: string): KubeObject[] {
  return readObjectsFile(join(here, 'testdata', name));
}

export function testConfig(over: Partial<ProxyConfig> = {}): ProxyConfig {
  return {
    mode: 'iptables',
    nodeName: 'test-node',
    nodeIPs: ['192.168.0.2'],
    clusterCIDRs: ['10.0.0.0/8'],
    serviceCIDRs: ['172.30.0.0/16'],
    masqueradeAll: false,
    masqueradeBit: 14,
    nodePortAddresses: [],
    localhostNodePorts: true,
    minSyncPeriodMs: 0,
    syncPeriodMs: 30000,
    healthzBindAddress: '',
    metricsBindAddress: '',
    ...over,
  };
}

/** Compares with golden/<name>; UPDATE_GOLDEN=1 rewrites the file. */
export function expectGolden(name: string, actual: string): void {
  const path = join(here, 'golden', name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`missing golden file ${path}: run with UPDATE_GOLDEN=1`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}
