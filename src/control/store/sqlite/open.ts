/**
 * Opens the SQLite store: WAL journal with synchronous=FULL (a commit is on disk before it is
 * acknowledged, so neither kill -9 nor a power cut loses one), foreign keys on, writers wait
 * for each other (busy timeout) and start with BEGIN IMMEDIATE so that a read-then-write
 * transaction never fails half-way on a lock held by another process.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
} from 'kysely';
import type { OpenOptions } from '../open.js';
import type { Store } from '../store.js';
import { migrate } from '../sql/migrate.js';
import { SqlStore } from '../sql/sql-store.js';
import type { Tables } from '../sql/tables.js';
import { SqliteBackend } from './backend.js';

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly database: Database.Database) {
    super({ database });
  }
  override createDriver() {
    return new ImmediateSqliteDriver({ database: this.database });
  }
}

export async function openSqliteStore(path: string, options: OpenOptions = {}): Promise<Store> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new Database(path);
  try {
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = FULL');
    raw.pragma('foreign_keys = ON');
    raw.pragma('busy_timeout = 10000');
    const db = new Kysely<Tables>({ dialect: new ImmediateSqliteDialect(raw) });
    await migrate(db, 'sqlite');
    const backend = new SqliteBackend(raw);
    return new SqlStore(db, backend, options.now ?? (() => new Date()), null, () => db.destroy());
  } catch (error) {
    raw.close();
    throw error;
  }
}
