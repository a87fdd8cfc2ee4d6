/**
 * Every API call is authenticated (DESIGN.md 9.2): a bearer token, either a user's or a
 * data-plane node's. Failures are answered 401 and recorded as `auth.failed` events; an address
 * that fails too often is refused with 429 until its window ends, correct token or not, and
 * while it is refused nothing more is recorded for it (the log cannot be flooded).
 */
import type { MiddlewareHandler } from 'hono';
import { changeEvent } from '../audit/change-event.js';
import type { ApiEnv, ControlDeps } from '../context.js';
import { ApiError } from '../http/problem.js';
import { Authorizer, grantOf, type Grant, type Principal } from '../rbac/authorizer.js';
import { builtInRole } from '../rbac/roles.js';
import { PLATFORM_PATH } from '../rbac/scope-path.js';
import type { Store } from '../store/store.js';
import { bearerToken, digestsEqual, hashToken } from './tokens.js';

/** The permissions of a role: built-in, custom, or none (an unknown role grants nothing). */
async function rolePermissions(store: Store, role: string): Promise<string[]> {
  const builtIn = builtInRole(role);
  if (builtIn) return builtIn.permissions;
  return (await store.getCustomRole(role))?.permissions ?? [];
}

export async function principalOfUser(
  store: Store,
  userId: string,
  name: string,
): Promise<Principal> {
  const bindings = await store.listRoleBindings({ userId });
  const grants: Grant[] = [];
  for (const b of bindings) grants.push(grantOf(b.scopePath, await rolePermissions(store, b.role)));
  return { id: userId, name, kind: 'user', grants };
}

async function principalOf(store: Store, digest: string, now: number): Promise<Principal | null> {
  const found = await store.authenticateToken(digest, new Date(now));
  if (found && digestsEqual(found.token.tokenSha256, digest))
    return principalOfUser(store, found.user.id, found.user.name);
  const node = await store.findNodeByTokenHash(digest);
  if (node && digestsEqual(node.tokenSha256, digest)) {
    const scope = await store.getScope(node.scopeId);
    return {
      id: node.id,
      name: node.name,
      kind: 'node',
      grants: [],
      nodeScope: scope?.path ?? PLATFORM_PATH,
    };
  }
  return null;
}

function clientAddressOf(env: ApiEnv['Bindings'] | undefined): string {
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

function unauthenticated(message: string): ApiError {
  return new ApiError(401, 'unauthenticated', message, {
    headers: { 'www-authenticate': 'Bearer realm="egress"' },
  });
}

export function authenticate(deps: ControlDeps): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const address = clientAddressOf(c.env);
    c.set('clientAddress', address);
    const retryMs = deps.limiter.retryAfterMs(address);
    if (retryMs > 0)
      throw new ApiError(
        429,
        'too_many_failed_logins',
        'too many failed logins from this address; wait and retry',
        {
          headers: { 'retry-after': String(Math.ceil(retryMs / 1000)) },
        },
      );
    const token = bearerToken(c.req.header('authorization'));
    const principal = token
      ? await principalOf(deps.store, hashToken(token), deps.clock.now())
      : null;
    if (!principal) {
      deps.limiter.recordFailure(address);
      const why = token ? 'the token is unknown, revoked or expired' : 'no bearer token was sent';
      await deps.store.appendEvents([
        changeEvent(
          {
            type: 'auth.failed',
            user: null,
            address,
            scope: PLATFORM_PATH,
            severity: 'warning',
            description: `Failed login from ${address}: ${why} (${c.req.method} ${c.req.path}).`,
            details: { method: c.req.method, path: c.req.path },
          },
          deps.clock.now(),
        ),
      ]);
      throw unauthenticated(`${why}; send "Authorization: Bearer <token>"`);
    }
    c.set('auth', new Authorizer(principal));
    await next();
  };
}
