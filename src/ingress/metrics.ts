import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Metrics under ingress-nginx's names and labels where dashboards depend on them
 * (deploy/grafana/dashboards use ingress, namespace, service, status, method, path, host),
 * plus kubeplane_ingress_* for the table and upstream behaviour.
 */
interface Children {
  requests: { inc(): void };
  duration: { observe(v: number): void };
  size: { observe(v: number): void };
}

const LABELS = ['host', 'ingress', 'namespace', 'service', 'path', 'method', 'status', 'canary'] as const;
type Label = (typeof LABELS)[number];

export class IngressMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter<Label>({ name: 'nginx_ingress_controller_requests', help: 'The total number of client requests', labelNames: LABELS, registers: [this.registry] });
  readonly duration = new Histogram<Label>({ name: 'nginx_ingress_controller_request_duration_seconds', help: 'The request processing time in seconds', labelNames: LABELS, registers: [this.registry] });
  readonly responseSize = new Histogram<Label>({
    name: 'nginx_ingress_controller_response_size',
    help: 'The response length (including request line, header, and request body)',
    labelNames: LABELS,
    buckets: [10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000],
    registers: [this.registry],
  });
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
  }

  // Label children per route and (method, status): prom-client hashes a label object on
  // every call, which costs more than the rest of the request's bookkeeping.
  private readonly children = new WeakMap<object, Map<string, Children>>();

  /** Records one finished request for `route` (any object identifying the route). */
  observe<C>(route: object, ctx: C, labelsOf: (ctx: C) => Record<Label, string>, method: string, status: number, seconds: number, bytes: number): void {
    let byKey = this.children.get(route);
    if (!byKey) this.children.set(route, (byKey = new Map()));
    const key = method + status;
    let c = byKey.get(key);
    if (!c) {
      const l = labelsOf(ctx);
      byKey.set(key, (c = { requests: this.requests.labels(l), duration: this.duration.labels(l), size: this.responseSize.labels(l) }));
    }
    c.requests.inc();
    c.duration.observe(seconds);
    c.size.observe(bytes);
  }
}
