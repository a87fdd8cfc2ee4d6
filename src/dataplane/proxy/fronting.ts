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
  const header = hostHeaderTarget(hostHeader, target.port);
  const host = normaliseHost(target.host);
  if (header && host.ok && header.host === host.host.name) return undefined;
  let judged: Decision | undefined;
  if (header) {
    judged = decide(compiled, { host: header.host, port: target.port, transport: 'tcp' });
    if (judged.verdict === 'allow') return undefined;
  }
  const decision = frontingDecision(compiled, target, 'host_mismatch', judged);
  return { ...decision, error: `HTTP Host "${hostHeader}"` };
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
  const host = normaliseHost(target.host);
  if (sni.ok && host.ok && sni.host.name === host.host.name) return undefined;
  let judged: Decision | undefined;
  if (sni.ok) {
    judged = decide(compiled, { host: sni.host.name, port: target.port, transport: 'tcp' });
    if (judged.verdict === 'allow') return undefined;
  }
  const decision = frontingDecision(compiled, target, 'sni_mismatch', judged);
  return { ...decision, error: `TLS server name "${serverName}"` };
}
