/**
 * Audit events: idempotent batched ingestion by id, filtered queries newest first with a
 * keyset cursor on (time, id), facet counts, streaming export and retention. The whole event
 * is kept as JSON (`body`); the fields queries filter on are copied into indexed columns.
 */
import type { ExpressionBuilder, Expression, SqlBool } from 'kysely';
import { InvalidError } from '../errors.js';
import type {
  EventFacets,
  EventFilter,
  EventPage,
  EventQuery,
  FacetCount,
  IngestResult,
  StorableEvent,
  StoredEvent,
} from '../records.js';
import type { Ctx } from './context.js';
import type { EventsTable, Tables } from './tables.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const SEVERITIES = new Set(['info', 'warning', 'critical']);

function text(value: unknown, max = 1000): string | null {
  if (value === null || value === undefined) return null;
  const s = String(value);
  return s.length > max ? s.slice(0, max) : s;
}

/** The row of one event, or `InvalidError` naming the field (`events[3].time`). */
export function toEventRow(event: StorableEvent, index: number, node: string | null): EventsTable {
  const at = (field: string) => `events[${index}].${field}`;
  if (typeof event !== 'object' || event === null)
    throw new InvalidError(`events[${index}]`, 'must be an event object');
  if (typeof event.id !== 'string' || event.id === '' || event.id.length > 100) {
    throw new InvalidError(at('id'), 'must be the event id (a UUIDv7 string)');
  }
  const time = typeof event.time === 'string' ? Date.parse(event.time) : NaN;
  if (Number.isNaN(time))
    throw new InvalidError(at('time'), `${JSON.stringify(event.time)} is not an ISO 8601 time`);
  if (typeof event.type !== 'string' || event.type === '')
    throw new InvalidError(at('type'), 'must be the event type');
  if (!SEVERITIES.has(event.severity)) {
    throw new InvalidError(
      at('severity'),
      `must be info, warning or critical, not ${JSON.stringify(event.severity)}`,
    );
  }
  if (typeof event.description !== 'string')
    throw new InvalidError(at('description'), 'must be a sentence');
  const port = event.destination?.port;
  return {
    id: event.id,
    time_ms: time,
    type: event.type,
    severity: event.severity,
    workspace: text(event.workspace),
    scope: text(event.scope),
    user_name: text(event.user),
    node: text(event.node) ?? node,
    request_id: text(event.requestId),
    policy_id: text(event.policy?.id),
    policy_version: text(event.policy?.version),
    verdict: text(event.verdict),
    reason: text(event.reason),
    dest_host: text(event.destination?.host),
    dest_port: typeof port === 'number' && Number.isInteger(port) ? port : null,
    description: event.description,
    body: JSON.stringify(event),
  };
}

export async function appendEvents(
  ctx: Ctx,
  events: readonly StorableEvent[],
  options: { node?: string } = {},
): Promise<IngestResult> {
  if (!Array.isArray(events)) throw new InvalidError('events', 'must be an array of events');
  const seen = new Set<string>();
  const rows: EventsTable[] = [];
  for (let i = 0; i < events.length; i++) {
    const row = toEventRow(events[i]!, i, options.node ?? null);
    if (seen.has(row.id)) continue; // the same id twice in one batch: stored once
    seen.add(row.id);
    rows.push(row);
  }
  const inserted = rows.length === 0 ? 0 : await ctx.backend.insertEvents(ctx.db, rows);
  return { received: events.length, inserted };
}

// ---- queries ----

function list<T>(value: T | readonly T[] | undefined): T[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? [...(value as T[])] : [value as T];
}

function timeBound(field: string, value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new InvalidError(field, `${JSON.stringify(value)} is not an ISO 8601 time`);
  return ms;
}

export function encodeCursor(timeMs: number, id: string): string {
  return Buffer.from(JSON.stringify([timeMs, id])).toString('base64url');
}

export function decodeCursor(cursor: string): [number, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return [value[0], value[1]];
    }
  } catch {
    // fall through
  }
  throw new InvalidError(
    'cursor',
    'is not a cursor this server returned: pass nextCursor unchanged',
  );
}

type EventsEb = ExpressionBuilder<Tables & { e: EventsTable }, 'e'>;

