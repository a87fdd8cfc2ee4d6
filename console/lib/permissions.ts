/**
 * What the signed-in user may do, from GET /api/v1/me: Security::Manage at a scope or above
 * means manage (Manage implies Access). The console hides nothing it may show, and shows as
 * read-only what it may not change, so no button ever fails for lack of a permission.
 */
import type { Me } from '../api/types.js';
import { isAtOrAbove } from './scopes.js';

export const MANAGE = 'Security::Manage';

export class Permissions {
  constructor(private readonly me: Me) {}

  canManage(path: string): boolean {
    return this.me.permissions.some(
      (g) => g.permissions.includes(MANAGE) && isAtOrAbove(g.scope, path),
    );
  }

  /** Manage anywhere (the "Build allow list" screen needs it to save). */
  managesSomewhere(): boolean {
    return this.me.permissions.some((g) => g.permissions.includes(MANAGE));
  }

  get userName(): string {
    return this.me.user.displayName ?? this.me.user.name;
  }
}
