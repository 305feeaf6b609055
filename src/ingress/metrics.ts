import { Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/**
 * Metrics under ingress-nginx's names and labels where dashboards depend on them
 * (deploy/grafana/dashboards use ingress, namespace, service, status, method, path, host),
 * plus kubeplane_ingress_* for the table and upstream behaviour.
 */
const LABELS = ['host', 'ingress', 'namespace', 'service', 'path', 'method', 'status', 'canary'] as const;
type Label = (typeof LABELS)[number];

/** prom-client's default buckets, as ingress-nginx's request_duration_seconds uses */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SIZE_BUCKETS = [10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000];

/** One (route, method, status)'s counts: plain numbers bumped per request, formatted at scrape. */
class RequestSeries {
  count = 0;
  durationSum = 0;
  sizeSum = 0;
  readonly durationBuckets = new Float64Array(DURATION_BUCKETS.length);
  readonly sizeBuckets = new Float64Array(SIZE_BUCKETS.length);
  constructor(readonly labels: Record<Label, string>) {}
}

function bucketIndex(bounds: readonly number[], v: number): number {
  for (let i = 0; i < bounds.length; i++) if (v <= bounds[i]!) return i;
  return -1;
}

type Json = MetricObjectWithValues<MetricValue<string>>;
/** prom-client's JSON value, with the per-line metric name its histograms use */
interface SeriesValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * A metric in the registry whose values come from the request series (prom-client's own
 * Counter/Histogram hash and validate the label set on every observation, which cost more
 * than the rest of a proxied request's bookkeeping).
 */
class SeriesMetric {
  readonly aggregator = 'sum' as const;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly values: () => SeriesValue[],
  ) {}
  get(): Promise<Json> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator } as unknown as Json);
  }
  reset(): void {}
}

function histogramValues(name: string, series: Iterable<RequestSeries>, bounds: readonly number[], pick: (s: RequestSeries) => [Float64Array, number]): SeriesValue[] {
  const out: SeriesValue[] = [];
  for (const s of series) {
    const [buckets, sum] = pick(s);
    let acc = 0;
    for (let i = 0; i < bounds.length; i++) {
      acc += buckets[i]!;
      out.push({ labels: { ...s.labels, le: bounds[i]! }, value: acc, metricName: `${name}_bucket` });
    }
    out.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${name}_bucket` });
    out.push({ labels: s.labels, value: sum, metricName: `${name}_sum` });
    out.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
  }
  return out;
}

export class IngressMetrics {
  readonly registry = new Registry();
  private readonly series: RequestSeries[] = [];
  readonly requests = new SeriesMetric('nginx_ingress_controller_requests', 'The total number of client requests', 'counter', () => this.series.map((s) => ({ labels: s.labels, value: s.count })));
  readonly duration = new SeriesMetric('nginx_ingress_controller_request_duration_seconds', 'The request processing time in seconds', 'histogram', () =>
    histogramValues('nginx_ingress_controller_request_duration_seconds', this.series, DURATION_BUCKETS, (s) => [s.durationBuckets, s.durationSum]),
  );
  readonly responseSize = new SeriesMetric('nginx_ingress_controller_response_size', 'The response length (including request line, header, and request body)', 'histogram', () =>
    histogramValues('nginx_ingress_controller_response_size', this.series, SIZE_BUCKETS, (s) => [s.sizeBuckets, s.sizeSum]),
  );
  readonly reloads = new Counter({ name: 'kubeplane_ingress_table_builds_total', help: 'Route table builds (ingress-nginx reloads, without the reload)', registers: [this.registry] });
  readonly buildSeconds = new Histogram({ name: 'kubeplane_ingress_table_build_duration_seconds', help: 'Time to compile and swap the route table', buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry] });
  // Every --workers process holds the same table: across workers these are the same value, not a sum.
  readonly hosts = new Gauge({ name: 'kubeplane_ingress_hosts', help: 'Hosts in the current route table', aggregator: 'max', registers: [this.registry] });
  readonly rejected = new Gauge({ name: 'kubeplane_ingress_rejected_ingresses', help: 'Owned Ingresses rejected for invalid annotations or paths', aggregator: 'max', registers: [this.registry] });
  readonly retries = new Counter({ name: 'kubeplane_ingress_upstream_retries_total', help: 'Requests retried on another endpoint after a connect failure', registers: [this.registry] });
  readonly upstreamErrors = new Counter<'reason'>({ name: 'kubeplane_ingress_upstream_errors_total', help: 'Upstream failures by reason', labelNames: ['reason'], registers: [this.registry] });
  readonly configSuccess = new Gauge({ name: 'nginx_ingress_controller_config_last_reload_successful', help: 'Whether the last configuration apply was successful', aggregator: 'min', registers: [this.registry] });
  /** 1 per process: summed across --workers, it says how many registries a scrape covered */
  readonly workers = new Gauge({ name: 'kubeplane_ingress_workers', help: 'Serving processes whose metrics this scrape includes', registers: [this.registry] });

  constructor() {
    this.workers.set(1);
    for (const m of [this.requests, this.duration, this.responseSize]) this.registry.registerMetric(m as never);
  }

  private readonly byRoute = new WeakMap<object, Map<string, RequestSeries>>();
  private readonly seriesByLabels = new Map<string, RequestSeries>();

  /** Records one finished request for `route` (any object identifying the route). */
  observe<C>(route: object, ctx: C, labelsOf: (ctx: C) => Record<Label, string>, method: string, status: number, seconds: number, bytes: number): void {
    let byKey = this.byRoute.get(route);
    if (!byKey) this.byRoute.set(route, (byKey = new Map()));
    const key = method + status;
    let s = byKey.get(key);
    if (!s) {
      s = new RequestSeries(labelsOf(ctx));
      // Equal labels from a rebuilt route (same Ingress, new table) keep adding to one series.
      const id = LABELS.map((l) => s!.labels[l]).join('\u0000');
      const same = this.seriesByLabels.get(id);
      if (same) s = same;
      else {
        this.series.push(s);
        this.seriesByLabels.set(id, s);
      }
      byKey.set(key, s);
    }
    s.count++;
    s.durationSum += seconds;
    s.sizeSum += bytes;
    const d = bucketIndex(DURATION_BUCKETS, seconds);
    if (d !== -1) s.durationBuckets[d]!++;
    const z = bucketIndex(SIZE_BUCKETS, bytes);
    if (z !== -1) s.sizeBuckets[z]!++;
  }
}
