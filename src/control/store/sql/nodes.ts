/** Data-plane nodes: identity (token hash), the scope they serve, and what they last reported. */
import { uuidv7 } from '../../../protocol/event-id.js';
import { AlreadyExistsError, InvalidError, NotFoundError } from '../errors.js';
import type { NewNode, NodeRecord, NodeStatus } from '../records.js';
import { atomic, iso, type Ctx } from './context.js';
import { requireScope } from './scopes.js';
import type { NodesTable } from './tables.js';
import { checkSha256 } from './users.js';

function toNode(row: NodesTable): NodeRecord {
  return {
    id: row.id,
    name: row.name,
    tokenSha256: row.token_sha256,
    scopeId: row.scope_id,
    version: row.version,
    revision: row.revision === null ? null : Number(row.revision),
    lastContactAt: iso(row.last_contact_at),
    eventsPending: row.events_pending === null ? null : Number(row.events_pending),
    createdAt: iso(row.created_at),
  };
}

export async function createNode(ctx: Ctx, input: NewNode): Promise<NodeRecord> {
  if (typeof input.name !== 'string' || !/^[A-Za-z0-9._-]{1,63}$/.test(input.name)) {
    throw new InvalidError('name', "a node name is 1-63 letters, digits, '.', '_' or '-'");
  }
  const hash = checkSha256('tokenSha256', input.tokenSha256);
  return atomic(ctx, async (tx) => {
    const scope = await requireScope(tx, input.scopeId ?? 'platform');
    const now = tx.now();
    const row: NodesTable = {
      id: uuidv7(now),
      name: input.name,
      token_sha256: hash,
      scope_id: scope.id,
      version: null,
      revision: null,
      last_contact_at: null,
      events_pending: null,
      created_at: now,
    };
    try {
      await tx.db.insertInto('nodes').values(row).execute();
    } catch (error) {
      const columns = tx.backend.uniqueViolation(error);
      if (columns?.includes('token_sha256'))
        throw new AlreadyExistsError('node', 'tokenSha256', '…');
      if (columns) throw new AlreadyExistsError('node', 'name', input.name);
      throw error;
    }
    return toNode(row);
  });
}

export async function getNode(ctx: Ctx, id: string): Promise<NodeRecord | null> {
  const row = await ctx.db.selectFrom('nodes').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toNode(row) : null;
}

export async function findNodeByTokenHash(ctx: Ctx, hash: string): Promise<NodeRecord | null> {
  const row = await ctx.db
    .selectFrom('nodes')
    .selectAll()
    .where('token_sha256', '=', hash)
    .executeTakeFirst();
  return row ? toNode(row) : null;
}

export async function listNodes(ctx: Ctx): Promise<NodeRecord[]> {
  const rows = await ctx.db.selectFrom('nodes').selectAll().orderBy('name').execute();
  return rows.map(toNode);
}

export async function recordNodeContact(
  ctx: Ctx,
  id: string,
  status: NodeStatus,
): Promise<NodeRecord> {
  const set: Partial<NodesTable> = {
    last_contact_at: (status.at ?? new Date(ctx.now())).getTime(),
  };
  if (status.version !== undefined) set.version = status.version;
  if (status.revision !== undefined) set.revision = status.revision;
  if (status.eventsPending !== undefined) set.events_pending = status.eventsPending;
  const result = await ctx.db.updateTable('nodes').set(set).where('id', '=', id).executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new NotFoundError('node', id);
  return (await getNode(ctx, id))!;
}

export async function deleteNode(ctx: Ctx, id: string): Promise<boolean> {
  const result = await ctx.db.deleteFrom('nodes').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
