/**
 * Policies and their immutable versions. A save writes the next version row (never updates
 * one: a trigger refuses it) and moves `current_version` only if it still is the version the
 * caller read, in one statement, so two concurrent saves cannot both win.
 */
import { createHash } from 'node:crypto';
import { uuidv7 } from '../../../protocol/event-id.js';
import {
  AlreadyExistsError,
  InUseError,
  InvalidError,
  NotFoundError,
  VersionConflictError,
} from '../errors.js';
import { checkPolicyName } from '../names.js';
import type {
  NewPolicy,
  PolicyChange,
  PolicyContent,
  PolicyRecord,
  PolicyVersion,
} from '../records.js';
import { recordChange } from './changes.js';
import { atomic, iso, type Ctx } from './context.js';
import { requireScope } from './scopes.js';
import type { PoliciesTable, PolicyVersionsTable } from './tables.js';

type PolicyRow = PoliciesTable & { scope_path: string };

function toPolicy(row: PolicyRow): PolicyRecord {
  return {
    id: row.id,
    scopeId: row.scope_id,
    scopePath: row.scope_path,
    name: row.name,
    description: row.description,
    currentVersion: Number(row.current_version),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    createdBy: row.created_by,
  };
}

function toVersion(row: PolicyVersionsTable): PolicyVersion {
  return {
    policyId: row.policy_id,
    version: Number(row.version),
    format: row.format,
    source: row.source,
    native: JSON.parse(row.native) as unknown,
    contentHash: row.content_hash,
    author: row.author,
    createdAt: iso(row.created_at),
  };
}

