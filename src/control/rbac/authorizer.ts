/**
 * What one authenticated user may do where. A role binding (user, role, scope) grants the
 * role's permissions at that scope and at every scope beneath it (DESIGN.md 9.2).
 *
 * Reading: a user may read a scope where they hold Security::Access, and also the scopes above
 * a scope where they hold it (the policies defined above a project reach that project, and its
 * owner must see them to select one); never a sibling. Changing needs Security::Manage at the
 * scope or above. Refusals never leak: what you may not read is 404, what you may read but not
 * change is 403 naming the missing permission.
 */
import { ApiError } from '../http/problem.js';
import { ACCESS, expandPermissions, MANAGE, type Permission } from './roles.js';
import { describeScope, isAtOrAbove, PLATFORM_PATH } from './scope-path.js';

export interface Grant {
  /** The scope path of the binding. */
  scope: string;
  permissions: Set<Permission>;
}

export interface Principal {
  /** The user's id, or the node's. */
  id: string;
  /** The user's name (what events record as `user`), or the node's. */
  name: string;
  grants: Grant[];
  /** Node tokens may only send events (for the workspaces beneath `nodeScope`). */
  kind: 'user' | 'node';
  nodeScope?: string;
}

export class Authorizer {
  constructor(readonly principal: Principal) {}

  has(path: string, permission: Permission): boolean {
    return this.principal.grants.some(
      (g) => g.permissions.has(permission) && isAtOrAbove(g.scope, path),
    );
  }

  /** Access at the scope or above, or at a scope beneath it. */
  canRead(path: string): boolean {
    return this.principal.grants.some(
      (g) =>
        g.permissions.has(ACCESS) && (isAtOrAbove(g.scope, path) || isAtOrAbove(path, g.scope)),
    );
  }

  /** Reads that need Access exactly there or above (events, a workspace's details). */
  canReadStrictly(path: string): boolean {
    return this.has(path, ACCESS);
  }

  /** Throws 404 unless the user may read the scope. */
  requireRead(path: string, what = describeScope(path)): void {
    if (!this.canRead(path)) throw notVisible(what);
  }

  /** Throws 404 if the user may not read the scope, 403 if they may read but not change it. */
  requireManage(path: string, what = describeScope(path)): void {
    if (this.has(path, MANAGE)) return;
    if (!this.canRead(path)) throw notVisible(what);
    throw new ApiError(
      403,
      'permission_denied',
      `you need ${MANAGE} on ${describeScope(path)} to change ${what}`,
      { extensions: { permission: MANAGE, scope: path } },
    );
  }

  /** The scopes where the user holds Access (their subtrees are what they may search). */
  accessRoots(): string[] {
    const roots = this.principal.grants
      .filter((g) => g.permissions.has(ACCESS))
      .map((g) => g.scope);
    if (roots.includes(PLATFORM_PATH)) return [PLATFORM_PATH];
    // Drop roots inside other roots.
    return [...new Set(roots)].filter((r) => !roots.some((o) => o !== r && isAtOrAbove(o, r)));
  }
}

function notVisible(what: string): ApiError {
  return new ApiError(404, 'not_found', `${what} does not exist or you may not see it`);
}

export function grantOf(scope: string, permissions: Iterable<string>): Grant {
  return { scope, permissions: expandPermissions(permissions) };
}
