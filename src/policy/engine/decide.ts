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
import type { Mode, Transport, Verdict } from '../model.js';
import { isCanonicalName, normaliseHost, type NormalHost } from '../normalise/host.js';
import { parseIp, type IpAddress } from '../normalise/ip.js';
import {
  type CompiledPolicy,
  entryPattern,
  entrySource,
  type SelectorIndex,
  transportBit,
} from './compile.js';
import { KIND_ALLOW, KIND_DECIDE } from './entry-words.js';
import { classifyIp, type IpClass } from './ip-class.js';

const NONE = Number.MAX_SAFE_INTEGER;

function firstInList(
  list: readonly number[],
  index: SelectorIndex,
  bit: number,
  port: number,
  best: number,
): number {
  for (let i = 0; i < list.length; i++) {
    const id = list[i]!;
    if (id >= best) return best;
    if (index.accepts(id, bit, port)) return id;
  }
  return best;
}

/** The first entry (by rule order) of `index` matching a canonical host name; NONE if none. */
function lookupName(index: SelectorIndex, name: string, bit: number, port: number): number {
  let best = index.names.firstMatchName(name, index, bit, port, NONE);
  best = firstInList(index.anyName, index, bit, port, best);
  return firstInList(index.anyDestination, index, bit, port, best);
}

/** As lookupName, for an address; `ipOnly` leaves out entries without host or address. */
function lookupIp(
  index: SelectorIndex,
  ip: IpAddress,
  bit: number,
  port: number,
  ipOnly: boolean,
): number {
  let best = NONE;
  const v4 = ip.kind === 'ipv4' ? ip : ip.embeddedV4;
  if (v4) best = index.v4.firstMatch(v4.value, index, bit, port, best);
  if (ip.kind === 'ipv6') best = index.v6.firstMatch(ip.hex, index, bit, port, best);
  return ipOnly ? best : firstInList(index.anyDestination, index, bit, port, best);
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
  if (host.kind === 'name') {
    if (!ipOnly) return lookupName(index, host.name, bit, port);
    let best = index.names.firstMatchName(host.name, index, bit, port, NONE);
    best = firstInList(index.anyName, index, bit, port, best);
    return best;
  }
  return lookupIp(index, host.ip, bit, port, ipOnly);
}

/**
 * The RuleRef for entry `id`, built once per entry and shared (frozen) by every decision that
 * names it: a decision then allocates nothing for its rule.
 */
function ruleRef(compiled: CompiledPolicy, index: SelectorIndex, id: number): RuleRef {
  const cached = index.refs[id];
  if (cached) return cached;
  const entry = index.entries[id]!;
  const ref: RuleRef = {
    index: entry.ruleIndex,
    kind: entry.kind,
    source: entrySource(entry),
    pattern: entryPattern(entry),
  };
  if (entry.kind !== 'resource') {
    const name = compiled.policy.rules[entry.ruleIndex]?.name;
    if (name) ref.name = name;
  }
  Object.freeze(ref);
  index.refs[id] = ref;
  return ref;
}

/** What buildDecision reads of a policy: its mode and its name and version. */
export interface DecidingPolicy {
  readonly policy: { readonly mode: Mode };
  readonly policyRef: CompiledPolicy['policyRef'];
}

/**
 * Applies the mode (monitor reports the verdict but lets everything through) and builds the
 * Decision: one object literal, so every decision has the same shape. `enforceAlways` (a deny
 * by a rule marked `enforce: always`) applies the verdict whatever the mode.
 */
export function buildDecision(
  compiled: DecidingPolicy,
  verdict: Verdict,
  reason: ReasonCode,
  rule: RuleRef | null,
  destination: Decision['destination'],
  enforceAlways = false,
): Decision {
  const mode = compiled.policy.mode;
  const monitor = mode === 'monitor' && !enforceAlways;
  const deny = verdict === 'deny';
  return {
    allowed: monitor || !deny,
    verdict,
    mode,
    enforced: !monitor,
    wouldDeny: monitor && deny,
    reason,
    rule,
    policy: compiled.policyRef,
    destination,
  };
}

/** The reason code for each address class, written once. */
const CLASS_REASONS: Readonly<Record<IpClass, ReasonCode>> = {
  loopback: 'ip_class:loopback',
  unspecified: 'ip_class:unspecified',
  link_local: 'ip_class:link_local',
  multicast: 'ip_class:multicast',
  broadcast: 'ip_class:broadcast',
  metadata: 'ip_class:metadata',
  private: 'ip_class:private',
  reserved: 'ip_class:reserved',
  proxy_self: 'ip_class:proxy_self',
};

/** True when a policy setting lets an allowed destination use addresses of this class. */
function classAllowed(compiled: CompiledPolicy, cls: IpClass): boolean {
  return cls === 'private' && compiled.policy.privateRanges === 'allow';
}

export function invalidDestination(
  compiled: CompiledPolicy,
  query: DestinationQuery,
  error: string,
): Decision {
  const decision = buildDecision(compiled, 'deny', 'invalid_destination', null, {
    host: query.host,
    port: query.port,
    transport: query.transport ?? 'tcp',
  });
  // Fail closed even in monitor mode: there is nothing valid to let through.
  decision.allowed = false;
  decision.wouldDeny = false;
  decision.error = error;
  return decision;
}

