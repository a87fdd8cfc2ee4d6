/** Brings a database up to the newest schema (Kysely's Migrator; safe to run on every open). */
import { Migrator, type Kysely } from 'kysely';
import type { StoreBackend } from '../store.js';
import { migrations } from './migrations.js';
import type { Tables } from './tables.js';

export async function migrate(db: Kysely<Tables>, backend: StoreBackend): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(backend) },
    migrationTableName: 'egress_migrations',
    migrationLockTableName: 'egress_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(
      `the store's migration ${failed ?? ''} failed: ${String((error as Error).message ?? error)}`,
      {
        cause: error,
      },
    );
  }
}
