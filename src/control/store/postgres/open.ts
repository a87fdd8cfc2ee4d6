/**
 * Opens the PostgreSQL store: a connection pool (PostgreSQL's default durability: a commit is
 * flushed before it is acknowledged) and the migrations, run under Kysely's advisory lock so
 * replicas starting together migrate once.
 */
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { OpenOptions } from '../open.js';
import type { Store } from '../store.js';
import { migrate } from '../sql/migrate.js';
import { SqlStore } from '../sql/sql-store.js';
import type { Tables } from '../sql/tables.js';
import { PG_TYPES, PostgresBackend } from './backend.js';

export async function openPostgresStore(url: string, options: OpenOptions = {}): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, types: PG_TYPES, max: 10 });
  // An idle client's error (the server restarted) must not crash the process; the pool
  // replaces the client on next use.
  pool.on('error', () => {});
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrate(db, 'postgres');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const backend = new PostgresBackend(url);
  return new SqlStore(db, backend, options.now ?? (() => new Date()), null, () => db.destroy());
}
