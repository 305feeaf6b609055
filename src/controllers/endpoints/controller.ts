// The legacy core/v1 Endpoints controller: one Endpoints object per Service with a selector,
// written only when what it says changes.

import type { Endpoints, KubeObject, Pod, Service } from '../../api/types.js';
import { resourceFor } from '../../api/resources.js';
import { isNotFound } from '../../client/errors.js';
import type { Informer } from '../../client/informer.js';
import { NAMESPACE_INDEX } from '../../client/store.js';
import { labelsMatch } from '../endpointslice/desired.js';
import { ANNOTATION_TRIGGER_TIME } from '../endpointslice/controller.js';
import { keyOf, QueueController, splitKey, type ControllerContext } from '../runtime.js';
import { desiredEndpointsObject, endpointsEqual } from './desired.js';

const endpointsResource = resourceFor('', 'endpoints')!;

export class EndpointsController extends QueueController {
  readonly name = 'endpoints-controller';
  protected readonly informers: Informer<KubeObject>[];
  private readonly services: Informer<Service>;
  private readonly pods: Informer<Pod>;
  private readonly endpoints: Informer<Endpoints>;

  constructor(ctx: ControllerContext) {
    super(ctx, 'endpoints-controller');
    this.services = ctx.factory.informerFor<Service>('', 'services');
    this.pods = ctx.factory.informerFor<Pod>('', 'pods');
    this.endpoints = ctx.factory.informerFor<Endpoints>('', 'endpoints');
    this.informers = [this.services, this.pods, this.endpoints] as Informer<KubeObject>[];
    const svcKey = (s: Service) => this.queue.add(keyOf(s));
    this.services.addEventHandler({ onAdd: svcKey, onUpdate: (_o, s) => svcKey(s), onDelete: svcKey });
    const podChanged = (p: Pod, old?: Pod) => {
      for (const svc of this.services.byIndex(NAMESPACE_INDEX, p.metadata.namespace ?? '')) {
        const sel = svc.spec.selector;
        if (sel && (labelsMatch(sel, p.metadata.labels) || (old && labelsMatch(sel, old.metadata.labels)))) this.queue.add(keyOf(svc));
      }
    };
    this.pods.addEventHandler({ onAdd: (p) => podChanged(p), onUpdate: (o, p) => podChanged(p, o), onDelete: (p) => podChanged(p) });
    // Someone else editing or deleting an Endpoints object of ours gets it put back.
    this.endpoints.addEventHandler({ onUpdate: (_o, e) => this.queue.add(keyOf(e)), onDelete: (e) => this.queue.add(keyOf(e)) });
  }

  protected async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.get(key);
    const current = this.endpoints.get(key);
    if (!svc) {
      if (current && !(current.metadata.labels?.['endpointslice.kubernetes.io/skip-mirror'] === 'true' && name === 'kubernetes')) {
        try {
          await this.ctx.client.delete(endpointsResource, name, { namespace });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      return;
    }
    const want = desiredEndpointsObject(svc, this.pods.byIndex(NAMESPACE_INDEX, namespace));
    if (!want) return; // selector-less Services' Endpoints belong to whoever made them
    if (current && endpointsEqual(current, want)) return;
    want.metadata.annotations = { ...(want.metadata.annotations ?? {}), [ANNOTATION_TRIGGER_TIME]: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
    if (current) {
      await this.ctx.client.update<Endpoints>(endpointsResource, { ...want, metadata: { ...current.metadata, labels: want.metadata.labels, annotations: want.metadata.annotations } });
    } else {
      await this.ctx.client.create<Endpoints>(endpointsResource, want);
    }
  }
}
