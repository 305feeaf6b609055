// The scheduler's view of the cluster: a NodeInfo per node holding the pods bound (or
// assumed bound) to it. Assumed pods are counted from the moment we decide, so the next
// cycle does not overcommit the node before the binding comes back through the informer.

import type { Node, Pod } from '../api/types.js';
import { NodeInfo } from './node-info.js';
import { hasPodAffinity } from './terms.js';

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  /** pod key → node name, for every pod counted somewhere (bound, assumed, or waiting for its node) */
  private readonly podNode = new Map<string, string>();
  private readonly podObjects = new Map<string, Pod>();
  private readonly assumed = new Set<string>();
  private list: NodeInfo[] | undefined;
  private affinityList: NodeInfo[] | undefined;

  nodeInfos(): NodeInfo[] {
    if (!this.list) this.list = [...this.nodes.values()];
    return this.list;
  }

  /** nodes holding a pod with pod (anti-)affinity: all InterPodAffinity must visit for a pod without terms */
  nodesWithAffinity(): NodeInfo[] {
    if (!this.affinityList) this.affinityList = this.nodeInfos().filter((n) => n.podsWithAffinity.size > 0);
    return this.affinityList;
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  upsertNode(node: Node): void {
    const name = node.metadata.name!;
    const info = new NodeInfo(node);
    for (const [key, n] of this.podNode) if (n === name) info.addPod(key, this.podObjects.get(key)!);
    this.nodes.set(name, info);
    this.list = undefined;
    this.affinityList = undefined;
  }

  removeNode(name: string): void {
    this.nodes.delete(name);
    this.list = undefined;
    this.affinityList = undefined;
  }

  /** A pod bound to a node (from the informer); replaces an assumption for the same pod. */
  addPod(key: string, pod: Pod): void {
    const nodeName = pod.spec.nodeName!;
    const prev = this.podNode.get(key);
    if (prev !== undefined && prev !== nodeName) this.nodes.get(prev)?.removePod(key);
    if (hasPodAffinity(pod) || (prev !== undefined && hasPodAffinity(this.podObjects.get(key)!))) this.affinityList = undefined;
    this.assumed.delete(key);
    this.podNode.set(key, nodeName);
    this.podObjects.set(key, pod);
    this.nodes.get(nodeName)?.addPod(key, pod);
  }

  removePod(key: string): void {
    const n = this.podNode.get(key);
    if (n === undefined) return;
    if (hasPodAffinity(this.podObjects.get(key)!)) this.affinityList = undefined;
    this.nodes.get(n)?.removePod(key);
    this.podNode.delete(key);
    this.podObjects.delete(key);
    this.assumed.delete(key);
  }

  assume(key: string, pod: Pod, nodeName: string): void {
    this.addPod(key, { ...pod, spec: { ...pod.spec, nodeName } });
    this.assumed.add(key);
  }

  /** Undoes an assumption whose binding failed. */
  forget(key: string): void {
    if (this.assumed.has(key)) this.removePod(key);
  }

  isAssumed(key: string): boolean {
    return this.assumed.has(key);
  }

  isAssumedOrBound(key: string): boolean {
    return this.podNode.has(key);
  }
}
