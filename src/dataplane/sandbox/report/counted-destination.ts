/**
 * How `egress run` counts destinations from audit events, shared by the learner (--learn) and
 * the end-of-run denial summary so both agree on what "the same destination" and "how often"
 * mean.
 */
import type { AuditEvent } from '../../../protocol/audit-event.js';

export type CountedKind = 'connection' | 'dns' | 'udp';

export interface CountedDestination {
  host: string;
  /** 0 for DNS: a name lookup has no port. */
  port: number;
  /** How many this event stands for: one, or the packets a udp.dropped event reports. */
  count: number;
}

/**
 * UDP is counted by address (the relay sees addresses, the name only when it knows one), DNS by
 * name alone, connections by name and port.
 */
export function countedDestination(
  kind: CountedKind,
  event: AuditEvent & { destination: NonNullable<AuditEvent['destination']> },
): CountedDestination {
  const d = event.destination;
  return {
    host: kind === 'udp' ? (d.ip ?? d.host) : d.host,
    port: kind === 'dns' ? 0 : d.port,
    count: kind === 'udp' ? Number((event as { packets?: number }).packets ?? 1) : 1,
  };
}

/**
 * The count after one more event for a destination already seen: connections and lookups add
 * up, while UDP events carry a running packet total for their flow, so the largest wins.
 */
export function addCount(kind: CountedKind, previous: number, count: number): number {
  return kind === 'udp' ? Math.max(previous, count) : previous + 1;
}
