/**
 * From what a client sends to what is stored: the source text in its format, loaded and linted
 * (LINE:COL problems), Harden-Runner's `policy: NAME` resolved against the policies at the
 * scope and above (the policy store of DESIGN.md 9.3), the policy's own `tests:` run, and the
 * native model that is enforced.
 */
import { compilePolicy } from '../../policy/engine/compile.js';
import type { FormatId, SourceText } from '../../policy/formats/index.js';
import type { Policy } from '../../policy/model.js';
import { runPolicyTests } from '../../policy/policy-tests/index.js';
import { ApiError, type FieldError } from '../http/problem.js';
import type { Hierarchy } from '../hierarchy/snapshot.js';
import type { Scope } from '../store/store.js';
import { loadSource, parseFormatField } from './source.js';

export interface PreparedContent {
  format: FormatId;
  source: string;
  policy: Policy;
  /** The model as stored (plain JSON). */
  native: unknown;
  warnings: FieldError[];
}

/** Harden-Runner named policies: the nearest harden-runner policy of that name, scope upwards. */
function policyStore(h: Hierarchy, scope: Scope): (name: string) => SourceText | undefined {
  const chain = h.chain(scope).reverse();
  return (name) => {
    for (const s of chain) {
      const found = h
        .policiesAt(s.id)
        .find((p) => p.record.name === name && p.current.format === 'harden-runner');
      if (found) return { text: found.current.source, file: `${s.path}/policies/${name}` };
    }
    return undefined;
  };
}

function runOwnTests(policy: Policy, extras: Readonly<Record<string, readonly string[]>>): void {
  if (!policy.tests?.length) return;
  const results = runPolicyTests(compilePolicy(policy, { ecosystemExtras: extras }), policy.tests);
  const failed = results.filter((r) => !r.pass);
  if (failed.length === 0) return;
  const errors: FieldError[] = failed.map((r) => {
    const m = r.source ? /:(\d+):(\d+)$/.exec(r.source) : null;
    return {
      field: 'source',
      code: 'policy_test_failed',
      message: r.explanation,
      ...(m ? { line: Number(m[1]), col: Number(m[2]), location: `${m[1]}:${m[2]}` } : {}),
    };
  });
  throw new ApiError(
    422,
    'policy_tests_failed',
    `${failed.length} of the policy's own tests fail${errors[0]!.location ? ` (first at source ${errors[0]!.location})` : ''}: ${errors[0]!.message}`,
    { errors },
  );
}

export function prepareContent(
  h: Hierarchy,
  scope: Scope,
  input: { format?: string; source: string; name: string },
  extras: Readonly<Record<string, readonly string[]>>,
): PreparedContent {
  const format = parseFormatField(input.format);
  const loaded = loadSource({
    format,
    source: input.source,
    file: 'source',
    resolveNamedPolicy: policyStore(h, scope),
    ecosystemExtras: extras,
  });
  runOwnTests(loaded.policy, extras);
  return {
    format,
    source: input.source,
    policy: loaded.policy,
    native: JSON.parse(JSON.stringify(loaded.policy)) as unknown,
    warnings: loaded.warnings,
  };
}
