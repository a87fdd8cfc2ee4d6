/** What running a policy's `tests:` answers: per case, the decision and whether it passed. */
import type { Decision, RuleRef } from '../decision.js';
import type { PolicyTest, Verdict } from '../model.js';
import type { PolicyRef, ScopeRef } from '../scopes/types.js';

export interface PolicyTestResult {
  /** The destination as the test writes it. */
  dest: string;
  expected: Verdict;
  /** The policy's verdict for it (monitor mode still says deny when it would deny). */
  actual: Verdict;
  pass: boolean;
  reason: Decision['reason'];
  /** The rule that decided, with its `file:line:col`, or null (default, no policy, ...). */
  rule: RuleRef | null;
  /** `file:line:col` of the test case, when known. */
  source: string | null;
  decision: Decision;
  /** One sentence for people: what was expected, what happened and why. */
  explanation: string;
}

/** The tests of one policy that must hold at a workspace. */
export interface TestSuite {
  policy: PolicyRef;
  tests: readonly PolicyTest[];
}

/** One workspace beneath a changed scope: its new effective policy and the tests that must hold. */
export interface WorkspaceTestPlan {
  workspace: ScopeRef;
  /** Its new effective policy, compiled; null = none (every destination is `no_policy`). */
  compiled: import('../engine/compile.js').CompiledPolicy | null;
  suites: readonly TestSuite[];
}

export interface HierarchyTestFailure {
  workspace: ScopeRef;
  /** The policy whose test failed (not necessarily the effective one). */
  policy: PolicyRef;
  test: PolicyTest;
  /** `file:line:col` of the test case, or null. */
  source: string | null;
  expected: Verdict;
  actual: Verdict;
  result: PolicyTestResult;
  /** `workspace ws1: test of policy "Strict" at p.yaml:12:5: pastebin.com expected deny, got allow (rule #2 ...)`. */
  message: string;
}
