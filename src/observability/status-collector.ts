// Gathers the status page's data from what the components already expose: the shared
// informers (Services, EndpointSlices), the proxy's metrics and proxiers, the DNS metrics,
// the ingress route table and its request metrics. Rates come from samples of the counters
// taken every second and kept for the rate window; nothing on a hot path changes for this.
import type { EndpointSlice, Service } from '../api/types.js';
import type { Informer, InformerFactory } from '../client/informer.js';
import type { DnsMetrics } from '../dns/metrics.js';
import type { IngressMetrics } from '../ingress/metrics.js';
import type { PathRoute } from '../ingress/routes.js';
import type { RouteTable } from '../ingress/table.js';
import type { ProxyMetrics } from '../proxy/metrics.js';
import type { DnsStatus, EndpointGroup, IngressStatus, ProxyStatus, RouteStatus, ServiceStatus, StatusData } from './status-page.js';

/** What the collector reads of a running proxy (setup.ts's RunningProxy has it). */
export interface ProxySource {
  metrics: ProxyMetrics;
  proxiers: readonly { family: string; lastSyncOK: boolean; syncCount: number }[];
}

/** What the collector reads of the cluster DNS (setup.ts's ClusterDns has it). */
export interface DnsSource {
  metrics: DnsMetrics;
}

/** What the collector reads of the ingress controller (setup.ts's IngressController has it). */
export interface IngressSource {
  metrics: IngressMetrics;
  proxy: { table: RouteTable };
  rejected: ReadonlyMap<string, string>;
}

interface Sample {
  at: number;
  dnsQueries: number;
  routeRequests: Map<string, number>;
}

export interface StatusCollectorOptions {
  node: string;
  /** the shared informer factory; the collector registers Services and EndpointSlices before it starts */
  informers?: InformerFactory;
  rateWindowSeconds?: number;
  sampleMs?: number;
}

function routeKey(host: string, path: string, namespace: string, ingress: string): string {
  return `${host}\u0000${path}\u0000${namespace}/${ingress}`;
}

function sum(values: { value: number }[]): number {
  let n = 0;
  for (const v of values) n += v.value;
  return n;
}

export class StatusCollector {
  readonly rateWindowSeconds: number;
  private readonly sampleMs: number;
  private services: Informer<Service> | undefined;
  private slices: Informer<EndpointSlice> | undefined;
  private proxy: { source: ProxySource; mode: string } | undefined;
  private dns: DnsSource | undefined;
  private ingress: IngressSource | undefined;
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private syncSeen = { count: 0, sum: 0 };
  private lastSyncSeconds: number | undefined;
  private readonly components = new Map<string, boolean>();

  constructor(readonly opts: StatusCollectorOptions) {
    this.rateWindowSeconds = opts.rateWindowSeconds ?? 60;
    this.sampleMs = opts.sampleMs ?? 1000;
    if (opts.informers) this.useInformers(opts.informers);
  }

  /** Lists Services and EndpointSlices from this factory; call before the factory starts. */
  useInformers(factory: InformerFactory): void {
    this.services = factory.informerFor<Service>('', 'services');
    this.slices = factory.informerFor<EndpointSlice>('discovery.k8s.io', 'endpointslices');
  }

  /** Names a component the page lists, running or not. */
  component(name: string, running: boolean): void {
    this.components.set(name, running);
  }

  attachProxy(source: ProxySource, mode: string): void {
    this.proxy = { source, mode };
    this.component('proxy', true);
  }

  attachDns(source: DnsSource): void {
    this.dns = source;
    this.component('dns', true);
  }

