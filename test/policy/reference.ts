/**
 * A deliberately naive policy evaluator: walk every rule and every selector in order, match
 * each one by plain string and number comparisons. The compiled engine (trie, interval tables,
 * cut-short segments) must agree with it on every destination.
 */
import type { Decision, ReasonCode } from '../../src/policy/decision.js';
import type { Policy, Rule, Selector, Transport } from '../../src/policy/model.js';
import { normaliseHost, type NormalHost } from '../../src/policy/normalise/host.js';
import { parseIp, type IpAddress } from '../../src/policy/normalise/ip.js';
import { parseCidr } from '../../src/policy/patterns/cidr.js';
import { classifyIp } from '../../src/policy/engine/ip-class.js';
import { describeSelector } from '../../src/policy/engine/compile.js';

export interface RefOutcome {
  allowed: boolean;
  verdict: 'allow' | 'deny';
  reason: ReasonCode;
  rule: { index: number; pattern: string } | null;
}

function labelMatches(pattern: string, label: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*')) return pattern === label;
  const source = pattern
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(label);
}

function hostMatches(sel: Selector, name: string): boolean {
  const pattern = sel.host!;
  if (pattern === '*' || pattern === '**') return true;
  if (sel.includeSubdomains) return name === pattern || name.endsWith(`.${pattern}`);
  const p = pattern.split('.');
  const n = name.split('.');
  if (p[0] === '**') {
    const rest = p.slice(1);
    if (n.length <= rest.length) return false;
    const tail = n.slice(n.length - rest.length);
    return rest.every((l, i) => labelMatches(l, tail[i]!));
  }
  return p.length === n.length && p.every((l, i) => labelMatches(l, n[i]!));
}

function ipMatches(cidrText: string, ip: IpAddress): boolean {
  const cidr = parseCidr(cidrText);
  if (!cidr.ok) throw new Error(`bad cidr in reference: ${cidrText}`);
  const { v4, v6 } = cidr.value;
  const four = ip.kind === 'ipv4' ? ip : ip.embeddedV4;
  if (v4 && four && four.value >= v4.start && four.value <= v4.end) return true;
  if (v6 && ip.kind === 'ipv6' && ip.hex >= v6.start && ip.hex <= v6.end) return true;
  return false;
}

function selectorMatches(
  sel: Selector,
  kind: Rule['kind'] | 'resource',
  host: NormalHost,
  port: number,
  transport: Transport,
  ipOnly = false,
): boolean {
  const t = sel.transport ?? (kind === 'deny' ? 'any' : 'tcp');
  if (t !== 'any' && t !== transport) return false;
  if (sel.ports && sel.ports.length && !sel.ports.some((r) => port >= r.from && port <= r.to))
    return false;
  if (sel.cidr !== undefined) return host.kind === 'ip' && ipMatches(sel.cidr, host.ip);
  if (ipOnly) return false;
  if (sel.host !== undefined) return host.kind === 'name' && hostMatches(sel, host.name);
  return true; // no target: any destination
}

/** `enforceAlways`: a deny by a rule marked `enforce: always`, applied even in monitor mode. */
const done = (
  policy: Policy,
  verdict: 'allow' | 'deny',
  reason: ReasonCode,
  rule: RefOutcome['rule'],
  enforceAlways = false,
): RefOutcome => ({
  allowed: (policy.mode === 'monitor' && !enforceAlways) || verdict === 'allow',
  verdict,
  reason,
  rule,
});

function classDenied(policy: Policy, ip: IpAddress): ReasonCode | undefined {
  const cls = classifyIp(ip);
  if (!cls || (cls === 'private' && policy.privateRanges === 'allow')) return undefined;
  return `ip_class:${cls}`;
}

/** Resources here have host names or single addresses; rules have no ecosystems. */
export function referenceDecide(
  policy: Policy,
  query: { host: string; port: number; transport: Transport },
): RefOutcome {
  const normal = normaliseHost(query.host);
  if (!normal.ok || !Number.isInteger(query.port) || query.port < 1 || query.port > 65535)
    return { allowed: false, verdict: 'deny', reason: 'invalid_destination', rule: null };
  const host = normal.host;
  for (const [index, r] of policy.resources.entries()) {
    const sel: Selector = parseCidr(r.host).ok
      ? { cidr: r.host, ...(r.ports ? { ports: r.ports } : {}) }
      : { host: r.host, ...(r.ports ? { ports: r.ports } : {}) };
    if (
      selectorMatches({ ...sel, transport: 'tcp' }, 'resource', host, query.port, query.transport)
    )
      return done(policy, 'allow', 'attached_resource', {
        index,
        pattern: describeSelector(sel),
      });
  }
  for (const [index, rule] of policy.rules.entries()) {
    for (const sel of rule.selectors) {
      if (!selectorMatches(sel, rule.kind, host, query.port, query.transport)) continue;
      const ref = { index, pattern: describeSelector(sel) };
      if (rule.kind === 'decide') return done(policy, 'deny', 'decider_required', ref);
      if (rule.kind === 'deny')
        return done(policy, 'deny', 'denied_by_rule', ref, rule.enforceAlways === true);
      if (host.kind === 'ip' && sel.cidr === undefined) {
        const cls = classDenied(policy, host.ip);
        if (cls) return done(policy, 'deny', cls, ref);
      }
      return done(policy, 'allow', 'allowed_by_rule', ref);
    }
  }
  if (policy.default === 'deny') return done(policy, 'deny', 'default_deny', null);
  if (host.kind === 'ip') {
    const cls = classDenied(policy, host.ip);
    if (cls) return done(policy, 'deny', cls, null);
  }
  return done(policy, 'allow', 'default_allow', null);
}

/** Phase two: may an allowed decision connect to `address`? */
export function referenceDecideAddress(
  policy: Policy,
  decision: Decision,
  address: string,
): RefOutcome {
  const same = (): RefOutcome => ({
    allowed: decision.allowed,
    verdict: decision.verdict,
    reason: decision.reason,
    rule: decision.rule ? { index: decision.rule.index, pattern: decision.rule.pattern } : null,
  });
  const parsed = parseIp(address);
  if (!parsed.ok)
    return { allowed: false, verdict: 'deny', reason: 'invalid_destination', rule: same().rule };
  if (decision.verdict === 'deny' || decision.reason === 'attached_resource') return same();
  const host: NormalHost = { kind: 'ip', ip: parsed.value, name: parsed.value.text };
  const { port, transport } = decision.destination;
  for (const [index, rule] of policy.rules.entries()) {
    const sel = rule.selectors.find((s) =>
      selectorMatches(s, rule.kind, host, port, transport, true),
    );
    if (!sel) continue;
    if (rule.kind === 'deny')
      return done(
        policy,
        'deny',
        'denied_by_rule',
        { index, pattern: describeSelector(sel) },
        rule.enforceAlways === true,
      );
    if (rule.kind === 'allow') return same();
    break; // a decide rule for the address: the classes decide
  }
  const cls = classDenied(policy, parsed.value);
  if (cls) return { ...done(policy, 'deny', cls, null), rule: same().rule };
  return same();
}