export function decide(compiled: CompiledPolicy, query: DestinationQuery): Decision {
  const transport = query.transport ?? 'tcp';
  const port = query.port;
  // Almost every client sends a canonical name: it is its own normal form, no objects needed.
  let name = query.host;
  let ip: IpAddress | null = null;
  if (!isCanonicalName(name)) {
    const normal = normaliseHost(name);
    if (!normal.ok) return invalidDestination(compiled, query, normal.error);
    name = normal.host.name;
    if (normal.host.kind === 'ip') ip = normal.host.ip;
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return invalidDestination(compiled, query, `port ${port} is not between 1 and 65535`);
  }
  const destination: Decision['destination'] =
    ip === null ? { host: name, port, transport } : { host: name, port, transport, ip: ip.text };
  const bit = transportBit(transport);

  const resources = compiled.resources;
  if (resources.entries.length > 0) {
    const resource =
      ip === null
        ? lookupName(resources, name, bit, port)
        : lookupIp(resources, ip, bit, port, false);
    if (resource !== NONE) {
      const rule = ruleRef(compiled, resources, resource);
      return buildDecision(compiled, 'allow', 'attached_resource', rule, destination);
    }
  }

  const rules = compiled.rules;
  const id =
    ip === null ? lookupName(rules, name, bit, port) : lookupIp(rules, ip, bit, port, false);
  let verdict: Verdict;
  let reason: ReasonCode;
  let rule: RuleRef | null = null;
  if (id === NONE) {
    verdict = compiled.policy.default;
    reason = verdict === 'allow' ? 'default_allow' : 'default_deny';
  } else {
    const kind = rules.kindCode(id);
    rule = ruleRef(compiled, rules, id);
    if (kind === KIND_DECIDE) {
      const settings = compiled.policy.rules[rule.index]?.decider ?? compiled.policy.decider;
      // Fail closed until the data plane has asked the decider.
      const decision = buildDecision(compiled, 'deny', 'decider_required', rule, destination);
      if (settings) decision.decider = settings;
      return decision;
    }
    if (kind !== KIND_ALLOW) {
      // A deny rule decides here, whatever the address class; only a deny reads the flag bit.
      return buildDecision(
        compiled,
        'deny',
        'denied_by_rule',
        rule,
        destination,
        rules.isEnforcedAlways(id),
      );
    }
    verdict = 'allow';
    reason = 'allowed_by_rule';
    if (ip !== null && rules.isExplicitIp(id))
      return buildDecision(compiled, verdict, reason, rule, destination);
  }

  if (verdict === 'allow' && ip !== null) {
    const cls = classifyIp(ip);
    if (cls && !classAllowed(compiled, cls)) {
      verdict = 'deny';
      reason = CLASS_REASONS[cls];
    }
  }
  return buildDecision(compiled, verdict, reason, rule, destination);
}

export interface AddressOptions {
  /**
   * Where the proxy itself listens, never a destination in any mode (a loop): an address for
   * every port (`192.0.2.1`), or an address and port (`127.0.0.1:3128`, `[::1]:3128`).
   */
  selfAddresses?: ReadonlySet<string>;
}

function isSelf(self: ReadonlySet<string>, ip: IpAddress, port: number): boolean {
  const text = ip.text;
  if (self.has(text) || self.has(ip.kind === 'ipv6' ? `[${text}]:${port}` : `${text}:${port}`))
    return true;
  const v4 = ip.kind === 'ipv6' ? ip.embeddedV4 : undefined;
  return v4 !== undefined && (self.has(v4.text) || self.has(`${v4.text}:${port}`));
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
  // Before the verdict: even a destination monitor mode only records must not loop back.
  if (options.selfAddresses && isSelf(options.selfAddresses, ip, destination.port)) {
    const loop = buildDecision(compiled, 'deny', 'ip_class:proxy_self', decision.rule, destination);
    // Fail closed even in monitor mode, as for an invalid destination: a loop serves nobody.
    loop.allowed = false;
    loop.wouldDeny = false;
    return loop;
  }
  if (decision.verdict === 'deny') return { ...decision, destination };

  // Attached resources are checked before the rules and are always reachable (DESIGN.md 3.3),
  // wherever their names resolve: internal repositories usually live in private ranges.
  if (decision.reason === 'attached_resource') return { ...decision, destination };
  const bit = transportBit(decision.destination.transport);
  const id = lookupIp(compiled.rules, ip, bit, decision.destination.port, true);
  if (id !== NONE) {
    const entry = compiled.rules.entries[id]!;
    if (entry.kind === 'deny')
      return buildDecision(
        compiled,
        'deny',
        'denied_by_rule',
        ruleRef(compiled, compiled.rules, id),
        destination,
        compiled.rules.isEnforcedAlways(id),
      );
    if (entry.kind === 'allow') return { ...decision, destination };
  }
  const cls = classifyIp(ip);
  if (cls && !classAllowed(compiled, cls)) {
    return buildDecision(compiled, 'deny', CLASS_REASONS[cls], decision.rule, destination);
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