  attachIngress(source: IngressSource): void {
    this.ingress = source;
    this.component('ingress', true);
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private dnsQueries(): number {
    return this.dns ? sum(this.dns.metrics.requests.get().values) : 0;
  }

  private async routeRequests(): Promise<Map<string, { requests: number; errors: number }>> {
    const out = new Map<string, { requests: number; errors: number }>();
    if (!this.ingress) return out;
    const m = await this.ingress.metrics.requests.get();
    for (const v of m.values) {
      const l = v.labels as Record<string, string | number | undefined>;
      const k = routeKey(String(l.host ?? ''), String(l.path ?? ''), String(l.namespace ?? ''), String(l.ingress ?? ''));
      const e = out.get(k) ?? { requests: 0, errors: 0 };
      e.requests += v.value;
      if (Number(l.status) >= 500) e.errors += v.value;
      out.set(k, e);
    }
    return out;
  }

  /** Notices a new sync since the last look: its duration is the histogram's growth. */
  private async noteSyncs(): Promise<{ count: number; sum: number }> {
    if (!this.proxy) return { count: 0, sum: 0 };
    const h = await this.proxy.source.metrics.syncDuration.get();
    const count = h.values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    const total = h.values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
    if (count > this.syncSeen.count) {
      // Syncs run at most once per min-sync-period and samples are a second apart: almost
      // always one sync, and then this is its duration exactly; otherwise their mean.
      this.lastSyncSeconds = (total - this.syncSeen.sum) / (count - this.syncSeen.count);
      this.syncSeen = { count, sum: total };
    }
    return { count, sum: total };
  }

  private async sample(): Promise<void> {
    const at = Date.now();
    const routes = await this.routeRequests();
    await this.noteSyncs();
    this.samples.push({ at, dnsQueries: this.dnsQueries(), routeRequests: new Map([...routes].map(([k, v]) => [k, v.requests])) });
    const keepFrom = at - this.rateWindowSeconds * 1000;
    while (this.samples.length > 1 && this.samples[1]!.at <= keepFrom) this.samples.shift();
  }

  /** Per second since the oldest sample in the window; 0 until there is one. */
  private rate(now: number, current: number, of: (s: Sample) => number | undefined): number {
    const oldest = this.samples[0];
    if (!oldest || now - oldest.at < 1) return 0;
    return Math.max(0, current - (of(oldest) ?? 0)) / ((now - oldest.at) / 1000);
  }

  private serviceStatus(): ServiceStatus[] {
    if (!this.services || !this.slices) return [];
    const byService = new Map<string, EndpointSlice[]>();
    for (const s of this.slices.list()) {
      const svc = s.metadata.labels?.['kubernetes.io/service-name'];
      if (!svc) continue;
      const k = `${s.metadata.namespace ?? 'default'}/${svc}`;
      const list = byService.get(k) ?? [];
      list.push(s);
      byService.set(k, list);
    }
    const out: ServiceStatus[] = [];
    for (const svc of this.services.list()) {
      const ns = svc.metadata.namespace ?? 'default';
      const name = svc.metadata.name ?? '';
      const spec = svc.spec ?? {};
      const groups = new Map<string, EndpointGroup>();
      for (const slice of byService.get(`${ns}/${name}`) ?? []) {
        for (const ep of slice.endpoints ?? []) {
          const node = ep.nodeName ?? '';
          const g = groups.get(node) ?? { node, ready: [], notReady: [] };
          (ep.conditions?.ready === false ? g.notReady : g.ready).push(...(ep.addresses ?? []));
          groups.set(node, g);
        }
      }
      const ips = spec.type === 'ExternalName' ? [] : spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP && spec.clusterIP !== 'None' ? [spec.clusterIP] : [];
      out.push({
        namespace: ns,
        name,
        type: spec.type === 'ExternalName' ? `ExternalName ${spec.externalName ?? ''}` : spec.clusterIP === 'None' ? 'Headless' : (spec.type ?? 'ClusterIP'),
        clusterIPs: ips.filter((ip) => ip !== 'None'),
        ports: (spec.ports ?? []).map((p) => `${p.name ? p.name + ' ' : ''}${p.port}/${p.protocol ?? 'TCP'}${p.nodePort ? ` (node ${p.nodePort})` : ''}`),
        endpoints: [...groups.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)),
      });
    }
    return out.sort((a, b) => (a.namespace + '/' + a.name < b.namespace + '/' + b.name ? -1 : 1));
  }

