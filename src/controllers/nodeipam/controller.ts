// Node IPAM (the range allocator): gives every Node without one a podCIDR from the
// cluster CIDR, and frees it when the Node goes.

import type { KubeObject, Node } from '../../api/types.js';
import { resourceFor } from '../../api/resources.js';
import { isNotFound } from '../../client/errors.js';
import type { Informer } from '../../client/informer.js';
import { keyOf, QueueController, type ControllerContext } from '../runtime.js';
import { CIDRSet } from './cidr-set.js';

const nodesResource = resourceFor('', 'nodes')!;

export class NodeIpamController extends QueueController {
  readonly name = 'node-ipam-controller';
  protected readonly informers: Informer<KubeObject>[];
  private readonly nodes: Informer<Node>;
  private readonly cidrs: CIDRSet;
  private readonly allocated = new Map<string, string>();

  constructor(ctx: ControllerContext, clusterCIDR: string, nodeMaskSize: number) {
    // One worker: allocation order must not race.
    super(ctx, 'node-ipam-controller', 1);
    this.cidrs = new CIDRSet(clusterCIDR, nodeMaskSize);
    this.nodes = ctx.factory.informerFor<Node>('', 'nodes');
    this.informers = [this.nodes] as Informer<KubeObject>[];
    this.nodes.addEventHandler({
      onAdd: (n) => this.observe(n),
      onUpdate: (_o, n) => this.observe(n),
      onDelete: (n) => {
        const c = this.allocated.get(keyOf(n)) ?? n.spec?.podCIDR;
        this.allocated.delete(keyOf(n));
        if (c && ![...this.allocated.values()].includes(c)) this.cidrs.release(c);
      },
    });
  }

  private observe(n: Node): void {
    const cidr = n.spec?.podCIDR;
    if (cidr) {
      this.cidrs.occupy(cidr);
      this.allocated.set(keyOf(n), cidr);
    } else this.queue.add(keyOf(n));
  }

  protected async sync(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node || node.spec?.podCIDR) return;
    const pending = this.allocated.get(name);
    const cidr = pending ?? this.cidrs.allocate();
    this.allocated.set(name, cidr);
    try {
      await this.ctx.client.patch<Node>(nodesResource, name, { spec: { podCIDR: cidr, podCIDRs: [cidr] } }, 'merge');
      this.log.info('Set node PodCIDR', { node: name, podCIDRs: [cidr] });
    } catch (err) {
      if (isNotFound(err)) {
        this.allocated.delete(name);
        this.cidrs.release(cidr);
        return;
      }
      throw err;
    }
  }
}
