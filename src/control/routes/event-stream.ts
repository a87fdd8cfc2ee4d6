/**
 * GET /api/v1/events/stream: the audit log live, as Server-Sent Events, with the filters of
 * GET /api/v1/events and the same cut to the scopes where the caller holds Security::Access.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, ControlDeps } from '../context.js';
import { CATCH_UP_LIMIT, liveStream } from '../events/live-stream.js';
import { BEARER, problems } from '../api/responses.js';
import { EventFilterQuery, filterOf } from './event-query.js';

export function registerEventStreamRoute(app: ApiApp, deps: ControlDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/events/stream',
      tags: ['Audit'],
      summary: 'Follow the audit log live (Server-Sent Events)',
      description: `Each newly stored event matching the filters is sent as an SSE event named \`audit\` whose data is the event (JSON) and whose id is the event id. Send \`Last-Event-ID\` when reconnecting to receive the stored events after it first (at most ${CATCH_UP_LIMIT}). A comment line every 15 s keeps the connection open. Events stored by another egress serve process on the same database reach this stream only through Last-Event-ID catch-up.`,
      security: BEARER,
      request: {
        query: EventFilterQuery,
        headers: z.object({
          'last-event-id': z.string().max(100).optional().describe('resume after this event'),
        }),
      },
      responses: {
        200: {
          description: 'An endless text/event-stream',
          content: { 'text/event-stream': { schema: z.string() } },
        },
        ...problems(400),
      },
    }),
    (c) => {
      const filter = filterOf(c.req.valid('query'), c.var.auth.accessRoots());
      const lastEventId = c.req.valid('header')['last-event-id'];
      const body = liveStream({ store: deps.store, hub: deps.events, filter, lastEventId });
      return new Response(body, {
        status: 200,
        headers: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          'x-accel-buffering': 'no',
        },
      }) as never;
    },
  );
}
