// Errors a patch request can end in, carrying the HTTP code and Status reason kube-apiserver
// answers with, so the server turns them into a Status object without guessing.

export interface PatchCause {
  reason?: string;
  message: string;
  field?: string;
}

export class PatchError extends Error {
  constructor(
    readonly code: 400 | 409 | 415 | 422,
    readonly reason: 'BadRequest' | 'Invalid' | 'Conflict' | 'UnsupportedMediaType',
    message: string,
    readonly causes: PatchCause[] = [],
  ) {
    super(message);
    this.name = 'PatchError';
  }

  /** The Status object kube-apiserver answers with for this error. */
  toStatus(): { kind: 'Status'; apiVersion: 'v1'; metadata: Record<string, never>; status: 'Failure'; message: string; reason: string; details?: { causes: PatchCause[] }; code: number } {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.causes.length > 0 ? { details: { causes: this.causes } } : {}),
      code: this.code,
    };
  }

  static badRequest(message: string): PatchError {
    return new PatchError(400, 'BadRequest', message);
  }

  /** kube-apiserver's answer when a well-formed patch cannot be applied to the object. */
  static unprocessable(detail: string): PatchError {
    return new PatchError(422, 'Invalid', `the server rejected our request due to an error in our request`, [{ reason: 'UnexpectedServerResponse', message: detail }]);
  }
}

export interface ApplyConflict {
  /** The manager as kube-apiserver prints it, e.g. `"kubectl-client-side-apply" using v1`. */
  manager: string;
  /** Path as structured-merge-diff prints it, e.g. `.spec.ports[port=80,protocol="TCP"].targetPort`. */
  path: string;
}

/** Server-side apply would change fields another manager owns; force=true takes them over. */
export class ApplyConflictError extends PatchError {
  constructor(readonly conflicts: ApplyConflict[]) {
    super(
      409,
      'Conflict',
      conflictMessage(conflicts),
      conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${c.manager}`, field: c.path })),
    );
    this.name = 'ApplyConflictError';
  }
}

function conflictMessage(conflicts: ApplyConflict[]): string {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${conflicts[0]!.manager}: ${conflicts[0]!.path}`;
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.path]);
  const lines: string[] = [];
  for (const manager of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${manager}:`);
    for (const path of byManager.get(manager)!) lines.push(`- ${path}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}
