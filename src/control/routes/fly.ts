/**
 * Fly.io-compatible network policy endpoints (DESIGN.md 9.3): the paths and JSON of Fly's
 * Machines API, so Fly tooling works unchanged. An app is a project (by its platform-unique app
 * name), machines are its workspaces (machine id = workspace name). A Fly policy is stored at
 * the project as written (format `fly`) and reaches the workspaces its selector matches through
 * step 3 of the effective policy. Lists are bare arrays, errors `{"error": "…"}`.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { flyPolicySchema } from '../../policy/formats/fly/schema.js';
import { actorOf } from '../audit/actor.js';
import type { ApiEnv, ApiApp, ControlDeps } from '../context.js';
import { ApiError } from '../http/problem.js';
import { PolicyService } from '../policies/service.js';
import type { PolicyRecord, Scope, Store } from '../store/store.js';
import { BEARER } from '../api/responses.js';

export const FLY_PREFIX = '/v1/apps';

const FlyError = z.object({ error: z.string() }).openapi('FlyError');
const FlyPolicy = flyPolicySchema.extend({ id: z.string() }).openapi('FlyNetworkPolicy');
const AppParam = z.object({
  app: z
    .string()
    .min(1)
    .max(63)
    .openapi({ param: { name: 'app', in: 'path' } }),
});

const errors = Object.fromEntries(
  [400, 401, 403, 404, 409, 422].map((s) => [
    s,
    { description: 'Error', content: { 'application/json': { schema: FlyError } } },
  ]),
);

/** Fly's error body: `{"error": "message"}` with the HTTP status. */
export function flyErrorResponse(err: ApiError): Response {
  const message =
    err.code === 'validation_failed' && err.errors?.length
      ? err.errors.map((e) => `${e.field}: ${e.message}`).join('; ')
      : err.message;
  return new Response(JSON.stringify({ error: message }), {
    status: err.status,
    headers: { 'content-type': 'application/json', ...err.headers },
  });
}

async function appProject(
  deps: ControlDeps,
  c: Context<ApiEnv>,
  app: string,
  need: 'read' | 'manage',
): Promise<Scope> {
  const project = await deps.store.getProjectByApp(app);
  if (!project || !c.var.auth.canRead(project.path))
    throw new ApiError(404, 'not_found', `app "${app}" not found`);
  if (need === 'manage')
    c.var.auth.requireManage(project.path, `the network policies of app ${app}`);
  return project;
}

async function flyView(store: Store, record: PolicyRecord) {
  const v = await store.getPolicyVersion(record.id, record.currentVersion);
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(v?.source ?? '{}') as Record<string, unknown>;
  } catch {
    body = {};
  }
  return { ...body, id: record.id, name: record.name };
}

async function flyPolicies(store: Store, project: Scope): Promise<PolicyRecord[]> {
  const records = await store.listPolicies([project.id]);
  const out: PolicyRecord[] = [];
  for (const r of records) {
    const v = await store.getPolicyVersion(r.id, r.currentVersion);
    if (v?.format === 'fly') out.push(r);
  }
  return out;
}

export function registerFlyRoutes(app: ApiApp, deps: ControlDeps): void {
  const service = new PolicyService(deps);

  const list = async (c: Context<ApiEnv>) => {
    const project = await appProject(deps, c, c.req.param('app') ?? '', 'read');
    const items = [];
    for (const r of await flyPolicies(deps.store, project))
      items.push(await flyView(deps.store, r));
    return c.json(items, 200);
  };

  for (const path of ['/{app}/network_policies', '/{app}/network_policies/']) {
    app.openapi(
      createRoute({
        method: 'get',
        path,
        tags: ['Fly.io'],
        summary: "List an app's network policies (Fly Machines API)",
        security: BEARER,
        request: { params: AppParam },
        responses: {
          200: {
            description: 'A bare array',
            content: { 'application/json': { schema: z.array(FlyPolicy) } },
          },
          ...errors,
        },
      }),
      list as never,
    );
    app.openapi(
      createRoute({
        method: 'post',
        path,
        tags: ['Fly.io'],
        summary:
          'Create a network policy, or update it when the body has its id (Fly Machines API)',
        security: BEARER,
        request: {
          params: AppParam,
          body: { required: true, content: { 'application/json': { schema: flyPolicySchema } } },
        },
        responses: {
          200: {
            description: 'The policy',
            content: { 'application/json': { schema: FlyPolicy } },
          },
          ...errors,
        },
      }),
      async (c) => {
        const project = await appProject(deps, c, c.req.valid('param').app, 'manage');
        const body = c.req.valid('json');
        const source = await c.req.text();
        const actor = actorOf(c);
        const text = {
          name: body.name,
          description: `Fly.io network policy ${body.name}`,
          format: 'fly',
          source,
        };
        let saved;
        if (body.id) {
          const record = await deps.store.getPolicy(body.id);
          if (!record || record.scopeId !== project.id)
            throw new ApiError(
              404,
              'not_found',
              `network policy "${body.id}" not found in app ${c.req.valid('param').app}`,
            );
          saved = await service.update(record, record.currentVersion, text, actor);
        } else {
          const existing = await deps.store.getPolicyByName(project.id, body.name);
          saved = existing
            ? await service.update(existing, existing.currentVersion, text, actor)
            : await service.create(project, text, actor);
        }
        return c.json((await flyView(deps.store, saved.policy)) as never, 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/{app}/network_policies/{id}',
      tags: ['Fly.io'],
      summary: 'Delete a network policy (Fly Machines API)',
      security: BEARER,
      request: {
        params: AppParam.extend({
          id: z
            .string()
            .min(1)
            .max(100)
            .openapi({ param: { name: 'id', in: 'path' } }),
        }),
      },
      responses: {
        200: { description: 'Deleted', content: { 'application/json': { schema: z.object({}) } } },
        ...errors,
      },
    }),
    async (c) => {
      const { app: appName, id } = c.req.valid('param');
      const project = await appProject(deps, c, appName, 'manage');
      const record = await deps.store.getPolicy(id);
      if (!record || record.scopeId !== project.id)
        throw new ApiError(404, 'not_found', `network policy "${id}" not found in app ${appName}`);
      await service.remove(record, undefined, actorOf(c));
      return c.json({}, 200);
    },
  );
}
