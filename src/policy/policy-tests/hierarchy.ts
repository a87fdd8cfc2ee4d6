/**
 * Tests down the hierarchy. The control plane calls this on every policy save, assignment and
 * enforcement, for every workspace beneath the scope that changed.
 *
 * The rule: at a workspace, these tests must hold against its (new) effective policy —
 *   - the tests of the policy assigned at every scope of its chain (platform, organisation,
 *     project, workspace), whether that assignment applies, is inherited past, is enforced or is
 *     shadowed by an enforcement above; and
 *   - the tests of the effective policy itself (every Fly policy of a combination).
 * So a test written at a higher scope ("pastebin.com must be denied", on the organisation's
 * policy) guards every workspace beneath it even when a project assigns its own policy, and a
 * test of a shadowed selection ("our CI must reach registry.internal") tells whoever starts
 * enforcing above what the enforcement breaks. A workspace with no effective policy is tested
 * too: everything is `no_policy` (deny) there, so tests expecting allow fail. Each policy's
 * tests run once per workspace, even when it is assigned at several scopes.
 */
import type { PolicyTest } from '../model.js';
import type { EffectivePolicy, PolicyRef, ScopeChain } from '../scopes/types.js';
import { scopeLabel } from '../scopes/names.js';
import { runPolicyTests } from './run.js';
import type { HierarchyTestFailure, TestSuite, WorkspaceTestPlan } from './types.js';

/**
 * The ids of the policies whose tests must hold at a workspace, by the rule above: every
 * assigned policy of the chain top-down, then the effective policies. Each id once.
 */
export function policiesWhoseTestsMustHold(
  chain: ScopeChain,
  effective: EffectivePolicy,
): string[] {
  const ids: string[] = [];
  const add = (id: string | null | undefined) => {
    if (id && !ids.includes(id)) ids.push(id);
  };
  for (const node of chain) add(node.assignment?.policyId);
  for (const p of effective.policies) add(p.id);
  return ids;
}

/**
 * The suites for one workspace: `policiesWhoseTestsMustHold`, each looked up with `testsOf`
 * (policies that no longer exist, or have no tests, are left out).
 */
export function testSuitesFor(
  chain: ScopeChain,
  effective: EffectivePolicy,
  testsOf: (policyId: string) => { policy: PolicyRef; tests: readonly PolicyTest[] } | undefined,
): TestSuite[] {
  return policiesWhoseTestsMustHold(chain, effective).flatMap((id) => {
    const found = testsOf(id);
    return found && found.tests.length ? [{ policy: found.policy, tests: found.tests }] : [];
  });
}

/** Every failing case, workspace by workspace, suite by suite, in test order. */
export function failingTestsDownTheHierarchy(
  plans: readonly WorkspaceTestPlan[],
): HierarchyTestFailure[] {
  const failures: HierarchyTestFailure[] = [];
  for (const plan of plans) {
    const seen = new Set<string>();
    for (const suite of plan.suites) {
      if (seen.has(suite.policy.id)) continue;
      seen.add(suite.policy.id);
      const results = runPolicyTests(plan.compiled, suite.tests);
      results.forEach((result, i) => {
        if (result.pass) return;
        const where = result.source ? ` at ${result.source}` : '';
        failures.push({
          workspace: plan.workspace,
          policy: suite.policy,
          test: suite.tests[i]!,
          source: result.source,
          expected: result.expected,
          actual: result.actual,
          result,
          message: `${scopeLabel(plan.workspace)}: test of policy "${suite.policy.name}"${where} fails: ${result.explanation}`,
        });
      });
    }
  }
  return failures;
}
