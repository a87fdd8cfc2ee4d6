/**
 * Errors as `application/problem+json` (RFC 9457). Every refusal the API makes is an ApiError
 * with a stable machine-readable `code`; clients branch on `code`, people read `detail`. Field
 * errors name the field by its path in the request (`name`, `rules.0.ports.1.port`), and policy
 * text errors carry the `LINE:COL` of the source they point at.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One thing wrong with the request, where it is. */
export interface FieldError {
  /** The field's path in the request (`name`, `source`, `rules.0.ports.1.port`). */
  field: string;
  /** Stable, per error kind (`invalid_type`, `too_small`, `invalid_policy`, ...). */
  code: string;
  message: string;
  /** Policy text only: where in `source` (1-based). */
  line?: number;
  col?: number;
  /** `LINE:COL`, as `egress lint` prints it. */
  location?: string;
  hint?: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Stable machine-readable reason (`validation_failed`, `policy_locked`, ...). */
  code: string;
  /** The first field at fault, when one is. */
  field?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function statusTitle(status: number): string {
  return TITLES[status] ?? 'Error';
}

/** A refusal the API answers with a problem document; thrown from handlers and services. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly errors: FieldError[] | undefined;
  /** Extra members of the problem document (`permission`, `scopes`, `enforcedBy`, ...). */
  readonly extensions: Record<string, unknown>;
  /** Response headers to add (`Retry-After`, `ETag`). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    detail: string,
    options: {
      errors?: FieldError[];
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(detail);
    this.status = status;
    this.code = code;
    this.errors = options.errors;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  toProblem(): Problem {
    const first = this.errors?.[0];
    return {
      type: `https://egress.dev/problems/${this.code}`,
      title: statusTitle(this.status),
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(first ? { field: first.field } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
      ...this.extensions,
    };
  }
}

/** The field path of a zod issue (`[rules, 0, port]` → `rules.0.port`; the root → `body`). */
export function fieldPath(path: ReadonlyArray<PropertyKey>, root = 'body'): string {
  return path.length === 0 ? root : path.map(String).join('.');
}

export function notFound(what: string): ApiError {
  return new ApiError(404, 'not_found', `${what} does not exist or you may not see it`);
}

export function invalid(field: string, code: string, message: string): ApiError {
  return new ApiError(400, 'validation_failed', `${field}: ${message}`, {
    errors: [{ field, code, message }],
  });
}
