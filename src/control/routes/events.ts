/**
 * The audit store's API (DESIGN.md 9.3): `POST /api/v1/events` (NDJSON from nodes) and
 * `GET /api/v1/events` with filters, text search, facets, cursor pagination and CSV/NDJSON
 * export. What a caller sees is cut down to the scopes where they hold Security::Access.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, ControlDeps } from '../context.js';
import { exportStream } from '../events/export.js';
import { MAX_BATCH_BYTES, MAX_BATCH_EVENTS, parseBatch } from '../events/ingest.js';
import { ApiError } from '../http/problem.js';
import { MANAGE } from '../rbac/roles.js';
import { PLATFORM_PATH } from '../rbac/scope-path.js';
import { EventQuery, filterOf } from './event-query.js';
import { BEARER, json, problems } from '../api/responses.js';

const IngestResult = z
  .object({
    received: z.number().int(),
    inserted: z.number().int(),
    duplicates: z.number().int(),
    rejected: z.array(z.object({ line: z.number().int(), field: z.string(), message: z.string() })),
  })
  .openapi('IngestResult');

const StoredEvent = z
  .object({
    id: z.string(),
    time: z.string(),
    type: z.string(),
    severity: z.enum(['info', 'warning', 'critical']),
    description: z.string(),
  })
  .catchall(z.unknown())
  .openapi('AuditEvent');

const Facet = z.array(z.object({ value: z.string().nullable(), count: z.number().int() }));
const EventPage = z
  .object({
    items: z.array(StoredEvent),
    nextCursor: z.string().nullable(),
    facets: z
      .object({
        total: z.number().int(),
        type: Facet,
        severity: Facet,
        verdict: Facet,
        workspace: Facet,
      })
      .optional(),
  })
  .openapi('EventPage');

export function registerEventRoutes(app: ApiApp, deps: ControlDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/events',
      tags: ['Audit'],
      summary: 'Send audit events (NDJSON, idempotent by event id)',
      description:
        'One event per line. Lines that do not parse or lack a canonical field are reported in `rejected` by line number and not stored; the others are. Node tokens may send events for their own scope; users need Security::Manage on the platform.',
      security: BEARER,
      request: {
        body: { required: true, content: { 'application/x-ndjson': { schema: z.string() } } },
      },
      responses: { 200: json(IngestResult, 'Stored'), ...problems(400, 403, 413, 415) },
    }),
    async (c) => {
      const p = c.var.auth.principal;
      if (p.kind !== 'node' && !c.var.auth.has(PLATFORM_PATH, MANAGE))
        throw new ApiError(
          403,
          'permission_denied',
          `sending events needs a node token or ${MANAGE} on the platform`,
          {
            extensions: { permission: MANAGE, scope: PLATFORM_PATH },
          },
        );
      const type = c.req.header('content-type') ?? '';
      if (!/^application\/(x-ndjson|jsonl|json-seq)|^text\/plain/i.test(type))
        throw new ApiError(
          415,
          'unsupported_media_type',
          'send events as application/x-ndjson, one JSON object per line',
        );
      const declared = Number(c.req.header('content-length') ?? '0');
      if (declared > MAX_BATCH_BYTES)
        throw new ApiError(
          413,
          'batch_too_large',
          `a batch may have at most ${MAX_BATCH_BYTES} bytes; send smaller batches`,
        );
      const text = await c.req.text();
      if (text.length > MAX_BATCH_BYTES)
        throw new ApiError(
          413,
          'batch_too_large',
          `a batch may have at most ${MAX_BATCH_BYTES} bytes; send smaller batches`,
        );
      const batch = parseBatch(
        text,
        p.nodeScope ?? PLATFORM_PATH,
        p.kind === 'node' ? p.name : null,
      );
      if (batch.events.length > MAX_BATCH_EVENTS)
        throw new ApiError(
          413,
          'batch_too_large',
          `a batch may have at most ${MAX_BATCH_EVENTS} events`,
        );
      const result = batch.events.length
        ? await deps.store.appendEvents(batch.events, p.kind === 'node' ? { node: p.name } : {})
        : { received: 0, inserted: 0 };
      return c.json(
        {
          received: result.received + batch.rejected.length,
          inserted: result.inserted,
          duplicates: result.received - result.inserted,
          rejected: batch.rejected,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/events',
      tags: ['Audit'],
      summary:
        'Search the audit log: filters, text search, facets, cursor pages, CSV/NDJSON export',
      security: BEARER,
      request: { query: EventQuery },
      responses: {
        200: {
          description: 'Newest first',
          content: {
            'application/json': { schema: EventPage },
            'text/csv': { schema: z.string() },
            'application/x-ndjson': { schema: z.string() },
          },
        },
        ...problems(400),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const filter = filterOf(q, c.var.auth.accessRoots());
      if (q.format === 'csv' || q.format === 'ndjson') {
        const stamp = new Date(deps.clock.now()).toISOString().slice(0, 10);
        return new Response(exportStream(deps.store.exportEvents(filter), q.format), {
          status: 200,
          headers: {
            'content-type': q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
            'content-disposition': `attachment; filename="egress-audit-${stamp}.${q.format}"`,
          },
        }) as never;
      }
      const page = await deps.store.queryEvents({
        ...filter,
        ...(q.cursor ? { cursor: q.cursor } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      });
      const facets = q.facets === 'true' ? await deps.store.eventFacets(filter) : undefined;
      return c.json(
        { items: page.events, nextCursor: page.nextCursor, ...(facets ? { facets } : {}) },
        200,
      );
    },
  );
}
