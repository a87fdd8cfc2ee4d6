/**
 * decide(): one destination in, one Decision out (DESIGN.md 3.3 and 3.4).
 *
 *   normalise → attached resources → first matching rule (or the default) → IP class check
 *   for IP literals → monitor/enforce
 *
 * Names are decided first, without DNS. Once the data plane has resolved an allowed name it calls
 * decideAddress() for every address before dialling it: IP deny rules and the address classes
 * (loopback, metadata, private, ...) apply there.
 */
import type { Decision, DestinationQuery, ReasonCode, RuleRef } from '../decision.js';
import type { Transport, Verdict } from '../model.js';
import { normaliseHost, type NormalHost } from '../normalise/host.js';
import { parseIp, type IpAddress } from '../normalise/ip.js';
import { portsInclude } from '../patterns/ports.js';
import { type CompiledPolicy, type SelectorIndex, transportBit } from './compile.js';
import { classifyIp, type IpClass } from './ip-class.js';

const NONE = Number.MAX_SAFE_INTEGER;

function firstInList(
  list: readonly number[],
  accept: (id: number) => boolean,
  best: number,
): number {
  for (let i = 0; i < list.length; i++) {
    const id = list[i]!;
    if (id >= best) return best;
    if (accept(id)) return id;
  }
  return best;
}

/** The first entry (by rule order) of `index` that matches; NONE if none does. */
export function lookup(
  index: SelectorIndex,
  host: NormalHost,
  port: number,
  transport: Transport,
  ipOnly = false,
): number {
  const bit = transportBit(transport);
  const entries = index.entries;
  const accept = (id: number): boolean => {
    const e = entries[id]!;
    return (e.transports & bit) !== 0 && (e.ports === null || portsInclude(e.ports, port));
  };
  let best = NONE;
  if (host.kind === 'name') {
    best = index.names.firstMatchName(host.name, accept, best);
    best = firstInList(index.anyName, accept, best);
  } else {
    const ip = host.ip;
    const v4 = ip.kind === 'ipv4' ? ip : ip.embeddedV4;
    if (v4) best = index.v4.firstMatch(v4.value, accept, best);
    if (ip.kind === 'ipv6') best = index.v6.firstMatch(ip.hex, accept, best);
  }
  if (!ipOnly) best = firstInList(index.anyDestination, accept, best);
  return best;
}

function ruleRef(compiled: CompiledPolicy, index: SelectorIndex, id: number): RuleRef {
  const entry = index.entries[id]!;
  const ref: RuleRef = {
    index: entry.ruleIndex,
    kind: entry.kind,
    source: entry.source,
    pattern: entry.pattern,
  };
  if (entry.kind !== 'resource') {
    const name = compiled.policy.rules[entry.ruleIndex]?.name;
    if (name) ref.name = name;
  }
  return ref;
}

interface Outcome {
  verdict: Verdict;
  reason: ReasonCode;
  rule: RuleRef | null;
}

/** Applies the mode: monitor reports the verdict but lets everything through. */
function finish(
  compiled: CompiledPolicy,
  outcome: Outcome,
  destination: Decision['destination'],
  extra: Partial<Decision> = {},
): Decision {
  const monitor = compiled.policy.mode === 'monitor';
  const deny = outcome.verdict === 'deny';
  return {
    allowed: monitor || !deny,
    verdict: outcome.verdict,
    mode: compiled.policy.mode,
    enforced: !monitor,
    wouldDeny: monitor && deny,
    reason: outcome.reason,
    rule: outcome.rule,
    policy: { name: compiled.policy.name, version: compiled.version },
    destination,
    ...extra,
  };
}

/** True when a policy setting lets an allowed destination use addresses of this class. */
function classAllowed(compiled: CompiledPolicy, cls: IpClass): boolean {
  return cls === 'private' && compiled.policy.privateRanges === 'allow';
}

export function invalidDestination(
  compiled: CompiledPolicy,
  query: DestinationQuery,
  error: string,
): Decision {
  return finish(
    compiled,
    { verdict: 'deny', reason: 'invalid_destination', rule: null },
    { host: query.host, port: query.port, transport: query.transport ?? 'tcp' },
    // Fail closed even in monitor mode: there is nothing valid to let through.
    { allowed: false, wouldDeny: false, error },
  );
}

