/**
 * Turns whatever a handler throws into a problem response. Anything that is not an ApiError is
 * a bug: the client gets a 500 problem with a reference, never a stack trace, and the server
 * logs the error with that reference.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiError, PROBLEM_CONTENT_TYPE } from './problem.js';
import { fromStoreError, isStoreError } from './store-errors.js';

export function problemResponse(err: ApiError): Response {
  return new Response(JSON.stringify(err.toProblem()), {
    status: err.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...err.headers },
  });
}

/** Hono's own refusals (malformed JSON, a wrong content type) as ApiErrors. */
export function fromHttpException(err: HTTPException): ApiError {
  if (err.status === 400 && /JSON/i.test(err.message))
    return new ApiError(
      400,
      'malformed_json',
      'the request body is not valid JSON; send a JSON object with Content-Type: application/json',
      { errors: [{ field: 'body', code: 'malformed_json', message: err.message }] },
    );
  if (err.status === 415)
    return new ApiError(415, 'unsupported_media_type', 'send the body as application/json');
  return new ApiError(err.status, `http_${err.status}`, err.message || 'request refused');
}

export type ErrorLogger = (message: string, fields: Record<string, unknown>) => void;

export function toApiError(err: unknown, log: ErrorLogger, c: Context): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) return fromHttpException(err);
  if (isStoreError(err)) return fromStoreError(err);
  const reference = globalThis.crypto.randomUUID();
  log('internal error', {
    reference,
    method: c.req.method,
    path: c.req.path,
    error: err instanceof Error ? (err.stack ?? err.message) : String(err),
  });
  return new ApiError(500, 'internal_error', `internal error (reference ${reference})`, {
    extensions: { reference },
  });
}
