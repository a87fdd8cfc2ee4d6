/**
 * The change revision: one counter row bumped (row-locked, so in commit order on PostgreSQL
 * too, unlike a sequence) in the same transaction as every change that can alter an effective
 * policy, plus a log of what changed at each revision for "anything since N".
 */
import type { Change } from '../records.js';
import { atomic, iso, type Ctx } from './context.js';

export async function recordChange(
  ctx: Ctx,
  change: { kind: string; scope: string | null; subject?: string | null },
): Promise<Change> {
  return atomic(ctx, async (tx) => {
    const row = await tx.db
      .updateTable('counters')
      .set((eb) => ({ value: eb('value', '+', 1) }))
      .where('name', '=', 'revision')
      .returning('value')
      .executeTakeFirstOrThrow();
    const recorded: Change = {
      revision: Number(row.value),
      kind: change.kind,
      scope: change.scope,
      subject: change.subject ?? null,
      time: iso(tx.now()),
    };
    await tx.db
      .insertInto('changes')
      .values({
        revision: recorded.revision,
        kind: recorded.kind,
        scope: recorded.scope,
        subject: recorded.subject,
        time_ms: Date.parse(recorded.time),
      })
      .execute();
    await tx.backend.notifyInTransaction(tx.db, recorded);
    tx.tx!.notices.push(recorded);
    return recorded;
  });
}

export async function currentRevision(ctx: Ctx): Promise<number> {
  const row = await ctx.db
    .selectFrom('counters')
    .select('value')
    .where('name', '=', 'revision')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}

export async function changesSince(ctx: Ctx, revision: number, limit = 1000): Promise<Change[]> {
  const rows = await ctx.db
    .selectFrom('changes')
    .selectAll()
    .where('revision', '>', revision)
    .orderBy('revision')
    .limit(Math.max(1, Math.min(limit, 10_000)))
    .execute();
  return rows.map((r) => ({
    revision: Number(r.revision),
    kind: r.kind,
    scope: r.scope,
    subject: r.subject,
    time: iso(r.time_ms),
  }));
}
