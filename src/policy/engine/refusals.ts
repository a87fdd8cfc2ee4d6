/**
 * Decisions the policy walk does not make but the request path needs, built by buildDecision
 * like every other decision (one shape, the mode applied in one place):
 *
 * - no policy applies to the client (fail closed);
 * - a limit of the entrance, not a verdict: a SOCKS5 command egress does not relay, or a
 *   redirected connection that names no destination. Never let through, not even in monitor
 *   mode: there is nothing egress could forward them to;
 * - what an external decider answered, or that it failed (a deny, recorded as wouldDeny in
 *   monitor mode like every other monitor-mode deny).
 */
import type { Decision, DestinationQuery, ReasonCode } from '../decision.js';
import type { Verdict } from '../model.js';
import type { CompiledPolicy } from './compile.js';
import { buildDecision, type DecidingPolicy } from './decide.js';

/** The stand-in for "no policy": restrict mode, so its deny is enforced. */
const NO_POLICY: DecidingPolicy = {
  policy: { mode: 'restrict' },
  policyRef: Object.freeze({ name: '(none)', version: '-' }),
};

function destinationOf(target: DestinationQuery): Decision['destination'] {
  return { host: target.host, port: target.port, transport: target.transport ?? 'tcp' };
}

/** The decision for a client no policy applies to: deny, fail closed (DESIGN.md 3.3). */
export function noPolicyDecision(target: DestinationQuery): Decision {
  return buildDecision(NO_POLICY, 'deny', 'no_policy', null, destinationOf(target));
}

/** A refusal by the entrance itself (`error` says what was refused: "SOCKS5 BIND"). */
export function protocolRefusal(
  compiled: CompiledPolicy | null,
  target: DestinationQuery,
  reason: 'no_destination_name' | 'unsupported_command',
  error: string,
): Decision {
  const decision = buildDecision(
    compiled ?? NO_POLICY,
    'deny',
    reason,
    null,
    destinationOf(target),
    true,
  );
  decision.error = error;
  return decision;
}

export type DeciderFailureReason = Extract<
  ReasonCode,
  'decider_timeout' | 'decider_error' | 'decider_bad_return'
>;

/** A `decide` rule whose decider could not answer: deny (wouldDeny in monitor mode). */
export function deciderFailed(
  compiled: CompiledPolicy,
  pending: Decision,
  reason: DeciderFailureReason,
): Decision {
  return buildDecision(compiled, 'deny', reason, pending.rule, pending.destination);
}

/** The decider's answer as the decision for the pending `decide` rule. */
export function deciderAnswered(
  compiled: CompiledPolicy,
  pending: Decision,
  verdict: Verdict,
  deciderReason?: string,
): Decision {
  const reason = verdict === 'deny' ? 'decider_deny' : 'decider_allow';
  const decision = buildDecision(compiled, verdict, reason, pending.rule, pending.destination);
  if (deciderReason) decision.deciderReason = deciderReason;
  return decision;
}
