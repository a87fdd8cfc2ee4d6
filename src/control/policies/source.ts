/**
 * Reads the policy text a client sends, in any format of DESIGN.md section 4, with the same
 * loader and lint as `egress lint`. A policy that does not load is a 400 whose errors point at
 * `LINE:COL` in `source` with the lint message; a policy is never half stored.
 */
import {
  FORMAT_IDS,
  isFormatId,
  loadPolicy,
  type FormatId,
  type SourceText,
} from '../../policy/formats/index.js';
import { lintPolicy } from '../../policy/lint.js';
import type { Policy } from '../../policy/model.js';
import { PolicyError, type Diagnostic } from '../../policy/source/diagnostics.js';
import { ApiError, type FieldError } from '../http/problem.js';

export interface SourceInput {
  format: FormatId;
  source: string;
  /** The name diagnostics give the text (the policy's name, or `source`). */
  file: string;
  /** Harden-Runner `policy: NAME`: the policy store is the policies at this scope and above. */
  resolveNamedPolicy?: (name: string) => SourceText | undefined;
  ecosystemExtras?: Readonly<Record<string, readonly string[]>>;
}

export interface LoadedSource {
  policy: Policy;
  warnings: FieldError[];
}

export function diagnosticToFieldError(d: Diagnostic, field = 'source'): FieldError {
  return {
    field,
    code: d.severity === 'error' ? 'invalid_policy' : 'policy_warning',
    message: d.message,
    line: d.line,
    col: d.col,
    location: `${d.line}:${d.col}`,
    ...(d.hint ? { hint: d.hint } : {}),
  };
}

export function parseFormatField(format: string | undefined): FormatId {
  const f = format ?? 'native';
  if (!isFormatId(f))
    throw new ApiError(400, 'validation_failed', `format: unknown format "${f}"`, {
      errors: [
        {
          field: 'format',
          code: 'invalid_value',
          message: `unknown format "${f}"; use one of ${FORMAT_IDS.join(', ')}`,
        },
      ],
    });
  return f;
}

/** Loads and lints; throws a 400 `invalid_policy` problem with every error's LINE:COL. */
export function loadSource(input: SourceInput): LoadedSource {
  try {
    const parsed = loadPolicy(input.format, {
      text: input.source,
      file: input.file,
      ...(input.resolveNamedPolicy ? { resolveNamedPolicy: input.resolveNamedPolicy } : {}),
      ...(input.ecosystemExtras ? { ecosystemExtras: input.ecosystemExtras } : {}),
    });
    parsed.policy.origin ??= { file: input.file, format: input.format };
    const lint = lintPolicy(parsed.policy, {
      ...(input.ecosystemExtras ? { ecosystemExtras: input.ecosystemExtras } : {}),
    });
    return {
      policy: parsed.policy,
      warnings: [...parsed.warnings, ...lint].map((d) => diagnosticToFieldError(d)),
    };
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    const errors = err.diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => diagnosticToFieldError(d));
    const first = errors[0];
    const detail = first
      ? `source ${first.location}: ${first.message}${first.hint ? ` — ${first.hint}` : ''}`
      : 'the policy text is not valid';
    throw new ApiError(400, 'invalid_policy', detail, {
      errors,
      extensions: { format: input.format },
    });
  }
}
