/**
 * Assignments (DESIGN.md 9.1): apply or enforce a policy at a scope. Refused with 409 when an
 * enforced assignment above locks the scope (naming the enforcing scope and policy), and with
 * 422 when the policy tests beneath would fail with it. The change and its audit event
 * (`policy.applied`, `policy.enforced`, `policy.unassigned`) are written together.
 */
import { canAssign } from '../../policy/scopes/index.js';
import type { Actor } from '../audit/actor.js';
import { changeEvent } from '../audit/change-event.js';
import type { ControlDeps } from '../context.js';
import { ApiError } from '../http/problem.js';
import { refOf } from '../policies/views.js';
import { describeScope } from '../rbac/scope-path.js';
import type { Assignment, Scope } from '../store/store.js';
import { policyLookup, scopeChainOf } from './effective.js';
import { loadHierarchy, type Hierarchy } from './snapshot.js';
import { failingTestsBelow, refuseIfTestsFail } from './tests-below.js';

export interface AssignmentView {
  scope: string;
  policy: { id: string; name: string; version: number } | null;
  enforced: boolean;
  shadowedBy: { scope: string; policy: { id: string; name: string; version: number } } | null;
}

/** The topmost enforced assignment strictly above `scope`, if any. */
export function enforcedAbove(
  h: Hierarchy,
  scope: Scope,
): { scope: Scope; assignment: Assignment } | undefined {
  for (const s of h.chain(scope).slice(0, -1)) {
    const a = h.assignments.get(s.id);
    if (a?.enforced && a.policyId !== null) return { scope: s, assignment: a };
  }
  return undefined;
}

function refById(h: Hierarchy, id: string | null) {
  if (id === null) return null;
  const entry = h.policies.get(id);
  return entry ? refOf(entry.record) : { id, name: '(deleted policy)', version: 0 };
}

export function assignmentView(h: Hierarchy, scope: Scope): AssignmentView {
  const a = h.assignments.get(scope.id);
  const above = a ? enforcedAbove(h, scope) : undefined;
  return {
    scope: scope.path,
    policy: refById(h, a?.policyId ?? null),
    enforced: a?.enforced ?? false,
    shadowedBy: above
      ? { scope: above.scope.path, policy: refById(h, above.assignment.policyId)! }
      : null,
  };
}

export class AssignmentService {
  constructor(private readonly deps: ControlDeps) {}

  async set(
    scope: Scope,
    value: { policy: string | null; enforced: boolean },
    actor: Actor,
    canSeePolicy: (scopePath: string) => boolean,
  ): Promise<AssignmentView> {
    if (value.policy === null && value.enforced)
      throw new ApiError(
        400,
        'validation_failed',
        'enforced: nothing to enforce without a policy; send {"policy": null} to remove the assignment',
        {
          errors: [
            { field: 'enforced', code: 'invalid_value', message: 'enforced needs a policy' },
          ],
        },
      );
    const h = await loadHierarchy(this.deps.store);
    if (value.policy !== null) {
      const entry = h.policies.get(value.policy);
      if (!entry || !canSeePolicy(entry.record.scopePath))
        throw new ApiError(
          404,
          'policy_not_found',
          `policy: no policy "${value.policy}" that you may see`,
          {
            errors: [
              {
                field: 'policy',
                code: 'not_found',
                message: `policy "${value.policy}" does not exist or you may not see it`,
              },
            ],
          },
        );
    }
    const check = canAssign(
      scopeChainOf(h, scope),
      { policyId: value.policy, enforced: value.enforced },
      policyLookup(h),
    );
    if (!check.ok) {
      if (check.code === 'locked') {
        const by = check.lockedBy;
        const byScope = by?.scope.id ? h.byId.get(by.scope.id) : undefined;
        throw new ApiError(409, 'policy_locked', check.message, {
          extensions: {
            enforcedBy: {
              scope: byScope?.path ?? null,
              policy: by ? refById(h, by.policyId) : null,
            },
          },
        });
      }
      const status = check.code === 'policy_not_found' ? 404 : 422;
      throw new ApiError(status, check.code, check.message, {
        errors: [{ field: 'policy', code: check.code, message: check.message }],
      });
    }
    const before = h.assignments.get(scope.id) ?? null;
    const now = this.deps.clock.now();
    const proposed: Assignment | null =
      value.policy === null
        ? null
        : {
            scopeId: scope.id,
            scopePath: scope.path,
            policyId: value.policy,
            enforced: value.enforced,
            updatedBy: actor.userId,
            updatedAt: new Date(now).toISOString(),
          };
    const next = h.withAssignment(scope.id, proposed);
    refuseIfTestsFail(
      failingTestsBelow(next, scope, this.deps.ecosystemExtras),
      `this assignment on ${describeScope(scope.path)}`,
    );
    const policyRef = refById(h, value.policy);
    const type =
      value.policy === null
        ? 'policy.unassigned'
        : value.enforced
          ? 'policy.enforced'
          : 'policy.applied';
    const verb =
      value.policy === null
        ? 'removed the assignment of'
        : value.enforced
          ? `enforced policy "${policyRef!.name}" (version ${policyRef!.version}) on`
          : `applied policy "${policyRef!.name}" (version ${policyRef!.version}) to`;
    await this.deps.store.transaction(async (tx) => {
      if (value.policy === null) await tx.clearAssignment(scope.id);
      else
        await tx.setAssignment(scope.id, {
          policyId: value.policy,
          enforced: value.enforced,
          by: actor.userId,
        });
      await tx.appendEvents([
        changeEvent(
          {
            type,
            user: actor.userName,
            address: actor.address,
            scope: scope.path,
            description: `User ${actor.userName} ${verb} ${describeScope(scope.path)}.`,
            before: refById(h, before?.policyId ?? null),
            after: policyRef,
            details: { enforced: value.enforced, enforcedBefore: before?.enforced ?? null },
          },
          now,
        ),
      ]);
    });
    return assignmentView(next, scope);
  }
}
