/**
 * decideIngress(): may traffic come IN to a port of the workspace (`egress run --publish`)?
 * Ingress rules are ports and transports only (Fly policies' ingress rules, native
 * `ingress: { default, allow }`), so the answer depends on the port alone and is a Decision
 * like any other: same modes, same shape in events.
 *
 * A policy without an ingress section says nothing about inbound traffic: allowed, with the
 * reason `ingress_unrestricted` (the user asked for the port, nothing forbids it).
 */
import type { Decision, ReasonCode, RuleRef } from '../decision.js';
import { formatLocation } from '../source/diagnostics.js';
import type { IngressRule, PortRange, Transport, Verdict } from '../model.js';
import type { CompiledPolicy } from './compile.js';
import { buildDecision } from './decide.js';

export interface IngressQuery {
  /** The port inside the workspace that traffic is published to. */
  port: number;
  transport: Transport;
}

function inRanges(port: number, ranges: readonly PortRange[] | undefined): boolean {
  return !ranges || ranges.some((r) => port >= r.from && port <= r.to);
}

function rangesText(ranges: readonly PortRange[] | undefined): string {
  if (!ranges) return 'every port';
  return ranges.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(',');
}

function ingressRef(rule: IngressRule, index: number): RuleRef {
  return {
    index,
    kind: 'ingress',
    source: rule.source ? formatLocation(rule.source) : null,
    pattern: `${rangesText(rule.ports)}/${rule.transport}`,
  };
}

export function decideIngress(compiled: CompiledPolicy, query: IngressQuery): Decision {
  const ingress = compiled.policy.ingress;
  let verdict: Verdict = 'allow';
  let reason: ReasonCode = 'ingress_unrestricted';
  let rule: RuleRef | null = null;
  if (ingress) {
    const index = ingress.allow.findIndex(
      (r) =>
        (r.transport === 'any' || r.transport === query.transport) && inRanges(query.port, r.ports),
    );
    if (index >= 0) {
      reason = 'allowed_by_rule';
      rule = ingressRef(ingress.allow[index]!, index);
    } else {
      verdict = ingress.default;
      reason = verdict === 'allow' ? 'default_allow' : 'default_deny';
    }
  }
  // The destination is the workspace's own port: what the published traffic is delivered to.
  return buildDecision(compiled, verdict, reason, rule, {
    host: 'localhost',
    port: query.port,
    transport: query.transport,
  });
}
