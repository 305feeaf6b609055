// `kubeplane trace <ip>:<port>[/<proto>]`: explains where a new connection goes on this node, by
// rendering the proxy rules for the current objects and tracing the connection through them.
import type { Command, Options } from './command.js';
import { UsageError } from './command.js';
import type { FlagSpec } from './flags.js';
import { configFromOptions, proxyFlags } from './proxy.js';
import type { KubeObject } from '../api/types.js';
import type { ProxyConfig } from '../proxy/config.js';
import type { ConnectionTrace, TraceStep } from '../proxy/trace.js';
import { apiSourceFlags, openInformers } from './informers.js';
import { CONTROLLER_NAME } from '../ingress/routes.js';

// Only the flags that change the rendered rules; the rest of `kubeplane proxy`'s do not apply.
const RENDER_FLAGS = new Set(['proxy-mode', 'objects', 'hostname-override', 'node-name', 'node-ip', 'cluster-cidr', 'service-cidr', 'masquerade-all', 'masquerade-bit', 'nodeport-addresses', 'iptables-localhost-nodeports']);

export const traceFlags: FlagSpec[] = [
  ...proxyFlags.filter((f) => RENDER_FLAGS.has(f.name)),
  { name: 'from', type: 'string', default: '', help: 'source address of the connection (default: a pod address in the first --cluster-cidr)' },
  { name: 'output', short: 'o', type: 'string', default: '', help: 'output format: empty for human-readable lines, or json' },
  ...apiSourceFlags,
  // trace dns
  { name: 'type', short: 't', type: 'string', default: 'A', help: '(dns) query type: A, AAAA, SRV, PTR, TXT, CNAME, SOA, NS' },
  { name: 'search', type: 'string', default: '', help: "(dns) the asking pod's namespace: expand the name over the pod search path" },
  { name: 'ndots', type: 'int', default: 5, help: '(dns) resolv.conf ndots for --search' },
  { name: 'corefile', type: 'string', help: "(dns) CoreDNS Corefile the server runs (default: kubeadm's)" },
  { name: 'upstream', type: 'list', help: '(dns) upstream resolvers of the default Corefile (default: /etc/resolv.conf)' },
  { name: 'cluster-domain', type: 'string', default: 'cluster.local', help: '(dns) cluster zone of the default Corefile' },
  // trace http
  { name: 'method', short: 'X', type: 'string', default: 'GET', help: '(http) request method' },
  { name: 'header', short: 'H', type: 'list', help: '(http) request header "Name: value" (repeatable)' },
  { name: 'https-port', type: 'int', default: 443, help: "(http) the HTTPS listener's port, for redirect Locations" },
  { name: 'ingress-class', type: 'string', default: 'kubeplane', help: '(http) legacy class annotation served' },
  { name: 'controller-class', type: 'string', default: CONTROLLER_NAME, help: '(http) IngressClass spec.controller served' },
  { name: 'watch-ingress-without-class', type: 'bool', default: false, help: '(http) also serve Ingresses that name no class' },
  { name: 'default-backend-service', type: 'string', help: '(http) NAMESPACE/NAME of the Service for requests no rule matches' },
];

/** Lists the resources from --objects or the API server (--kubeconfig), once. */
async function listObjects(opts: Options, resources: [group: string, resource: string][]): Promise<KubeObject[][]> {
  // An explicit source only (KUBECONFIG and the in-cluster account count): a trace that quietly
  // read ~/.kube/config's current cluster could explain a different cluster than meant.
  const explicit = opts.optionalString('objects') || opts.optionalString('kubeconfig') || opts.optionalString('master') || process.env.KUBECONFIG || process.env.KUBERNETES_SERVICE_HOST;
  if (!explicit) throw new UsageError('trace needs --objects FILE or --kubeconfig FILE');
  const { ObjectsFileError } = await import('../api/objects-file.js');
  const source = await openInformers(opts, 'kubeplane-trace');
  try {
    const informers = resources.map(([g, r]) => source.factory.informerFor<KubeObject>(g, r));
    await source.factory.start();
    await Promise.all(informers.map((i) => i.synced()));
    // Items of an API list carry no kind; code that sorts objects by kind needs it.
    return informers.map((i) => i.list().map((o) => (o.kind ? o : { ...o, kind: i.resource.kind, apiVersion: i.resource.group ? `${i.resource.group}/${i.resource.version}` : i.resource.version })));
  } catch (err) {
    if (err instanceof ObjectsFileError) throw new UsageError(err.message);
    throw err;
  } finally {
    await source.close();
  }
}

