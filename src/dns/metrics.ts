// Prometheus metrics under CoreDNS's names, so existing dashboards keep working. Label
// children are looked up once per label set and reused: the hot path does no label hashing.
import client from 'prom-client';

type Child = { inc(v?: number): void };
type HistChild = { observe(v: number): void };

const DURATION_BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192];

export class DnsMetrics {
  readonly registry = new client.Registry();
  private readonly requests = new client.Counter({ name: 'coredns_dns_requests_total', help: 'Counter of DNS requests made per zone, protocol and family.', labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'], registers: [this.registry] });
  private readonly responses = new client.Counter({ name: 'coredns_dns_responses_total', help: 'Counter of response status codes.', labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'], registers: [this.registry] });
  private readonly duration = new client.Histogram({ name: 'coredns_dns_request_duration_seconds', help: 'Histogram of the time (in seconds) each request took per zone.', labelNames: ['server', 'zone', 'view', 'type'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly cacheHits = new client.Counter({ name: 'coredns_cache_hits_total', help: 'The count of cache hits.', labelNames: ['server', 'type', 'zones', 'view'], registers: [this.registry] });
  readonly cacheMisses = new client.Counter({ name: 'coredns_cache_misses_total', help: 'The count of cache misses. Deprecated, derive misses from cache hits/requests counters.', labelNames: ['server', 'zones', 'view'], registers: [this.registry] });
  readonly cacheRequests = new client.Counter({ name: 'coredns_cache_requests_total', help: 'The count of cache requests.', labelNames: ['server', 'zones', 'view'], registers: [this.registry] });
  readonly cacheEntries = new client.Gauge({ name: 'coredns_cache_entries', help: 'The number of elements in the cache.', labelNames: ['server', 'type', 'zones', 'view'], registers: [this.registry] });
  private readonly forwardRequests = new client.Counter({ name: 'coredns_forward_requests_total', help: 'Counter of requests made per upstream.', labelNames: ['to'], registers: [this.registry] });
  private readonly proxyDuration = new client.Histogram({ name: 'coredns_proxy_request_duration_seconds', help: 'Histogram of the time each request took.', labelNames: ['proxy_name', 'to', 'rcode'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  readonly maxConcurrentRejects = new client.Counter({ name: 'coredns_forward_max_concurrent_rejects_total', help: 'Counter of the number of queries rejected because the concurrent queries were at maximum.', registers: [this.registry] });
  readonly panics = new client.Counter({ name: 'coredns_panics_total', help: 'A metrics that counts the number of panics.', registers: [this.registry] });
  private readonly children = new Map<string, Child | HistChild>();

  constructor(readonly server: string) {
    new client.Gauge({ name: 'coredns_build_info', help: 'A metric with a constant 1 value labeled by version, revision, and goversion from which CoreDNS was built.', labelNames: ['version', 'revision', 'goversion'], registers: [this.registry] })
      .labels('kubeplane', '', process.version)
      .set(1);
  }

  private child<T>(key: string, make: () => T): T {
    let c = this.children.get(key) as T | undefined;
    if (!c) this.children.set(key, (c = make()) as Child);
    return c;
  }

  observeRequest(zone: string, proto: string, family: string, type: string, rcode: string, plugin: string, seconds: number): void {
    const s = this.server;
    this.child(`q|${zone}|${proto}|${family}|${type}`, () => this.requests.labels(s, zone, '', proto, family, type)).inc();
    this.child(`r|${zone}|${rcode}|${plugin}`, () => this.responses.labels(s, zone, '', rcode, plugin)).inc();
    this.child(`d|${zone}|${type}`, () => this.duration.labels(s, zone, '', type)).observe(seconds);
  }

  observeForward(to: string, rcode: number, seconds: number): void {
    this.child(`f|${to}`, () => this.forwardRequests.labels(to)).inc();
    const rc = rcode < 0 ? 'timeout' : (['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'][rcode] ?? String(rcode));
    this.child(`p|${to}|${rc}`, () => this.proxyDuration.labels('forward', to, rc)).observe(seconds);
  }
}
