/** Tests down the hierarchy: which tests must hold at a workspace, and which of them fail. */
import type { EffectivePolicy, ScopeChain } from '../scopes/types.js';
import type { HierarchyTestFailure, WorkspaceTestPlan } from './types.js';

/**
 * The ids of the policies whose tests must hold at a workspace: the policy assigned at every
 * scope of its chain (top-down, enforced or shadowed alike), then the effective policies.
 * Each id once.
 */
export function policiesWhoseTestsMustHold(
  chain: ScopeChain,
  effective: EffectivePolicy,
): string[] {
  void chain;
  void effective;
  return [];
}

export function failingTestsDownTheHierarchy(
  plans: readonly WorkspaceTestPlan[],
): HierarchyTestFailure[] {
  void plans;
  return [];
}
