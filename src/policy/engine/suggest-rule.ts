/**
 * What to change so a denied destination is allowed, as shown in 403 bodies and in the
 * `egress run` summary. For a default deny or an address class that is a new allow entry
 * (host:port, or a CIDR entry for an address class, with `transport: udp` for UDP). For a
 * deny rule it is that rule: an allow added at the end changes nothing, because the deny
 * matches first, so the advice names the deny rule and where it is written.
 */
import type { DecidedDestination, RuleRef } from '../decision.js';

export function suggestAllowRule(destination: DecidedDestination, reason: string): string {
  const d = destination;
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  const transport = d.transport === 'udp' ? ', transport: udp' : '';
  if (reason.startsWith('ip_class:') && d.ip)
    return `- allow: [{ cidr: ${d.ip}, ports: [${d.port}]${transport} }]`;
  return transport
    ? `- allow: [{ host: ${host}, ports: [${d.port}]${transport} }]`
    : `- allow: ["${host}:${d.port}"]`;
}

/** What a denial knows about the rule that made it (a Decision's, or an audit event's). */
export type DenyingRule = Pick<RuleRef, 'index' | 'kind' | 'source'> & { pattern?: string };

/** "rule 2 (deny **.example.com at p.yaml:6:12)". */
function ruleWords(rule: DenyingRule): string {
  const what = rule.pattern ? ` ${rule.pattern}` : '';
  const where = rule.source ? ` at ${rule.source}` : '';
  return `rule ${rule.index + 1} (${rule.kind}${what}${where})`;
}

/**
 * The lines that tell a denied client how to get access. `accessHint` is who to ask ("ask the
 * owner of this policy to add a rule"); for a deny rule the lines say which rule to change.
 */
export function accessAdvice(
  denial: { destination: DecidedDestination; reason: string; rule: DenyingRule | null },
  accessHint: string,
): string[] {
  const allow = suggestAllowRule(denial.destination, denial.reason);
  const rule = denial.rule;
  if (rule?.kind !== 'deny') return [`To get access, ${accessHint}, for example:`, `  ${allow}`];
  const at = rule.source ? ` at ${rule.source}` : '';
  const entry = rule.pattern ? `"${rule.pattern}"` : 'this destination';
  return [
    `Rule ${ruleWords(rule).slice('rule '.length)} denies this destination on purpose, so an allow rule added after it changes nothing.`,
    `To get access, ${accessHint}. The rule to change is rule ${rule.index + 1}${at}: remove or narrow ${entry} there, or put this allow rule above it:`,
    `  ${allow}`,
  ];
}

/**
 * One line for the `egress run` summary: the allow entry to write (`allow`, from
 * suggestAllowRule), or, for a deny rule, which rule to change.
 */
export function accessAdviceLine(rule: DenyingRule | null, allow: string): string {
  if (rule?.kind !== 'deny') return `to allow: ${allow}`;
  const where = rule.source ? ` at ${rule.source}` : '';
  return `to allow: change deny rule ${rule.index + 1}${where} (an allow added after it changes nothing), or put ${allow} above it`;
}
