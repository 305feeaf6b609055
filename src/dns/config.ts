// Corefile server blocks → validated options per plugin (CoreDNS's setup.go parse step).
// Pure: no files read except resolv.conf for `forward . FILE`, no sockets.
import { isIP } from 'node:net';
import { existsSync } from 'node:fs';
import { parseDuration } from '../cli/flags.js';
import { defaultKubernetesOptions, type KubernetesOptions, type PodMode } from './answer.js';
import { defaultCacheOptions, type CacheOptions } from './cache.js';
import { KNOWN_PLUGINS } from './chain.js';
import { CorefileError, parseCorefile, type Directive, type ServerBlockSyntax } from './corefile.js';
import { defaultForwardOptions, parseHostPort, readResolvConf, type ForwardOptions } from './forward.js';

export interface ServerBlockConfig {
  zones: string[];
  port: number;
  kubernetes?: KubernetesOptions;
  forward?: ForwardOptions;
  cache?: CacheOptions;
  errors: boolean;
  log: boolean;
  loop: boolean;
  loadbalance: boolean;
}

export interface DnsConfig {
  blocks: ServerBlockConfig[];
  /** host:port, undefined when the plugin is absent */
  health?: { addr: string; lameduckMs: number };
  ready?: { addr: string };
  prometheus?: { addr: string };
  reload?: { intervalMs: number; jitterMs: number };
}

function fail(d: Directive, msg: string): never {
  throw new CorefileError(`line ${d.line}: ${d.name}: ${msg}`);
}

function normZone(z: string): string {
  return z.toLowerCase().replace(/\.$/, '').replace(/^\.$/, '');
}

function int(d: Directive, text: string | undefined, what: string, min: number, max: number): number {
  if (text === undefined || !/^\d+$/.test(text)) fail(d, `${what} must be an integer, got "${text ?? ''}"`);
  const n = Number(text);
  if (n < min || n > max) fail(d, `${what} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function duration(d: Directive, text: string | undefined, what: string): number {
  try {
    if (text === undefined) throw new Error('missing');
    return parseDuration(text);
  } catch {
    fail(d, `${what} must be a duration like 5s, got "${text ?? ''}"`);
  }
}

function noArgs(d: Directive): void {
  if (d.args.length || d.block.length) fail(d, 'takes no arguments');
}

function subZones(blockZones: string[], args: string[]): string[] {
  if (!args.length) return blockZones;
  return args.map((a) => normZone(a));
}

export function parseKubernetes(d: Directive, blockZones: string[]): KubernetesOptions {
  const o = defaultKubernetesOptions();
  o.zones = subZones(blockZones, d.args);
  for (const s of d.block) {
    switch (s.name) {
      case 'pods':
        if (s.args.length !== 1 || !['disabled', 'insecure', 'verified'].includes(s.args[0]!)) fail(s, 'wants one of disabled, insecure, verified');
        o.pods = s.args[0] as PodMode;
        break;
      case 'endpoint_pod_names':
        noArgs(s);
        o.endpointPodNames = true;
        break;
      case 'ttl':
        if (s.args.length !== 1) fail(s, 'wants one argument');
        o.ttl = int(s, s.args[0], 'ttl', 0, 3600);
        break;
      case 'namespaces':
        if (!s.args.length) fail(s, 'wants at least one namespace');
        o.namespaces = s.args.map((a) => a.toLowerCase());
        break;
      case 'ignore':
        if (s.args.length !== 1 || s.args[0] !== 'empty_service') fail(s, 'only "ignore empty_service" is known');
        o.ignoreEmptyService = true;
        break;
      case 'fallthrough':
        o.fallthrough = s.args.length ? s.args.map(normZone) : [''];
        break;
      // Connection settings: the API is reached through kubeplane's own client flags.
      case 'endpoint':
      case 'kubeconfig':
      case 'tls':
      case 'apiserver_qps':
      case 'apiserver_burst':
      case 'apiserver_max_inflight':
      case 'startup_timeout':
      case 'labels':
      case 'noendpoints':
        break;
      default:
        fail(s, `unknown property "${s.name}"`);
    }
  }
  return o;
}

export function parseForward(d: Directive, resolvConf: (path: string) => string[]): ForwardOptions {
  const o = defaultForwardOptions();
  if (d.args.length < 2) fail(d, 'wants FROM and at least one TO');
  o.from = normZone(d.args[0]!);
  for (const to of d.args.slice(1)) {
    if (to.startsWith('/')) {
      if (!existsSync(to)) fail(d, `cannot read ${to}`);
      o.to.push(...resolvConf(to));
      continue;
    }
    const hp = parseHostPort(to);
    if (isIP(hp.host) === 0 || !(hp.port > 0 && hp.port < 65536)) fail(d, `not an IP address or file: "${to}"`);
    o.to.push(isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`);
  }
  if (!o.to.length) fail(d, 'no upstream addresses');
  for (const s of d.block) {
    switch (s.name) {
      case 'max_concurrent':
        o.maxConcurrent = int(s, s.args[0], 'max_concurrent', 1, 1_000_000);
        break;
      case 'force_tcp':
        noArgs(s);
        o.forceTcp = true;
        break;
      case 'max_fails':
        o.maxFails = int(s, s.args[0], 'max_fails', 0, 1000);
        break;
      case 'health_check':
        o.healthCheckMs = duration(s, s.args[0], 'health_check');
        break;
      case 'except':
        o.except = s.args.map(normZone);
        break;
      case 'prefer_udp':
      case 'expire':
      case 'policy':
      case 'tls':
      case 'tls_servername':
      case 'next':
      case 'failover':
      case 'max_idle_conns':
        break;
      default:
        fail(s, `unknown property "${s.name}"`);
    }
  }
  return o;
}

