/**
 * Refusals that are not a policy verdict but a limit of the entrance: a SOCKS5 command egress
 * does not relay (BIND, UDP ASSOCIATE), or a transparent connection that names no destination.
 * They are recorded like any denial (request.denied through the gate) and never let through,
 * not even in monitor mode: there is nothing egress could forward them to.
 */
import type { CompiledPolicy, Decision } from '../../policy/index.js';
import { noPolicyDecision, type GateTarget } from './gate.js';

export function protocolRefusal(
  compiled: CompiledPolicy | null,
  target: GateTarget,
  reason: 'no_destination_name' | 'unsupported_command',
  error: string,
): Decision {
  const base = noPolicyDecision(target);
  return {
    ...base,
    ...(compiled
      ? {
          mode: compiled.policy.mode,
          policy: { name: compiled.policy.name, version: compiled.version },
        }
      : {}),
    reason,
    error,
  };
}
