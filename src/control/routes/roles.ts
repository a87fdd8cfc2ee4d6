/**
 * Roles and role bindings (DESIGN.md 9.2). Built-in roles are fixed and bound only where they
 * make sense (security-officer at the platform, org-owner at an organisation, ...); custom roles
 * name a set of permissions and may be bound anywhere. Granting at a scope needs
 * Security::Manage there, so nobody can grant more than they hold.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { actorOf } from '../audit/actor.js';
import { changeEvent } from '../audit/change-event.js';
import type { ApiApp, ControlDeps } from '../context.js';
import { ApiError } from '../http/problem.js';
import { BUILT_IN_ROLES, builtInRole, MANAGE, type RoleDefinition } from '../rbac/roles.js';
import { describeScope, PLATFORM_PATH } from '../rbac/scope-path.js';
import type { CustomRole, RoleBinding as BindingRecord, Store } from '../store/store.js';
import { BEARER, json, jsonBody, problems } from '../api/responses.js';
import { ALL_SCOPES } from '../api/scope-routes.js';
import { CreateRole, CreateRoleBinding, Role, RoleBinding } from '../api/schemas.js';
import { scopeFor } from './scope-access.js';

export function bindingView(b: BindingRecord, userName: string) {
  return {
    id: b.id,
    user: userName,
    userId: b.userId,
    role: b.role,
    scope: b.scopePath,
    createdAt: b.createdAt,
  };
}

function customView(r: CustomRole): RoleDefinition {
  return {
    name: r.name,
    description: r.description,
    permissions: r.permissions as RoleDefinition['permissions'],
    builtIn: false,
  };
}

async function roleNamed(store: Store, name: string): Promise<RoleDefinition | undefined> {
  const custom = builtInRole(name) ? null : await store.getCustomRole(name);
  return builtInRole(name) ?? (custom ? customView(custom) : undefined);
}

export function registerRoleRoutes(app: ApiApp, deps: ControlDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/roles',
      tags: ['Roles'],
      summary: 'Built-in and custom roles with their permissions',
      security: BEARER,
      responses: { 200: json(z.array(Role), 'Roles'), ...problems() },
    }),
    async (c) => {
      const custom = (await deps.store.listCustomRoles()).map(customView);
      return c.json([...BUILT_IN_ROLES, ...custom], 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/roles',
      tags: ['Roles'],
      summary: 'Create or replace a custom role',
      security: BEARER,
      request: { body: jsonBody(CreateRole) },
      responses: { 201: json(Role, 'Saved'), ...problems(400, 403, 409) },
    }),
    async (c) => {
      if (!c.var.auth.has(PLATFORM_PATH, MANAGE))
        throw new ApiError(
          403,
          'permission_denied',
          `you need ${MANAGE} on the platform to define roles`,
          {
            extensions: { permission: MANAGE, scope: PLATFORM_PATH },
          },
        );
      const body = c.req.valid('json');
      if (builtInRole(body.name))
        throw new ApiError(
          409,
          'built_in_role',
          `"${body.name}" is a built-in role; choose another name`,
          {
            errors: [
              {
                field: 'name',
                code: 'built_in_role',
                message: 'built-in roles cannot be replaced',
              },
            ],
          },
        );
      const actor = actorOf(c);
      const saved = await deps.store.transaction(async (tx) => {
        const r = await tx.putCustomRole({
          name: body.name,
          description: body.description,
          permissions: [...new Set(body.permissions)],
        });
        await tx.appendEvents([
          changeEvent(
            {
              type: 'role.created',
              user: actor.userName,
              address: actor.address,
              scope: PLATFORM_PATH,
              description: `User ${actor.userName} defined role ${r.name} (${r.permissions.join(', ')}).`,
              details: { role: r.name, permissions: r.permissions },
            },
            deps.clock.now(),
          ),
        ]);
        return r;
      });
      return c.json(customView(saved), 201);
    },
  );

  for (const prefix of ALL_SCOPES) {
    app.openapi(
      createRoute({
        method: 'get',
        path: `${prefix.path}/role-bindings`,
        tags: ['Roles'],
        summary: 'Role bindings at this scope',
        security: BEARER,
        request: { params: prefix.params },
        responses: { 200: json(z.array(RoleBinding), 'Bindings'), ...problems(400, 404) },
      }),
      async (c) => {
        const scope = await scopeFor(
          deps,
          c,
          prefix.scopePath(c.req.valid('param') as Record<string, string>),
          'read',
        );
        const users = new Map((await deps.store.listUsers()).map((u) => [u.id, u.name]));
        const bindings = await deps.store.listRoleBindings({ scopeId: scope.id });
        return c.json(
          bindings.map((b) => bindingView(b, users.get(b.userId) ?? b.userId)),
          200,
        );
      },
    );

    app.openapi(
      createRoute({
        method: 'post',
        path: `${prefix.path}/role-bindings`,
        tags: ['Roles'],
        summary: 'Grant a role to a user here (and beneath)',
        security: BEARER,
        request: { params: prefix.params, body: jsonBody(CreateRoleBinding) },
        responses: { 201: json(RoleBinding, 'Granted'), ...problems(400, 403, 404) },
      }),
      async (c) => {
        const scope = await scopeFor(
          deps,
          c,
          prefix.scopePath(c.req.valid('param') as Record<string, string>),
          'manage',
        );
        const body = c.req.valid('json');
        const role = await roleNamed(deps.store, body.role);
        if (!role)
          throw new ApiError(400, 'validation_failed', `role: no role "${body.role}"`, {
            errors: [
              {
                field: 'role',
                code: 'unknown_role',
                message: `no role "${body.role}"; GET /api/v1/roles lists them`,
              },
            ],
          });
        if (role.bindableAt && !role.bindableAt.includes(scope.kind))
          throw new ApiError(
            400,
            'validation_failed',
            `role: ${role.name} is bound at ${role.bindableAt.join(' or ')} scope, not at ${describeScope(scope.path)}`,
            {
              errors: [
                {
                  field: 'role',
                  code: 'wrong_scope_kind',
                  message: `bind ${role.name} at a ${role.bindableAt.join(' or ')}`,
                },
              ],
            },
          );
        const user = await deps.store.getUserByName(body.user);
        if (!user)
          throw new ApiError(400, 'validation_failed', `user: no user "${body.user}"`, {
            errors: [
              {
                field: 'user',
                code: 'unknown_user',
                message: `no user "${body.user}"; create it with POST /api/v1/users`,
              },
            ],
          });
        const actor = actorOf(c);
        const binding = await deps.store.transaction(async (tx) => {
          const b = await tx.grantRole({
            userId: user.id,
            role: role.name,
            scopeId: scope.id,
            by: actor.userId,
          });
          await tx.appendEvents([
            changeEvent(
              {
                type: 'role.granted',
                user: actor.userName,
                address: actor.address,
                scope: scope.path,
                description: `User ${actor.userName} granted ${role.name} to ${user.name} on ${describeScope(scope.path)}.`,
                details: { subject: user.name, role: role.name },
              },
              deps.clock.now(),
            ),
          ]);
          return b;
        });
        return c.json(bindingView(binding, user.name), 201);
      },
    );

    app.openapi(
      createRoute({
        method: 'delete',
        path: `${prefix.path}/role-bindings/{user}/{role}`,
        tags: ['Roles'],
        summary: 'Revoke a role binding',
        security: BEARER,
        request: {
          params: prefix.params.extend({
            user: z
              .string()
              .min(1)
              .max(63)
              .openapi({ param: { name: 'user', in: 'path' } }),
            role: z
              .string()
              .min(1)
              .max(63)
              .openapi({ param: { name: 'role', in: 'path' } }),
          }),
        },
        responses: { 204: { description: 'Revoked' }, ...problems(400, 403, 404) },
      }),
      async (c) => {
        const params = c.req.valid('param') as Record<string, string>;
        const scope = await scopeFor(deps, c, prefix.scopePath(params), 'manage');
        const user = await deps.store.getUserByName(params.user!);
        const actor = actorOf(c);
        const removed =
          user !== null &&
          (await deps.store.transaction(async (tx) => {
            const done = await tx.revokeRole({
              userId: user.id,
              role: params.role!,
              scopeId: scope.id,
            });
            if (done)
              await tx.appendEvents([
                changeEvent(
                  {
                    type: 'role.revoked',
                    user: actor.userName,
                    address: actor.address,
                    scope: scope.path,
                    description: `User ${actor.userName} revoked ${params.role} from ${user.name} on ${describeScope(scope.path)}.`,
                    details: { subject: user.name, role: params.role },
                  },
                  deps.clock.now(),
                ),
              ]);
            return done;
          }));
        if (!removed)
          throw new ApiError(
            404,
            'not_found',
            `${params.user} has no ${params.role} binding on ${describeScope(scope.path)}`,
          );
        return c.body(null, 204);
      },
    );
  }
}