  private async proxyStatus(): Promise<ProxyStatus | undefined> {
    if (!this.proxy) return undefined;
    const { source, mode } = this.proxy;
    const { count, sum: total } = await this.noteSyncs();
    const last = await source.metrics.lastTimestamp.get();
    const rules = mode === 'nftables' ? await source.metrics.nftablesTotal.get() : await source.metrics.iptablesRulesTotal.get();
    return {
      mode,
      syncs: count,
      lastSyncSeconds: this.lastSyncSeconds,
      meanSyncSeconds: count > 0 ? total / count : undefined,
      families: source.proxiers.map((p) => ({
        family: p.family,
        syncs: p.syncCount,
        lastSyncOK: p.lastSyncOK,
        lastSyncAt: last.values.find((v) => v.labels.ip_family === p.family)?.value,
        rules: rules.values.filter((v) => v.labels.ip_family === p.family).map((v) => ({ table: String((v.labels as Record<string, unknown>).table ?? 'objects'), count: v.value })),
      })),
    };
  }

  private dnsStatus(now: number): DnsStatus | undefined {
    if (!this.dns) return undefined;
    const queries = this.dnsQueries();
    const byRcode = new Map<string, number>();
    for (const v of this.dns.metrics.responses.get().values) byRcode.set(String(v.labels.rcode), (byRcode.get(String(v.labels.rcode)) ?? 0) + v.value);
    const byType = new Map<string, number>();
    for (const v of this.dns.metrics.requests.get().values) byType.set(String(v.labels.type), (byType.get(String(v.labels.type)) ?? 0) + v.value);
    const sorted = (m: Map<string, number>): [string, number][] => [...m].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return {
      queries,
      rate: this.rate(now, queries, (s) => s.dnsQueries),
      byRcode: sorted(byRcode).map(([rcode, count]) => ({ rcode, count })),
      byType: sorted(byType).map(([type, count]) => ({ type, count })),
    };
  }

  private async ingressStatus(now: number): Promise<IngressStatus | undefined> {
    if (!this.ingress) return undefined;
    const counts = await this.routeRequests();
    const table = this.ingress.proxy.table;
    const routes: RouteStatus[] = [];
    const add = (r: PathRoute, pathType: string): void => {
      const [ns, name] = r.ingress.split('/') as [string, string];
      const k = routeKey(r.host, r.path, ns, name);
      const c = counts.get(k) ?? { requests: 0, errors: 0 };
      const backend = r.backend.service ? `${r.backend.service.namespace}/${r.backend.service.name}:${r.backend.service.port.number ?? r.backend.service.port.name ?? ''}` : r.backend.upstreamKey;
      routes.push({ host: r.host, path: r.path, pathType, ingress: r.ingress, backend, requests: c.requests, errors: c.errors, rate: this.rate(now, c.requests, (s) => s.routeRequests.get(k)) });
    };
    const hosts = [...table.exact, ...[...table.wildcard].map(([k, v]): [string, typeof v] => ['*.' + k, v]), ['', table.noHost] as [string, typeof table.noHost]];
    hosts.sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a < b ? -1 : a > b ? 1 : 0));
    for (const [, compiled] of hosts) {
      for (const r of compiled.routes.paths) {
        add(r, r.pathType);
        for (const c of r.canaries) add(c, `${c.pathType} canary`);
      }
      if (compiled.routes.fallback) add(compiled.routes.fallback, 'defaultBackend');
    }
    return { routes, rejectedIngresses: this.ingress.rejected.size };
  }

  async collect(): Promise<StatusData> {
    const now = Date.now();
    return {
      node: this.opts.node,
      generatedAt: new Date(now).toISOString(),
      rateWindowSeconds: this.rateWindowSeconds,
      components: [...this.components].map(([name, running]) => ({ name, running })),
      services: this.serviceStatus(),
      proxy: await this.proxyStatus(),
      dns: this.dnsStatus(now),
      ingress: await this.ingressStatus(now),
    };
  }
}
