import type { Ingress, IngressBackend, IngressClass } from '../api/types.js';
import { AnnotationError, parseAnnotations, type IngressAnnotations } from './annotations.js';

/**
 * The route model: pure functions from Ingress objects to per-host route sets, with
 * networking.k8s.io/v1 semantics and ingress-nginx's merging rules. No I/O here; the
 * table (table.ts) compiles these into lookup structures.
 */

export const CONTROLLER_NAME = 'kubeplane.io/ingress';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface ServiceRef {
  namespace: string;
  name: string;
  port: { name?: string; number?: number };
}

/** Where a route sends traffic: a Service port (by key into the upstreams), or nothing usable. */
export interface BackendTarget {
  /** `namespace/name:port` */
  upstreamKey: string;
  service?: ServiceRef;
}

export interface PathRoute {
  host: string;
  path: string;
  pathType: PathType;
  /** `namespace/name` of the Ingress the path came from */
  ingress: string;
  backend: BackendTarget;
  annotations: IngressAnnotations;
  /** canary Ingresses for the same host and path, oldest first */
  canaries: PathRoute[];
}

/** One Ingress reduced to what routing needs; cached per object so rebuilds skip the parse. */
export interface IngressProjection {
  key: string;
  created: string;
  annotations: IngressAnnotations;
  canary: boolean;
  rules: { host: string; paths: { path: string; pathType: PathType; backend: BackendTarget }[] }[];
  defaultBackend?: BackendTarget;
  tls: { hosts: string[]; secret?: string }[];
}

export interface HostRoutes {
  host: string;
  /** paths in ingress-nginx merge order: oldest Ingress first, then rule order */
  paths: PathRoute[];
  /** all paths matched as case-insensitive regexes (use-regex or rewrite-target on the host) */
  useRegex: boolean;
  /** unmatched paths of this host (the first defining Ingress's defaultBackend) */
  fallback?: PathRoute;
  /** `namespace/name` of the TLS Secret, '' for a tls section without secretName */
  tlsSecret?: string;
  /**
   * ssl-passthrough: TLS for this host goes undecrypted to this backend (the oldest such
   * Ingress's first path of the host, else its defaultBackend), as ingress-nginx does.
   */
  passthrough?: BackendTarget;
}

export interface ClassSelection {
  /** IngressClass objects whose spec.controller is ours, and the names we answer to */
  ingressClass: string;
  controllerName: string;
  watchWithoutClass: boolean;
}

export class IngressRejectedError extends Error {
  override name = 'IngressRejectedError';
  readonly code = 'KP_INGRESS_REJECTED';
}

export function ingressKey(ing: Ingress): string {
  return `${ing.metadata.namespace ?? 'default'}/${ing.metadata.name}`;
}

/** Hosts compare case-insensitively with any trailing dot removed. */
export function normalizeHost(h: string): string {
  let s = h.toLowerCase();
  if (s.endsWith('.')) s = s.slice(0, -1);
  return s;
}

/**
 * Whether this controller owns the Ingress: its class names an IngressClass of ours, or
 * (no class field) the legacy annotation names our class, or (neither) a default class
 * of ours exists or --watch-ingress-without-class is set.
 */
