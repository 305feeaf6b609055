import type { Ingress, IngressBackend } from '../../../src/api/types.js';

/** Test address plan: namespace "default", Services svc-<x>, Ingresses created one second apart in creation order. */
let clock = 0;
export function resetClock(): void {
  clock = 0;
}

export function backend(service: string, port = 80): IngressBackend {
  return { service: { name: service, port: { number: port } } };
}

export interface PathSpec {
  path: string;
  type?: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  service: string;
}

export function ingress(name: string, rules: { host?: string; paths: PathSpec[] }[], opts: { annotations?: Record<string, string>; defaultBackend?: string; tls?: { hosts: string[]; secretName?: string }[]; namespace?: string; created?: string; className?: string } = {}): Ingress {
  clock++;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: opts.namespace ?? 'default',
      creationTimestamp: opts.created ?? new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString(),
      annotations: opts.annotations,
    },
    spec: {
      ingressClassName: opts.className,
      defaultBackend: opts.defaultBackend ? backend(opts.defaultBackend) : undefined,
      tls: opts.tls,
      rules: rules.map((r) => ({ host: r.host, http: { paths: r.paths.map((p) => ({ path: p.path, pathType: p.type ?? 'Prefix', backend: backend(p.service) })) } })),
    },
  };
}
