/**
 * The one migration set of both backends, run by Kysely's Migrator when a store opens. The
 * schema builder writes the portable part; the few backend-specific statements (SQLite FTS5
 * vs pg_trgm for text search, the immutability trigger) are chosen by `backend`. Add new
 * migrations at the end with the next number; never edit one that has shipped.
 */
import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { StoreBackend } from '../store.js';

/** The text events are searched in: destination host and description. */
export const SEARCH_TEXT_SQL = `coalesce(dest_host, '') || ' ' || description`;

function initial(backend: StoreBackend): Migration {
  // Paths and event ids are compared as bytes on both backends: PostgreSQL's default
  // collation (en_US and the like) ignores '/' at first level, which would break the
  // "beneath this path" ranges and make the (time, id) order locale-dependent.
  const bytewise = (c: ColumnDefinitionBuilder) =>
    backend === 'postgres' ? c.modifyEnd(sql`collate "C"`) : c;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('scopes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('parent_id', 'text', (c) => c.references('scopes.id'))
        .addColumn('path', 'text', (c) => bytewise(c.notNull().unique()))
        .addColumn('app', 'text', (c) => c.unique())
        .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('token_sha256', 'text', (c) => c.unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('scopes_parent_name_key', ['parent_id', 'name'])
        .execute();

      await db.schema
        .createTable('policies')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('scope_id', 'text', (c) => c.notNull().references('scopes.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('current_version', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('policies_scope_name_key', ['scope_id', 'name'])
        .execute();

      await db.schema
        .createTable('policy_versions')
        .addColumn('policy_id', 'text', (c) =>
          c.notNull().references('policies.id').onDelete('cascade'),
        )
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('native', 'text', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('author', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('policy_versions_pkey', ['policy_id', 'version'])
        .execute();

      await db.schema
        .createTable('assignments')
        .addColumn('scope_id', 'text', (c) =>
          c.primaryKey().references('scopes.id').onDelete('cascade'),
        )
        .addColumn('policy_id', 'text', (c) => c.references('policies.id'))
        .addColumn('enforced', 'integer', (c) => c.notNull())
        .addColumn('updated_by', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('assignments_policy_idx')
        .on('assignments')
        .column('policy_id')
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_sha256', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('tokens_user_idx').on('tokens').column('user_id').execute();

      await db.schema
        .createTable('role_bindings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('scope_id', 'text', (c) =>
          c.notNull().references('scopes.id').onDelete('cascade'),
        )
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('role_bindings_user_role_scope_key', ['user_id', 'role', 'scope_id'])
        .execute();
      await db.schema
        .createIndex('role_bindings_scope_idx')
        .on('role_bindings')
        .column('scope_id')
        .execute();

      await db.schema
        .createTable('custom_roles')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('permissions', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('events')
        .addColumn('id', 'text', (c) => bytewise(c.primaryKey()))
        .addColumn('time_ms', 'bigint', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('workspace', 'text')
        .addColumn('scope', 'text', bytewise)
        .addColumn('user_name', 'text')
        .addColumn('node', 'text')
        .addColumn('request_id', 'text')
        .addColumn('policy_id', 'text')
        .addColumn('policy_version', 'text')
        .addColumn('verdict', 'text')
        .addColumn('reason', 'text')
        .addColumn('dest_host', 'text')
        .addColumn('dest_port', 'integer')
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      // Every listing is newest first by (time, id); each filter column leads an index that
      // continues in that order, so "type X, newest first" reads only the page it returns.
      await db.schema
        .createIndex('events_time_idx')
        .on('events')
        .columns(['time_ms', 'id'])
        .execute();
      for (const column of ['type', 'workspace', 'scope', 'user_name']) {
        await db.schema
          .createIndex(`events_${column}_time_idx`)
          .on('events')
          .columns([column, 'time_ms', 'id'])
          .execute();
      }

      await db.schema
        .createTable('nodes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('token_sha256', 'text', (c) => c.notNull().unique())
        .addColumn('scope_id', 'text', (c) => c.notNull().references('scopes.id'))
        .addColumn('version', 'text')
        .addColumn('revision', 'bigint')
        .addColumn('last_contact_at', 'bigint')
        .addColumn('events_pending', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('changes')
        .addColumn('revision', 'bigint', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('scope', 'text')
        .addColumn('subject', 'text')
        .addColumn('time_ms', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('counters')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'bigint', (c) => c.notNull())
        .execute();
      await db
        .insertInto('counters' as never)
        .values({ name: 'revision', value: 0 } as never)
        .execute();

      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      const now = Date.now();
      await db
        .insertInto('scopes' as never)
        .values({
          id: 'platform',
          kind: 'platform',
          name: 'platform',
          parent_id: null,
          path: 'platform',
          app: null,
          metadata: '{}',
          token_sha256: null,
          created_at: now,
          updated_at: now,
        } as never)
        .execute();

      if (backend === 'sqlite') await sqliteSpecific(db);
      else await postgresSpecific(db);
    },
  };
}

async function sqliteSpecific(db: Kysely<unknown>): Promise<void> {
  // Text search: a contentless FTS5 index of trigrams (substring search, case-folded). The
  // insert trigger created here is dropped by 002 (the insertion feeds the index per batch).
  await sql
    .raw(
      `CREATE VIRTUAL TABLE events_fts USING fts5(text, content='', contentless_delete=1, tokenize='trigram')`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
         INSERT INTO events_fts(rowid, text) VALUES (new.rowid, ${SEARCH_TEXT_SQL.replace(/dest_host|description/g, 'new.$&')});
       END`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
         DELETE FROM events_fts WHERE rowid = old.rowid;
       END`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE TRIGGER policy_versions_immutable BEFORE UPDATE ON policy_versions BEGIN
         SELECT RAISE(ABORT, 'policy versions are immutable');
       END`,
    )
    .execute(db);
}

async function postgresSpecific(db: Kysely<unknown>): Promise<void> {
  // Text search: a trigram GIN index over the searched text; ILIKE '%q%' uses it.
  await sql.raw(`CREATE EXTENSION IF NOT EXISTS pg_trgm`).execute(db);
  await sql
    .raw(
      `CREATE INDEX events_search_trgm_idx ON events USING gin ((${SEARCH_TEXT_SQL}) gin_trgm_ops)`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE FUNCTION egress_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'policy versions are immutable'; END $$`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE TRIGGER policy_versions_immutable BEFORE UPDATE ON policy_versions
       FOR EACH ROW EXECUTE FUNCTION egress_refuse_update()`,
    )
    .execute(db);
}

/**
 * SQLite: the text index is fed once per batch by the event insertion (sqlite/backend.ts)
 * instead of by a per-row trigger, 2-3 times faster at ingestion; the delete trigger stays.
 * Nothing changes on PostgreSQL (its GIN index is maintained by the server).
 */
function ftsFedPerBatch(backend: StoreBackend): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (backend === 'sqlite')
        await sql.raw(`DROP TRIGGER IF EXISTS events_fts_insert`).execute(db);
    },
  };
}

/** The migrations in order, keyed by their (sortable) names. */
export function migrations(backend: StoreBackend): Record<string, Migration> {
  return { '001-initial': initial(backend), '002-fts-fed-per-batch': ftsFedPerBatch(backend) };
}
