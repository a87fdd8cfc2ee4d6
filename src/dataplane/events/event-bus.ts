/**
 * Where events go: the durable audit log (if configured) and in-process listeners (metrics,
 * the run summary, tests). `emit` resolves when the event is durable; listeners are called
 * synchronously and can never block or break the data path.
 */
import type { AuditLog } from './audit-log.js';
import { buildEvent, type AuditEvent, type EventInput } from '../../protocol/audit-event.js';
import { EventClock } from '../../protocol/event-id.js';

export type EventListener = (event: AuditEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private readonly clock = new EventClock();

  constructor(private readonly log: AuditLog | null = null) {}

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** False once the audit log has failed: callers must stop letting traffic through. */
  get healthy(): boolean {
    return this.log === null || this.log.healthy;
  }

  /** Builds, publishes and durably records an event. Rejects with AuditUnavailableError. */
  async emit(input: EventInput): Promise<AuditEvent> {
    const event = this.publish(input);
    if (this.log) await this.log.record(event);
    return event;
  }

  /**
   * True when something consumes events (the audit log or a listener). When nothing does,
   * producers on hot paths may skip composing an event (descriptions cost more than the rest).
   */
  get active(): boolean {
    return this.log !== null || this.listeners.size > 0;
  }

  /**
   * For events whose durability nobody waits on (opened, allowed, closed): written with the
   * next batch, without a promise per event. If the log has failed, the event is lost with the
   * rest, and `healthy` already tells the data path to stop letting traffic through.
   */
  emitLater(input: EventInput): void {
    // Nobody would see it: building it (id, clock, strings) is pure cost on the data path.
    if (!this.active) return;
    const event = this.publish(input);
    this.log?.append(event);
  }

  private publish(input: EventInput): AuditEvent {
    const event = buildEvent(input, this.clock.stamp());
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not affect traffic or the audit trail.
      }
    }
    return event;
  }
}