/** The conditions of a filter on table alias `e` (all must hold). */
function conditions(ctx: Ctx, eb: EventsEb, filter: EventFilter): Expression<SqlBool>[] {
  const out: Expression<SqlBool>[] = [];
  const types = list(filter.type);
  if (types) out.push(types.length === 0 ? eb.lit(false) : eb('e.type', 'in', types));
  const severities = list(filter.severity);
  if (severities)
    out.push(severities.length === 0 ? eb.lit(false) : eb('e.severity', 'in', severities));
  if (filter.workspace !== undefined) out.push(eb('e.workspace', '=', filter.workspace));
  if (filter.user !== undefined) out.push(eb('e.user_name', '=', filter.user));
  if (filter.node !== undefined) out.push(eb('e.node', '=', filter.node));
  if (filter.verdict !== undefined) out.push(eb('e.verdict', '=', filter.verdict));
  if (filter.reason !== undefined) out.push(eb('e.reason', '=', filter.reason));
  if (filter.policyId !== undefined) out.push(eb('e.policy_id', '=', filter.policyId));
  if (filter.from !== undefined) out.push(eb('e.time_ms', '>=', timeBound('from', filter.from)));
  if (filter.to !== undefined) out.push(eb('e.time_ms', '<', timeBound('to', filter.to)));
  if (filter.scopes !== undefined) {
    const paths = filter.scopes.map((p) => p.replace(/^\/+|\/+$/g, ''));
    // The platform contains everything (events without a scope too).
    if (!paths.includes('platform')) {
      out.push(
        paths.length === 0
          ? eb.lit(false)
          : eb.or(
              paths.flatMap((p) => [
                eb('e.scope', '=', p),
                // Beneath p: a range, not LIKE ('_' is a LIKE wildcard; '0' follows '/').
                eb.and([eb('e.scope', '>', `${p}/`), eb('e.scope', '<', `${p}0`)]),
              ]),
            ),
      );
    }
  }
  if (filter.q !== undefined && filter.q !== '') out.push(ctx.backend.searchCondition(filter.q));
  return out;
}

function toStored(body: string): StoredEvent {
  return JSON.parse(body) as StoredEvent;
}

export async function queryEvents(ctx: Ctx, query: EventQuery): Promise<EventPage> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidError('limit', `must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  const cursor = query.cursor ? decodeCursor(query.cursor) : null;
  const rows = await ctx.db
    .selectFrom('events as e')
    .select(['e.time_ms', 'e.id', 'e.body'])
    .where((eb) => {
      const all = conditions(ctx, eb, query);
      if (cursor)
        all.push(eb(eb.refTuple('e.time_ms', 'e.id'), '<', eb.tuple(cursor[0], cursor[1])));
      return eb.and(all);
    })
    .orderBy('e.time_ms', 'desc')
    .orderBy('e.id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    events: page.map((r) => toStored(r.body)),
    nextCursor: rows.length > limit && last ? encodeCursor(Number(last.time_ms), last.id) : null,
  };
}

export async function* exportEvents(
  ctx: Ctx,
  filter: EventFilter,
  batchSize = 1000,
): AsyncGenerator<StoredEvent> {
  let cursor: string | undefined;
  for (;;) {
    const page = await queryEvents(ctx, {
      ...filter,
      limit: batchSize,
      ...(cursor ? { cursor } : {}),
    });
    yield* page.events;
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}

export async function getEvent(ctx: Ctx, id: string): Promise<StoredEvent | null> {
  const row = await ctx.db
    .selectFrom('events')
    .select('body')
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toStored(row.body) : null;
}

const FACET_COLUMNS = {
  type: 'e.type',
  severity: 'e.severity',
  verdict: 'e.verdict',
  workspace: 'e.workspace',
} as const;

export async function eventFacets(ctx: Ctx, filter: EventFilter): Promise<EventFacets> {
  const counts = async (
    column: (typeof FACET_COLUMNS)[keyof typeof FACET_COLUMNS],
    top: number,
  ) => {
    const rows = await ctx.db
      .selectFrom('events as e')
      .select((eb) => [eb.ref(column).as('value'), eb.fn.countAll<number>().as('count')])
      .where((eb) => eb.and(conditions(ctx, eb, filter)))
      .groupBy(column)
      .orderBy('count', 'desc')
      .orderBy('value')
      .limit(top)
      .execute();
    return rows.map((r): FacetCount => ({
      value: r.value as string | null,
      count: Number(r.count),
    }));
  };
  const total = await ctx.db
    .selectFrom('events as e')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where((eb) => eb.and(conditions(ctx, eb, filter)))
    .executeTakeFirstOrThrow();
  return {
    total: Number(total.count),
    type: await counts(FACET_COLUMNS.type, 100),
    severity: await counts(FACET_COLUMNS.severity, 10),
    verdict: await counts(FACET_COLUMNS.verdict, 10),
    workspace: await counts(FACET_COLUMNS.workspace, 50),
  };
}

/** Deletes in chunks, each its own statement, so a big purge never holds a long lock. */
export async function deleteEventsBefore(ctx: Ctx, before: Date, chunk = 10_000): Promise<number> {
  const cutoff = before.getTime();
  let deleted = 0;
  for (;;) {
    const result = await ctx.db
      .deleteFrom('events')
      .where('id', 'in', (eb) =>
        eb.selectFrom('events').select('id').where('time_ms', '<', cutoff).limit(chunk),
      )
      .executeTakeFirst();
    const n = Number(result.numDeletedRows);
    deleted += n;
    if (n < chunk) return deleted;
  }
}
