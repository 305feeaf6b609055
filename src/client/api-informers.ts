import type { KubeObject } from '../api/types.js';
import { resourceFor, type ResourceInfo } from '../api/resources.js';
import { StoreInformer, type InformerFactory } from './informer.js';
import { Reflector, type ReflectorOptions } from './reflector.js';
import type { RestClient } from './rest.js';

/** Narrows what one informer sees, as client-go's ListOptions tweak does. */
export interface InformerSelector {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** An informer fed by list+watch against an API server. */
export class ApiInformer<T extends KubeObject> extends StoreInformer<T> {
  readonly reflector: Reflector<T>;

  constructor(client: RestClient, resource: ResourceInfo, opts: ReflectorOptions = {}) {
    super(resource);
    this.reflector = new Reflector(client, resource, this.store, opts);
  }
}

export interface ApiInformerFactoryOptions extends InformerSelector {
  /** reflector tuning (backoff, page size, watch timeouts) for every informer */
  reflector?: Omit<ReflectorOptions, keyof InformerSelector>;
}

/**
 * client-go's SharedInformerFactory over the REST client: one informer per resource
 * (and selector), all started together; informers asked for after start() start at once.
 */
export class ApiInformerFactory implements InformerFactory {
  private readonly informers = new Map<string, ApiInformer<KubeObject>>();
  private started = false;

  constructor(
    readonly client: RestClient,
    private readonly opts: ApiInformerFactoryOptions = {},
  ) {}

  /** The same informer for the same resource and selector. `selector` narrows the factory-wide one. */
  informerFor<T extends KubeObject>(group: string, resource: string, selector: InformerSelector = {}): ApiInformer<T> {
    const info = resourceFor(group, resource);
    if (!info) throw new Error(`unknown resource ${resource}${group ? '.' + group : ''}`);
    const sel: InformerSelector = {
      namespace: info.namespaced ? (selector.namespace ?? this.opts.namespace) : undefined,
      labelSelector: selector.labelSelector ?? this.opts.labelSelector,
      fieldSelector: selector.fieldSelector ?? this.opts.fieldSelector,
    };
    const key = `${group}/${resource}?ns=${sel.namespace ?? ''}&l=${sel.labelSelector ?? ''}&f=${sel.fieldSelector ?? ''}`;
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new ApiInformer<KubeObject>(this.client, info, { ...this.opts.reflector, ...sel });
      this.informers.set(key, inf);
      if (this.started) inf.reflector.start();
    }
    return inf as unknown as ApiInformer<T>;
  }

  /** Starts every informer; returns at once (wait with waitForCacheSync or each informer's synced()). */
  async start(): Promise<void> {
    this.started = true;
    for (const inf of this.informers.values()) inf.reflector.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((inf) => inf.reflector.stop()));
  }

  /** Resolves when every informer created so far has synced, or false once `signal` aborts first. */
  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    const all = Promise.all([...this.informers.values()].map((i) => i.synced())).then(() => true);
    if (!signal) return all;
    if (signal.aborted) return false;
    return Promise.race([all, new Promise<boolean>((res) => signal.addEventListener('abort', () => res(false), { once: true }))]);
  }
}
