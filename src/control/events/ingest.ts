/**
 * Event ingestion (DESIGN.md 9.4): NDJSON batches from data-plane nodes, stored idempotently by
 * event `id` (a batch sent twice is stored once: at-least-once delivery becomes exactly once).
 * Each line is checked on its own; a bad line is reported by its number and not stored, so one
 * malformed event cannot wedge a node's spool, and nothing else in the batch is lost.
 */
import { z } from 'zod';
import { isAtOrAbove, parseScopePath } from '../rbac/scope-path.js';
import type { StorableEvent } from '../store/store.js';

export const MAX_BATCH_BYTES = 16 * 1024 * 1024;
export const MAX_BATCH_EVENTS = 50_000;

const eventLine = z
  .object({
    id: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[0-9A-Za-z-]+$/, 'ids are UUIDs (letters, digits, "-")'),
    time: z
      .string()
      .max(40)
      .refine((t) => !Number.isNaN(Date.parse(t)), 'not an ISO 8601 time'),
    type: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/, 'types look like "request.denied"'),
    severity: z.enum(['info', 'warning', 'critical']),
    description: z.string().max(4000),
    workspace: z.string().max(400).nullable().optional(),
    user: z.string().max(400).nullable().optional(),
    scope: z.string().max(400).nullable().optional(),
  })
  .passthrough();

export interface RejectedLine {
  line: number;
  field: string;
  message: string;
}

export interface ParsedBatch {
  events: StorableEvent[];
  rejected: RejectedLine[];
}

/**
 * The scope an event belongs to, which RBAC filters by: the scope it names, else its workspace
 * when that is a scope path, else the sender's scope. A node may not file events outside its
 * own scope.
 */
function scopeOf(
  event: { scope?: string | null; workspace?: string | null },
  senderScope: string,
): string | Error {
  const named =
    event.scope ?? (event.workspace && parseScopePath(event.workspace) ? event.workspace : null);
  if (named === null) return senderScope;
  if (!parseScopePath(named)) return new Error(`"${named}" is not a scope path`);
  if (!isAtOrAbove(senderScope, named))
    return new Error(`this sender may not file events for "${named}"`);
  return named;
}

export function parseBatch(text: string, senderScope: string, node: string | null): ParsedBatch {
  const events: StorableEvent[] = [];
  const rejected: RejectedLine[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      rejected.push({ line: i + 1, field: 'line', message: `not JSON: ${(err as Error).message}` });
      return;
    }
    const parsed = eventLine.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      rejected.push({ line: i + 1, field: issue.path.join('.') || 'line', message: issue.message });
      return;
    }
    const scope = scopeOf(parsed.data, senderScope);
    if (scope instanceof Error) {
      rejected.push({ line: i + 1, field: 'scope', message: scope.message });
      return;
    }
    events.push({ ...(parsed.data as StorableEvent), scope, ...(node ? { node } : {}) });
  });
  return { events, rejected };
}
