/**
 * The query parameters of the audit search (GET /api/v1/events) and of its live stream
 * (GET /api/v1/events/stream), and the store filter they make, cut down to the scopes the
 * caller may search (Security::Access).
 */
import { z } from '@hono/zod-openapi';
import type { Severity } from '../../protocol/audit-event.js';
import { cursorSchema, limitSchema } from '../http/pagination.js';
import { isAtOrAbove, PLATFORM_PATH } from '../rbac/scope-path.js';
import type { EventFilter } from '../store/store.js';

const isoTime = z
  .string()
  .max(40)
  .refine((t) => !Number.isNaN(Date.parse(t)), 'use an ISO 8601 time, e.g. 2026-12-04T10:00:00Z')
  .transform((t) => new Date(t).toISOString());
const list = z
  .string()
  .max(2000)
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** The filters both endpoints take. */
export const EventFilterQuery = z.object({
  type: list.optional().describe('comma-separated event types'),
  severity: z
    .string()
    .max(100)
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(['info', 'warning', 'critical'])))
    .optional()
    .describe('comma-separated: info, warning, critical'),
  workspace: z.string().max(400).optional(),
  user: z.string().max(400).optional(),
  verdict: z.enum(['allow', 'deny']).optional(),
  scope: z.string().max(400).optional().describe('only events at this scope path and beneath'),
  from: isoTime.optional().describe('inclusive, ISO 8601'),
  to: isoTime.optional().describe('exclusive, ISO 8601'),
  q: z.string().max(400).optional().describe('text search in destination host and description'),
});

export const EventQuery = EventFilterQuery.extend({
  cursor: cursorSchema,
  limit: limitSchema,
  facets: z
    .enum(['true', 'false'])
    .optional()
    .describe('add counts by type, severity, verdict, workspace'),
  format: z
    .enum(['json', 'csv', 'ndjson'])
    .optional()
    .describe('csv or ndjson: download every match'),
});

/**
 * The scope subtrees a query may search: the caller's Access roots (undefined = everything),
 * narrowed to `wanted` and beneath when the query names a scope.
 */
export function visibleScopes(
  roots: readonly string[],
  wanted: string | undefined,
): string[] | undefined {
  const all = roots.includes(PLATFORM_PATH);
  if (!wanted) return all ? undefined : [...roots];
  if (all) return [wanted];
  return roots.flatMap((r) =>
    isAtOrAbove(wanted, r) ? [r] : isAtOrAbove(r, wanted) ? [wanted] : [],
  );
}

/** The store filter of a validated query, RBAC-cut to the caller's Access roots. */
export function filterOf(
  q: z.output<typeof EventFilterQuery>,
  accessRoots: readonly string[],
): EventFilter {
  const scopes = visibleScopes(accessRoots, q.scope);
  return {
    ...(q.type?.length ? { type: q.type } : {}),
    ...(q.severity?.length ? { severity: q.severity as Severity[] } : {}),
    ...(q.workspace ? { workspace: q.workspace } : {}),
    ...(q.user ? { user: q.user } : {}),
    ...(q.verdict ? { verdict: q.verdict } : {}),
    ...(q.from ? { from: q.from } : {}),
    ...(q.to ? { to: q.to } : {}),
    ...(q.q ? { q: q.q } : {}),
    ...(scopes !== undefined ? { scopes } : {}),
  };
}
