/**
 * Tests down the hierarchy (issue 14): before a change is written, the effective policy of every
 * workspace beneath the changed scope is recomputed with the change applied, and the `tests:`
 * of every policy that must hold there are run against it. Any failure refuses the change.
 */
import type { CompiledPolicy } from '../../policy/engine/compile.js';
import {
  failingTestsDownTheHierarchy,
  policiesWhoseTestsMustHold,
  type HierarchyTestFailure,
  type TestSuite,
} from '../../policy/policy-tests/index.js';
import { ApiError } from '../http/problem.js';
import type { Scope } from '../store/store.js';
import {
  compileModel,
  effectiveModel,
  effectiveOf,
  policyRefOf,
  scopeChainOf,
  scopeRefOf,
} from './effective.js';
import type { Hierarchy } from './snapshot.js';

export function failingTestsBelow(
  h: Hierarchy,
  scope: Scope,
  ecosystemExtras: Readonly<Record<string, readonly string[]>>,
): HierarchyTestFailure[] {
  // Workspaces with the same effective policy share one compilation.
  const compiled = new Map<string, CompiledPolicy | null>();
  const plans = h.workspacesUnder(scope).map((ws) => {
    const effective = effectiveOf(h, ws);
    const key = effective.policies.map((p) => `${p.id}@${p.version}`).join('+');
    if (!compiled.has(key))
      compiled.set(key, compileModel(effectiveModel(h, effective), ecosystemExtras));
    const suites: TestSuite[] = [];
    for (const id of policiesWhoseTestsMustHold(scopeChainOf(h, ws), effective)) {
      const entry = h.policies.get(id);
      if (entry?.native.tests?.length)
        suites.push({ policy: policyRefOf(h, entry), tests: entry.native.tests });
    }
    return { workspace: scopeRefOf(ws), compiled: compiled.get(key) ?? null, suites };
  });
  return failingTestsDownTheHierarchy(plans);
}

/** 422 listing every failing case, when there is one. */
export function refuseIfTestsFail(failures: readonly HierarchyTestFailure[], what: string): void {
  if (failures.length === 0) return;
  throw new ApiError(
    422,
    'policy_tests_failed',
    `${what} would break ${failures.length} policy test${failures.length === 1 ? '' : 's'} beneath: ${failures[0]!.message}`,
    {
      extensions: {
        failures: failures.map((f) => ({
          workspace: f.workspace.name,
          policy: { id: f.policy.id, name: f.policy.name, version: f.policy.version },
          dest: f.test.dest,
          expected: f.expected,
          actual: f.actual,
          source: f.source,
          message: f.message,
        })),
      },
    },
  );
}
