// `kubeplane proxy` flags -> ProxyConfig, or the user error they produce.
import { describe, expect, it } from 'vitest';
import { command, configFromOptions } from '../../../src/cli/proxy.js';
import { commonFlags, Options } from '../../../src/cli/command.js';
import { parseFlags } from '../../../src/cli/flags.js';
import { runKubeplane } from '../../helpers/cli.js';
import { here } from './helpers.js';

function cfg(argv: string[]) {
  const p = parseFlags([...command.flags, ...commonFlags], argv);
  return configFromOptions(new Options(p.values, p.set));
}

describe('proxy flags', () => {
  it('defaults as kube-proxy', () => {
    const c = cfg(['--node-name=n1']);
    expect(c).toMatchObject({ mode: 'iptables', nodeName: 'n1', masqueradeBit: 14, minSyncPeriodMs: 1000, syncPeriodMs: 30000, healthzBindAddress: '0.0.0.0:10256', metricsBindAddress: '127.0.0.1:10249', localhostNodePorts: true, nodePortAddresses: [] });
  });
  it('parses families, CIDRs and periods', () => {
    const c = cfg(['--proxy-mode=nftables', '--node-ip=192.168.0.2,fd00::2', '--cluster-cidr=10.0.0.0/8', '--nodeport-addresses=primary', '--iptables-min-sync-period=100ms']);
    expect(c).toMatchObject({ mode: 'nftables', nodeIPs: ['192.168.0.2', 'fd00::2'], clusterCIDRs: ['10.0.0.0/8'], nodePortAddresses: ['primary'], minSyncPeriodMs: 100 });
  });
  const bad: [string[], string][] = [
    [['--proxy-mode=userspace'], 'invalid --proxy-mode "userspace"'],
    [['--node-ip=300.1.1.1'], 'invalid --node-ip "300.1.1.1"'],
    [['--cluster-cidr=10.0.0.0'], 'invalid --cluster-cidr "10.0.0.0": not a CIDR'],
    [['--cluster-cidr=10.0.0.0/33'], 'not a CIDR'],
    [['--masquerade-bit=32'], 'invalid --masquerade-bit 32'],
  ];
  for (const [argv, msg] of bad) {
    it(`rejects ${argv.join(' ')}`, () => {
      expect(() => cfg(argv)).toThrow(msg);
    });
  }
});

describe('kubeplane proxy render (built CLI)', () => {
  it('prints the payload and exits 0; a missing file is a usage error', async () => {
    const ok = await runKubeplane(['proxy', 'render', '-f', `${here}/testdata/overall.json`, '--proxy-mode=nftables', '--node-name=test-node', '--node-ip=192.168.0.2', '--cluster-cidr=10.0.0.0/8']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('add table ip kube-proxy { comment "rules for kube-proxy" ; }');
    const missing = await runKubeplane(['proxy', 'render', '-f', '/nonexistent/objects.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read /nonexistent/objects.yaml');
  });
});
