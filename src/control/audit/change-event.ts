/**
 * Control-plane changes as canonical audit events (DESIGN.md 5 and 9.2): every change says who
 * made it (`user`), where (`scope`, a scope path), and what it changed (`before` and `after`,
 * each `{id, name, version}` of a policy or null), in one readable sentence. They go into the
 * same store and the same query as the data plane's events.
 */
import {
  buildEvent,
  type AuditEvent,
  type EventType,
  type Severity,
} from '../../protocol/audit-event.js';
import { stampAt } from '../../protocol/event-id.js';

export interface PolicyVersionRef {
  id: string;
  name: string;
  version: number;
}

export interface ChangeInput {
  type: EventType;
  /** Who: the user's name (null for the system, e.g. first start). */
  user: string | null;
  /** The client address the request came from. */
  address: string | null;
  /** Where: the scope path the change is at. */
  scope: string;
  description: string;
  before?: PolicyVersionRef | null;
  after?: PolicyVersionRef | null;
  severity?: Severity;
  /** Type-specific details (role, target user, enforced, ...). */
  details?: Record<string, unknown>;
}

function policyField(ref: PolicyVersionRef | null | undefined): AuditEvent['policy'] {
  return ref ? { id: ref.id, name: ref.name, version: String(ref.version) } : null;
}

export type ChangeEvent = AuditEvent & Record<string, unknown>;

export function changeEvent(input: ChangeInput, nowMs: number): ChangeEvent {
  const event = buildEvent(
    {
      type: input.type,
      client: {
        workspace: input.scope.includes('/workspaces/') ? input.scope : null,
        session: null,
        user: input.user,
        address: input.address,
      },
      description: input.description,
      ...(input.severity ? { severity: input.severity } : {}),
      extra: {
        scope: input.scope,
        before: input.before ?? null,
        after: input.after ?? null,
        ...input.details,
      },
    },
    stampAt(nowMs),
  );
  event.policy = policyField(input.after ?? input.before);
  return event;
}
