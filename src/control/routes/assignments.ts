/**
 * Assignments and the effective policy (DESIGN.md 9.1, 9.3): `GET|PUT {S}/assignment` at every
 * kind of scope, `GET {workspace}/effective-policy`.
 */
import { createRoute } from '@hono/zod-openapi';
import { actorOf } from '../audit/actor.js';
import type { ApiApp, ControlDeps } from '../context.js';
import { AssignmentService, assignmentView } from '../hierarchy/assignments.js';
import { checkReport } from '../../policy/check-report.js';
import { compileModel, effectiveModel, effectiveOf } from '../hierarchy/effective.js';
import { effectiveView } from '../hierarchy/effective-view.js';
import { parseDestinations } from './destinations.js';
import { loadHierarchy } from '../hierarchy/snapshot.js';
import { BEARER, json, jsonBody, problems } from '../api/responses.js';
import { ALL_SCOPES, SCOPE_PREFIXES } from '../api/scope-routes.js';
import {
  Assignment,
  CheckResult,
  EffectivePolicy,
  PutAssignment,
  TestPolicy,
} from '../api/schemas.js';
import { z } from '@hono/zod-openapi';
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
        responses: {
          200: json(Assignment, 'The assignment (policy null: none)'),
          ...problems(400, 404),
        },
      }),
      async (c) => {
        const scope = await scopeFor(
          deps,
          c,
          prefix.scopePath(c.req.valid('param') as Record<string, string>),
          'read',
        );
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
        responses: {
          200: json(Assignment, 'The new assignment'),
          ...problems(400, 403, 404, 409, 422),
        },
      }),
      async (c) => {
        const scope = await scopeFor(
          deps,
          c,
          prefix.scopePath(c.req.valid('param') as Record<string, string>),
          'manage',
        );
        const body = c.req.valid('json');
        const view = await service.set(
          scope,
          { policy: body.policy, enforced: body.enforced },
          actorOf(c),
          (p) => c.var.auth.canRead(p),
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
      const scope = await scopeFor(
        deps,
        c,
        ws.scopePath(c.req.valid('param') as Record<string, string>),
        'read',
      );
      return c.json(effectiveView(await loadHierarchy(deps.store), scope), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: `${ws.path}/effective-policy/test`,
      tags: ['Assignments'],
      summary:
        "Decide destinations against a workspace's effective policy (what its data plane enforces)",
      description:
        'With no effective policy (step "none") every destination is denied with reason no_policy, as the data plane does.',
      security: BEARER,
      request: { params: ws.params, body: jsonBody(TestPolicy) },
      responses: {
        200: json(z.array(CheckResult), 'One result per destination, in order'),
        ...problems(400, 404),
      },
    }),
    async (c) => {
      const scope = await scopeFor(
        deps,
        c,
        ws.scopePath(c.req.valid('param') as Record<string, string>),
        'read',
      );
      const dests = parseDestinations(c.req.valid('json').destinations);
      const h = await loadHierarchy(deps.store);
      const compiled = compileModel(effectiveModel(h, effectiveOf(h, scope)), deps.ecosystemExtras);
      if (!compiled) return c.json(dests.map(noPolicyResult) as never, 200);
      return c.json(checkReport(compiled, dests) as never, 200);
    },
  );
}

/** What the data plane answers without a policy: deny, `no_policy` (fail closed). */
function noPolicyResult(dest: { input: string; host: string; port: number; transport: string }) {
  return {
    destination: dest.input,
    target: { host: dest.host, port: dest.port, transport: dest.transport },
    verdict: 'deny',
    allowed: false,
    mode: 'restrict',
    reason: 'no_policy',
    rule: null,
    explanation: `${dest.input} is denied: the workspace has no effective policy (fail closed).`,
  };
}
