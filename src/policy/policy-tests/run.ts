/** Runs a policy's test cases against a compiled policy (pure). */
import type { CompiledPolicy } from '../engine/compile.js';
import type { PolicyTest } from '../model.js';
import type { PolicyTestResult } from './types.js';

/** `compiled: null` = no policy: every case is decided `no_policy` (deny), as the data plane does. */
export function runPolicyTests(
  compiled: CompiledPolicy | null,
  tests: readonly PolicyTest[],
): PolicyTestResult[] {
  void compiled;
  void tests;
  throw new Error('runPolicyTests: not implemented yet');
}
