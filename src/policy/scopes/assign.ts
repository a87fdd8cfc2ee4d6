/** May this scope get this assignment? And which policies may it choose from? */
import type { AssignCheck, Assignment, PolicyLookup, PolicyRef, ScopeChain } from './types.js';

/**
 * Checks an assignment for the last scope of `chain` (DESIGN.md 9.1): refused when an enforced
 * assignment above locks it (409), or when the policy does not exist or is defined below or
 * beside this scope.
 */
export function canAssign(
  chain: ScopeChain,
  assignment: Assignment,
  policies: PolicyLookup,
): AssignCheck {
  void chain;
  void assignment;
  void policies;
  throw new Error('canAssign: not implemented yet');
}

/** The policies that may be assigned at the last scope of `chain`: defined at it or above it. */
export function assignablePolicies(
  chain: ScopeChain,
  candidates: readonly PolicyRef[],
): PolicyRef[] {
  void chain;
  return [...candidates];
}