export function parseCache(d: Directive, blockZones: string[]): CacheOptions {
  const o = defaultCacheOptions();
  let args = d.args;
  if (args[0] !== undefined && /^\d+$/.test(args[0])) {
    const ttl = int(d, args[0], 'TTL', 0, 1 << 30);
    o.successTtl = ttl;
    o.denialTtl = ttl;
    args = args.slice(1);
  }
  o.zones = subZones(blockZones, args);
  for (const s of d.block) {
    switch (s.name) {
      case 'success':
      case 'denial': {
        const cap = int(s, s.args[0], 'capacity', 0, 1 << 30);
        const ttl = s.args[1] !== undefined ? int(s, s.args[1], 'TTL', 0, 1 << 30) : undefined;
        const min = s.args[2] !== undefined ? int(s, s.args[2], 'MINTTL', 0, 1 << 30) : undefined;
        if (s.name === 'success') {
          o.successCapacity = cap;
          if (ttl !== undefined) o.successTtl = ttl;
        } else {
          o.denialCapacity = cap;
          if (ttl !== undefined) o.denialTtl = ttl;
        }
        if (min !== undefined) o.minTtl = min;
        break;
      }
      case 'disable': {
        const kind = s.args[0];
        if (kind !== 'success' && kind !== 'denial') fail(s, 'wants success or denial');
        const zones = s.args.length > 1 ? s.args.slice(1).map(normZone) : [''];
        if (kind === 'success') o.disableSuccess = zones;
        else o.disableDenial = zones;
        break;
      }
      case 'prefetch': {
        if (s.args.length > 3) fail(s, 'wants AMOUNT [DURATION] [PERCENTAGE%]');
        const amount = s.args[0] !== undefined ? int(s, s.args[0], 'AMOUNT', 1, 1 << 30) : 1;
        let durationMs = 60_000;
        let percentage = 10;
        for (const a of s.args.slice(1)) {
          if (a.endsWith('%')) {
            percentage = int(s, a.slice(0, -1), 'PERCENTAGE', 10, 90);
          } else durationMs = duration(s, a, 'DURATION');
        }
        o.prefetch = { amount, durationMs, percentage };
        break;
      }
      case 'serve_stale': {
        if (s.args.length > 2) fail(s, 'wants [DURATION] [immediate|verify]');
        const durationMs = s.args[0] !== undefined ? duration(s, s.args[0], 'DURATION') : 3_600_000;
        const mode = s.args[1] ?? 'immediate';
        if (mode !== 'immediate' && mode !== 'verify') fail(s, `REFRESH_MODE must be immediate or verify, got "${mode}"`);
        o.serveStale = { durationMs, verify: mode === 'verify' };
        break;
      }
      case 'servfail':
      case 'keepttl':
        break;
      default:
        fail(s, `unknown property "${s.name}"`);
    }
  }
  return o;
}

