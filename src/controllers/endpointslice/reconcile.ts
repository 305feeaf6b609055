// Turns desired endpoints into EndpointSlice creates, updates and deletes with as little
// churn as kube-controller-manager's reconciler: endpoints stay in the slice they are in,
// unchanged slices are not written, new endpoints fill slices that are being written anyway
// before touching unchanged ones, and a Service with no endpoints keeps one empty placeholder.

import type { Endpoint, EndpointSlice, Service } from '../../api/types.js';
import {
  CONTROLLER_NAME,
  LABEL_HEADLESS,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  portsKey,
  type AddressType,
  type EndpointGroup,
} from './desired.js';
import { semanticEqual } from '../equality.js';

export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface SliceChanges {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** Labels every slice of the Service carries: the Service's own plus the controller's. */
export function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) if (k !== LABEL_HEADLESS) labels[k] = v;
  labels[LABEL_SERVICE_NAME] = svc.metadata.name!;
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  if (svc.spec.clusterIP === 'None') labels[LABEL_HEADLESS] = '';
  return labels;
}

function ownerRefs(svc: Service) {
  return [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name!, uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }];
}

function newSlice(svc: Service, addressType: AddressType, group: EndpointGroup | undefined): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${svc.metadata.name!.slice(0, 57)}-`,
      namespace: svc.metadata.namespace,
      labels: sliceLabels(svc),
      ownerReferences: ownerRefs(svc),
    },
    addressType,
    endpoints: [],
    ports: group ? group.ports : null,
  };
}

function endpointEqual(a: Endpoint, b: Endpoint): boolean {
  // Slices come back from the server with their own key order.
  return semanticEqual(a, b);
}

function labelsEqual(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ak = Object.keys(a ?? {});
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => a![k] === b[k]);
}

const byAddress = (a: Endpoint, b: Endpoint) => (a.addresses[0]! < b.addresses[0]! ? -1 : a.addresses[0]! > b.addresses[0]! ? 1 : 0);

/**
 * Reconciles the slices of one address type. `existing` are the slices this controller
 * owns for the Service and address type; `desired` maps a ports key to its group.
 */
export function reconcileSlices(
  svc: Service,
  addressType: AddressType,
  existing: readonly EndpointSlice[],
  desired: ReadonlyMap<string, EndpointGroup>,
  maxPerSlice = MAX_ENDPOINTS_PER_SLICE,
): SliceChanges {
  const changes: SliceChanges = { create: [], update: [], delete: [] };
  const wantLabels = sliceLabels(svc);
  // Endpoints not yet placed in a slice, per ports key.
  const unplaced = new Map<string, Map<string, Endpoint>>();
  for (const [key, group] of desired) unplaced.set(key, new Map(group.endpoints));

  const toUpdate: EndpointSlice[] = [];
  const unchanged: EndpointSlice[] = [];
  for (const slice of existing) {
    const key = portsKey(slice.ports ?? []);
    const group = desired.get(key);
    const remaining = unplaced.get(key);
    if (!group || !remaining) {
      changes.delete.push(slice);
      continue;
    }
    let dirty = !labelsEqual(slice.metadata.labels, wantLabels);
    const kept: Endpoint[] = [];
    for (const ep of slice.endpoints ?? []) {
      const addr = ep.addresses[0]!;
      const want = remaining.get(addr);
      if (!want) {
        dirty = true; // gone, or already placed in another slice (a duplicate)
        continue;
      }
      remaining.delete(addr);
      if (!endpointEqual(ep, want)) dirty = true;
      kept.push(want);
    }
    const next: EndpointSlice = { ...slice, metadata: { ...slice.metadata, labels: wantLabels }, endpoints: kept };
    if (dirty) toUpdate.push(next);
    else unchanged.push(next);
  }

  for (const [key, remaining] of unplaced) {
    if (remaining.size === 0) continue;
    const group = desired.get(key)!;
    const pending = [...remaining.values()].sort(byAddress);
    const fill = (slice: EndpointSlice) => {
      const eps = slice.endpoints ?? [];
      while (pending.length > 0 && eps.length < maxPerSlice) eps.push(pending.shift()!);
      slice.endpoints = eps;
    };
    // Slices being written anyway take new endpoints first, then unchanged ones with room.
    for (const s of toUpdate) if (portsKey(s.ports ?? []) === key) fill(s);
    for (let i = 0; i < unchanged.length && pending.length > 0; i++) {
      const s = unchanged[i]!;
      if (portsKey(s.ports ?? []) !== key || (s.endpoints?.length ?? 0) >= maxPerSlice) continue;
      fill(s);
      toUpdate.push(s);
      unchanged.splice(i--, 1);
    }
    while (pending.length > 0) {
      const s = newSlice(svc, addressType, group);
      fill(s);
      changes.create.push(s);
    }
  }

  for (const s of toUpdate) {
    if ((s.endpoints?.length ?? 0) === 0) changes.delete.push(s);
    else changes.update.push(s);
  }

  // A Service with no endpoints keeps exactly one empty placeholder slice.
  if (changes.create.length === 0 && changes.update.length === 0 && unchanged.length === 0) {
    const placeholder = existing.find((s) => (s.endpoints?.length ?? 0) === 0 && (s.ports ?? null) === null && labelsEqual(s.metadata.labels, wantLabels));
    if (placeholder) changes.delete = changes.delete.filter((s) => s !== placeholder);
    else changes.create.push(newSlice(svc, addressType, undefined));
  }
  return changes;
}
