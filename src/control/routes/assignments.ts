/**
 * Assignments and the effective policy (DESIGN.md 9.1, 9.3): `GET|PUT {S}/assignment` at every
 * kind of scope, `GET {workspace}/effective-policy`.
 */
import { createRoute } from '@hono/zod-openapi';
import { actorOf } from '../audit/actor.js';
import type { ApiApp, ControlDeps } from '../context.js';
import { AssignmentService, assignmentView } from '../hierarchy/assignments.js';
import { effectiveView } from '../hierarchy/effective-view.js';
import { loadHierarchy } from '../hierarchy/snapshot.js';
import { BEARER, json, jsonBody, problems } from '../api/responses.js';
import { ALL_SCOPES, SCOPE_PREFIXES } from '../api/scope-routes.js';
import { Assignment, EffectivePolicy, PutAssignment } from '../api/schemas.js';
import { scopeFor } from './scope-access.js';

export function registerAssignmentRoutes(app: ApiApp, deps: ControlDeps): void {
  const service = new AssignmentService(deps);
  for (const prefix of ALL_SCOPES) {
    app.openapi(
      createRoute({
        method: 'get',
        path: `${prefix.path}/assignment`,
        tags: ['Assignments'],
        summary: "The scope's assignment, and the enforced one above that shadows it",
        security: BEARER,
        request: { params: prefix.params },
        responses: { 200: json(Assignment, 'The assignment (policy null: none)'), ...problems(400, 404) },
      }),
      async (c) => {
        const scope = await scopeFor(deps, c, prefix.scopePath(c.req.valid('param') as Record<string, string>), 'read');
        return c.json(assignmentView(await loadHierarchy(deps.store), scope), 200);
      },
    );
    app.openapi(
      createRoute({
        method: 'put',
        path: `${prefix.path}/assignment`,
        tags: ['Assignments'],
        summary: 'Apply or enforce a policy here ({"policy": null} removes the assignment)',
        description:
          'The policy must be defined at this scope or above. 409 `policy_locked` when an enforced assignment above locks this scope (its scope and policy are named in `enforcedBy`); 422 `policy_tests_failed` when a policy test beneath would fail.',
        security: BEARER,
        request: { params: prefix.params, body: jsonBody(PutAssignment) },
        responses: { 200: json(Assignment, 'The new assignment'), ...problems(400, 403, 404, 409, 422) },
      }),
      async (c) => {
        const scope = await scopeFor(deps, c, prefix.scopePath(c.req.valid('param') as Record<string, string>), 'manage');
        const body = c.req.valid('json');
        const view = await service.set(scope, { policy: body.policy, enforced: body.enforced }, actorOf(c), (p) =>
          c.var.auth.canRead(p),
        );
        return c.json(view, 200);
      },
    );
  }

  const ws = SCOPE_PREFIXES.workspace;
  app.openapi(
    createRoute({
      method: 'get',
      path: `${ws.path}/effective-policy`,
      tags: ['Assignments'],
      summary: 'The policy that applies to a workspace, the step and the scope it comes from',
      security: BEARER,
      request: { params: ws.params },
      responses: { 200: json(EffectivePolicy, 'The effective policy'), ...problems(400, 404) },
    }),
    async (c) => {
      const scope = await scopeFor(deps, c, ws.scopePath(c.req.valid('param') as Record<string, string>), 'read');
      return c.json(effectiveView(await loadHierarchy(deps.store), scope), 200);
    },
  );
}
