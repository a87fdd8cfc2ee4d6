/** Scopes: platform → organisations → projects → workspaces, addressed by path. */
import { uuidv7 } from '../../../protocol/event-id.js';
import { AlreadyExistsError, InUseError, InvalidError, NotFoundError } from '../errors.js';
import { checkMetadata, checkName, PATH_STEP } from '../names.js';
import type { NewScope, Scope, ScopeKind, ScopeUpdate } from '../records.js';
import { recordChange } from './changes.js';
import { atomic, iso, type Ctx } from './context.js';
import type { ScopesTable } from './tables.js';

const PARENT_KIND: Record<Exclude<ScopeKind, 'platform'>, ScopeKind> = {
  organisation: 'platform',
  project: 'organisation',
  workspace: 'project',
};

export function toScope(row: ScopesTable): Scope {
  return {
    id: row.id,
    kind: row.kind as ScopeKind,
    name: row.name,
    parentId: row.parent_id,
    path: row.path,
    app: row.app,
    metadata: JSON.parse(row.metadata) as Scope['metadata'],
    tokenSha256: row.token_sha256,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export async function getScope(ctx: Ctx, id: string): Promise<Scope | null> {
  const row = await ctx.db.selectFrom('scopes').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toScope(row) : null;
}

export async function requireScope(ctx: Ctx, id: string): Promise<Scope> {
  const scope = await getScope(ctx, id);
  if (!scope) throw new NotFoundError('scope', id);
  return scope;
}

export async function getScopeByPath(ctx: Ctx, path: string): Promise<Scope | null> {
  const row = await ctx.db
    .selectFrom('scopes')
    .selectAll()
    .where('path', '=', path.replace(/^\/+|\/+$/g, ''))
    .executeTakeFirst();
  return row ? toScope(row) : null;
}

export async function getProjectByApp(ctx: Ctx, app: string): Promise<Scope | null> {
  const row = await ctx.db
    .selectFrom('scopes')
    .selectAll()
    .where('app', '=', app)
    .executeTakeFirst();
  return row ? toScope(row) : null;
}

export async function listChildren(ctx: Ctx, parentId: string): Promise<Scope[]> {
  const rows = await ctx.db
    .selectFrom('scopes')
    .selectAll()
    .where('parent_id', '=', parentId)
    .orderBy('name')
    .execute();
  return rows.map(toScope);
}

export async function listScopes(
  ctx: Ctx,
  filter: { kind?: ScopeKind; under?: string } = {},
): Promise<Scope[]> {
  let query = ctx.db.selectFrom('scopes').selectAll();
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  const under = filter.under?.replace(/^\/+|\/+$/g, '');
  if (under && under !== 'platform') {
    // Range instead of LIKE: '_' in names is a LIKE wildcard, and '0' follows '/'.
    query = query.where((eb) =>
      eb.or([
        eb('path', '=', under),
        eb.and([eb('path', '>', `${under}/`), eb('path', '<', `${under}0`)]),
      ]),
    );
  }
  const rows = await query.orderBy('path').execute();
  return rows.map(toScope);
}

export async function scopeChain(ctx: Ctx, id: string): Promise<Scope[]> {
  const chain: Scope[] = [];
  let next: string | null = id;
  while (next !== null) {
    const scope: Scope = await requireScope(ctx, next);
    chain.unshift(scope);
    next = scope.parentId;
  }
  return chain;
}

function childPath(parent: Scope, kind: Exclude<ScopeKind, 'platform'>, name: string): string {
  const step = `${PATH_STEP[kind]}/${name}`;
  return parent.kind === 'platform' ? step : `${parent.path}/${step}`;
}

/** Turns a unique violation on `scopes` into the error naming the taken value. */
function scopeConflict(ctx: Ctx, error: unknown, kind: string, values: Record<string, string>) {
  const columns = ctx.backend.uniqueViolation(error);
  if (!columns) return error;
  if (columns.includes('app')) return new AlreadyExistsError('project', 'app', values.app ?? '');
  if (columns.includes('token_sha256'))
    return new AlreadyExistsError('workspace', 'tokenSha256', values.token ?? '');
  return new AlreadyExistsError(kind, 'name', values.name ?? '', values.where ?? '');
}

export async function createScope(ctx: Ctx, input: NewScope): Promise<Scope> {
  const name = checkName('name', input.name);
  if (!(input.kind in PARENT_KIND)) {
    throw new InvalidError(
      'kind',
      `must be organisation, project or workspace, not ${JSON.stringify(input.kind)}`,
    );
  }
  return atomic(ctx, async (tx) => {
    const parent = await requireScope(tx, input.parentId);
    if (parent.kind !== PARENT_KIND[input.kind]) {
      throw new InvalidError(
        'parentId',
        `a ${input.kind} belongs to a ${PARENT_KIND[input.kind]}, and ${parent.path} is a ${parent.kind}`,
      );
    }
    const app = input.kind === 'project' ? checkName('app', input.app ?? name) : null;
    if (input.kind !== 'project' && input.app !== undefined) {
      throw new InvalidError('app', 'only projects have an app name');
    }
    if (input.kind !== 'workspace' && (input.metadata !== undefined || input.tokenSha256)) {
      throw new InvalidError('metadata', 'only workspaces have metadata and a token');
    }
    const metadata = input.metadata === undefined ? {} : checkMetadata('metadata', input.metadata);
    const now = tx.now();
    const row: ScopesTable = {
      id: uuidv7(now),
      kind: input.kind,
      name,
      parent_id: parent.id,
      path: childPath(parent, input.kind, name),
      app,
      metadata: JSON.stringify(metadata),
      token_sha256: input.tokenSha256 ?? null,
      created_at: now,
      updated_at: now,
    };
    try {
      await tx.db.insertInto('scopes').values(row).execute();
    } catch (error) {
      throw scopeConflict(tx, error, input.kind, {
        name,
        app: app ?? '',
        token: input.tokenSha256 ?? '',
        where: `in ${parent.path}`,
      });
    }
    await recordChange(tx, { kind: 'scope.created', scope: row.path, subject: row.id });
    return toScope(row);
  });
}

export async function updateScope(ctx: Ctx, id: string, update: ScopeUpdate): Promise<Scope> {
  return atomic(ctx, async (tx) => {
    const scope = await requireScope(tx, id);
    const set: Partial<ScopesTable> = { updated_at: tx.now() };
    if (update.metadata !== undefined || update.tokenSha256 !== undefined) {
      if (scope.kind !== 'workspace')
        throw new InvalidError(
          'metadata',
          `only workspaces have metadata and a token; ${scope.path} is a ${scope.kind}`,
        );
      if (update.metadata !== undefined)
        set.metadata = JSON.stringify(checkMetadata('metadata', update.metadata));
      if (update.tokenSha256 !== undefined) set.token_sha256 = update.tokenSha256;
    }
    if (update.app !== undefined) {
      if (scope.kind !== 'project')
        throw new InvalidError(
          'app',
          `only projects have an app name; ${scope.path} is a ${scope.kind}`,
        );
      set.app = checkName('app', update.app);
    }
    try {
      await tx.db.updateTable('scopes').set(set).where('id', '=', id).execute();
    } catch (error) {
      throw scopeConflict(tx, error, scope.kind, {
        name: scope.name,
        app: update.app ?? '',
        token: update.tokenSha256 ?? '',
      });
    }
    await recordChange(tx, { kind: 'scope.updated', scope: scope.path, subject: id });
    return requireScope(tx, id);
  });
}

export async function deleteScope(ctx: Ctx, id: string): Promise<void> {
  return atomic(ctx, async (tx) => {
    const scope = await requireScope(tx, id);
    if (scope.kind === 'platform') throw new InvalidError('id', 'the platform cannot be deleted');
    const children = await tx.db
      .selectFrom('scopes')
      .select('path')
      .where('parent_id', '=', id)
      .orderBy('path')
      .execute();
    if (children.length > 0) {
      throw new InUseError(
        'scope',
        scope.path,
        children.map((c) => c.path),
        'the scopes beneath it',
      );
    }
    const policies = await tx.db
      .selectFrom('policies')
      .select('name')
      .where('scope_id', '=', id)
      .orderBy('name')
      .execute();
    if (policies.length > 0) {
      throw new InUseError(
        'scope',
        scope.path,
        policies.map((p) => p.name),
        'the policies defined in it',
      );
    }
    const nodes = await tx.db
      .selectFrom('nodes')
      .select('name')
      .where('scope_id', '=', id)
      .execute();
    if (nodes.length > 0) {
      throw new InUseError(
        'scope',
        scope.path,
        nodes.map((n) => n.name),
        'the nodes serving it',
      );
    }
    await tx.db.deleteFrom('assignments').where('scope_id', '=', id).execute();
    await tx.db.deleteFrom('role_bindings').where('scope_id', '=', id).execute();
    await tx.db.deleteFrom('scopes').where('id', '=', id).execute();
    await recordChange(tx, { kind: 'scope.deleted', scope: scope.path, subject: id });
  });
}
