/**
 * The lifecycle of one request in the audit events (docs/events.md): `request.opened` first,
 * then at most one verdict (`request.allowed` / `request.denied`), then at most one terminal
 * event (`request.closed` / `request.failed`), every one with the same `requestId`.
 */
import assert from 'node:assert/strict';
import type { AuditEvent } from '../../src/protocol/audit-event.js';
import { eventually } from './poll.js';

type Lifecycle = Array<
  'request.opened' | 'request.allowed' | 'request.denied' | 'request.closed' | 'request.failed'
>;

const ENDS = new Set(['request.denied', 'request.closed', 'request.failed']);

/** The requestId of the last request.opened matching `where` (e.g. by destination host). */
export function requestIdOf(
  events: readonly AuditEvent[],
  where: (event: AuditEvent) => boolean,
): string | null {
  const opened = events.findLast((e) => e.type === 'request.opened' && where(e));
  if (opened) return opened.requestId;
  // No request.opened at all: the first matching event names the request (and fails below).
  return events.find((e) => e.type.startsWith('request.') && where(e))?.requestId ?? null;
}

/** The request.* types of one request, in the order they were emitted. */
export function lifecycleOf(events: readonly AuditEvent[], requestId: string | null): string[] {
  return events
    .filter((e) => e.requestId === requestId && e.type.startsWith('request.'))
    .map((e) => e.type);
}

/**
 * Asserts that request `requestId` produced exactly `expected` (its request.* events, in order),
 * that every event of it carries that id, and that nothing of it came before request.opened.
 */
export function assertLifecycle(
  events: readonly AuditEvent[],
  requestId: string | null,
  expected: Lifecycle,
): void {
  const own = events.filter((e) => e.requestId === requestId);
  assert.deepEqual(lifecycleOf(events, requestId), expected, `lifecycle of request ${requestId}`);
  assert.ok(requestId, 'the request has a requestId');
  assert.equal(own[0]?.type, 'request.opened', 'request.opened is the first event of the request');
  assert.match(requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
}

/**
 * Waits until the request matching `where` has ended (a denial, close or failure), then asserts
 * its lifecycle. Returns its events (request.* and the others: decider.failure, inspect.exchange).
 */
export async function expectLifecycle(
  events: readonly AuditEvent[],
  where: (event: AuditEvent) => boolean,
  expected: Lifecycle,
  timeoutMs = 3000,
): Promise<AuditEvent[]> {
  const last = expected.at(-1)!;
  await eventually(() => {
    const id = requestIdOf(events, where);
    if (!id) return false;
    const types = lifecycleOf(events, id);
    return ENDS.has(last) ? types.includes(last) : types.length >= expected.length;
  }, timeoutMs).catch(() => undefined);
  const id = requestIdOf(events, where);
  assertLifecycle(events, id, expected);
  return events.filter((e) => e.requestId === id);
}

/** A matcher for `expectLifecycle`: events whose destination host is `host`. */
export const toHost =
  (host: string) =>
  (event: AuditEvent): boolean =>
    event.destination?.host === host;