function checkOutput(opts: Options): string {
  const output = opts.string('output');
  if (output !== '' && output !== 'json') throw new UsageError(`invalid -o "${output}": must be json or empty`);
  return output;
}

async function runDnsTrace(opts: Options, args: string[]): Promise<number> {
  if (args.length !== 1) throw new UsageError(args.length === 0 ? 'trace dns needs a name' : `unexpected argument "${args[1]}"`);
  const name = args[0]!;
  if (!/^[A-Za-z0-9_.*-]+\.?$/.test(name) || name.includes('..') || name.length > 254) throw new UsageError(`invalid name "${name}"`);
  const output = checkOutput(opts);
  const { TYPE } = await import('../dns/wire.js');
  const typeText = opts.string('type').toUpperCase();
  const qtype = (TYPE as Record<string, number>)[typeText];
  if (qtype === undefined || typeText === 'OPT') throw new UsageError(`unknown --type "${opts.string('type')}": want one of ${Object.keys(TYPE).filter((t) => t !== 'OPT').join(', ')}`);
  const ndots = opts.int('ndots');
  if (ndots < 0 || ndots > 15) throw new UsageError('--ndots must be between 0 and 15');
  const { parseConfig } = await import('../dns/config.js');
  const { CorefileError, defaultCorefile } = await import('../dns/corefile.js');
  const path = opts.optionalString('corefile');
  let text: string;
  if (path) {
    try {
      text = (await import('node:fs')).readFileSync(path, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --corefile ${path}: ${(err as Error).message}`);
    }
  } else {
    const upstream = opts.list('upstream');
    text = defaultCorefile({ port: 53, upstream: upstream.length ? upstream.join(' ') : '/etc/resolv.conf', zone: opts.string('cluster-domain') });
  }
  let config;
  try {
    config = parseConfig(text);
  } catch (err) {
    if (err instanceof CorefileError) throw new UsageError(`${path ?? 'default Corefile'}: ${err.message}`);
    throw err;
  }
  const [services, endpointSlices, namespaces, pods] = await listObjects(opts, [
    ['', 'services'],
    ['discovery.k8s.io', 'endpointslices'],
    ['', 'namespaces'],
    ['', 'pods'],
  ]);
  const { traceDns, formatDnsTrace } = await import('../dns/trace.js');
  const search = opts.string('search');
  const t = await traceDns(config, { services: services as never, endpointSlices: endpointSlices as never, namespaces: namespaces as never, pods: pods as never }, { name, qtype, searchNamespace: search || undefined, ndots });
  process.stdout.write(output === 'json' ? JSON.stringify(t, null, 2) + '\n' : formatDnsTrace(t));
  return 0;
}

/** `Name: value` flags; a list flag splits on commas, so pieces without a colon belong to the previous value. */
export function parseHeaders(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const piece of raw) {
    const i = piece.indexOf(':');
    if (i <= 0) {
      if (last === undefined) throw new UsageError(`invalid --header "${piece}": want "Name: value"`);
      out[last] += `,${piece}`;
      continue;
    }
    last = piece.slice(0, i).trim().toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(last)) throw new UsageError(`invalid --header name "${piece.slice(0, i)}"`);
    out[last] = piece.slice(i + 1).trim();
  }
  return out;
}

async function runHttpTrace(opts: Options, args: string[]): Promise<number> {
  if (args.length !== 1) throw new UsageError(args.length === 0 ? 'trace http needs a URL' : `unexpected argument "${args[1]}"`);
  const output = checkOutput(opts);
  let url: URL;
  try {
    url = new URL(args[0]!);
  } catch {
    throw new UsageError(`invalid URL "${args[0]}": want http://HOST/PATH or https://HOST/PATH`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`invalid URL "${args[0]}": only http and https`);
  const method = opts.string('method').toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new UsageError(`invalid --method "${opts.string('method')}"`);
  const headers = parseHeaders(opts.list('header'));
  const from = opts.string('from') || '127.0.0.1';
  const { isIP } = await import('node:net');
  if (isIP(from) === 0) throw new UsageError(`invalid --from "${from}": not an IP address`);
  const httpsPort = opts.int('https-port');
  if (httpsPort < 1 || httpsPort > 65535) throw new UsageError('--https-port must be in [1, 65535]');
  const dbs = opts.optionalString('default-backend-service');
  if (dbs !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(dbs)) throw new UsageError(`invalid --default-backend-service "${dbs}": want NAMESPACE/NAME`);
  const [ingresses, ingressClasses, services, endpointSlices] = await listObjects(opts, [
    ['networking.k8s.io', 'ingresses'],
    ['networking.k8s.io', 'ingressclasses'],
    ['', 'services'],
    ['discovery.k8s.io', 'endpointslices'],
  ]);
  const { traceHttp, formatHttpTrace } = await import('../ingress/trace.js');
  const t = traceHttp(
    { ingresses: ingresses as never, ingressClasses: ingressClasses as never, services: services as never, endpointSlices: endpointSlices as never },
    { selection: { ingressClass: opts.string('ingress-class'), controllerName: opts.string('controller-class'), watchWithoutClass: opts.bool('watch-ingress-without-class') }, defaultBackendService: dbs },
    { url: url.toString(), method, headers, clientIP: from, httpsPort },
  );
  process.stdout.write(output === 'json' ? JSON.stringify(t, null, 2) + '\n' : formatHttpTrace(t));
  return 0;
}

export interface TraceTarget {
  ip: string;
  port: number;
  proto: 'tcp' | 'udp' | 'sctp';
}

/** Parses `<ip>:<port>[/<proto>]`. */
export function parseTarget(text: string): TraceTarget {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})(?:\/([a-zA-Z]+))?$/.exec(text);
  if (!m) {
    if (text.includes('[') || (text.match(/:/g)?.length ?? 0) > 1) throw new UsageError(`cannot trace "${text}": only IPv4 destinations are supported`);
    throw new UsageError(`invalid destination "${text}": want <ip>:<port>[/tcp|udp|sctp]`);
  }
  const ip = m[1]!;
  if (ip.split('.').some((o) => Number(o) > 255)) throw new UsageError(`invalid destination "${text}": ${ip} is not an IP address`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new UsageError(`invalid destination "${text}": port must be in [1, 65535]`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new UsageError(`invalid destination "${text}": protocol must be tcp, udp or sctp`);
  return { ip, port, proto };
}

/** How the connection reached the Service: the kind of address and the Service port it hit. */
export interface ServiceHit {
  /** namespace/name:port as in the rule comments */
  servicePort: string;
  via: 'ClusterIP' | 'NodePort' | 'ExternalIP' | 'LoadBalancerIP';
}

export interface TraceReport extends ConnectionTrace {
  node: string;
  mode: string;
  service?: ServiceHit & { type?: string; externalTrafficPolicy?: string; internalTrafficPolicy?: string; sessionAffinity?: string };
  /** why the connection ends where it does, in words */
  reasons: string[];
}

const KIND_BY_COMMENT: [RegExp, ServiceHit['via']][] = [
  [/ cluster IP$/, 'ClusterIP'],
  [/ external IP$/, 'ExternalIP'],
  [/ loadbalancer IP$/, 'LoadBalancerIP'],
];

/** What a kube-proxy chain does, in either mode's naming. */
export function chainKind(name: string): 'svc' | 'ext' | 'svl' | 'sep' | 'fw' | undefined {
  if (/^KUBE-SVC-|^service-/.test(name)) return 'svc';
  if (/^KUBE-EXT-|^external-/.test(name)) return 'ext';
  if (/^KUBE-SVL-|^local-/.test(name)) return 'svl';
  if (/^KUBE-SEP-|^endpoint-/.test(name)) return 'sep';
  if (/^KUBE-FW-|^firewall-/.test(name)) return 'fw';
  return undefined;
}

function serviceHit(t: ConnectionTrace, objects: readonly KubeObject[]): ServiceHit | undefined {
  const steps = [...t.path, ...(t.endpoints[0]?.path ?? []), ...(t.verdictBy ? [t.verdictBy] : [])];
  const viaNodePorts = steps.some((s) => s.chain === 'KUBE-NODEPORTS' || /@(service|no-endpoint)-nodeports/.test(s.comment ?? ''));
  for (const s of steps) {
    // nftables chains carry the Service port in their names: service-HASH-ns/name/proto/port
    const nft = /^[a-z]+-[A-Z0-9]+-([^/\s]+)\/([^/\s]+)\/[a-z]+\/([^/\s_]*)/.exec(chainKind(s.target) ? s.target : s.chain);
    // an unnamed port is "ns/name", as ServicePortName.String() prints it
    const name = nft ? `${nft[1]}/${nft[2]}${nft[3] ? `:${nft[3]}` : ''}` : /^(?:.* for )?([^\s/]+\/[^\s:]+(?::[^\s(]+)?)/.exec(s.comment ?? '')?.[1];
    if (!name) continue;
    if (viaNodePorts) return { servicePort: name, via: 'NodePort' };
    const kind = s.table !== 'nft' ? KIND_BY_COMMENT.find(([re]) => re.test(s.comment ?? ''))?.[1] : undefined;
    if (kind) return { servicePort: name, via: kind };
    if (s === t.verdictBy || s.table === 'nft') return { servicePort: name, via: addressKind(findService(objects, name), t.packet.dst) };
  }
  return undefined;
}

/** Which of the Service's addresses `ip` is, when the rule does not say. */
function addressKind(svc: KubeObject | undefined, ip: string): ServiceHit['via'] {
  const o = svc as { spec?: { clusterIP?: string; clusterIPs?: string[]; externalIPs?: string[] } } | undefined;
  if (o?.spec?.clusterIP === ip || o?.spec?.clusterIPs?.includes(ip)) return 'ClusterIP';
  if (o?.spec?.externalIPs?.includes(ip)) return 'ExternalIP';
  return 'LoadBalancerIP';
}

function masqueradeReason(s: TraceStep, src: string): string {
  const neg = /(?:! -s|saddr !=) (\S+)/.exec(s.match);
  if (chainKind(s.chain) === 'sep') return `hairpin: the source ${src} is the endpoint itself (${s.chain})`;
  if (neg) return `the source ${src} is outside the cluster CIDR ${neg[1]} (${s.chain})`;
  if (/--src-type LOCAL|fib saddr type local/.test(s.match)) return `the source ${src} is an address of this node (${s.chain})`;
  if (chainKind(s.chain) === 'ext') return `external traffic to a Service with externalTrafficPolicy Cluster (${s.chain})`;
  if (chainKind(s.chain) === 'svc') return `--masquerade-all (${s.chain})`;
  return `${s.comment ?? 'rule'} (${s.chain})`;
}

function findService(objects: readonly KubeObject[], servicePort: string): KubeObject | undefined {
  const [nsName] = servicePort.split(':');
  const [ns, name] = nsName!.split('/');
  return objects.find((o) => o.kind === 'Service' && o.metadata?.name === name && (o.metadata?.namespace ?? 'default') === ns);
}

export function explain(t: ConnectionTrace, objects: readonly KubeObject[], cfg: ProxyConfig): TraceReport {
  const reasons: string[] = [];
  const hit = serviceHit(t, objects);
  let service: TraceReport['service'];
  if (hit) {
    const spec = ((findService(objects, hit.servicePort) as { spec?: unknown } | undefined)?.spec ?? {}) as Record<string, unknown>;
    service = {
      ...hit,
      type: (spec.type as string | undefined) ?? 'ClusterIP',
      externalTrafficPolicy: spec.externalTrafficPolicy as string | undefined,
      internalTrafficPolicy: spec.internalTrafficPolicy as string | undefined,
      sessionAffinity: spec.sessionAffinity as string | undefined,
    };
  }
  const chains = [...t.path, ...t.endpoints.flatMap((e) => e.path)].map((s) => s.target);
  if (t.verdict === 'DNAT') {
    const svl = chains.find((c) => chainKind(c) === 'svl');
    if (svl) reasons.push(`traffic policy Local: only endpoints on this node are used (${svl})`);
    const ext = t.path.find((s) => chainKind(s.chain) === 'ext' && chainKind(s.target) === 'svc');
    const podSrc = ext && /(?:^|\s)(?:-s|saddr) (\d\S+)/.exec(ext.match)?.[1];
    if (podSrc) reasons.push(`externalTrafficPolicy Local: traffic from pods (${podSrc}) is short-circuited to all endpoints`);
    else if (ext && /--src-type LOCAL|fib saddr type local/.test(ext.match)) reasons.push('externalTrafficPolicy Local: traffic from this node is routed to all endpoints');
    const fw = t.path.find((s) => chainKind(s.target) === 'fw');
    if (fw) reasons.push(`loadBalancerSourceRanges allow this source (${fw.target})`);
    const masq = t.endpoints.find((e) => e.masqueradeBy);
    if (masq) reasons.push(`masquerade: ${masqueradeReason(masq.masqueradeBy!, t.packet.src)}`);
    else reasons.push('no masquerade: the endpoint sees the client address');
    if (t.affinity) reasons.push(`sessionAffinity ClientIP: later connections from ${t.packet.src} stick to the endpoint first chosen for ${t.affinity.seconds}s`);
  } else {
    const why = t.verdictBy?.comment ?? '';
    const noEndpoints = /has no endpoints/.test(why) || (/@no-endpoint-/.test(why) && t.verdict === 'REJECT');
    const noLocal = /has no local endpoints/.test(why) || (/@no-endpoint-/.test(why) && t.verdict === 'DROP');
    const fwDrop = /not accepted by KUBE-FW-/.test(why) || (t.verdictBy !== undefined && chainKind(t.verdictBy.chain) === 'fw');
    if (noEndpoints) reasons.push(`the Service port has no ready endpoints: ${t.verdict} (${t.verdictBy!.table} ${t.verdictBy!.chain})`);
    else if (noLocal) reasons.push(`externalTrafficPolicy Local and no endpoint on node ${cfg.nodeName}: ${t.verdict} (${t.verdictBy!.table} ${t.verdictBy!.chain})`);
    else if (fwDrop) reasons.push(`the source ${t.packet.src} is outside loadBalancerSourceRanges: ${t.verdict} (${t.verdictBy!.table} ${t.verdictBy!.chain})`);
    else if (t.verdictBy) reasons.push(`${why || t.verdictBy.match}: ${t.verdict} (${t.verdictBy.table} ${t.verdictBy.chain})`);
    else reasons.push('no Service rule matches: the connection is not touched by the proxy');
  }
  return { ...t, node: cfg.nodeName, mode: cfg.mode, service, reasons };
}

function fmtStep(s: TraceStep): string {
  return `${s.table} ${s.chain} -> ${s.target}${s.comment ? `  "${s.comment}"` : ''}`;
}

export function formatReport(r: TraceReport): string {
  const p = r.packet;
  const lines = [`connection: ${p.proto} ${p.src} -> ${p.dst}:${p.dport} (new, node ${r.node}, ${r.mode} mode)`];
  if (r.service) {
    const policy = [r.service.externalTrafficPolicy && `externalTrafficPolicy=${r.service.externalTrafficPolicy}`, r.service.internalTrafficPolicy && `internalTrafficPolicy=${r.service.internalTrafficPolicy}`, r.service.sessionAffinity && `sessionAffinity=${r.service.sessionAffinity}`].filter(Boolean);
    lines.push(`service: ${r.service.servicePort} via ${r.service.via} (type ${r.service.type}${policy.length ? `, ${policy.join(', ')}` : ''})`);
  } else lines.push('service: none');
  lines.push('rules:');
  for (const s of r.path) lines.push(`  ${fmtStep(s)}`);
  if (r.verdict === 'DNAT') {
    lines.push(`verdict: DNAT to ${r.endpoints.length} endpoint${r.endpoints.length === 1 ? '' : 's'}`);
    for (const e of r.endpoints) {
      const rest = e.path.slice(r.path.length).map((s) => s.target).join(' -> ');
      lines.push(`  ${e.endpoint}  ${(e.probability * 100).toFixed(1)}%  ${e.masquerade ? 'masquerade' : 'no masquerade'}  via ${rest}`);
    }
  } else {
    if (r.verdictBy) lines.push(`  ${fmtStep(r.verdictBy)}`);
    lines.push(`verdict: ${r.verdict}`);
  }
  for (const why of r.reasons) lines.push(`why: ${why}`);
  return lines.join('\n') + '\n';
}

export const command: Command = {
  name: 'trace',
  summary: 'Explain where a connection, a DNS question or an HTTP request goes on this node',
  usage:
    'kubeplane trace <ip>:<port>[/<proto>] [--from IP] (--objects FILE | --kubeconfig FILE) [--node-name N] [--node-ip IP] [--cluster-cidr CIDR] [--proxy-mode iptables|nftables] [-o json]\n' +
    '  kubeplane trace dns <name> [--type A|AAAA|SRV|PTR|...] [--search NAMESPACE] [--corefile FILE] (--objects FILE | --kubeconfig FILE) [-o json]\n' +
    '  kubeplane trace http <url> [--method M] [--header "Name: value"] [--from IP] (--objects FILE | --kubeconfig FILE) [-o json]',
  flags: traceFlags,
  async run(opts: Options, args: string[]): Promise<number> {
    if (args[0] === 'dns') return runDnsTrace(opts, args.slice(1));
    if (args[0] === 'http') return runHttpTrace(opts, args.slice(1));
    if (args.length !== 1) throw new UsageError(args.length === 0 ? 'trace needs a destination <ip>:<port>[/<proto>]' : `unexpected argument "${args[1]}"`);
    const target = parseTarget(args[0]!);
    const output = opts.string('output');
    if (output !== '' && output !== 'json') throw new UsageError(`invalid -o "${output}": must be json or empty`);
    const cfg = configFromOptions(opts);
    if (cfg.mode === 'ipvs') throw new UsageError('trace reads iptables or nftables rules; --proxy-mode ipvs is not supported yet');
    const file = opts.string('objects');
    let from = opts.string('from');
    if (!from) {
      const cidr = cfg.clusterCIDRs.find((c) => !c.includes(':'));
      if (!cidr) throw new UsageError('trace needs --from IP (or --cluster-cidr, to trace from a pod)');
      const o = cidr.split('/')[0]!.split('.').map(Number);
      from = `${o[0]}.${o[1]}.${o[2]}.${o[3]! + 2}`;
    }
    const { isIPv4, traceConnection, traceNftConnection } = await import('../proxy/trace.js');
    if (!isIPv4(from)) throw new UsageError(`invalid --from "${from}": not an IPv4 address`);
    const { readObjectsFile, ObjectsFileError } = await import('../api/objects-file.js');
    let objects: KubeObject[];
    try {
      // Without --objects, the objects come from the API server (--kubeconfig, KUBECONFIG, in-cluster).
      objects = file ? readObjectsFile(file) : (await listObjects(opts, [['', 'services'], ['discovery.k8s.io', 'endpointslices'], ['', 'nodes']])).flat();
    } catch (err) {
      if (err instanceof ObjectsFileError) throw new UsageError(err.message);
      throw err;
    }
    const { stateFromObjects } = await import('../proxy/model/snapshot.js');
    const { renderIptables } = await import('../proxy/iptables/render.js');
    const { nftablesText, renderNftables } = await import('../proxy/nftables/render.js');
    const { iptablesConfig, nftablesConfig } = await import('../proxy/render.js');
    const state = stateFromObjects(objects, 'IPv4', cfg.nodeName);
    const packet = { src: from, dst: target.ip, proto: target.proto, dport: target.port, nodeIPs: cfg.nodeIPs.filter((ip) => !ip.includes(':')) };
    const traced =
      cfg.mode === 'nftables'
        ? traceNftConnection(nftablesText(renderNftables(state, nftablesConfig(cfg, 'IPv4'))), packet)
        : traceConnection(renderIptables({ services: state.services, endpoints: state.endpoints, node: state.node }, iptablesConfig(cfg, 'IPv4')).text, packet);
    const report = explain(traced, objects, cfg);
    process.stdout.write(output === 'json' ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
    return 0;
  },
};
