// Prometheus metrics under CoreDNS's names, so existing dashboards keep working. The query
// path only bumps numbers on series objects it holds (no label hashing per query); the
// series are turned into Prometheus values when scraped, through prom-client's registry.
import client from 'prom-client';

export interface Series {
  readonly labels: Record<string, string>;
  value: number;
}

export interface HistogramSeries {
  readonly labels: Record<string, string>;
  /** per-bucket (non-cumulative) counts; the last slot is +Inf */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A counter or gauge whose series the caller increments directly. */
export class FastCounter {
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly type: 'counter' | 'gauge' = 'counter',
  ) {}
  with(...values: string[]): Series {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      this.series.set(key, (s = { labels, value: 0 }));
    }
    return s;
  }
  get(): { name: string; help: string; type: string; values: MetricValue[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value })) };
  }
}

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {}
  with(...values: string[]): HistogramSeries {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      this.series.set(key, (s = { labels, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 }));
    }
    return s;
  }
  observe(s: HistogramSeries, v: number): void {
    let i = 0;
    while (i < this.buckets.length && v > this.buckets[i]!) i++;
    s.counts[i]!++;
    s.sum += v;
    s.count++;
  }
  get(): { name: string; help: string; type: string; values: MetricValue[]; aggregator: string } {
    const values: MetricValue[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      this.buckets.forEach((b, i) => {
        acc += s.counts[i]!;
        values.push({ labels: { ...s.labels, le: b }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

const DURATION_BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192];

/** The series one answered question touches, resolved once and kept with a stored answer. */
export interface RequestSeries {
  request: Series;
  response: Series;
  duration: HistogramSeries;
}

export class DnsMetrics {
  readonly registry = new client.Registry();
  readonly requests = new FastCounter('coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.', ['server', 'zone', 'view', 'proto', 'family', 'type']);
  readonly responses = new FastCounter('coredns_dns_responses_total', 'Counter of response status codes.', ['server', 'zone', 'view', 'rcode', 'plugin']);
  readonly duration = new FastHistogram('coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took per zone.', ['server', 'zone', 'view', 'type'], DURATION_BUCKETS);
  readonly cacheHits = new FastCounter('coredns_cache_hits_total', 'The count of cache hits.', ['server', 'type', 'zones', 'view']);
  readonly cacheMisses = new FastCounter('coredns_cache_misses_total', 'The count of cache misses. Deprecated, derive misses from cache hits/requests counters.', ['server', 'zones', 'view']);
  readonly cacheRequests = new FastCounter('coredns_cache_requests_total', 'The count of cache requests.', ['server', 'zones', 'view']);
  readonly cachePrefetch = new FastCounter('coredns_cache_prefetch_total', 'Cache entries refreshed before they expired (prefetch).', ['server', 'zones', 'view']);
  readonly cacheServedStale = new FastCounter('coredns_cache_served_stale_total', 'Answers given from expired cache entries (serve_stale).', ['server', 'zones', 'view']);
  readonly cacheEntries = new FastCounter('coredns_cache_entries', 'The number of elements in the cache.', ['server', 'type', 'zones', 'view'], 'gauge');
  private readonly forwardRequests = new FastCounter('coredns_forward_requests_total', 'Counter of requests made per upstream.', ['to']);
  private readonly proxyDuration = new FastHistogram('coredns_proxy_request_duration_seconds', 'Histogram of the time each request took.', ['proxy_name', 'to', 'rcode'], DURATION_BUCKETS);
  readonly maxConcurrentRejects = new FastCounter('coredns_forward_max_concurrent_rejects_total', 'Counter of the number of queries rejected because the concurrent queries were at maximum.', []);
  readonly panics = new FastCounter('coredns_panics_total', 'A metrics that counts the number of panics.', []);
  private readonly byKey = new Map<string, RequestSeries>();

  constructor(readonly server: string) {
    for (const m of [this.requests, this.responses, this.duration, this.cacheHits, this.cacheMisses, this.cacheRequests, this.cachePrefetch, this.cacheServedStale, this.cacheEntries, this.forwardRequests, this.proxyDuration, this.maxConcurrentRejects, this.panics])
      this.registry.registerMetric(m as unknown as client.Metric);
    new client.Gauge({ name: 'coredns_build_info', help: 'A metric with a constant 1 value labeled by version, revision, and goversion from which CoreDNS was built.', labelNames: ['version', 'revision', 'goversion'], registers: [this.registry] })
      .labels('kubeplane', '', process.version)
      .set(1);
  }

  /** The series for one (zone, transport, family, type, rcode, plugin), looked up once. */
  seriesFor(zone: string, proto: string, family: string, type: string, rcode: string, plugin: string): RequestSeries {
    const key = `${zone}|${proto}|${family}|${type}|${rcode}|${plugin}`;
    let s = this.byKey.get(key);
    if (!s) {
      s = {
        request: this.requests.with(this.server, zone, '', proto, family, type),
        response: this.responses.with(this.server, zone, '', rcode, plugin),
        duration: this.duration.with(this.server, zone, '', type),
      };
      this.byKey.set(key, s);
    }
    return s;
  }

  count(s: RequestSeries, seconds: number): void {
    s.request.value++;
    s.response.value++;
    this.duration.observe(s.duration, seconds);
  }

  observeForward(to: string, rcode: number, seconds: number): void {
    this.forwardRequests.with(to).value++;
    const rc = rcode < 0 ? 'timeout' : (['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'][rcode] ?? String(rcode));
    this.proxyDuration.observe(this.proxyDuration.with('forward', to, rc), seconds);
  }
}
