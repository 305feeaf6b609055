// kube-controller-manager's clusterrole-aggregation controller: a ClusterRole with an
// aggregationRule gets as rules the union of the rules of the ClusterRoles its selectors pick,
// rewritten whenever any ClusterRole changes, so RBAC sees aggregated roles as upstream does.

import type { KubeObject } from '../../api/types.js';
import { resourceFor } from '../../api/resources.js';
import type { Informer } from '../../client/informer.js';
import { QueueController, type ControllerContext } from '../runtime.js';
import { aggregatedRules, isAggregated, rulesEqual, type ClusterRole } from './aggregate.js';

const clusterRoles = resourceFor('rbac.authorization.k8s.io', 'clusterroles')!;

export class ClusterRoleAggregationController extends QueueController {
  readonly name = 'clusterrole-aggregation-controller';
  protected readonly informers: Informer<KubeObject>[];
  private readonly roles: Informer<ClusterRole>;

  constructor(ctx: ControllerContext) {
    super(ctx, 'clusterrole-aggregation-controller', 1);
    this.roles = ctx.factory.informerFor<ClusterRole>('rbac.authorization.k8s.io', 'clusterroles');
    this.informers = [this.roles as Informer<KubeObject>];
    // Any role's labels or rules may feed any aggregated role: recheck them all, as upstream does.
    const all = (): void => {
      for (const r of this.roles.list()) if (isAggregated(r)) this.queue.add(r.metadata.name!);
    };
    this.roles.addEventHandler({ onAdd: all, onUpdate: all, onDelete: all });
  }

  protected async sync(name: string): Promise<void> {
    const role = this.roles.get(name);
    if (!role) return;
    const want = aggregatedRules(role, this.roles.list());
    if (!want || rulesEqual(want, role.rules ?? [])) return;
    await this.ctx.client.update<ClusterRole>(clusterRoles, { ...role, rules: want });
    this.log.v(2, 'Aggregated ClusterRole rules', { clusterRole: name, rules: want.length });
  }
}
