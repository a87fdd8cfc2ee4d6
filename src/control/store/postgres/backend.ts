/**
 * The PostgreSQL specifics: events inserted by one `INSERT … SELECT FROM unnest(arrays)` per
 * batch (17 parameters whatever the batch size), pg_trgm-indexed ILIKE text search, and
 * change notices by NOTIFY inside the changing transaction (delivered by PostgreSQL at commit
 * to every LISTENing replica, this one included).
 */
import pg from 'pg';
import { sql, type Expression, type SqlBool } from 'kysely';
import type { ChangeNotice } from '../records.js';
import type { Backend, Db } from '../sql/context.js';
import { SEARCH_TEXT_SQL } from '../sql/migrations.js';
import type { EventsTable } from '../sql/tables.js';
import { containsPattern } from '../sqlite/backend.js';

export const CHANGES_CHANNEL = 'egress_changes';

const EVENT_COLUMNS: readonly [keyof EventsTable, string][] = [
  ['id', 'text'],
  ['time_ms', 'int8'],
  ['type', 'text'],
  ['severity', 'text'],
  ['workspace', 'text'],
  ['scope', 'text'],
  ['user_name', 'text'],
  ['node', 'text'],
  ['request_id', 'text'],
  ['policy_id', 'text'],
  ['policy_version', 'text'],
  ['verdict', 'text'],
  ['reason', 'text'],
  ['dest_host', 'text'],
  ['dest_port', 'int4'],
  ['description', 'text'],
  ['body', 'text'],
];

/** int8 (counts, millisecond times) as numbers: every value the store keeps fits in 2^53. */
export const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Text with NUL removed: PostgreSQL text cannot hold U+0000, SQLite and JSON can. */
function pgText(value: string | null): string | null {
  return value === null || !value.includes('\0') ? value : value.replace(/\0/g, '');
}

export class PostgresBackend implements Backend {
  readonly kind = 'postgres' as const;
  private readonly listeners = new Set<pg.Client>();
  private closed = false;

  constructor(private readonly url: string) {}

  async insertEvents(db: Db, rows: readonly EventsTable[]): Promise<number> {
    const arrays = EVENT_COLUMNS.map(([column, type]) => {
      const values = rows.map((row) => {
        const v = row[column];
        return typeof v === 'string' ? pgText(v) : v;
      });
      return sql`${values}::${sql.raw(type)}[]`;
    });
    const result = await sql`
      INSERT INTO events (${sql.raw(EVENT_COLUMNS.map(([c]) => c).join(', '))})
      SELECT * FROM unnest(${sql.join(arrays)})
      ON CONFLICT (id) DO NOTHING`.execute(db);
    return Number(result.numAffectedRows ?? 0);
  }

  searchCondition(q: string): Expression<SqlBool> {
    const text = sql.raw(SEARCH_TEXT_SQL.replace(/dest_host|description/g, 'e.$&'));
    return sql<SqlBool>`(${text}) ILIKE ${containsPattern(pgText(q) ?? '')}`;
  }

  async notifyInTransaction(db: Db, notice: ChangeNotice): Promise<void> {
    await sql`SELECT pg_notify(${CHANGES_CHANNEL}, ${JSON.stringify(notice)})`.execute(db);
  }

  notifyAfterCommit(): void {}

  async listen(listener: (notice: ChangeNotice) => void): Promise<() => Promise<void>> {
    let client: pg.Client | null = null;
    let stopped = false;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.url, types: PG_TYPES });
      c.on('notification', (message) => {
        if (message.channel !== CHANGES_CHANNEL || !message.payload) return;
        try {
          listener(JSON.parse(message.payload) as ChangeNotice);
        } catch {
          // A listener's failure is its own.
        }
      });
      // A lost connection is re-established (notices sent meanwhile are missed: callers that
      // must not miss one compare revision() after reconnecting, as nodes do).
      c.on('error', () => {
        this.listeners.delete(c);
        c.end().catch(() => {});
        if (!stopped && !this.closed)
          setTimeout(() => void connect().catch(() => {}), 1000).unref();
      });
      await c.connect();
      await c.query(`LISTEN ${CHANGES_CHANNEL}`);
      client = c;
      this.listeners.add(c);
    };
    await connect();
    return async () => {
      stopped = true;
      if (client) {
        this.listeners.delete(client);
        await client.end().catch(() => {});
      }
    };
  }

  uniqueViolation(error: unknown): string[] | null {
    const e = error as { code?: unknown; detail?: unknown };
    if (e?.code !== '23505') return null;
    const m = /^Key \(([^)]*)\)=/.exec(String(e.detail ?? ''));
    return m ? m[1]!.split(',').map((c) => c.trim()) : [];
  }

  async close(): Promise<void> {
    this.closed = true;
    const clients = [...this.listeners];
    this.listeners.clear();
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}