export function ownsIngress(ing: Ingress, classes: readonly IngressClass[], sel: ClassSelection): boolean {
  const field = (ing.spec as Ingress['spec'] | undefined)?.ingressClassName;
  if (field) {
    const cls = classes.find((c) => c.metadata.name === field);
    return cls !== undefined && cls.spec?.controller === sel.controllerName;
  }
  const legacy = ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (legacy !== undefined) return legacy === sel.ingressClass;
  if (sel.watchWithoutClass) return true;
  return classes.some((c) => c.spec?.controller === sel.controllerName && c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
}

function backendTarget(namespace: string, b: IngressBackend | undefined): BackendTarget | undefined {
  if (!b) return undefined;
  if (!b.service) return { upstreamKey: `${namespace}/!resource` };
  const port = b.service.port ?? {};
  const portKey = port.number !== undefined ? String(port.number) : (port.name ?? '');
  return { upstreamKey: `${namespace}/${b.service.name}:${portKey}`, service: { namespace, name: b.service.name, port } };
}

/** Reduces an Ingress to its routing projection; throws IngressRejectedError for an unusable one. */
export function projectIngress(ing: Ingress): IngressProjection {
  // Objects from a file (or an API server without validation) may be any shape: check
  // what routing relies on, and reject rather than throw anything else.
  shapeCheck(ing);
  const key = ingressKey(ing);
  const ns = ing.metadata.namespace ?? 'default';
  let annotations: IngressAnnotations;
  try {
    annotations = parseAnnotations(ing.metadata.annotations);
  } catch (err) {
    if (err instanceof AnnotationError) throw new IngressRejectedError(err.message);
    throw err;
  }
  const rules: IngressProjection['rules'] = [];
  for (const rule of ing.spec.rules ?? []) {
    const host = normalizeHost(rule.host ?? '');
    if (host.includes('*') && !/^\*\.[^*]+$/.test(host)) throw new IngressRejectedError(`host "${rule.host}": a wildcard must be the whole first label`);
    const paths: IngressProjection['rules'][number]['paths'] = [];
    for (const p of rule.http?.paths ?? []) {
      const pathType = p.pathType;
      if (pathType !== 'Exact' && pathType !== 'Prefix' && pathType !== 'ImplementationSpecific') throw new IngressRejectedError(`unsupported pathType "${String(pathType)}"`);
      const path = p.path || '/';
      if (!path.startsWith('/')) throw new IngressRejectedError(`path "${path}" must begin with /`);
      if (pathType !== 'ImplementationSpecific' && /\/\/|\/\.\.?(\/|$)|%2f/i.test(path)) throw new IngressRejectedError(`path "${path}" is not a clean ${pathType} path`);
      paths.push({ path, pathType, backend: backendTarget(ns, p.backend)! });
    }
    rules.push({ host, paths });
  }
  return {
    key,
    created: ing.metadata.creationTimestamp ?? '',
    annotations,
    canary: annotations.canary !== undefined,
    rules,
    defaultBackend: backendTarget(ns, ing.spec.defaultBackend),
    tls: (ing.spec.tls ?? []).map((t) => ({ hosts: (t.hosts ?? []).map(normalizeHost), secret: t.secretName ? `${ns}/${t.secretName}` : undefined })),
  };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkBackend(b: unknown, where: string): void {
  if (!isObj(b)) throw new IngressRejectedError(`${where}: backend is required`);
  const svc = b.service;
  if (svc === undefined) {
    if (!isObj(b.resource)) throw new IngressRejectedError(`${where}: resource or service backend is required`);
    return;
  }
  if (!isObj(svc) || typeof svc.name !== 'string' || !svc.name) throw new IngressRejectedError(`${where}: service.name is required`);
  const port = svc.port;
  if (port !== undefined) {
    if (!isObj(port)) throw new IngressRejectedError(`${where}: service.port must be an object`);
    if (port.number !== undefined && (typeof port.number !== 'number' || !Number.isInteger(port.number) || port.number < 1 || port.number > 65535)) throw new IngressRejectedError(`${where}: service.port.number must be 1-65535`);
    if (port.name !== undefined && typeof port.name !== 'string') throw new IngressRejectedError(`${where}: service.port.name must be a string`);
  }
}

function shapeCheck(ing: Ingress): void {
  const spec = (ing as { spec?: unknown }).spec;
  if (!isObj(spec)) throw new IngressRejectedError('spec is required');
  if (spec.defaultBackend !== undefined) checkBackend(spec.defaultBackend, 'spec.defaultBackend');
  if (spec.rules !== undefined && !Array.isArray(spec.rules)) throw new IngressRejectedError('spec.rules must be a list');
  ((spec.rules as unknown[] | undefined) ?? []).forEach((rule, i) => {
    if (!isObj(rule)) throw new IngressRejectedError(`spec.rules[${i}] must be an object`);
    if (rule.host !== undefined && typeof rule.host !== 'string') throw new IngressRejectedError(`spec.rules[${i}].host must be a string`);
    if (rule.http === undefined) return;
    if (!isObj(rule.http) || !Array.isArray(rule.http.paths)) throw new IngressRejectedError(`spec.rules[${i}].http.paths is required`);
    rule.http.paths.forEach((p: unknown, j: number) => {
      if (!isObj(p)) throw new IngressRejectedError(`spec.rules[${i}].http.paths[${j}] must be an object`);
      if (p.path !== undefined && typeof p.path !== 'string') throw new IngressRejectedError(`spec.rules[${i}].http.paths[${j}].path must be a string`);
      checkBackend(p.backend, `spec.rules[${i}].http.paths[${j}]`);
    });
  });
  if (spec.tls !== undefined && !Array.isArray(spec.tls)) throw new IngressRejectedError('spec.tls must be a list');
  ((spec.tls as unknown[] | undefined) ?? []).forEach((t, i) => {
    if (!isObj(t)) throw new IngressRejectedError(`spec.tls[${i}] must be an object`);
    if (t.hosts !== undefined && !(Array.isArray(t.hosts) && t.hosts.every((h) => typeof h === 'string'))) throw new IngressRejectedError(`spec.tls[${i}].hosts must be a list of strings`);
    if (t.secretName !== undefined && typeof t.secretName !== 'string') throw new IngressRejectedError(`spec.tls[${i}].secretName must be a string`);
  });
  const ann = ing.metadata.annotations;
  if (ann !== undefined && (!isObj(ann) || Object.values(ann).some((v) => typeof v !== 'string'))) throw new IngressRejectedError('metadata.annotations must map strings to strings');
}

/** ingress-nginx's order: oldest first, then namespace/name. */
export function compareProjections(a: IngressProjection, b: IngressProjection): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * Merges the Ingresses that mention one host (already sorted oldest first) into that
 * host's routes. The no-host server `_` is built with host '' and also takes the
 * catch-all Ingress (defaultBackend and no rules) as its fallback.
 */
export function buildHostRoutes(host: string, sorted: readonly IngressProjection[]): HostRoutes {
  const paths: PathRoute[] = [];
  const seen = new Map<string, PathRoute>();
  let fallback: PathRoute | undefined;
  let tlsSecret: string | undefined;
  let definedBy: IngressProjection | undefined;
  let passthrough: BackendTarget | undefined;
  const canaries: IngressProjection[] = [];
  for (const p of sorted) {
    if (p.canary) {
      canaries.push(p);
      continue;
    }
    for (const rule of p.rules) {
      if (rule.host !== host) continue;
      definedBy ??= p;
      if (host !== '' && p.annotations.sslPassthrough) passthrough ??= rule.paths[0]?.backend ?? p.defaultBackend;
      for (const path of rule.paths) {
        const id = `${path.pathType} ${path.path}`;
        if (seen.has(id)) continue;
        const route: PathRoute = { host, path: path.path, pathType: path.pathType, ingress: p.key, backend: path.backend, annotations: p.annotations, canaries: [] };
        seen.set(id, route);
        paths.push(route);
      }
    }
    if (tlsSecret === undefined) for (const t of p.tls) if (t.hosts.includes(host)) tlsSecret = t.secret ?? '';
  }
  if (host === '') {
    const catchAll = sorted.find((p) => !p.canary && p.defaultBackend && p.rules.length === 0);
    if (catchAll) fallback = fallbackRoute(host, catchAll);
  } else if (definedBy?.defaultBackend) fallback = fallbackRoute(host, definedBy);
  // A canary attaches to the main route with the same host and path; it never adds routes.
  for (const c of canaries) {
    for (const rule of c.rules) {
      if (rule.host !== host) continue;
      for (const path of rule.paths) {
        const main = paths.find((r) => r.path === path.path);
        if (main) main.canaries.push({ host, path: path.path, pathType: path.pathType, ingress: c.key, backend: path.backend, annotations: c.annotations, canaries: [] });
      }
    }
  }
  const useRegex = sorted.some((p) => !p.canary && p.rules.some((r) => r.host === host) && (p.annotations.useRegex || p.annotations.rewriteTarget !== undefined));
  return { host, paths, useRegex, fallback, tlsSecret, ...(passthrough ? { passthrough } : {}) };
}

function fallbackRoute(host: string, p: IngressProjection): PathRoute {
  return { host, path: '/', pathType: 'Prefix', ingress: p.key, backend: p.defaultBackend!, annotations: p.annotations, canaries: [] };
}
