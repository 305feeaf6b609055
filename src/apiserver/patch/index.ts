// The four patch types kube-apiserver accepts, plus managedFields bookkeeping for writes.
export { PatchError, ApplyConflictError, type ApplyConflict, type PatchCause } from './errors.js';
export { applyJsonPatch, parseJsonPatch, type JsonPatchOperation } from './json-patch.js';
export { applyMergePatch } from './merge-patch.js';
export { applyStrategicMergePatch } from './strategic.js';
export { serverSideApply, updateManagedFields, describeManager, type ApplyOptions, type UpdateOptions } from './apply.js';