/** JSON with object keys sorted at every level: the same policy always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function contentHash(native: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(native)).digest('hex')}`;
}

function checkDescription(description: unknown): string {
  if (typeof description !== 'string' || description.trim() === '') {
    throw new InvalidError('description', 'a policy needs a non-empty description');
  }
  return description;
}

function checkContent(content: PolicyContent): void {
  if (typeof content.format !== 'string' || content.format === '') {
    throw new InvalidError('format', 'name the format the source is written in (native, sds, …)');
  }
  if (typeof content.source !== 'string')
    throw new InvalidError('source', 'must be the policy text');
  if (content.native === undefined)
    throw new InvalidError('native', 'the converted native policy is missing');
}

function policies(ctx: Ctx) {
  return ctx.db
    .selectFrom('policies as p')
    .innerJoin('scopes as s', 's.id', 'p.scope_id')
    .selectAll('p')
    .select('s.path as scope_path');
}

export async function getPolicy(ctx: Ctx, id: string): Promise<PolicyRecord | null> {
  const row = await policies(ctx).where('p.id', '=', id).executeTakeFirst();
  return row ? toPolicy(row) : null;
}

export async function getPolicyByName(
  ctx: Ctx,
  scopeId: string,
  name: string,
): Promise<PolicyRecord | null> {
  const row = await policies(ctx)
    .where('p.scope_id', '=', scopeId)
    .where('p.name', '=', name)
    .executeTakeFirst();
  return row ? toPolicy(row) : null;
}

export async function listPolicies(ctx: Ctx, scopeIds: readonly string[]): Promise<PolicyRecord[]> {
  if (scopeIds.length === 0) return [];
  const rows = await policies(ctx)
    .where('p.scope_id', 'in', [...scopeIds])
    .orderBy('p.created_at')
    .orderBy('p.id')
    .execute();
  return rows.map(toPolicy);
}

function versionRow(
  policyId: string,
  version: number,
  content: PolicyContent,
  now: number,
): PolicyVersionsTable {
  return {
    policy_id: policyId,
    version,
    format: content.format,
    source: content.source,
    native: JSON.stringify(content.native),
    content_hash: contentHash(content.native),
    author: content.author,
    created_at: now,
  };
}

function nameTaken(ctx: Ctx, error: unknown, name: string, scopePath: string): unknown {
  if (ctx.backend.uniqueViolation(error))
    return new AlreadyExistsError('policy', 'name', name, `in ${scopePath}`);
  return error;
}

export async function createPolicy(
  ctx: Ctx,
  input: NewPolicy,
): Promise<{ policy: PolicyRecord; version: PolicyVersion }> {
  const name = checkPolicyName('name', input.name);
  const description = checkDescription(input.description);
  checkContent(input);
  return atomic(ctx, async (tx) => {
    const scope = await requireScope(tx, input.scopeId);
    if (scope.kind === 'workspace') {
      throw new InvalidError(
        'scope',
        `policies are defined at platform, organisation or project scope, not at workspace ${scope.path}`,
      );
    }
    const now = tx.now();
    const row: PoliciesTable = {
      id: uuidv7(now),
      scope_id: scope.id,
      name,
      description,
      current_version: 1,
      created_by: input.author,
      created_at: now,
      updated_at: now,
    };
    try {
      await tx.db.insertInto('policies').values(row).execute();
    } catch (error) {
      throw nameTaken(tx, error, name, scope.path);
    }
    const version = versionRow(row.id, 1, input, now);
    await tx.db.insertInto('policy_versions').values(version).execute();
    await recordChange(tx, { kind: 'policy.created', scope: scope.path, subject: row.id });
    return { policy: toPolicy({ ...row, scope_path: scope.path }), version: toVersion(version) };
  });
}

async function requirePolicy(ctx: Ctx, id: string): Promise<PolicyRecord> {
  const policy = await getPolicy(ctx, id);
  if (!policy) throw new NotFoundError('policy', id);
  return policy;
}

export async function updatePolicy(
  ctx: Ctx,
  id: string,
  expectedVersion: number,
  change: PolicyChange,
): Promise<{ policy: PolicyRecord; version: PolicyVersion }> {
  checkContent(change);
  const name = change.name === undefined ? undefined : checkPolicyName('name', change.name);
  const description =
    change.description === undefined ? undefined : checkDescription(change.description);
  return atomic(ctx, async (tx) => {
    const before = await requirePolicy(tx, id);
    const next = expectedVersion + 1;
    const now = tx.now();
    let moved;
    try {
      // The compare-and-set: only the save that read the current version moves it.
      moved = await tx.db
        .updateTable('policies')
        .set({
          current_version: next,
          updated_at: now,
          ...(name !== undefined ? { name } : {}),
          ...(description !== undefined ? { description } : {}),
        })
        .where('id', '=', id)
        .where('current_version', '=', expectedVersion)
        .executeTakeFirst();
    } catch (error) {
      throw nameTaken(tx, error, name ?? before.name, before.scopePath);
    }
    if (Number(moved.numUpdatedRows) === 0) {
      const current = await requirePolicy(tx, id);
      throw new VersionConflictError('policy', id, expectedVersion, current.currentVersion);
    }
    const version = versionRow(id, next, change, now);
    await tx.db.insertInto('policy_versions').values(version).execute();
    await recordChange(tx, { kind: 'policy.updated', scope: before.scopePath, subject: id });
    return { policy: await requirePolicy(tx, id), version: toVersion(version) };
  });
}

export async function deletePolicy(ctx: Ctx, id: string, expectedVersion?: number): Promise<void> {
  return atomic(ctx, async (tx) => {
    const policy = await requirePolicy(tx, id);
    if (expectedVersion !== undefined && policy.currentVersion !== expectedVersion) {
      throw new VersionConflictError('policy', id, expectedVersion, policy.currentVersion);
    }
    const users = await tx.db
      .selectFrom('assignments as a')
      .innerJoin('scopes as s', 's.id', 'a.scope_id')
      .select('s.path')
      .where('a.policy_id', '=', id)
      .orderBy('s.path')
      .execute();
    if (users.length > 0) {
      throw new InUseError(
        'policy',
        id,
        users.map((u) => u.path),
        'the assignments of',
      );
    }
    await tx.db.deleteFrom('policy_versions').where('policy_id', '=', id).execute();
    await tx.db.deleteFrom('policies').where('id', '=', id).execute();
    await recordChange(tx, { kind: 'policy.deleted', scope: policy.scopePath, subject: id });
  });
}

export async function listPolicyVersions(ctx: Ctx, policyId: string): Promise<PolicyVersion[]> {
  const rows = await ctx.db
    .selectFrom('policy_versions')
    .selectAll()
    .where('policy_id', '=', policyId)
    .orderBy('version')
    .execute();
  return rows.map(toVersion);
}

export async function getPolicyVersion(
  ctx: Ctx,
  policyId: string,
  version: number,
): Promise<PolicyVersion | null> {
  const row = await ctx.db
    .selectFrom('policy_versions')
    .selectAll()
    .where('policy_id', '=', policyId)
    .where('version', '=', version)
    .executeTakeFirst();
  return row ? toVersion(row) : null;
}
