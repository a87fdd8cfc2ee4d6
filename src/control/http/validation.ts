/**
 * The one validation hook every route shares: a request that fails its zod schema is a 400
 * problem listing each issue with the field it is about (the zod issue path), so a client can
 * point at the field in its form.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError, fieldPath, type FieldError } from './problem.js';

type Target = 'json' | 'query' | 'param' | 'header' | 'cookie' | 'form';

const ROOTS: Record<Target, string> = {
  json: 'body',
  query: 'query',
  param: 'path',
  header: 'header',
  cookie: 'cookie',
  form: 'body',
};

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message;
}

export function zodFieldErrors(error: z.ZodError, target: Target = 'json'): FieldError[] {
  return error.issues.map((issue) => {
    const path =
      issue.code === 'unrecognized_keys' && issue.keys.length === 1
        ? [...issue.path, issue.keys[0]!]
        : issue.path;
    const prefix = target === 'json' || target === 'form' ? [] : [ROOTS[target]];
    return {
      field: fieldPath([...prefix, ...path], ROOTS[target]),
      code: issue.code,
      message: issueMessage(issue),
    };
  });
}

export function validationError(error: z.ZodError, target: Target = 'json'): ApiError {
  const errors = zodFieldErrors(error, target);
  const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return new ApiError(400, 'validation_failed', detail, { errors });
}

/** The defaultHook of the OpenAPI app: throw, and the error handler writes the problem. */
export function validationHook(
  result: { success: true } | { success: false; error: z.ZodError; target: Target },
  _c: Context,
): void {
  if (!result.success) throw validationError(result.error, result.target);
}
