// The nftables state file: a snapshot, then a journal of partial syncs (intent, then commit).
// A start trusts it only when every intent was committed: otherwise the kernel may hold either
// side of that transaction and only a full rewrite is safe.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadNftState } from '../../../src/proxy/proxier.js';

const head = JSON.stringify({ family: 'ip', base: ['add table ip kube-proxy'], baseChains: ['services'], elements: [['cluster-ips', []]] });
const frag = (svc: string, ip: string): unknown => ({
  chains: [[`service-${svc}`, { rules: [`dnat to ${ip}`] }]],
  sets: [],
  elements: [['cluster-ips', [[ip, ip]]]],
});
const line = (o: unknown): string => JSON.stringify(o) + '\n';

describe('nftables state file journal', () => {
  let dir = '';
  let file = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-state-journal-'));
    file = join(dir, 'nftables-IPv4.json');
    writeFileSync(file, head + '\n' + line({ key: 'a', ...(frag('a', '10.0.0.1') as object) }) + line({ key: 'b', ...(frag('b', '10.0.0.2') as object) }));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replays committed partial syncs over the snapshot: changed, added and removed ports', () => {
    appendFileSync(file, line({ intent: 1, ports: [['a', frag('a', '10.0.0.9')], ['c', frag('c', '10.0.0.3')]] }) + line({ commit: 1 }));
    appendFileSync(file, line({ intent: 2, ports: [['b', null]] }) + line({ commit: 2 }));
    const s = loadNftState(file)!;
    expect([...s.chains.keys()].sort()).toEqual(['service-a', 'service-c']);
    expect(s.chains.get('service-a')!.rules).toEqual(['dnat to 10.0.0.9']);
    expect([...s.elements.get('cluster-ips')!.keys()].sort()).toEqual(['10.0.0.3', '10.0.0.9']);
    expect(s.baseChains).toEqual(['services']);
  });

  it('a snapshot alone loads as written', () => {
    const s = loadNftState(file)!;
    expect([...s.chains.keys()].sort()).toEqual(['service-a', 'service-b']);
  });

  it('an intent without its commit (killed during the transaction) makes the file unusable', () => {
    appendFileSync(file, line({ intent: 1, ports: [['a', frag('a', '10.0.0.9')]] }) + line({ commit: 1 }));
    appendFileSync(file, line({ intent: 2, ports: [['b', null]] }));
    expect(loadNftState(file)).toBeUndefined();
  });

  it('a torn last line or a commit of another intent makes the file unusable', () => {
    const good = readFileSync(file, 'utf8');
    appendFileSync(file, line({ intent: 1, ports: [['b', null]] }) + '{"comm');
    expect(loadNftState(file)).toBeUndefined();
    writeFileSync(file, good + line({ intent: 1, ports: [['b', null]] }) + line({ commit: 2 }));
    expect(loadNftState(file)).toBeUndefined();
    expect(loadNftState(join(dir, 'missing.json'))).toBeUndefined();
  });
});
