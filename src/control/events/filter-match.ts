/**
 * The in-memory twin of the store's event filter (src/control/store/sql/events.ts): whether one
 * event matches an EventFilter, for events that are pushed (the live stream) rather than
 * queried. Same rules: lists are "any of", scopes are "at or beneath", `from` inclusive, `to`
 * exclusive, `q` a case-insensitive substring of the destination host or the description.
 */
import type { EventFilter, StoredEvent } from '../store/store.js';

function anyOf<T>(value: T | readonly T[] | undefined, actual: unknown): boolean {
  if (value === undefined) return true;
  const list = Array.isArray(value) ? (value as readonly T[]) : [value as T];
  return list.includes(actual as T);
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function beneath(scope: string | null, paths: readonly string[]): boolean {
  if (paths.includes('platform')) return true;
  if (scope === null) return false;
  return paths.some((p) => scope === p || scope.startsWith(`${p}/`));
}

export function matchesFilter(event: StoredEvent, filter: EventFilter): boolean {
  if (!anyOf(filter.type, event.type)) return false;
  if (!anyOf(filter.severity, event.severity)) return false;
  if (filter.workspace !== undefined && str(event.workspace) !== filter.workspace) return false;
  if (filter.user !== undefined && str(event.user) !== filter.user) return false;
  if (filter.node !== undefined && str(event.node) !== filter.node) return false;
  if (filter.verdict !== undefined && str(event.verdict) !== filter.verdict) return false;
  if (filter.reason !== undefined && str(event.reason) !== filter.reason) return false;
  const policy = event.policy as { id?: unknown } | null | undefined;
  if (filter.policyId !== undefined && str(policy?.id) !== filter.policyId) return false;
  const time = Date.parse(event.time);
  if (filter.from !== undefined && !(time >= Date.parse(filter.from))) return false;
  if (filter.to !== undefined && !(time < Date.parse(filter.to))) return false;
  if (filter.scopes !== undefined && !beneath(str(event.scope), filter.scopes)) return false;
  if (filter.q) {
    const dest = event.destination as { host?: unknown } | null | undefined;
    const text = `${str(dest?.host) ?? ''} ${event.description}`.toLowerCase();
    if (!text.includes(filter.q.toLowerCase())) return false;
  }
  return true;
}
