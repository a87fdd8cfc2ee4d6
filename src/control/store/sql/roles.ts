/** Role bindings (user, role, scope) and custom roles (name → permissions). */
import { uuidv7 } from '../../../protocol/event-id.js';
import { InUseError, InvalidError, NotFoundError } from '../errors.js';
import type { CustomRole, RoleBinding } from '../records.js';
import { atomic, iso, type Ctx } from './context.js';
import { getUser } from './users.js';
import { requireScope } from './scopes.js';
import type { CustomRolesTable, RoleBindingsTable } from './tables.js';

type BindingRow = RoleBindingsTable & { scope_path: string };

function toBinding(row: BindingRow): RoleBinding {
  return {
    id: row.id,
    userId: row.user_id,
    role: row.role,
    scopeId: row.scope_id,
    scopePath: row.scope_path,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
  };
}

function toRole(row: CustomRolesTable): CustomRole {
  return {
    name: row.name,
    description: row.description,
    permissions: JSON.parse(row.permissions) as string[],
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

function bindings(ctx: Ctx) {
  return ctx.db
    .selectFrom('role_bindings as b')
    .innerJoin('scopes as s', 's.id', 'b.scope_id')
    .selectAll('b')
    .select('s.path as scope_path');
}

export async function grantRole(
  ctx: Ctx,
  input: { userId: string; role: string; scopeId: string; by: string | null },
): Promise<RoleBinding> {
  if (typeof input.role !== 'string' || input.role === '') {
    throw new InvalidError('role', 'name the role to grant');
  }
  return atomic(ctx, async (tx) => {
    if (!(await getUser(tx, input.userId))) throw new NotFoundError('user', input.userId);
    await requireScope(tx, input.scopeId);
    const now = tx.now();
    await tx.db
      .insertInto('role_bindings')
      .values({
        id: uuidv7(now),
        user_id: input.userId,
        role: input.role,
        scope_id: input.scopeId,
        created_by: input.by,
        created_at: now,
      })
      .onConflict((oc) => oc.columns(['user_id', 'role', 'scope_id']).doNothing())
      .execute();
    const row = await bindings(tx)
      .where('b.user_id', '=', input.userId)
      .where('b.role', '=', input.role)
      .where('b.scope_id', '=', input.scopeId)
      .executeTakeFirstOrThrow();
    return toBinding(row);
  });
}

export async function revokeRole(
  ctx: Ctx,
  input: { userId: string; role: string; scopeId: string },
): Promise<boolean> {
  const result = await ctx.db
    .deleteFrom('role_bindings')
    .where('user_id', '=', input.userId)
    .where('role', '=', input.role)
    .where('scope_id', '=', input.scopeId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function listRoleBindings(
  ctx: Ctx,
  filter: { userId?: string; scopeId?: string } = {},
): Promise<RoleBinding[]> {
  let query = bindings(ctx);
  if (filter.userId !== undefined) query = query.where('b.user_id', '=', filter.userId);
  if (filter.scopeId !== undefined) query = query.where('b.scope_id', '=', filter.scopeId);
  const rows = await query.orderBy('s.path').orderBy('b.role').orderBy('b.id').execute();
  return rows.map(toBinding);
}

export async function putCustomRole(
  ctx: Ctx,
  role: Omit<CustomRole, 'createdAt' | 'updatedAt'>,
): Promise<CustomRole> {
  if (typeof role.name !== 'string' || !/^[A-Za-z0-9._-]{1,63}$/.test(role.name)) {
    throw new InvalidError('name', "a role name is 1-63 letters, digits, '.', '_' or '-'");
  }
  if (!Array.isArray(role.permissions) || role.permissions.some((p) => typeof p !== 'string')) {
    throw new InvalidError('permissions', 'must be an array of permission names');
  }
  const now = ctx.now();
  const permissions = JSON.stringify([...new Set(role.permissions)]);
  await ctx.db
    .insertInto('custom_roles')
    .values({
      name: role.name,
      description: role.description ?? '',
      permissions,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ description: role.description ?? '', permissions, updated_at: now }),
    )
    .execute();
  return (await getCustomRole(ctx, role.name))!;
}

export async function getCustomRole(ctx: Ctx, name: string): Promise<CustomRole | null> {
  const row = await ctx.db
    .selectFrom('custom_roles')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  return row ? toRole(row) : null;
}

export async function listCustomRoles(ctx: Ctx): Promise<CustomRole[]> {
  const rows = await ctx.db.selectFrom('custom_roles').selectAll().orderBy('name').execute();
  return rows.map(toRole);
}

export async function deleteCustomRole(ctx: Ctx, name: string): Promise<boolean> {
  return atomic(ctx, async (tx) => {
    const used = await bindings(tx).where('b.role', '=', name).orderBy('s.path').execute();
    if (used.length > 0) {
      throw new InUseError(
        'role',
        name,
        used.map((b) => `${b.user_id}@${b.scope_path}`),
        'role bindings',
      );
    }
    const result = await tx.db
      .deleteFrom('custom_roles')
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  });
}
