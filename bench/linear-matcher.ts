/**
 * The naive baseline: walks the rules top to bottom and tests every selector with plain string
 * and number checks, as a straightforward implementation of DESIGN.md 3.2-3.4 would. It shares
 * only destination normalisation (normaliseHost), parseIp for reading CIDR bases, and the
 * address-class table with egress; the matching itself is written independently, so agreement
 * between the two on the query list is a real cross-check of the engine's lookup structures.
 *
 * Patterns are read once up front (labels split, CIDR bounds computed): re-parsing on every
 * decision would make the baseline slow for a reason unrelated to the linear scan.
 */
import type {
  DestinationQuery,
  NormalHost,
  Policy,
  PortRange,
  ReasonCode,
  RuleKind,
  Selector,
  Verdict,
} from '../src/policy/index.js';
import { classifyIp, normaliseHost, parseIp } from '../src/policy/index.js';

type Target =
  | { kind: 'any-destination' }
  | { kind: 'any-name' }
  | { kind: 'exact'; name: string }
  | { kind: 'subtree'; name: string; dotted: string }
  | { kind: 'labels'; deep: boolean; labels: string[] }
  | { kind: 'v4'; start: number; end: number }
  | { kind: 'v6'; start: bigint; end: bigint };

interface LinearSelector {
  target: Target;
  tcp: boolean;
  udp: boolean;
  ports: PortRange[] | null;
}

interface LinearRule {
  kind: RuleKind;
  selectors: LinearSelector[];
}

export interface LinearDecision {
  verdict: Verdict;
  reason: ReasonCode;
  /** Index of the deciding rule, -1 for the default or an invalid destination. */
  ruleIndex: number;
}

function hexToBigInt(hex: string): bigint {
  return BigInt(`0x${hex}`);
}

function targetOf(s: Selector): Target {
  if (s.ecosystem !== undefined) throw new Error('the linear baseline does not expand ecosystems');
  if (s.cidr !== undefined) {
    const [base, bits] = s.cidr.split('/') as [string, string | undefined];
    const ip = parseIp(base);
    if (!ip.ok) throw new Error(`bad CIDR ${s.cidr}`);
    if (ip.value.kind === 'ipv4') {
      const prefix = bits === undefined ? 32 : Number(bits);
      const size = 2 ** (32 - prefix);
      const start = Math.floor(ip.value.value / size) * size;
      return { kind: 'v4', start, end: start + size - 1 };
    }
    const prefix = bits === undefined ? 128 : Number(bits);
    const hostBits = BigInt(128 - prefix);
    const start = (hexToBigInt(ip.value.hex) >> hostBits) << hostBits;
    return { kind: 'v6', start, end: start + (1n << hostBits) - 1n };
  }
  if (s.host === undefined) return { kind: 'any-destination' };
  const host = s.host;
  if (host === '*' || host === '**') return { kind: 'any-name' };
  if (host.includes('*')) {
    const labels = host.split('.');
    const deep = labels[0] === '**';
    return { kind: 'labels', deep, labels: deep ? labels.slice(1) : labels };
  }
  if (s.includeSubdomains) return { kind: 'subtree', name: host, dotted: `.${host}` };
  return { kind: 'exact', name: host };
}

/** One label against one pattern label: `*` is any label, `api-*` any run inside the label. */
function labelMatches(pattern: string, label: string): boolean {
  if (pattern === '*') return true;
  const star = pattern.indexOf('*');
  if (star === -1) return pattern === label;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  if (suffix.includes('*')) {
    // Several stars in one label: fall back to a regular expression.
    const source = pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'))
      .join('[^.]*');
    return new RegExp(`^${source}$`).test(label);
  }
  return (
    label.length >= prefix.length + suffix.length &&
    label.startsWith(prefix) &&
    label.endsWith(suffix)
  );
}

export class LinearMatcher {
  private readonly rules: LinearRule[];

