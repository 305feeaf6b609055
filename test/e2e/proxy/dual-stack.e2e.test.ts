// Dual-stack with real packets: a dual-stack Service's IPv6 ClusterIP (and its IPv4 one) reached
// from a pod namespace through `kubeplane proxy`, in iptables mode (ip6tables) and nftables mode
// (table ip6 kube-proxy). Layout, routed like Calico so every reply goes back through the node:
//   node ns: veth to each pod, forwarding on; runs `kubeplane proxy --objects` (dist/, build first)
//   client pod: 10.244.1.2/24 fd00:244:1::2/64, default routes via the node
//   backend pod: 10.244.2.2/24 fd00:244:2::2/64, HTTP on [::]:8080 answering "<name> <client address>"
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';

const tag = `kpds${process.pid % 100000}`;
const node = `${tag}-node`;
const client = `${tag}-cli`;
const backend = `${tag}-be`;
const created: string[] = [];
const children: ChildProcess[] = [];
const dirs: string[] = [];

const ip = (ns: string, ...args: string[]): string => execFileSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function build(): void {
  for (const ns of [node, client, backend]) {
    execFileSync('ip', ['netns', 'add', ns]);
    created.push(ns);
    ip(ns, 'ip', 'link', 'set', 'lo', 'up');
  }
  ip(node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  ip(node, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1');
  // node addresses (on lo: these kernels have no dummy links), so the proxy has a node IP of each family
  ip(node, 'ip', 'addr', 'add', '192.168.0.2/32', 'dev', 'lo');
  ip(node, 'ip', 'addr', 'add', 'fd00:1::2/128', 'dev', 'lo', 'nodad');
  [
    [client, 1],
    [backend, 2],
  ].forEach(([ns, n]) => {
    const hostSide = `${tag}-v${n}`;
    execFileSync('ip', ['link', 'add', hostSide, 'netns', node, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(ns)]);
    ip(node, 'ip', 'addr', 'add', `10.244.${n}.1/24`, 'dev', hostSide);
    ip(node, 'ip', 'addr', 'add', `fd00:244:${n}::1/64`, 'dev', hostSide, 'nodad');
    ip(node, 'ip', 'link', 'set', hostSide, 'up');
    ip(String(ns), 'ip', 'addr', 'add', `10.244.${n}.2/24`, 'dev', 'eth0');
    ip(String(ns), 'ip', 'addr', 'add', `fd00:244:${n}::2/64`, 'dev', 'eth0', 'nodad');
    ip(String(ns), 'ip', 'link', 'set', 'eth0', 'up');
    ip(String(ns), 'ip', 'route', 'add', 'default', 'via', `10.244.${n}.1`);
    ip(String(ns), 'ip', '-6', 'route', 'add', 'default', 'via', `fd00:244:${n}::1`);
  });
}

function objects(): unknown {
  const slice = (family: 'IPv4' | 'IPv6', addr: string) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: `web-${family.toLowerCase()}`, labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: family,
    endpoints: [{ addresses: [addr], conditions: { ready: true } }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { namespace: 'default', name: 'web' },
        spec: { clusterIP: '172.30.0.10', clusterIPs: ['172.30.0.10', 'fd00:30::10'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
      },
      slice('IPv4', '10.244.2.2'),
      slice('IPv6', 'fd00:244:2::2'),
    ],
  };
}

async function eventually(what: string, fn: () => boolean): Promise<void> {
  let last: unknown;
  for (let i = 0; i < 150; i++) {
    try {
      if (fn()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not happen; last error: ${String(last)}`);
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const ns of created.splice(0)) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describeE2E('dual-stack ClusterIP with real packets', { root: true, netns: true, commands: ['nft', 'ip6tables-restore', 'curl'] }, () => {
  for (const mode of ['iptables', 'nftables'] as const) {
    it(`a pod reaches the Service's IPv6 and IPv4 ClusterIPs (${mode})`, async () => {
      build();
      const dir = mkdtempSync(join(tmpdir(), 'kpds-'));
      dirs.push(dir);
      const file = join(dir, 'objects.json');
      writeFileSync(file, JSON.stringify(objects()));
      const be = spawn('ip', ['netns', 'exec', backend, process.execPath, '-e', `require('node:http').createServer((q, s) => { s.setHeader('Connection', 'close'); s.end('backend ' + q.socket.remoteAddress + '\\n'); }).listen(8080, '::')`], { stdio: 'ignore' });
      children.push(be);
      const stderr: string[] = [];
      const proxy = spawn(
        'ip',
        ['netns', 'exec', node, process.execPath, `${process.cwd()}/dist/cli/main.js`, 'proxy', '--objects', file, '--proxy-mode', mode, '--node-name', 'dual', '--node-ip', '192.168.0.2,fd00:1::2', '--cluster-cidr', '10.244.0.0/16,fd00:244::/32', '--healthz-bind-address', '', '--metrics-bind-address', '', '--state-dir', dir],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      children.push(proxy);
      proxy.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
      // the IPv6 rules are in the kernel: ip6tables nat, or table ip6 kube-proxy
      await eventually('IPv6 rules programmed', () =>
        mode === 'iptables' ? ip(node, 'ip6tables-save', '-t', 'nat').includes('-d fd00:30::10/128') : ip(node, 'nft', 'list', 'table', 'ip6', 'kube-proxy').includes('fd00:30::10 . tcp . 80'),
      );
      const curl = (url: string): string => ip(client, 'curl', '-sS', '-g', '--max-time', '5', url);
      let v6 = '';
      await eventually('the IPv6 ClusterIP answers', () => (v6 = curl('http://[fd00:30::10]:80/')).startsWith('backend'));
      // DNATed to the IPv6 endpoint, the client's own address kept (pod traffic is not masqueraded)
      expect(v6.trim()).toBe('backend fd00:244:1::2');
      let v4 = '';
      await eventually('the IPv4 ClusterIP answers', () => (v4 = curl('http://172.30.0.10:80/')).startsWith('backend'));
      expect(v4.trim()).toBe('backend ::ffff:10.244.1.2');
      expect(stderr.join('')).not.toMatch(/Failed to (apply|sync) proxy rules/);
    });
  }
});
