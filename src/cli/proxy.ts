import { hostname } from 'node:os';
import type { Command, Options } from './command.js';
import { UsageError } from './command.js';
import type { FlagSpec } from './flags.js';
import { apiSourceFlags, openInformers } from './informers.js';
import type { ProxyConfig, ProxyMode } from '../proxy/config.js';
import { normalizeIP } from '../proxy/model/service-port.js';

export const proxyFlags: FlagSpec[] = [
  { name: 'proxy-mode', type: 'string', default: 'iptables', help: 'which proxy mode to use: iptables, nftables or ipvs' },
  { name: 'objects', type: 'string', default: '', help: 'read Services, EndpointSlices and Nodes from this YAML/JSON file (re-read when it changes) instead of an API server' },
  { name: 'filename', short: 'f', type: 'string', default: '', help: '(render) objects file to render from' },
  { name: 'hostname-override', type: 'string', default: '', help: 'the node name to use instead of the hostname' },
  { name: 'node-name', type: 'string', default: '', help: 'alias of --hostname-override' },
  { name: 'node-ip', type: 'list', default: [], help: "this node's IP addresses (one per family)" },
  { name: 'cluster-cidr', type: 'list', default: [], help: 'pod CIDRs; traffic from outside them to a ClusterIP is masqueraded' },
  { name: 'service-cidr', type: 'list', default: [], help: 'Service CIDRs (nftables: traffic to unallocated ClusterIPs in them is dropped)' },
  { name: 'masquerade-all', type: 'bool', default: false, help: 'SNAT all traffic sent via Service cluster IPs' },
  { name: 'masquerade-bit', type: 'int', default: 14, help: 'the bit of the fwmark space marking packets to SNAT, in [0, 31]' },
  { name: 'nodeport-addresses', type: 'list', default: [], help: "CIDRs (or 'primary') of the addresses accepting NodePort traffic; empty means all local addresses" },
  { name: 'iptables-localhost-nodeports', type: 'bool', default: true, help: 'accept NodePort traffic on 127.0.0.1 (iptables mode, IPv4)' },
  { name: 'iptables-min-sync-period', type: 'duration', default: 1000, help: 'minimum interval between rule syncs' },
  { name: 'iptables-sync-period', type: 'duration', default: 30000, help: 'maximum interval between full rule syncs' },
  { name: 'healthz-bind-address', type: 'string', default: '0.0.0.0:10256', help: 'address:port of /healthz and /livez; empty disables' },
  { name: 'metrics-bind-address', type: 'string', default: '127.0.0.1:10249', help: 'address:port of /metrics; empty disables' },
  { name: 'cleanup', type: 'bool', default: false, help: 'remove every rule kube-proxy or kubeplane proxy installed, then exit' },
  { name: 'state-dir', type: 'string', default: '/run/kubeplane/proxy', help: 'where the nftables runner keeps its mirror of the kernel state' },
  ...apiSourceFlags,
];

export function configFromOptions(opts: Options): ProxyConfig {
  const mode = opts.string('proxy-mode');
  if (mode !== 'iptables' && mode !== 'nftables' && mode !== 'ipvs') throw new UsageError(`invalid --proxy-mode "${mode}": must be iptables, nftables or ipvs`);
  const nodeIPs: string[] = [];
  for (const ip of opts.list('node-ip')) {
    const n = normalizeIP(ip);
    if (!n) throw new UsageError(`invalid --node-ip "${ip}": not an IP address`);
    nodeIPs.push(n);
  }
  const cidrs = (flag: string): string[] =>
    opts.list(flag).map((c) => {
      const [ip, bits, extra] = c.split('/');
      const n = ip ? normalizeIP(ip) : undefined;
      const max = n?.includes(':') ? 128 : 32;
      if (!n || extra !== undefined || bits === undefined || !/^\d+$/.test(bits) || Number(bits) > max) throw new UsageError(`invalid --${flag} "${c}": not a CIDR`);
      return `${n}/${bits}`;
    });
  const npa = opts.list('nodeport-addresses');
  const bit = opts.int('masquerade-bit');
  if (bit < 0 || bit > 31) throw new UsageError(`invalid --masquerade-bit ${bit}: must be in [0, 31]`);
  return {
    mode,
    nodeName: opts.string('node-name') || opts.string('hostname-override') || hostname().toLowerCase(),
    nodeIPs,
    clusterCIDRs: cidrs('cluster-cidr'),
    serviceCIDRs: cidrs('service-cidr'),
    masqueradeAll: opts.bool('masquerade-all'),
    masqueradeBit: bit,
    nodePortAddresses: npa.includes('primary') ? ['primary'] : cidrs('nodeport-addresses'),
    localhostNodePorts: opts.bool('iptables-localhost-nodeports'),
    minSyncPeriodMs: opts.duration('iptables-min-sync-period'),
    syncPeriodMs: opts.duration('iptables-sync-period'),
    healthzBindAddress: opts.string('healthz-bind-address'),
    metricsBindAddress: opts.string('metrics-bind-address'),
  };
}

export const command: Command = {
  name: 'proxy',
  summary: "Program the node's kernel for Services, as kube-proxy does",
  usage: 'kubeplane proxy [--objects FILE] [flags] | kubeplane proxy render -f FILE [flags] | kubeplane proxy --cleanup',
  flags: proxyFlags,
  async run(opts: Options, args: string[]): Promise<number> {
    const cfg = configFromOptions(opts);
    if (args[0] === 'render') {
      const file = opts.string('filename') || opts.string('objects');
      if (!file) throw new UsageError('proxy render needs -f FILE');
      const { readObjectsFile, ObjectsFileError } = await import('../api/objects-file.js');
      const { renderFullSync } = await import('../proxy/render.js');
      try {
        process.stdout.write(renderFullSync(readObjectsFile(file), cfg));
      } catch (err) {
        if (err instanceof ObjectsFileError) throw new UsageError(err.message);
        throw err;
      }
      return 0;
    }
    if (args.length > 0) throw new UsageError(`unknown argument "${args[0]}"`);
    const { cleanup, runProxy } = await import('../proxy/setup.js');
    if (opts.bool('cleanup')) return cleanup();
    const { ObjectsFileError } = await import('../api/objects-file.js');
    const source = await openInformers(opts, 'kubeplane-proxy');
    try {
      // The informers are this command's own: keep only what the proxy reads.
      return await runProxy(cfg, source.factory, { stateDir: opts.string('state-dir'), trimObjects: true });
    } catch (err) {
      if (err instanceof ObjectsFileError) throw new UsageError(err.message);
      throw err;
    } finally {
      await source.close();
    }
  },
};
