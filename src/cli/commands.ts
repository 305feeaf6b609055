import type { Command } from './command.js';

/**
 * Every `kubeplane` subcommand, loaded lazily so that `kubeplane dns` does not pay for
 * the API server's modules at start-up.
 */
export const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  up: { summary: 'Run a one-process cluster: API server, controllers, scheduler and node agent', load: async () => (await import('./up.js')).command },
  apiserver: { summary: 'Run the Kubernetes-compatible API server', load: async () => (await import('./apiserver.js')).command },
  node: { summary: 'Run the Service proxy, cluster DNS and the ingress controller of one node', load: async () => (await import('./node.js')).command },
  proxy: { summary: "Program the node's kernel for Services, as kube-proxy does", load: async () => (await import('./proxy.js')).command },
  dns: { summary: 'Serve cluster DNS, as CoreDNS with the kubernetes plugin does', load: async () => (await import('./dns.js')).command },
  ingress: { summary: 'Route HTTP(S) by host and path to Service endpoints, as an Ingress controller', load: async () => (await import('./ingress.js')).command },
  'controller-manager': { summary: 'Run the controllers: EndpointSlice, Endpoints, node IPAM, ReplicaSet, Deployment, DaemonSet, garbage collector', load: async () => (await import('./controller-manager.js')).command },
  scheduler: { summary: 'Assign pods to nodes, as kube-scheduler does with its default plugins', load: async () => (await import('./scheduler.js')).command },
  trace: { summary: 'Explain where a connection to a Service address goes on this node, rule by rule', load: async () => (await import('./trace.js')).command },
};
