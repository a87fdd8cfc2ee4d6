/**
 * The policy's own `tests:` as `egress check` and `egress lint` show them. Kept apart from those
 * commands so each needs only a line or two to run the tests.
 */
import type { EcosystemExtras } from '../../policy/ecosystems/index.js';
import { compilePolicy, type CompiledPolicy } from '../../policy/engine/compile.js';
import type { Decision } from '../../policy/decision.js';
import { parseDestinationArg, type DestinationArg } from '../../policy/destination.js';
import type { Policy } from '../../policy/model.js';
import { runPolicyTests, testFailureDiagnostics } from '../../policy/policy-tests/index.js';
import type { PolicyTestResult } from '../../policy/policy-tests/types.js';
import type { Diagnostic } from '../../policy/source/diagnostics.js';
import { renderTable } from '../table.js';

export function runOwnTests(policy: Policy, compiled: CompiledPolicy): PolicyTestResult[] {
  return runPolicyTests(compiled, policy.tests ?? []);
}

/** Failing tests as errors at their LINE:COL (the policy is compiled only if it has tests). */
export function ownTestErrors(policy: Policy, ecosystemExtras: EcosystemExtras): Diagnostic[] {
  const tests = policy.tests ?? [];
  if (tests.length === 0) return [];
  const compiled = compilePolicy(policy, { ecosystemExtras });
  return testFailureDiagnostics(tests, runPolicyTests(compiled, tests), policy.origin?.file ?? '');
}

/** The tests table of `egress check` and its summary line ("tests: 3 of 4 pass"). */
export function renderTestResults(results: readonly PolicyTestResult[]): string {
  const rows = results.map((r) => [
    r.dest,
    r.expected,
    r.decision.wouldDeny ? 'deny (monitor: let through)' : r.actual,
    r.pass ? 'pass' : 'FAIL',
    r.reason,
    r.source ?? '-',
  ]);
  const passed = results.filter((r) => r.pass).length;
  const failing = results.length - passed;
  return (
    `\ntests: ${passed} of ${results.length} pass${failing ? `, ${failing} fail` : ''}\n` +
    renderTable(['TEST', 'EXPECT', 'VERDICT', 'RESULT', 'REASON', 'WRITTEN AT'], rows) +
    results
      .filter((r) => !r.pass)
      .map((r) => `  FAIL ${r.source ? `${r.source}: ` : ''}${r.explanation}\n`)
      .join('')
  );
}

/** `check --json --tests`: the test's part of a destination object. */
export function testJson(r: PolicyTestResult): Record<string, unknown> {
  return { expect: r.expected, pass: r.pass, source: r.source };
}

/** The tests as `check` destinations (their DEST was validated when the policy was read). */
export function testedDestinations(
  results: readonly PolicyTestResult[],
): Array<{ dest: DestinationArg; decision: Decision; test: PolicyTestResult }> {
  return results.map((r) => {
    const parsed = parseDestinationArg(r.dest);
    const dest: DestinationArg = parsed.ok
      ? parsed.value
      : {
          input: r.dest,
          host: r.decision.destination.host,
          port: r.decision.destination.port,
          transport: 'tcp',
        };
    return { dest, decision: r.decision, test: r };
  });
}
