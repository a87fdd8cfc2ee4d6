/**
 * Domain fronting: a request whose routing name (the absolute URI, the CONNECT authority, the
 * address a redirected connection was admitted by) is allowed but whose real name (the Host
 * header, the TLS server name) is another. The upstream would serve the other name, so the
 * allowed name must not be a ticket to it. Pure: the data plane parses the Host header or the
 * ClientHello and asks here.
 */
import type { Decision, DestinationQuery } from '../decision.js';
import { normaliseHost } from '../normalise/host.js';
import type { CompiledPolicy } from './compile.js';
import { buildDecision, decide } from './decide.js';

export type FrontingReason = 'host_mismatch' | 'sni_mismatch';

/**
 * The refusal of a fronted request, recorded (wouldDeny) but let through in monitor mode,
 * unless `real`, the policy's decision for the name the upstream would serve, is a deny by a
 * rule marked `enforce: always`: monitor mode must not let that name through here either.
 */
export function frontingDecision(
  compiled: CompiledPolicy,
  target: DestinationQuery,
  reason: FrontingReason,
  real?: Decision,
): Decision {
  const routed = decide(compiled, target).destination;
  const enforce = real !== undefined && real.enforced && !real.allowed;
  return buildDecision(compiled, 'deny', reason, null, routed, enforce);
}

/**
 * An absolute-form request's Host header (`header`: parsed, or undefined when it does not parse)
 * against its URI: the same host and port pass (undefined), anything else is fronting.
 */
export function hostHeaderFronting(
  compiled: CompiledPolicy,
  target: DestinationQuery,
  header: { host: string; port: number } | undefined,
): Decision | undefined {
  const uri = normaliseHost(target.host);
  if (header && uri.ok && header.host === uri.host.name && header.port === target.port)
    return undefined;
  const real = header
    ? decide(compiled, { host: header.host, port: header.port, transport: 'tcp' })
    : undefined;
  return frontingDecision(compiled, target, 'host_mismatch', real);
}

/**
 * The name a tunnel's bytes really ask for (`real`, canonical; undefined when it does not
 * parse) against the name it was admitted for: the same name passes, another one passes only
 * if the policy allows it on the tunnel's port. `what` names it for the decision's `error`.
 */
export function realNameRefusal(
  compiled: CompiledPolicy,
  target: DestinationQuery,
  real: string | undefined,
  reason: FrontingReason,
  what: string,
): Decision | undefined {
  const host = normaliseHost(target.host);
  if (real !== undefined && host.ok && real === host.host.name) return undefined;
  let judged: Decision | undefined;
  if (real !== undefined) {
    judged = decide(compiled, { host: real, port: target.port, transport: 'tcp' });
    if (judged.verdict === 'allow') return undefined;
  }
  const decision = frontingDecision(compiled, target, reason, judged);
  decision.error = what;
  return decision;
}

/** SNI vs the tunnel's name: a different server name must be one the policy allows. */
export function sniRefusal(
  compiled: CompiledPolicy,
  target: DestinationQuery,
  serverName: string,
): Decision | undefined {
  const sni = normaliseHost(serverName);
  const real = sni.ok ? sni.host.name : undefined;
  return realNameRefusal(compiled, target, real, 'sni_mismatch', `TLS server name "${serverName}"`);
}
