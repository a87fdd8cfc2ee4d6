/** Users (human or service) and their tokens, stored only as sha-256 hashes. */
import { uuidv7 } from '../../../protocol/event-id.js';
import { AlreadyExistsError, InvalidError, NotFoundError } from '../errors.js';
import type {
  AuthenticatedToken,
  NewToken,
  NewUser,
  TokenRecord,
  User,
  UserKind,
} from '../records.js';
import { atomic, iso, type Ctx } from './context.js';
import type { TokensTable, UsersTable } from './tables.js';

/** `lastUsedAt` is written at most this often per token (a write per API call is waste). */
const TOUCH_INTERVAL_MS = 60_000;
const SHA256_HEX = /^[0-9a-f]{64}$/;

function toUser(row: UsersTable): User {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as UserKind,
    displayName: row.display_name,
    createdAt: iso(row.created_at),
  };
}

function toToken(row: TokensTable): TokenRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    tokenSha256: row.token_sha256,
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
  };
}

export function checkSha256(field: string, value: unknown): string {
  if (typeof value !== 'string' || !SHA256_HEX.test(value)) {
    throw new InvalidError(
      field,
      'must be the lower-case hex sha-256 of the secret (hashToken), 64 characters',
    );
  }
  return value;
}

export async function createUser(ctx: Ctx, input: NewUser): Promise<User> {
  if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 200) {
    throw new InvalidError('name', 'a user needs a non-empty name of at most 200 characters');
  }
  if (input.kind !== 'human' && input.kind !== 'service') {
    throw new InvalidError(
      'kind',
      `must be "human" or "service", not ${JSON.stringify(input.kind)}`,
    );
  }
  const now = ctx.now();
  const row: UsersTable = {
    id: uuidv7(now),
    name: input.name,
    kind: input.kind,
    display_name: input.displayName ?? null,
    created_at: now,
  };
  try {
    await ctx.db.insertInto('users').values(row).execute();
  } catch (error) {
    if (ctx.backend.uniqueViolation(error))
      throw new AlreadyExistsError('user', 'name', input.name);
    throw error;
  }
  return toUser(row);
}

export async function getUser(ctx: Ctx, id: string): Promise<User | null> {
  const row = await ctx.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toUser(row) : null;
}

export async function getUserByName(ctx: Ctx, name: string): Promise<User | null> {
  const row = await ctx.db
    .selectFrom('users')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  return row ? toUser(row) : null;
}

export async function listUsers(ctx: Ctx): Promise<User[]> {
  const rows = await ctx.db.selectFrom('users').selectAll().orderBy('name').execute();
  return rows.map(toUser);
}

export async function deleteUser(ctx: Ctx, id: string): Promise<void> {
  await atomic(ctx, async (tx) => {
    // Explicit rather than only ON DELETE CASCADE: SQLite enforces it only with foreign_keys on.
    await tx.db.deleteFrom('tokens').where('user_id', '=', id).execute();
    await tx.db.deleteFrom('role_bindings').where('user_id', '=', id).execute();
    const result = await tx.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new NotFoundError('user', id);
  });
}

export async function createToken(ctx: Ctx, input: NewToken): Promise<TokenRecord> {
  const hash = checkSha256('tokenSha256', input.tokenSha256);
  const expires = input.expiresAt ? Date.parse(input.expiresAt) : null;
  if (expires !== null && Number.isNaN(expires)) {
    throw new InvalidError(
      'expiresAt',
      `${JSON.stringify(input.expiresAt)} is not an ISO 8601 time`,
    );
  }
  return atomic(ctx, async (tx) => {
    if (!(await getUser(tx, input.userId))) throw new NotFoundError('user', input.userId);
    const now = tx.now();
    const row: TokensTable = {
      id: uuidv7(now),
      user_id: input.userId,
      name: input.name,
      token_sha256: hash,
      created_at: now,
      expires_at: expires,
      last_used_at: null,
      revoked_at: null,
    };
    try {
      await tx.db.insertInto('tokens').values(row).execute();
    } catch (error) {
      // Never echo the hash back: it identifies a credential.
      if (tx.backend.uniqueViolation(error))
        throw new AlreadyExistsError('token', 'tokenSha256', '…');
      throw error;
    }
    return toToken(row);
  });
}

export async function findTokenByHash(ctx: Ctx, hash: string): Promise<TokenRecord | null> {
  const row = await ctx.db
    .selectFrom('tokens')
    .selectAll()
    .where('token_sha256', '=', hash)
    .executeTakeFirst();
  return row ? toToken(row) : null;
}

export async function authenticateToken(
  ctx: Ctx,
  hash: string,
  now: Date,
): Promise<AuthenticatedToken | null> {
  const found = await ctx.db
    .selectFrom('tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .selectAll('t')
    .select([
      'u.name as u_name',
      'u.kind as u_kind',
      'u.display_name as u_display_name',
      'u.created_at as u_created_at',
    ])
    .where('t.token_sha256', '=', hash)
    .executeTakeFirst();
  if (!found) return null;
  const at = now.getTime();
  if (found.revoked_at !== null) return null;
  if (found.expires_at !== null && Number(found.expires_at) <= at) return null;
  if (found.last_used_at === null || at - Number(found.last_used_at) >= TOUCH_INTERVAL_MS) {
    await ctx.db
      .updateTable('tokens')
      .set({ last_used_at: at })
      .where('id', '=', found.id)
      .execute();
    found.last_used_at = at;
  }
  return {
    token: toToken(found),
    user: toUser({
      id: found.user_id,
      name: found.u_name,
      kind: found.u_kind,
      display_name: found.u_display_name,
      created_at: found.u_created_at,
    }),
  };
}

export async function listTokens(ctx: Ctx, userId: string): Promise<TokenRecord[]> {
  const rows = await ctx.db
    .selectFrom('tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
  return rows.map(toToken);
}

export async function revokeToken(ctx: Ctx, id: string, at: Date): Promise<boolean> {
  const result = await ctx.db
    .updateTable('tokens')
    .set({ revoked_at: at.getTime() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) > 0) return true;
  // Already revoked counts as known.
  return (
    (await ctx.db.selectFrom('tokens').select('id').where('id', '=', id).executeTakeFirst()) !==
    undefined
  );
}
