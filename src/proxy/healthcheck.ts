// kube-proxy's health servers: the node's /healthz and /livez, and one server per
// healthCheckNodePort answering with the local endpoint count (pkg/proxy/healthcheck).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { logger } from '../observability/log.js';

const log = logger('healthcheck');

export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid address "${addr}": want host:port`);
  return { host: m[1] || '0.0.0.0', port: Number(m[2]) };
}

/** Healthy while syncs keep up: the last one succeeded no longer ago than the timeout, or nothing is queued. */
export class ProxyHealth {
  lastUpdated = 0;
  oldestPendingQueued = 0;
  constructor(private readonly healthTimeoutMs: number) {}
  queued(): void {
    if (this.oldestPendingQueued === 0) this.oldestPendingQueued = Date.now();
  }
  updated(): void {
    this.lastUpdated = Date.now();
    this.oldestPendingQueued = 0;
  }
  healthy(): boolean {
    if (this.lastUpdated === 0) return false;
    if (this.oldestPendingQueued === 0) return true;
    return Date.now() - this.oldestPendingQueued < this.healthTimeoutMs;
  }
  handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/livez') {
      res.writeHead(404).end();
      return;
    }
    const ok = this.healthy();
    const body = JSON.stringify({ lastUpdated: new Date(this.lastUpdated).toISOString(), currentTime: new Date().toISOString(), nodeEligible: true });
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' }).end(body);
  };
}

interface ServiceHC {
  namespace: string;
  name: string;
  localEndpoints: number;
  server: Server;
}

/** One HTTP server per healthCheckNodePort, answering 200 with the local endpoint count, or 503 when it is 0. */
export class ServiceHealthServers {
  private readonly byPort = new Map<number, ServiceHC>();
  constructor(
    private readonly host: string,
    private readonly proxyHealthy: () => boolean,
  ) {}

  /** desired: healthCheckNodePort -> service and its local ready endpoint count */
  sync(desired: Map<number, { namespace: string; name: string; localEndpoints: number }>): void {
    for (const [port, hc] of this.byPort) {
      if (!desired.has(port)) {
        hc.server.close();
        this.byPort.delete(port);
      }
    }
    for (const [port, d] of desired) {
      const cur = this.byPort.get(port);
      if (cur) {
        Object.assign(cur, d);
        continue;
      }
      const entry: ServiceHC = { ...d, server: createServer((req, res) => this.answer(entry, res)) };
      entry.server.on('error', (err) => log.error('Failed to start healthcheck server', err, { port }));
      entry.server.listen(port, this.host);
      this.byPort.set(port, entry);
    }
  }

  private answer(hc: ServiceHC, res: ServerResponse): void {
    const healthy = this.proxyHealthy();
    const body = JSON.stringify({ service: { namespace: hc.namespace, name: hc.name }, localEndpoints: hc.localEndpoints, serviceProxyHealthy: healthy });
    res
      .writeHead(hc.localEndpoints > 0 && healthy ? 200 : 503, {
        'Content-Type': 'application/json',
        'X-Content-Type-Options': 'nosniff',
        'X-Load-Balancing-Endpoint-Weight': String(hc.localEndpoints),
      })
      .end(body);
  }

  close(): void {
    for (const hc of this.byPort.values()) hc.server.close();
    this.byPort.clear();
  }
}
