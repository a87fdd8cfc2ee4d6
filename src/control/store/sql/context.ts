/**
 * What every table module works with: the Kysely handle (the database or the open transaction),
 * the backend's few specific operations, and the clock. `atomic` runs a multi-statement change
 * in a transaction unless one is already open.
 */
import type { Expression, Kysely, SqlBool } from 'kysely';
import type { ChangeNotice } from '../records.js';
import type { StoreBackend } from '../store.js';
import type { EventsTable, Tables } from './tables.js';

export type Db = Kysely<Tables>;

/** The parts that differ between SQLite and PostgreSQL. */
export interface Backend {
  readonly kind: StoreBackend;
  /** Inserts event rows, skipping ids already stored; returns how many were new. */
  insertEvents(db: Db, rows: readonly EventsTable[]): Promise<number>;
  /** A condition on table alias `e` true when its searched text contains `q` (any case). */
  searchCondition(q: string): Expression<SqlBool>;
  /** Called inside the transaction that made the change (PostgreSQL: pg_notify). */
  notifyInTransaction(db: Db, notice: ChangeNotice): Promise<void>;
  /** Called after that transaction committed (SQLite: the in-process listeners). */
  notifyAfterCommit(notice: ChangeNotice): void;
  listen(listener: (notice: ChangeNotice) => void): Promise<() => Promise<void>>;
  /** The columns of the unique constraint `error` violated, or null if it is not one. */
  uniqueViolation(error: unknown): string[] | null;
  /** Closes what the backend opened besides the Kysely instance (listeners). */
  close(): Promise<void>;
}

/** The state of one open transaction: the notices to deliver after it commits. */
export interface TxState {
  notices: ChangeNotice[];
}

export interface Ctx {
  readonly db: Db;
  readonly backend: Backend;
  /** Milliseconds since the epoch, from the store's clock. */
  now(): number;
  /** Set while inside a transaction. */
  readonly tx: TxState | null;
}

/**
 * Runs `fn` atomically: directly when `ctx` is already in a transaction, else in a new one
 * whose change notices are delivered after the commit.
 */
export async function atomic<T>(ctx: Ctx, fn: (ctx: Ctx) => Promise<T>): Promise<T> {
  if (ctx.tx) return fn(ctx);
  const state: TxState = { notices: [] };
  const result = await ctx.db
    .transaction()
    .execute((trx) => fn({ db: trx, backend: ctx.backend, now: ctx.now, tx: state }));
  for (const notice of state.notices) ctx.backend.notifyAfterCommit(notice);
  return result;
}

export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}
