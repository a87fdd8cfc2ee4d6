/**
 * Newly stored audit events, pushed to whoever listens in this process (the live stream of
 * GET /api/v1/events/stream). The store wrapper in publishing-store.ts publishes after each
 * commit. A batch sent twice (nodes retry) is published once: the hub remembers the most
 * recent ids it published. Events stored by another `egress serve` process on the same
 * PostgreSQL database are not seen here (clients reconnect with Last-Event-ID to catch up).
 */
import type { StorableEvent, StoredEvent } from '../store/store.js';

export type EventListener = (events: readonly StoredEvent[]) => void;

const REMEMBERED_IDS = 50_000;

export class EventHub {
  private readonly listeners = new Set<EventListener>();
  private readonly recent = new Set<string>();

  /** Calls `listener` with every batch of new events; the returned function stops it. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.listeners.size;
  }

  /**
   * `inserted` is the store's count of new events in the batch: 0 publishes nothing; fewer
   * than the batch publishes those not published recently (the others were duplicates).
   */
  publish(events: readonly StorableEvent[], inserted: number): void {
    if (inserted === 0 || events.length === 0) return;
    const fresh: StoredEvent[] = [];
    for (const e of events) {
      if (this.recent.has(e.id)) continue;
      this.remember(e.id);
      fresh.push(e as StoredEvent);
    }
    if (fresh.length === 0 || this.listeners.size === 0) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(fresh);
      } catch {
        // A listener that throws is its own problem; the others still get the batch.
      }
    }
  }

  private remember(id: string): void {
    this.recent.add(id);
    if (this.recent.size > REMEMBERED_IDS) {
      // Sets iterate in insertion order: the first is the oldest.
      const oldest = this.recent.values().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }
}
