/**
 * Domain fronting: a request whose routing name (the absolute URI, the CONNECT authority) is
 * allowed but whose real name (the Host header, the TLS SNI) is another. The upstream would
 * serve the other name, so the allowed name must not be a ticket to it.
 */
import { decide, explain, type CompiledPolicy, type Decision } from '../../policy/index.js';
import { normaliseHost } from '../../policy/normalise/host.js';
import type { Identification } from './client-identity.js';
import type { ProxyContext } from './context.js';
import type { Admission, GateTarget } from './gate.js';
import { hostHeaderTarget } from './http-forward.js';

/**
 * `real` is the policy's decision for the name the upstream would serve, when it is known: if
 * a rule marked `enforce: always` denies that name, monitor mode must not let it through here.
 */
function frontingDecision(
  compiled: CompiledPolicy,
  target: GateTarget,
  reason: 'host_mismatch' | 'sni_mismatch',
  real?: Decision,
): Decision {
  const base = decide(compiled, target);
  const monitor = compiled.policy.mode === 'monitor' && !(real && real.enforced && !real.allowed);
  return {
    ...base,
    allowed: monitor,
    verdict: 'deny',
    enforced: !monitor,
    wouldDeny: monitor,
    reason,
    rule: null,
  };
}

/** Host header vs absolute URI: a different host or port is refused (recorded in monitor mode). */
export async function frontingRefusal(
  ctx: ProxyContext,
  id: Extract<Identification, { ok: true }>,
  target: GateTarget,
  hostHeader: string | undefined,
): Promise<Extract<Admission, { ok: false }> | undefined> {
  if (hostHeader === undefined || !id.compiled) return undefined;
  const header = hostHeaderTarget(hostHeader, target.port);
  const uri = normaliseHost(target.host);
  if (header && uri.ok && header.host === uri.host.name && header.port === target.port)
    return undefined;
  const real = header
    ? decide(id.compiled, { host: header.host, port: header.port, transport: 'tcp' })
    : undefined;
  const decision = frontingDecision(id.compiled, target, 'host_mismatch', real);
  if (decision.allowed) {
    ctx.bus.emitLater({
      type: 'request.allowed',
      client: id.client,
      decision,
      description: `${explain(decision)} (Host: ${hostHeader})`,
    });
    return undefined;
  }
  const refusal = await ctx.gate.refuse(decision, id.client, target);
  return refusal.ok ? undefined : refusal;
}

/**
 * Host header vs a tunnel's admitted name (a redirected connection admitted by its address,
 * then speaking HTTP): a Host the policy would not allow on the tunnel's port is refused.
 */
export function hostRefusal(
  compiled: CompiledPolicy,
  target: GateTarget,
  hostHeader: string,
): Decision | undefined {
  const real = hostHeaderTarget(hostHeader, target.port)?.host;
  return realNameRefusal(compiled, target, real, 'host_mismatch', `HTTP Host "${hostHeader}"`);
}

/**
 * SNI vs CONNECT authority: a different name is judged by the policy on its own; if the policy
 * would not allow it, the tunnel is refused. Returns the refusing decision, or undefined.
 */
export function sniRefusal(
  compiled: CompiledPolicy,
  target: GateTarget,
  serverName: string,
): Decision | undefined {
  const sni = normaliseHost(serverName);
  const real = sni.ok ? sni.host.name : undefined;
  return realNameRefusal(compiled, target, real, 'sni_mismatch', `TLS server name "${serverName}"`);
}

/**
 * The name a tunnel's bytes really ask for (`real`, canonical; undefined when it does not parse)
 * against the name it was admitted for: the same name passes, another one passes only if the
 * policy allows it on the tunnel's port.
 */
function realNameRefusal(
  compiled: CompiledPolicy,
  target: GateTarget,
  real: string | undefined,
  reason: 'host_mismatch' | 'sni_mismatch',
  what: string,
): Decision | undefined {
  const host = normaliseHost(target.host);
  if (real !== undefined && host.ok && real === host.host.name) return undefined;
  let judged: Decision | undefined;
  if (real !== undefined) {
    judged = decide(compiled, { host: real, port: target.port, transport: 'tcp' });
    if (judged.verdict === 'allow') return undefined;
  }
  return { ...frontingDecision(compiled, target, reason, judged), error: what };
}
