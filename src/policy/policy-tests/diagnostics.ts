/** Failing policy tests as diagnostics at the test's LINE:COL (what `egress lint` prints). */
import type { PolicyTest } from '../model.js';
import type { Diagnostic } from '../source/diagnostics.js';
import type { PolicyTestResult } from './types.js';

export function testFailureDiagnostics(
  tests: readonly PolicyTest[],
  results: readonly PolicyTestResult[],
  fallbackFile: string,
): Diagnostic[] {
  return results.flatMap((r, i) => {
    if (r.pass) return [];
    const loc = tests[i]?.source ?? { file: fallbackFile, line: 1, col: 1 };
    const other = r.expected === 'allow' ? 'deny' : 'allow';
    return [
      {
        severity: 'error' as const,
        file: loc.file,
        line: loc.line,
        col: loc.col,
        message: `test fails: ${r.explanation}`,
        hint: `change the rules so that ${r.dest} is ${r.expected === 'allow' ? 'allowed' : 'denied'}, or write "expect: ${other}" if ${other} is right`,
      },
    ];
  });
}