export function decide(compiled: CompiledPolicy, query: DestinationQuery): Decision {
  const transport = query.transport ?? 'tcp';
  const normal = normaliseHost(query.host);
  if (!normal.ok) return invalidDestination(compiled, query, normal.error);
  if (!Number.isInteger(query.port) || query.port < 1 || query.port > 65535) {
    return invalidDestination(compiled, query, `port ${query.port} is not between 1 and 65535`);
  }
  const host = normal.host;
  const destination: Decision['destination'] = { host: host.name, port: query.port, transport };
  if (host.kind === 'ip') destination.ip = host.ip.text;

  const resource = lookup(compiled.resources, host, query.port, transport);
  if (resource !== NONE) {
    return finish(
      compiled,
      {
        verdict: 'allow',
        reason: 'attached_resource',
        rule: ruleRef(compiled, compiled.resources, resource),
      },
      destination,
    );
  }

  const id = lookup(compiled.rules, host, query.port, transport);
  let outcome: Outcome;
  if (id === NONE) {
    const verdict = compiled.policy.default;
    outcome = {
      verdict,
      reason: verdict === 'allow' ? 'default_allow' : 'default_deny',
      rule: null,
    };
  } else {
    const entry = compiled.rules.entries[id]!;
    const rule = ruleRef(compiled, compiled.rules, id);
    if (entry.kind === 'decide') {
      const settings = compiled.policy.rules[entry.ruleIndex]?.decider ?? compiled.policy.decider;
      // Fail closed until the data plane has asked the decider.
      return finish(
        compiled,
        { verdict: 'deny', reason: 'decider_required', rule },
        destination,
        settings ? { decider: settings } : {},
      );
    }
    outcome = {
      verdict: entry.kind === 'allow' ? 'allow' : 'deny',
      reason: entry.kind === 'allow' ? 'allowed_by_rule' : 'denied_by_rule',
      rule,
    };
    if (host.kind === 'ip' && entry.explicitIp) return finish(compiled, outcome, destination);
  }

  if (outcome.verdict === 'allow' && host.kind === 'ip') {
    const cls = classifyIp(host.ip);
    if (cls && !classAllowed(compiled, cls))
      outcome = { ...outcome, verdict: 'deny', reason: `ip_class:${cls}` };
  }
  return finish(compiled, outcome, destination);
}

export interface AddressOptions {
  /** Addresses the proxy itself listens on: never a destination. */
  selfAddresses?: ReadonlySet<string>;
}

/**
 * Phase two, after DNS: may `decision` (an allowed name) connect to `address`? IP rules apply
 * first (an explicit allow beats the address class; a deny denies), then the address classes.
 */
export function decideAddress(
  compiled: CompiledPolicy,
  decision: Decision,
  address: string | IpAddress,
  options: AddressOptions = {},
): Decision {
  const parsed =
    typeof address === 'string' ? parseIp(address) : { ok: true as const, value: address };
  const destination = { ...decision.destination };
  if (!parsed.ok) {
    return {
      ...decision,
      allowed: false,
      verdict: 'deny',
      wouldDeny: false,
      reason: 'invalid_destination',
      error: parsed.error,
      destination,
    };
  }
  const ip = parsed.value;
  destination.ip = ip.text;
  if (decision.verdict === 'deny') return { ...decision, destination };
  const host: NormalHost = { kind: 'ip', ip, name: ip.text };

  if (
    options.selfAddresses?.has(ip.text) ||
    (ip.kind === 'ipv6' && ip.embeddedV4 && options.selfAddresses?.has(ip.embeddedV4.text))
  ) {
    return finish(
      compiled,
      { verdict: 'deny', reason: 'ip_class:proxy_self', rule: null },
      destination,
    );
  }
  // Attached resources are checked before the rules and are always reachable (DESIGN.md 3.3),
  // wherever their names resolve: internal repositories usually live in private ranges.
  if (decision.reason === 'attached_resource') return { ...decision, destination };
  const id = lookup(
    compiled.rules,
    host,
    decision.destination.port,
    decision.destination.transport,
    true,
  );
  if (id !== NONE) {
    const entry = compiled.rules.entries[id]!;
    if (entry.kind === 'deny')
      return finish(
        compiled,
        { verdict: 'deny', reason: 'denied_by_rule', rule: ruleRef(compiled, compiled.rules, id) },
        destination,
      );
    if (entry.kind === 'allow') return { ...decision, destination };
  }
  const cls = classifyIp(ip);
  if (cls && !classAllowed(compiled, cls)) {
    return finish(
      compiled,
      { verdict: 'deny', reason: `ip_class:${cls}`, rule: decision.rule },
      destination,
    );
  }
  return { ...decision, destination };
}

/** Whether an allowed destination must be reached through the parent proxy (SDS custom endpoints). */
export function viaUpstreamProxy(compiled: CompiledPolicy, query: DestinationQuery): boolean {
  if (compiled.policy.viaUpstreamProxy.length === 0) return false;
  const normal = normaliseHost(query.host);
  if (!normal.ok) return false;
  return (
    lookup(compiled.viaUpstreamProxy, normal.host, query.port, query.transport ?? 'tcp') !== NONE
  );
}
