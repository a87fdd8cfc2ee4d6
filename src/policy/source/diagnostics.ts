/**
 * Diagnostics: every problem found in a policy file, with the place it was found.
 *
 * Errors never escape as stack traces: parsers collect diagnostics and throw one PolicyError
 * that carries all of them, each formatted as `FILE:LINE:COL: message — hint`.
 */

export type Path = ReadonlyArray<string | number>;

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export interface Diagnostic extends SourceLocation {
  severity: 'error' | 'warning';
  message: string;
  /** What to write instead, when we can tell ("did you mean ..."). */
  hint?: string;
}

export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.col}`;
}

export function formatDiagnostic(d: Diagnostic): string {
  const level = d.severity === 'warning' ? 'warning: ' : '';
  const hint = d.hint ? ` — ${d.hint}` : '';
  return `${formatLocation(d)}: ${level}${d.message}${hint}`;
}

/** Thrown by every policy loader when the input has at least one error. */
export class PolicyError extends Error {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(errors.map(formatDiagnostic).join('\n') || 'invalid policy');
    this.name = 'PolicyError';
    this.diagnostics = diagnostics;
  }
}

export function isPolicyError(err: unknown): err is PolicyError {
  return err instanceof PolicyError;
}
