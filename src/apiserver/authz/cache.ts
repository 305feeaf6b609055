// The RBAC policy the authorizer evaluates, kept in memory: each of the four kinds is listed
// from the store, then followed through the store's watch (so a binding written through any
// API server on the same etcd takes effect here). A broken watch re-lists after a pause and
// the last known policy keeps answering meanwhile, as kube-apiserver's informers do.
import { resourceFor, type ResourceInfo } from '../../api/resources.js';
import { logger } from '../../observability/log.js';
import { listPrefix } from '../registry/codec.js';
import type { KeyValue, Store, Watcher } from '../storage/interface.js';
import type { Binding, PolicyRule, PolicySource } from './rbac.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

const log = logger('rbac');
const RELIST_DELAY_MS = 1000;

const KINDS = ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'] as const;
type Kind = (typeof KINDS)[number];

/** one resource's objects by "namespace/name" (namespace empty for cluster-scoped) */
class Mirror {
  readonly byKey = new Map<string, Obj>();
  /** namespace → keys, for RoleBindings of one namespace */
  readonly byNamespace = new Map<string, Map<string, Obj>>();
  revision = 0;
  private watcher?: Watcher;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly store: Store,
    readonly info: ResourceInfo,
  ) {}

  private put(kv: KeyValue): void {
    let obj: Obj;
    try {
      obj = JSON.parse(kv.value) as Obj;
    } catch {
      return;
    }
    const ns = obj.metadata?.namespace ?? '';
    const key = `${ns}/${obj.metadata?.name}`;
    this.byKey.set(key, obj);
    let m = this.byNamespace.get(ns);
    if (!m) this.byNamespace.set(ns, (m = new Map()));
    m.set(key, obj);
  }

  private remove(kv: KeyValue): void {
    const prefix = listPrefix(this.info, undefined);
    const rest = kv.key.slice(prefix.length);
    const [ns, name] = this.info.namespaced ? rest.split('/', 2) : ['', rest];
    const key = `${ns}/${name}`;
    this.byKey.delete(key);
    this.byNamespace.get(ns!)?.delete(key);
  }

  async start(): Promise<void> {
    const prefix = listPrefix(this.info, undefined);
    const res = await this.store.range(prefix);
    this.byKey.clear();
    this.byNamespace.clear();
    for (const kv of res.kvs) this.put(kv);
    this.revision = res.revision;
    if (this.closed) return;
    this.watcher = this.store.watch(prefix, res.revision, {
      onEvents: (events) => {
        for (const e of events) {
          if (e.type === 'put') this.put(e.kv);
          else this.remove(e.kv);
          this.revision = Math.max(this.revision, e.kv.modRevision);
        }
      },
      onError: (err) => {
        log.v(1, 'RBAC watch ended, re-listing', { resource: this.info.resource, err: err.message });
        this.restartLater();
      },
      onProgress: (rev) => {
        this.revision = Math.max(this.revision, rev);
      },
    });
  }

  private restartLater(): void {
    this.watcher?.cancel();
    this.watcher = undefined;
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start().catch((err: unknown) => {
        log.error('RBAC re-list failed', err, { resource: this.info.resource });
        this.restartLater();
      });
    }, RELIST_DELAY_MS);
    this.timer.unref?.();
  }

  stop(): void {
    this.closed = true;
    this.watcher?.cancel();
    if (this.timer) clearTimeout(this.timer);
  }
}

export class PolicyCache implements PolicySource {
  private readonly mirrors: Record<Kind, Mirror>;

  constructor(store: Store) {
    const m = (k: Kind) => new Mirror(store, resourceFor('rbac.authorization.k8s.io', k)!);
    this.mirrors = { roles: m('roles'), rolebindings: m('rolebindings'), clusterroles: m('clusterroles'), clusterrolebindings: m('clusterrolebindings') };
  }

  async start(): Promise<void> {
    await Promise.all(KINDS.map((k) => this.mirrors[k].start()));
  }

  stop(): void {
    for (const k of KINDS) this.mirrors[k].stop();
  }

  /** the store revision every kind has caught up with */
  get revision(): number {
    return Math.min(...KINDS.map((k) => this.mirrors[k].revision));
  }

  clusterRoleRules(name: string): PolicyRule[] | undefined {
    const o = this.mirrors.clusterroles.byKey.get(`/${name}`);
    return o ? ((o.rules ?? []) as PolicyRule[]) : undefined;
  }

  roleRules(namespace: string, name: string): PolicyRule[] | undefined {
    const o = this.mirrors.roles.byKey.get(`${namespace}/${name}`);
    return o ? ((o.rules ?? []) as PolicyRule[]) : undefined;
  }

  *clusterRoleBindings(): Iterable<Binding> {
    for (const o of this.mirrors.clusterrolebindings.byKey.values()) yield { name: o.metadata?.name, subjects: o.subjects, roleRef: o.roleRef };
  }

  *roleBindings(namespace: string): Iterable<Binding> {
    for (const o of this.mirrors.rolebindings.byNamespace.get(namespace)?.values() ?? []) yield { name: o.metadata?.name, namespace, subjects: o.subjects, roleRef: o.roleRef };
  }
}
