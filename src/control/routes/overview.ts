/** `GET /api/v1/overview`: JSON for the console, `?format=csv|json` downloads the report. */
import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, ControlDeps } from '../context.js';
import { loadHierarchy } from '../hierarchy/snapshot.js';
import { overviewCsv, overviewRows } from '../reports/overview.js';
import { BEARER, problems } from '../api/responses.js';
import { OverviewRow } from '../api/schemas.js';

const Overview = z
  .object({ generatedAt: z.string(), items: z.array(OverviewRow) })
  .openapi('Overview');

export function registerOverviewRoutes(app: ApiApp, deps: ControlDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/overview',
      tags: ['Overview'],
      summary:
        'Every scope you may see: applied policy, Enforced / Not enforced, where workspaces get theirs',
      security: BEARER,
      request: {
        query: z.object({
          format: z.enum(['csv', 'json']).optional().describe('download the report as CSV or JSON'),
          under: z.string().max(400).optional().describe('only this scope path and beneath'),
        }),
      },
      responses: {
        200: {
          description: 'The overview',
          content: {
            'application/json': { schema: Overview },
            'text/csv': { schema: z.string() },
          },
        },
        ...problems(400),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const h = await loadHierarchy(deps.store);
      const rows = overviewRows(h, c.var.auth, q.under);
      const generatedAt = new Date(deps.clock.now()).toISOString();
      const stamp = generatedAt.slice(0, 10);
      if (q.format === 'csv')
        return c.body(overviewCsv(rows), 200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="egress-overview-${stamp}.csv"`,
        }) as never;
      if (q.format === 'json')
        c.header('content-disposition', `attachment; filename="egress-overview-${stamp}.json"`);
      return c.json({ generatedAt, items: rows }, 200);
    },
  );
}
