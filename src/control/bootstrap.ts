/**
 * First start (DESIGN.md 9.3): the platform exists (the store's first migration makes it); if
 * there is no user yet, an `admin` user with the security-officer role on the platform is
 * created with one token, random or the one given (EGRESS_ADMIN_TOKEN). The token is returned
 * once for the caller to show; only its hash is stored. A given token that is not stored yet
 * (a new EGRESS_ADMIN_TOKEN) is added to the admin user on a later start.
 */
import { changeEvent } from './audit/change-event.js';
import { hashToken, newToken } from './auth/tokens.js';
import { PLATFORM_PATH } from './rbac/scope-path.js';
import type { Store } from './store/store.js';

export const ADMIN_USER = 'admin';

export interface BootstrapResult {
  /** The new admin token, when this start created one (show it once). */
  adminToken: string | null;
  createdAdmin: boolean;
}

export async function bootstrap(
  store: Store,
  options: { adminToken?: string; now: () => number },
): Promise<BootstrapResult> {
  const platform = await store.platform();
  const given = options.adminToken?.trim() || undefined;
  return store.transaction(async (tx) => {
    const users = await tx.listUsers();
    if (users.length === 0) {
      const token = given ?? newToken();
      const admin = await tx.createUser({
        name: ADMIN_USER,
        kind: 'human',
        displayName: 'Administrator',
      });
      await tx.grantRole({
        userId: admin.id,
        role: 'security-officer',
        scopeId: platform.id,
        by: null,
      });
      await tx.createToken({
        userId: admin.id,
        name: 'admin token',
        tokenSha256: hashToken(token),
      });
      await tx.appendEvents([
        changeEvent(
          {
            type: 'user.created',
            user: null,
            address: null,
            scope: PLATFORM_PATH,
            description: `egress created the admin user with the security-officer role on first start.`,
            details: { subject: ADMIN_USER, role: 'security-officer' },
          },
          options.now(),
        ),
      ]);
      return { adminToken: token, createdAdmin: true };
    }
    if (given && !(await tx.findTokenByHash(hashToken(given)))) {
      const admin = await tx.getUserByName(ADMIN_USER);
      if (admin) {
        await tx.createToken({
          userId: admin.id,
          name: 'EGRESS_ADMIN_TOKEN',
          tokenSha256: hashToken(given),
        });
        return { adminToken: given, createdAdmin: false };
      }
    }
    return { adminToken: null, createdAdmin: false };
  });
}
