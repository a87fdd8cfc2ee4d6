/**
 * The canonical audit event (DESIGN.md section 5): one JSON object per lifecycle step, the same
 * shape for every producer (proxy, DNS, sandbox) and every consumer (audit log, control plane).
 * Field names are exported constants so producers and queries cannot drift apart.
 */
import type { Decision, RuleRef } from '../policy/decision.js';
import type { Mode, Transport, Verdict } from '../policy/model.js';
import { stampAt, type EventStamp } from './event-id.js';

export const EVENT_TYPES = [
  'request.opened',
  'request.allowed',
  'request.denied',
  'request.closed',
  'request.failed',
  'dns.query',
  'udp.dropped',
  'inspect.exchange',
  'decider.failure',
  // Inbound traffic to a published port (egress run --publish): one per connection or UDP flow.
  'ingress.accepted',
  'ingress.refused',
  'ingress.closed',
  // The data plane's own lifecycle: which policy was in force from when to when.
  'proxy.started',
  'proxy.stopped',
  // The control plane's own changes (DESIGN.md 9.2): who changed what, at which scope, with the
  // versions before and after (`scope`, `before`, `after` fields).
  'scope.created',
  'policy.created',
  'policy.updated',
  'policy.deleted',
  'policy.applied',
  'policy.enforced',
  'policy.unassigned',
  'role.created',
  'role.granted',
  'role.revoked',
  'user.created',
  'token.created',
  'token.revoked',
  'auth.failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type Severity = 'info' | 'warning' | 'critical';

/** Field names of the canonical event, in the order they are written. */
export const EVENT_FIELDS = [
  'id',
  'time',
  'type',
  'requestId',
  'severity',
  'workspace',
  'session',
  'user',
  'policy',
  'mode',
  'verdict',
  'enforced',
  'wouldDeny',
  'reason',
  'rule',
  'client',
  'destination',
  'http',
  'bytesIn',
  'bytesOut',
  'durationMs',
  'description',
] as const;

export interface EventDestination {
  host: string;
  ip?: string;
  port: number;
  transport: Transport;
  scheme?: string;
}

export interface AuditEvent {
  id: string;
  time: string;
  type: EventType;
  /**
   * The request this event is a step of (UUIDv7, the same on every step of one request), or
   * null for events that belong to no request (proxy.started, dns.query, udp.dropped, ...).
   */
  requestId: string | null;
  severity: Severity;
  workspace: string | null;
  session: string | null;
  user: string | null;
  policy: { id: string | null; name: string; version: string } | null;
  mode: Mode | null;
  verdict: Verdict | null;
  enforced: boolean | null;
  wouldDeny: boolean | null;
  reason: string | null;
  rule: Pick<RuleRef, 'index' | 'kind' | 'source'> | null;
  client: { address: string | null };
  destination: EventDestination | null;
  http: { method?: string; path?: string; status?: number; [key: string]: unknown } | null;
  bytesIn: number | null;
  bytesOut: number | null;
  durationMs: number | null;
  description: string;
}

/** Who made the request: the identified workspace and its session. */
export interface ClientContext {
  workspace: string | null;
  session: string | null;
  user: string | null;
  address: string | null;
}

export interface EventInput {
  type: EventType;
  /** The request this event is a step of (RequestFlow.id). */
  requestId?: string | null;
  client: ClientContext;
  description: string;
  severity?: Severity;
  decision?: Decision;
  destination?: EventDestination | null;
  http?: AuditEvent['http'];
  bytesIn?: number;
  bytesOut?: number;
  durationMs?: number;
  /** Overrides the decision's reason (request.failed: `upstream_refused`, ...). */
  reason?: string;
  /** Extra type-specific fields (dns.query answers, inspect bodies, ...). */
  extra?: Record<string, unknown>;
}

function severityFor(input: EventInput): Severity {
  if (input.severity) return input.severity;
  if (input.type === 'decider.failure' || input.type === 'request.failed') return 'warning';
  if (input.type === 'request.denied' || input.type === 'ingress.refused') return 'warning';
  if (input.decision?.wouldDeny) return 'warning';
  return 'info';
}

/** Builds an event with every canonical field present (null when not applicable). */
export function buildEvent(
  input: EventInput,
  stamp: EventStamp = stampAt(Date.now()),
): AuditEvent & Record<string, unknown> {
  const d = input.decision;
  const destination =
    input.destination !== undefined
      ? input.destination
      : d
        ? {
            host: d.destination.host,
            ...(d.destination.ip ? { ip: d.destination.ip } : {}),
            port: d.destination.port,
            transport: d.destination.transport,
          }
        : null;
  return {
    id: stamp.id,
    time: stamp.time,
    type: input.type,
    requestId: input.requestId ?? null,
    severity: severityFor(input),
    workspace: input.client.workspace,
    session: input.client.session,
    user: input.client.user,
    policy: d ? { id: null, name: d.policy.name, version: d.policy.version } : null,
    mode: d?.mode ?? null,
    verdict: d?.verdict ?? null,
    enforced: d?.enforced ?? null,
    wouldDeny: d?.wouldDeny ?? null,
    reason: input.reason ?? d?.reason ?? null,
    rule: d?.rule ? { index: d.rule.index, kind: d.rule.kind, source: d.rule.source } : null,
    client: { address: input.client.address },
    destination,
    http: input.http ?? null,
    bytesIn: input.bytesIn ?? null,
    bytesOut: input.bytesOut ?? null,
    durationMs: input.durationMs ?? null,
    description: input.description,
    // Most events have no extra fields: skip the spread (a builtin call) for them.
    ...(input.extra ? input.extra : undefined),
  };
}
