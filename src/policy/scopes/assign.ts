/**
 * May this scope get this assignment (DESIGN.md 9.1)? And which policies may it choose from?
 * The scope being assigned is the last one of `chain`.
 */
import { findPolicy, policyName } from './lookup.js';
import { checkScopeChain, refOf, sameScope, scopeLabel } from './names.js';
import type { AssignCheck, Assignment, PolicyLookup, PolicyRef, ScopeChain } from './types.js';

/** True when `policy` is defined at a scope of `chain` (never a workspace: policies live above). */
function definedInChain(chain: ScopeChain, policy: PolicyRef): boolean {
  if (policy.scope.kind === 'workspace') return false;
  return chain.some((node) => sameScope(node, policy.scope));
}

/**
 * Refused when:
 * - `locked` (HTTP 409): a scope above holds an enforced assignment; the topmost one is named
 *   (it is the one that decides). Clearing an assignment (`policyId: null`) is always allowed:
 *   it replaces nothing, and lets an owner tidy up what an enforcement shadows.
 * - `policy_not_found`: the policy does not exist.
 * - `policy_out_of_scope`: the policy is defined below or beside this scope.
 * An enforced assignment on the scope itself does not lock that scope's own assignment.
 */
export function canAssign(
  chain: ScopeChain,
  assignment: Assignment,
  policies: PolicyLookup,
): AssignCheck {
  const problem = checkScopeChain(chain);
  if (problem) return { ok: false, code: 'invalid_scope_chain', message: problem };
  const target = chain[chain.length - 1]!;
  if (assignment.policyId === null) return { ok: true };

  const lock = chain
    .slice(0, -1)
    .find((node) => node.assignment?.enforced && node.assignment.policyId !== null);
  if (lock) {
    const lockId = lock.assignment!.policyId!;
    const lockPolicy = findPolicy(policies, lockId) ?? null;
    return {
      ok: false,
      code: 'locked',
      message: `${scopeLabel(target)} is locked: ${scopeLabel(lock)} enforces ${policyName(lockPolicy, lockId)}, so scopes beneath it cannot choose their own policy (enforced by ${scopeLabel(lock)})`,
      lockedBy: { scope: refOf(lock), policyId: lockId, policy: lockPolicy },
    };
  }

  const policy = findPolicy(policies, assignment.policyId);
  if (!policy)
    return {
      ok: false,
      code: 'policy_not_found',
      message: `policy ${assignment.policyId} does not exist`,
    };
  if (!definedInChain(chain, policy)) {
    const where = chain
      .filter((n) => n.kind !== 'workspace')
      .map(scopeLabel)
      .join(', ');
    return {
      ok: false,
      code: 'policy_out_of_scope',
      message: `policy "${policy.name}" is defined at ${scopeLabel(policy.scope)}, which is not ${scopeLabel(target)} or above it; assign a policy defined at ${where}`,
    };
  }
  return { ok: true };
}

/**
 * The policies that may be assigned at the last scope of `chain`: those defined at it or above
 * it, top-down (platform first), in the given order within a scope.
 */
export function assignablePolicies(
  chain: ScopeChain,
  candidates: readonly PolicyRef[],
): PolicyRef[] {
  const depth = (p: PolicyRef) => chain.findIndex((node) => sameScope(node, p.scope));
  return candidates
    .filter((p) => definedInChain(chain, p))
    .map((p, i) => ({ p, i, d: depth(p) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map(({ p }) => p);
}
