// The node status page: one plain server-rendered HTML document (no script, no external
// assets) from plain data, so it reads the same in a terminal browser, a screenshot, or a
// curl. Pure: StatusData in, text out; the collector (status-collector.ts) gathers the data.

export interface EndpointGroup {
  /** the endpoint's nodeName, '' when the slice does not say */
  node: string;
  ready: string[];
  /** serving but not ready (terminating) or not ready */
  notReady: string[];
}

export interface ServiceStatus {
  namespace: string;
  name: string;
  type: string;
  clusterIPs: string[];
  /** `name port/proto` per Service port */
  ports: string[];
  endpoints: EndpointGroup[];
}

export interface ProxyFamilyStatus {
  family: string;
  /** syncs that changed the kernel */
  syncs: number;
  /** unix seconds of the last successful sync */
  lastSyncAt?: number;
  lastSyncOK: boolean;
  /** rules (iptables: per table) or objects (nftables) programmed */
  rules: { table: string; count: number }[];
}

export interface ProxyStatus {
  mode: string;
  /** kubeproxy_sync_proxy_rules_duration_seconds: count, the latest sync seen, the mean */
  syncs: number;
  lastSyncSeconds?: number;
  meanSyncSeconds?: number;
  families: ProxyFamilyStatus[];
}

export interface DnsStatus {
  queries: number;
  /** queries per second over the rate window */
  rate: number;
  byRcode: { rcode: string; count: number }[];
  byType: { type: string; count: number }[];
}

export interface RouteStatus {
  host: string;
  path: string;
  pathType: string;
  ingress: string;
  backend: string;
  requests: number;
  /** requests per second over the rate window */
  rate: number;
  /** responses with status >= 500 */
  errors: number;
}

export interface IngressStatus {
  routes: RouteStatus[];
  /** owned Ingresses rejected for invalid annotations or paths */
  rejectedIngresses: number;
}

export interface StatusData {
  node: string;
  /** ISO time the data was gathered */
  generatedAt: string;
  /** seconds the rates are averaged over */
  rateWindowSeconds: number;
  components: { name: string; running: boolean }[];
  services: ServiceStatus[];
  proxy?: ProxyStatus;
  dns?: DnsStatus;
  ingress?: IngressStatus;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Numbers as people read them: integers plain, small rates with two decimals. */
export function fmtNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return n.toFixed(2);
}

function fmtSeconds(s: number | undefined): string {
  if (s === undefined) return '–';
  if (s < 1) return `${(s * 1000).toFixed(1)} ms`;
  return `${s.toFixed(2)} s`;
}

function fmtRatio(errors: number, total: number): string {
  if (total === 0) return '–';
  return `${((errors / total) * 100).toFixed(1)}%`;
}

function table(id: string, head: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="empty" id="${id}">${escapeHtml(empty)}</p>\n`;
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  // Cells arrive escaped already (some hold markup of their own).
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table id="${id}">\n<thead><tr>${th}</tr></thead>\n<tbody>\n${tr}\n</tbody>\n</table>\n`;
}

function endpointsCell(groups: EndpointGroup[]): string {
  if (groups.length === 0) return '<span class="bad">no endpoints</span>';
  return groups
    .map((g) => {
      const ready = g.ready.map(escapeHtml).join(', ');
      const not = g.notReady.length ? ` <span class="bad">not ready: ${g.notReady.map(escapeHtml).join(', ')}</span>` : '';
      return `<div><b>${escapeHtml(g.node || '(no node)')}</b>: ${ready || '<span class="bad">none ready</span>'}${not}</div>`;
    })
    .join('');
}

function servicesSection(d: StatusData): string {
  const rows = d.services.map((s) => [escapeHtml(`${s.namespace}/${s.name}`), escapeHtml(s.type), escapeHtml(s.clusterIPs.join(', ') || 'None'), escapeHtml(s.ports.join(', ')), endpointsCell(s.endpoints)]);
  return `<h2>Services (${d.services.length})</h2>\n` + table('services', ['Service', 'Type', 'Cluster IPs', 'Ports', 'Endpoints by node'], rows, 'No Services.');
}