  constructor(private readonly policy: Policy) {
    if (policy.resources.length > 0)
      throw new Error('the linear baseline does not model attached resources');
    this.rules = policy.rules.map((rule) => ({
      kind: rule.kind,
      selectors: rule.selectors.map((s) => {
        const transport = s.transport ?? (rule.kind === 'deny' ? 'any' : 'tcp');
        return {
          target: targetOf(s),
          tcp: transport !== 'udp',
          udp: transport !== 'tcp',
          ports: s.ports && s.ports.length > 0 ? s.ports : null,
        };
      }),
    }));
  }

  decide(query: DestinationQuery): LinearDecision {
    const normal = normaliseHost(query.host);
    if (!normal.ok || !Number.isInteger(query.port) || query.port < 1 || query.port > 65535)
      return { verdict: 'deny', reason: 'invalid_destination', ruleIndex: -1 };
    const host = normal.host;
    const udp = query.transport === 'udp';
    const port = query.port;

    // What the destination is, worked out once per query.
    const name = host.kind === 'name' ? host.name : null;
    let labels: string[] | null = null;
    let v4: number | null = null;
    let v6: bigint | null = null;
    if (host.kind === 'ip') {
      const ip = host.ip;
      if (ip.kind === 'ipv4') v4 = ip.value;
      else {
        v6 = hexToBigInt(ip.hex);
        if (ip.embeddedV4) v4 = ip.embeddedV4.value;
      }
    }

    for (let r = 0; r < this.rules.length; r++) {
      const rule = this.rules[r]!;
      for (const s of rule.selectors) {
        if (udp ? !s.udp : !s.tcp) continue;
        if (s.ports !== null) {
          let inside = false;
          for (const range of s.ports) if (port >= range.from && port <= range.to) inside = true;
          if (!inside) continue;
        }
        const t = s.target;
        let matched = false;
        switch (t.kind) {
          case 'any-destination':
            matched = true;
            break;
          case 'any-name':
            matched = name !== null;
            break;
          case 'exact':
            matched = name === t.name;
            break;
          case 'subtree':
            matched = name !== null && (name === t.name || name.endsWith(t.dotted));
            break;
          case 'labels':
            if (name !== null) {
              labels ??= name.split('.');
              matched = this.labelsMatch(t, labels);
            }
            break;
          case 'v4':
            matched = v4 !== null && v4 >= t.start && v4 <= t.end;
            break;
          case 'v6':
            matched = v6 !== null && v6 >= t.start && v6 <= t.end;
            break;
        }
        if (matched) return this.outcome(r, rule.kind, host, t.kind === 'v4' || t.kind === 'v6');
      }
    }
    const verdict = this.policy.default;
    return this.classCheck(
      { verdict, reason: verdict === 'allow' ? 'default_allow' : 'default_deny', ruleIndex: -1 },
      host,
    );
  }

  private labelsMatch(t: { deep: boolean; labels: string[] }, labels: string[]): boolean {
    const fixed = t.labels.length;
    // `**` needs at least one label in front of the rest; otherwise the counts must be equal.
    if (t.deep ? labels.length <= fixed : labels.length !== fixed) return false;
    const offset = labels.length - fixed;
    for (let i = 0; i < fixed; i++)
      if (!labelMatches(t.labels[i]!, labels[offset + i]!)) return false;
    return true;
  }

  private outcome(
    ruleIndex: number,
    kind: RuleKind,
    host: NormalHost,
    explicitIp: boolean,
  ): LinearDecision {
    if (kind === 'decide') return { verdict: 'deny', reason: 'decider_required', ruleIndex };
    const decision: LinearDecision =
      kind === 'allow'
        ? { verdict: 'allow', reason: 'allowed_by_rule', ruleIndex }
        : { verdict: 'deny', reason: 'denied_by_rule', ruleIndex };
    // An IP or CIDR rule names the address on purpose: it beats the address class.
    if (host.kind === 'ip' && explicitIp) return decision;
    return this.classCheck(decision, host);
  }

  private classCheck(decision: LinearDecision, host: NormalHost): LinearDecision {
    if (decision.verdict !== 'allow' || host.kind !== 'ip') return decision;
    const cls = classifyIp(host.ip);
    if (cls === null || (cls === 'private' && this.policy.privateRanges === 'allow'))
      return decision;
    return { ...decision, verdict: 'deny', reason: `ip_class:${cls}` };
  }
}
