/** Assignments: at most one `{policy | null, enforced}` per scope (the scope id is the key). */
import { NotFoundError } from '../errors.js';
import type { Assignment } from '../records.js';
import { recordChange } from './changes.js';
import { atomic, iso, type Ctx } from './context.js';
import { requireScope } from './scopes.js';
import type { AssignmentsTable } from './tables.js';

type AssignmentRow = AssignmentsTable & { scope_path: string };

function toAssignment(row: AssignmentRow): Assignment {
  return {
    scopeId: row.scope_id,
    scopePath: row.scope_path,
    policyId: row.policy_id,
    enforced: Number(row.enforced) === 1,
    updatedBy: row.updated_by,
    updatedAt: iso(row.updated_at),
  };
}

function assignments(ctx: Ctx) {
  return ctx.db
    .selectFrom('assignments as a')
    .innerJoin('scopes as s', 's.id', 'a.scope_id')
    .selectAll('a')
    .select('s.path as scope_path');
}

export async function setAssignment(
  ctx: Ctx,
  scopeId: string,
  value: { policyId: string | null; enforced: boolean; by: string | null },
): Promise<Assignment> {
  return atomic(ctx, async (tx) => {
    const scope = await requireScope(tx, scopeId);
    if (value.policyId !== null) {
      const policy = await tx.db
        .selectFrom('policies')
        .select('id')
        .where('id', '=', value.policyId)
        .executeTakeFirst();
      if (!policy) throw new NotFoundError('policy', value.policyId);
    }
    const row: AssignmentsTable = {
      scope_id: scopeId,
      policy_id: value.policyId,
      enforced: value.enforced ? 1 : 0,
      updated_by: value.by,
      updated_at: tx.now(),
    };
    await tx.db
      .insertInto('assignments')
      .values(row)
      .onConflict((oc) =>
        oc.column('scope_id').doUpdateSet({
          policy_id: row.policy_id,
          enforced: row.enforced,
          updated_by: row.updated_by,
          updated_at: row.updated_at,
        }),
      )
      .execute();
    await recordChange(tx, { kind: 'assignment.set', scope: scope.path, subject: value.policyId });
    return toAssignment({ ...row, scope_path: scope.path });
  });
}

export async function getAssignment(ctx: Ctx, scopeId: string): Promise<Assignment | null> {
  const row = await assignments(ctx).where('a.scope_id', '=', scopeId).executeTakeFirst();
  return row ? toAssignment(row) : null;
}

export async function clearAssignment(ctx: Ctx, scopeId: string): Promise<boolean> {
  return atomic(ctx, async (tx) => {
    const scope = await requireScope(tx, scopeId);
    const result = await tx.db
      .deleteFrom('assignments')
      .where('scope_id', '=', scopeId)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) return false;
    await recordChange(tx, { kind: 'assignment.cleared', scope: scope.path, subject: null });
    return true;
  });
}

export async function listAssignments(
  ctx: Ctx,
  scopeIds?: readonly string[],
): Promise<Assignment[]> {
  let query = assignments(ctx);
  if (scopeIds !== undefined) {
    if (scopeIds.length === 0) return [];
    query = query.where('a.scope_id', 'in', [...scopeIds]);
  }
  const rows = await query.orderBy('s.path').execute();
  return rows.map(toAssignment);
}

export async function assignmentsOfPolicy(ctx: Ctx, policyId: string): Promise<Assignment[]> {
  const rows = await assignments(ctx)
    .where('a.policy_id', '=', policyId)
    .orderBy('s.path')
    .execute();
  return rows.map(toAssignment);
}