function proxySection(p: ProxyStatus | undefined): string {
  if (!p) return '<h2>Proxy</h2>\n<p class="empty">The proxy is not running on this node.</p>\n';
  const rows = p.families.map((f) => [
    escapeHtml(f.family),
    String(f.syncs),
    f.lastSyncAt ? escapeHtml(new Date(f.lastSyncAt * 1000).toISOString()) : '–',
    f.lastSyncOK ? '<span class="ok">ok</span>' : '<span class="bad">failed</span>',
    escapeHtml(f.rules.map((r) => `${r.table} ${r.count}`).join(', ') || '–'),
  ]);
  const summary = `<p id="proxy-summary">Syncs: <b class="num" id="proxy-syncs">${p.syncs}</b>, last took <b class="num" id="proxy-last-sync">${fmtSeconds(p.lastSyncSeconds)}</b>, mean <b class="num">${fmtSeconds(p.meanSyncSeconds)}</b></p>\n`;
  return `<h2>Proxy (${escapeHtml(p.mode)})</h2>\n` + summary + table('proxy', ['Family', 'Syncs', 'Last sync at', 'Last sync', p.mode === 'nftables' ? 'Objects' : 'Rules'], rows, 'No sync yet.');
}

function dnsSection(dns: DnsStatus | undefined, window: number): string {
  if (!dns) return '<h2>DNS</h2>\n<p class="empty">Cluster DNS is not running on this node.</p>\n';
  const summary = `<p id="dns-summary">Queries: <b class="num" id="dns-queries">${dns.queries}</b>, rate: <b class="num" id="dns-rate">${fmtNumber(dns.rate)}</b>/s (last ${window} s)</p>\n`;
  const rc = table('dns-rcodes', ['Response code', 'Count'], dns.byRcode.map((r) => [escapeHtml(r.rcode), String(r.count)]), 'No queries yet.');
  const types = dns.byType.length ? table('dns-types', ['Query type', 'Count'], dns.byType.map((r) => [escapeHtml(r.type), String(r.count)]), '') : '';
  return '<h2>DNS</h2>\n' + summary + rc + types;
}

function ingressSection(ing: IngressStatus | undefined, window: number): string {
  if (!ing) return '<h2>Ingress</h2>\n<p class="empty">The ingress controller is not running on this node.</p>\n';
  const rows = ing.routes.map((r) => [
    escapeHtml(r.host || '*'),
    escapeHtml(`${r.pathType} ${r.path}`),
    escapeHtml(r.ingress),
    escapeHtml(r.backend),
    String(r.requests),
    fmtNumber(r.rate),
    String(r.errors),
    r.errors > 0 ? `<span class="bad">${fmtRatio(r.errors, r.requests)}</span>` : fmtRatio(r.errors, r.requests),
  ]);
  const rejected = ing.rejectedIngresses ? `<p class="bad">Rejected Ingresses: ${ing.rejectedIngresses}</p>\n` : '';
  return `<h2>Ingress routes (${ing.routes.length})</h2>\n` + rejected + table('ingress', ['Host', 'Path', 'Ingress', 'Backend', 'Requests', `Rate/s (${window} s)`, '5xx', 'Error ratio'], rows, 'No routes.');
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:1.5em;color:#1d2330}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em;border-bottom:1px solid #ccd;padding-bottom:.2em}
table{border-collapse:collapse;font-size:.9em;margin-bottom:.7em}th,td{border:1px solid #ccd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#eef1f6}.bad{color:#b3261e}.ok{color:#1e7b34}.empty{color:#667}.meta{color:#556;font-size:.9em}
.num{font-variant-numeric:tabular-nums}`;

/** The whole page. `refreshSeconds` adds a meta refresh (no script needed); 0 leaves it out. */
export function renderStatusPage(d: StatusData, refreshSeconds = 0): string {
  const parts = d.components.map((c) => `<span class="${c.running ? 'ok' : 'empty'}">${escapeHtml(c.name)} ${c.running ? 'running' : 'off'}</span>`).join(' · ');
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    (refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${refreshSeconds}">\n` : '') +
    `<title>kubeplane node ${escapeHtml(d.node)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n` +
    `<h1>kubeplane node ${escapeHtml(d.node)}</h1>\n<p class="meta">${parts}<br>as of ${escapeHtml(d.generatedAt)}</p>\n` +
    servicesSection(d) +
    proxySection(d.proxy) +
    dnsSection(d.dns, d.rateWindowSeconds) +
    ingressSection(d.ingress, d.rateWindowSeconds) +
    '</body>\n</html>\n'
  );
}
