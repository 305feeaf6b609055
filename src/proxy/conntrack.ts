// Stale UDP conntrack cleanup through the conntrack CLI. TCP and SCTP flows are left to reset
// or time out, as kube-proxy does; a UDP client reusing its 5-tuple would otherwise stay pinned
// to a dead backend (or to "no DNAT" from before the service had endpoints).
import { execProgram } from './runner/exec.js';
import type { EndpointInfo, Family, ServicePortInfo } from './model/types.js';
import { logger } from '../observability/log.js';

const log = logger('conntrack');

export interface ConntrackCleanupPlan {
  /** endpoints that stopped serving */
  removedEndpoints: { service: ServicePortInfo | undefined; endpoint: EndpointInfo }[];
  /** UDP service ports that went from no endpoints to some */
  newlyServed: ServicePortInfo[];
}

async function conntrackDelete(family: Family, args: string[]): Promise<number> {
  const r = await execProgram('conntrack', ['-D', '-f', family === 'IPv6' ? 'ipv6' : 'ipv4', '-p', 'udp', ...args]);
  // conntrack exits 1 when nothing matched; that is not an error here.
  const m = /(\d+) flow entries have been deleted/.exec(r.stderr);
  if (r.code !== 0 && !m) log.v(4, 'conntrack delete matched nothing', { args, stderr: r.stderr.trim() });
  return m ? Number(m[1]) : 0;
}

export async function cleanStaleUDP(family: Family, plan: ConntrackCleanupPlan): Promise<number> {
  let deleted = 0;
  for (const { endpoint } of plan.removedEndpoints) deleted += await conntrackDelete(family, ['--reply-src', endpoint.ip, '--reply-port-src', String(endpoint.port)]);
  for (const svc of plan.newlyServed) {
    for (const ip of [svc.clusterIP, ...svc.externalIPs, ...svc.loadBalancerVIPs]) deleted += await conntrackDelete(family, ['--orig-dst', ip, '--orig-port-dst', String(svc.port)]);
    if (svc.nodePort) deleted += await conntrackDelete(family, ['--orig-port-dst', String(svc.nodePort)]);
  }
  return deleted;
}
