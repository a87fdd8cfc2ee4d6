/**
 * Users, their tokens and data-plane nodes. Tokens are random, shown once in the answer that
 * creates them, and stored only as their sha-256. Managing users needs Security::Manage on the
 * platform; everyone manages their own tokens (`/me/tokens`). A node may only send events.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { actorOf } from '../audit/actor.js';
import { changeEvent } from '../audit/change-event.js';
import { hashToken, newToken } from '../auth/tokens.js';
import type { ApiEnv, ApiApp, ControlDeps } from '../context.js';
import { cursorSchema, limitSchema, pageOf } from '../http/pagination.js';
import { ApiError } from '../http/problem.js';
import { MANAGE } from '../rbac/roles.js';
import { describeScope, PLATFORM_PATH } from '../rbac/scope-path.js';
import type { TokenRecord, User as UserRecord } from '../store/store.js';
import { BEARER, json, jsonBody, problems } from '../api/responses.js';
import {
  CreateNode,
  CreateToken,
  CreateUser,
  Me,
  Node,
  Page,
  TokenInfo,
  User,
} from '../api/schemas.js';
import { bindingView } from './roles.js';
import { scopeFor } from './scope-access.js';

const UserParam = z.object({
  user: z
    .string()
    .min(1)
    .max(63)
    .openapi({ param: { name: 'user', in: 'path' } }),
});
const TokenParam = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const ListQuery = z.object({ limit: limitSchema, cursor: cursorSchema });

function requirePlatformManage(c: Context<ApiEnv>, what: string): void {
  if (c.var.auth.has(PLATFORM_PATH, MANAGE)) return;
  throw new ApiError(403, 'permission_denied', `you need ${MANAGE} on the platform to ${what}`, {
    extensions: { permission: MANAGE, scope: PLATFORM_PATH },
  });
}

function userView(u: UserRecord) {
  return {
    id: u.id,
    name: u.name,
    kind: u.kind,
    displayName: u.displayName,
    createdAt: u.createdAt,
  };
}

function tokenView(t: TokenRecord, secret?: string) {
  return {
    id: t.id,
    name: t.name,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
    ...(secret ? { token: secret } : {}),
  };
}

async function userNamed(deps: ControlDeps, name: string): Promise<UserRecord> {
  const user = await deps.store.getUserByName(name);
  if (!user) throw new ApiError(404, 'not_found', `user "${name}" does not exist`);
  return user;
}

export function registerUserRoutes(app: ApiApp, deps: ControlDeps): void {
  const issueToken = async (
    c: Context<ApiEnv>,
    user: UserRecord,
    body: { name: string; expiresInDays?: number | undefined },
  ) => {
    const secret = newToken();
    const now = deps.clock.now();
    const actor = actorOf(c);
    const token = await deps.store.transaction(async (tx) => {
      const t = await tx.createToken({
        userId: user.id,
        name: body.name,
        tokenSha256: hashToken(secret),
        expiresAt: body.expiresInDays
          ? new Date(now + body.expiresInDays * 86_400_000).toISOString()
          : null,
      });
      await tx.appendEvents([
        changeEvent(
          {
            type: 'token.created',
            user: actor.userName,
            address: actor.address,
            scope: PLATFORM_PATH,
            description: `User ${actor.userName} created token "${body.name}" for user ${user.name}.`,
            details: { subject: user.name, tokenId: t.id },
          },
          now,
        ),
      ]);
      return t;
    });
    return tokenView(token, secret);
  };

  const revoke = async (c: Context<ApiEnv>, user: UserRecord, id: string) => {
    const tokens = await deps.store.listTokens(user.id);
    if (!tokens.some((t) => t.id === id))
      throw new ApiError(404, 'not_found', `user ${user.name} has no token ${id}`);
    const actor = actorOf(c);
    await deps.store.transaction(async (tx) => {
      await tx.revokeToken(id, new Date(deps.clock.now()));
      await tx.appendEvents([
        changeEvent(
          {
            type: 'token.revoked',
            user: actor.userName,
            address: actor.address,
            scope: PLATFORM_PATH,
            description: `User ${actor.userName} revoked token ${id} of user ${user.name}.`,
            details: { subject: user.name, tokenId: id },
          },
          deps.clock.now(),
        ),
      ]);
    });
  };

  app.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      tags: ['Users'],
      summary: 'Who you are, your role bindings and what they grant',
      security: BEARER,
      responses: { 200: json(Me, 'You'), ...problems(403) },
    }),
    async (c) => {
      const p = c.var.auth.principal;
      if (p.kind === 'node')
        throw new ApiError(403, 'node_token', 'node tokens may only send events');
      const user = await deps.store.getUser(p.id);
      if (!user) throw new ApiError(404, 'not_found', 'your user no longer exists');
      const bindings = await deps.store.listRoleBindings({ userId: user.id });
      return c.json(
        {
          user: userView(user),
          bindings: bindings.map((b) => bindingView(b, user.name)),
          permissions: p.grants.map((g) => ({ scope: g.scope, permissions: [...g.permissions] })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/me/tokens',
      tags: ['Users'],
      summary: 'Your tokens (never their secrets)',
      security: BEARER,
      responses: { 200: json(z.array(TokenInfo), 'Tokens'), ...problems(403) },
    }),
    async (c) => {
      const user = await deps.store.getUser(c.var.auth.principal.id);
      if (!user) throw new ApiError(403, 'node_token', 'node tokens have no user');
      return c.json(
        (await deps.store.listTokens(user.id)).map((t) => tokenView(t)),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/me/tokens',
      tags: ['Users'],
      summary: 'Create a token for yourself (the secret is in this answer only)',
      security: BEARER,
      request: { body: jsonBody(CreateToken) },
      responses: { 201: json(TokenInfo, 'Created'), ...problems(400, 403) },
    }),
    async (c) => {
      const user = await deps.store.getUser(c.var.auth.principal.id);
      if (!user) throw new ApiError(403, 'node_token', 'node tokens have no user');
      return c.json(await issueToken(c, user, c.req.valid('json')), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/me/tokens/{id}',
      tags: ['Users'],
      summary: 'Revoke one of your tokens',
      security: BEARER,
      request: { params: TokenParam },
      responses: { 204: { description: 'Revoked' }, ...problems(403, 404) },
    }),
    async (c) => {
      const user = await deps.store.getUser(c.var.auth.principal.id);
      if (!user) throw new ApiError(403, 'node_token', 'node tokens have no user');
      await revoke(c, user, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/users',
      tags: ['Users'],
      summary: 'Create a user (then give them a token and a role binding)',
      security: BEARER,
      request: { body: jsonBody(CreateUser) },
      responses: { 201: json(User, 'Created'), ...problems(400, 403, 409) },
    }),
    async (c) => {
      requirePlatformManage(c, 'create users');
      const body = c.req.valid('json');
      const actor = actorOf(c);
      const user = await deps.store.transaction(async (tx) => {
        const u = await tx.createUser({
          name: body.name,
          kind: body.kind,
          displayName: body.displayName ?? null,
        });
        await tx.appendEvents([
          changeEvent(
            {
              type: 'user.created',
              user: actor.userName,
              address: actor.address,
              scope: PLATFORM_PATH,
              description: `User ${actor.userName} created user ${u.name}.`,
              details: { subject: u.name },
            },
            deps.clock.now(),
          ),
        ]);
        return u;
      });
      return c.json(userView(user), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/users',
      tags: ['Users'],
      summary: 'List users',
      security: BEARER,
      request: { query: ListQuery },
      responses: { 200: json(Page(User, 'UserPage'), 'One page, by name'), ...problems(400, 403) },
    }),
    async (c) => {
      requirePlatformManage(c, 'list users');
      const q = c.req.valid('query');
      const page = pageOf(await deps.store.listUsers(), (u) => u.name, q.limit, q.cursor);
      return c.json({ items: page.items.map(userView), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/users/{user}/tokens',
      tags: ['Users'],
      summary: 'Create a token for a user (the secret is in this answer only)',
      security: BEARER,
      request: { params: UserParam, body: jsonBody(CreateToken) },
      responses: { 201: json(TokenInfo, 'Created'), ...problems(400, 403, 404) },
    }),
    async (c) => {
      requirePlatformManage(c, "create other users' tokens");
      const user = await userNamed(deps, c.req.valid('param').user);
      return c.json(await issueToken(c, user, c.req.valid('json')), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/users/{user}/tokens',
      tags: ['Users'],
      summary: "A user's tokens (never their secrets)",
      security: BEARER,
      request: { params: UserParam },
      responses: { 200: json(z.array(TokenInfo), 'Tokens'), ...problems(403, 404) },
    }),
    async (c) => {
      requirePlatformManage(c, "list other users' tokens");
      const user = await userNamed(deps, c.req.valid('param').user);
      return c.json(
        (await deps.store.listTokens(user.id)).map((t) => tokenView(t)),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/users/{user}/tokens/{id}',
      tags: ['Users'],
      summary: "Revoke a user's token",
      security: BEARER,
      request: { params: UserParam.merge(TokenParam) },
      responses: { 204: { description: 'Revoked' }, ...problems(403, 404) },
    }),
    async (c) => {
      requirePlatformManage(c, "revoke other users' tokens");
      const { user: name, id } = c.req.valid('param');
      await revoke(c, await userNamed(deps, name), id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/nodes',
      tags: ['Nodes'],
      summary: 'Register a data-plane node; its token (in this answer only) may send events',
      security: BEARER,
      request: { body: jsonBody(CreateNode) },
      responses: { 201: json(Node, 'Created'), ...problems(400, 403, 404, 409) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const scope = await scopeFor(deps, c, body.scope, 'manage', `scope ${body.scope}`);
      const secret = newToken();
      const actor = actorOf(c);
      const node = await deps.store.transaction(async (tx) => {
        const n = await tx.createNode({
          name: body.name,
          tokenSha256: hashToken(secret),
          scopeId: scope.id,
        });
        await tx.appendEvents([
          changeEvent(
            {
              type: 'token.created',
              user: actor.userName,
              address: actor.address,
              scope: scope.path,
              description: `User ${actor.userName} registered data-plane node ${n.name} for ${describeScope(scope.path)}.`,
              details: { node: n.name },
            },
            deps.clock.now(),
          ),
        ]);
        return n;
      });
      return c.json(
        {
          id: node.id,
          name: node.name,
          scope: scope.path,
          createdAt: node.createdAt,
          lastContactAt: node.lastContactAt,
          token: secret,
        },
        201,
      );
    },
  );
}
