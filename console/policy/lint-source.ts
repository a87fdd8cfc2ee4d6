/**
 * The engine's own diagnostics for a source text, as `egress lint` prints them: the format's
 * parser (any supported format), then lintPolicy's warnings. Runs in the page on every edit.
 */
import { lintPolicy } from '../../src/policy/lint.js';
import { isFormatId, loadPolicy } from '../../src/policy/formats/index.js';
import type { Policy } from '../../src/policy/model.js';
import { isPolicyError, type Diagnostic } from '../../src/policy/source/diagnostics.js';

export const POLICY_FILE = 'policy.yaml';

export interface Linted {
  /** Undefined when the text has an error. */
  policy: Policy | undefined;
  diagnostics: Diagnostic[];
}

export function lintSource(format: string, text: string): Linted {
  if (!isFormatId(format))
    return {
      policy: undefined,
      diagnostics: [
        {
          file: POLICY_FILE,
          line: 1,
          col: 1,
          severity: 'error',
          message: `unknown format ${format}`,
        },
      ],
    };
  try {
    const parsed = loadPolicy(format, { text, file: POLICY_FILE });
    return {
      policy: parsed.policy,
      diagnostics: [...parsed.warnings, ...lintPolicy(parsed.policy)],
    };
  } catch (err) {
    if (isPolicyError(err)) return { policy: undefined, diagnostics: [...err.diagnostics] };
    return {
      policy: undefined,
      diagnostics: [
        { file: POLICY_FILE, line: 1, col: 1, severity: 'error', message: (err as Error).message },
      ],
    };
  }
}

/** `3:5: message — hint`: the LINE:COL form of `egress lint`, without the file. */
export function diagnosticLine(d: Diagnostic): string {
  return `${d.line}:${d.col}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}${d.hint ? ` — ${d.hint}` : ''}`;
}