function addrArg(d: Directive, def: string): string {
  if (d.args.length > 1) fail(d, 'wants at most one address');
  const a = d.args[0] ?? def;
  if (!/:\d+$/.test(a)) fail(d, `address must be [HOST]:PORT, got "${a}"`);
  return a;
}

/** Turns Corefile text into validated options; CorefileError names the line and plugin. */
export function parseConfig(text: string, resolvConf: (path: string) => string[] = readResolvConf): DnsConfig {
  const cfg: DnsConfig = { blocks: [] };
  for (const sb of parseCorefile(text)) cfg.blocks.push(parseBlock(sb, cfg, resolvConf));
  return cfg;
}

function parseBlock(sb: ServerBlockSyntax, cfg: DnsConfig, resolvConf: (path: string) => string[]): ServerBlockConfig {
  const zones = sb.keys.map((k) => k.zone);
  const ports = new Set(sb.keys.map((k) => k.port ?? 53));
  if (ports.size > 1) throw new CorefileError(`line ${sb.line}: one server block listens on one port`);
  const b: ServerBlockConfig = { zones, port: [...ports][0]!, errors: false, log: false, loop: false, loadbalance: false };
  const seen = new Set<string>();
  for (const d of sb.directives) {
    if (!KNOWN_PLUGINS.has(d.name)) throw new CorefileError(`line ${d.line}: unknown plugin "${d.name}" (kubeplane serves: ${[...KNOWN_PLUGINS].sort().join(', ')})`);
    if (seen.has(d.name) && d.name !== 'forward') fail(d, 'may appear only once per server block');
    seen.add(d.name);
    switch (d.name) {
      case 'kubernetes':
        b.kubernetes = parseKubernetes(d, zones);
        break;
      case 'forward':
        if (b.forward) fail(d, 'only one forward per server block');
        b.forward = parseForward(d, resolvConf);
        break;
      case 'cache':
        b.cache = parseCache(d, zones);
        break;
      case 'errors':
        b.errors = true;
        break;
      case 'log':
        b.log = true;
        break;
      case 'loop':
        noArgs(d);
        b.loop = true;
        break;
      case 'loadbalance':
        if (d.args.length && d.args[0] !== 'round_robin') fail(d, 'only round_robin is known');
        b.loadbalance = true;
        break;
      case 'health': {
        let lameduckMs = 0;
        for (const s of d.block) {
          if (s.name !== 'lameduck') fail(s, `unknown property "${s.name}"`);
          lameduckMs = duration(s, s.args[0], 'lameduck');
        }
        cfg.health = { addr: addrArg(d, ':8080'), lameduckMs };
        break;
      }
      case 'ready':
        cfg.ready = { addr: addrArg(d, ':8181') };
        break;
      case 'prometheus':
        cfg.prometheus = { addr: addrArg(d, ':9153') };
        break;
      case 'reload': {
        const intervalMs = d.args[0] ? duration(d, d.args[0], 'interval') : 30_000;
        const jitterMs = d.args[1] ? duration(d, d.args[1], 'jitter') : 15_000;
        if (intervalMs < 2000) fail(d, 'interval must be at least 2s');
        cfg.reload = { intervalMs, jitterMs };
        break;
      }
    }
  }
  return b;
}
