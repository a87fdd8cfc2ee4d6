/** explain(): one plain sentence for a decision, for people and for agents. */
import type { Decision, RuleRef } from '../decision.js';

export function describeDestination(d: Decision['destination']): string {
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  const via = d.ip && d.ip !== d.host ? ` (${d.ip})` : '';
  return `${host}:${d.port}${d.transport === 'udp' ? '/udp' : ''}${via}`;
}

function describeRule(rule: RuleRef): string {
  const where = rule.source ? ` at ${rule.source}` : '';
  const label = rule.name ? ` "${rule.name}"` : '';
  if (rule.kind === 'resource')
    return `attached resource ${rule.index + 1} (${rule.pattern}${where})`;
  if (rule.kind === 'ingress') return `ingress rule ${rule.index + 1} (${rule.pattern}${where})`;
  return `rule ${rule.index + 1}${label} (${rule.kind} ${rule.pattern}${where})`;
}

const CLASS_WORDS: Record<string, string> = {
  loopback: 'a loopback address',
  unspecified: 'an unspecified address',
  link_local: 'a link-local address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  metadata: 'a cloud metadata address',
  private: 'a private-range address',
  reserved: 'a reserved address',
  proxy_self: "the proxy's own address",
};

/** Why, without the verdict: "rule 2 (deny **.example.com at p.yaml:4:5) matched". */
export function explainReason(decision: Decision): string {
  const policy = `policy "${decision.policy.name}"`;
  switch (decision.reason) {
    case 'allowed_by_rule':
    case 'denied_by_rule':
      return `${describeRule(decision.rule!)} of ${policy} matched`;
    case 'default_allow':
    case 'default_deny':
      return `no rule of ${policy} matched, and its default is ${decision.reason === 'default_allow' ? 'allow' : 'deny'}`;
    case 'attached_resource':
      return `it is ${describeRule(decision.rule!)} of the workspace, always reachable`;
    case 'decider_required':
      return `${describeRule(decision.rule!)} of ${policy} asks an external decider${decision.decider ? '' : ', and none is configured'}`;
    case 'decider_allow':
    case 'decider_deny':
      return `the decider of ${decision.rule ? describeRule(decision.rule) : policy} answered ${decision.reason === 'decider_allow' ? 'allow' : 'deny'}${decision.deciderReason ? ` ("${decision.deciderReason}")` : ''}`;
    case 'decider_timeout':
      return `the decider of ${policy} did not answer in time, so the request fails closed`;
    case 'decider_error':
      return `the decider of ${policy} failed, so the request fails closed`;
    case 'decider_bad_return':
      return `the decider of ${policy} gave an answer that is neither allow nor deny, so the request fails closed`;
    case 'invalid_destination':
      return `the destination is not valid${decision.error ? `: ${decision.error}` : ''}`;
    case 'host_mismatch':
      return 'the Host header names a different host than the request target (domain fronting)';
    case 'sni_mismatch':
      return `the TLS server name differs from the tunnel's host and ${policy} does not allow it (domain fronting)`;
    case 'no_policy':
      return 'no policy applies to this client, so it fails closed';
    case 'ingress_unrestricted':
      return `${policy} has no ingress rules, so it does not restrict inbound traffic`;
    case 'no_destination_name':
      return 'the connection names no destination (no TLS server name, no Host header), so egress cannot judge it';
    case 'unsupported_command':
      return `egress relays TCP connections only${decision.error ? ` and refuses ${decision.error}` : ''} (UDP is dropped by design)`;
    default: {
      const cls = decision.reason.slice('ip_class:'.length);
      const by = decision.rule ? `, although ${describeRule(decision.rule)} allows the name` : '';
      return `it is ${CLASS_WORDS[cls] ?? cls}, which is denied unless the policy allows that address explicitly${by}`;
    }
  }
}

export function explain(decision: Decision): string {
  const dest = describeDestination(decision.destination);
  const verb = decision.verdict === 'allow' ? 'Allowed' : 'Denied';
  // In monitor mode only a rule marked `enforce: always` enforces its deny.
  const monitor = decision.wouldDeny
    ? ' (monitor mode: let through, but restrict would deny it)'
    : decision.mode === 'monitor' && decision.enforced && decision.verdict === 'deny'
      ? ' (blocked even in monitor mode: the rule says "enforce: always")'
      : '';
  return `${verb} ${dest}${monitor}: ${explainReason(decision)}.`;
}
