/**
 * nameMayBeAllowed(): may a connection to this name be allowed on *some* port and transport?
 * The DNS forwarder asks this before it resolves a name (DESIGN.md 3.5): a name that no rule
 * could ever let through gets REFUSED, so looking it up cannot leak data to the name's
 * authoritative servers.
 *
 * Exact by construction: it collects every entry (attached resources and rules) whose host part
 * matches the name, whatever its ports and transport, cuts the port space of each transport at
 * the edges of those entries' port ranges, and runs decide() once per piece. Inside one piece
 * every entry either covers all ports or none, so one decide() per piece answers for the whole
 * piece. A name allowed only on 443, or only by a `decide` rule, or only by an attached resource
 * may be allowed; a name denied on every port, or reaching default deny, may not.
 */
import type { Decision } from '../decision.js';
import type { Transport } from '../model.js';
import { normaliseHost, type NormalHost } from '../normalise/host.js';
import { addressFromReverseName } from '../normalise/reverse-name.js';
import type { CompiledPolicy, SelectorIndex } from './compile.js';
import { decide, invalidDestination } from './decide.js';

export interface NameVerdict {
  /** True when at least one port/transport could be allowed (or a decider could allow it). */
  mayBeAllowed: boolean;
  /**
   * The decision that shows it: an allowing one (preferring tcp/443) when the name may be
   * allowed, otherwise the deny for tcp/443 (its reason and rule explain the refusal).
   */
  decision: Decision;
}

const NONE = Number.MAX_SAFE_INTEGER;
const TRANSPORTS: readonly Transport[] = ['tcp', 'udp'];
/** Ports tried first, so the reported decision is the one a person expects (https, http). */
const PREFERRED_PORTS = [443, 80];

/**
 * Every entry id of `index` whose host or address part matches, ignoring ports and transport
 * (the same walk as lookup(), with a filter that records each candidate and accepts none).
 */
function entriesFor(index: SelectorIndex, host: NormalHost, out: number[]): void {
  const collect = {
    accepts(id: number): boolean {
      out.push(id);
      return false;
    },
  };
  if (host.kind === 'name') {
    index.names.collect(host.name, out);
    out.push(...index.anyName);
  } else {
    const v4 = host.ip.kind === 'ipv4' ? host.ip : host.ip.embeddedV4;
    if (v4) index.v4.firstMatch(v4.value, collect, 0, 0, NONE);
    if (host.ip.kind === 'ipv6') index.v6.firstMatch(host.ip.hex, collect, 0, 0, NONE);
  }
  out.push(...index.anyDestination);
}

/** The first port of every piece of [1, 65535] cut at the edges of the entries' port ranges. */
function candidatePorts(indexes: Array<[SelectorIndex, number[]]>): number[] {
  const ports = new Set<number>([...PREFERRED_PORTS, 1]);
  for (const [index, ids] of indexes) {
    for (const id of ids) {
      for (const range of index.entries[id]!.ports ?? []) {
        ports.add(range.from);
        if (range.to < 65535) ports.add(range.to + 1);
      }
    }
  }
  const rest = [...ports].filter((p) => !PREFERRED_PORTS.includes(p)).sort((a, b) => a - b);
  return [...PREFERRED_PORTS, ...rest];
}

function mayAllow(decision: Decision): boolean {
  return decision.verdict === 'allow' || decision.reason === 'decider_required';
}

export function nameMayBeAllowed(compiled: CompiledPolicy, name: string): NameVerdict {
  const normal = normaliseHost(name);
  if (!normal.ok) {
    return {
      mayBeAllowed: false,
      decision: invalidDestination(compiled, { host: name, port: 443 }, normal.error),
    };
  }
  const host = normal.host;
  const ruleIds: number[] = [];
  const resourceIds: number[] = [];
  entriesFor(compiled.rules, host, ruleIds);
  entriesFor(compiled.resources, host, resourceIds);
  const ports = candidatePorts([
    [compiled.rules, ruleIds],
    [compiled.resources, resourceIds],
  ]);
  let first: Decision | undefined;
  for (const transport of TRANSPORTS) {
    for (const port of ports) {
      const decision = decide(compiled, { host: host.name, port, transport });
      first ??= decision;
      if (mayAllow(decision)) return { mayBeAllowed: true, decision };
    }
  }
  return { mayBeAllowed: false, decision: first! };
}

/**
 * What the DNS forwarder asks for one question name. A full reverse name (PTR of
 * `4.3.2.1.in-addr.arpa`, any type) is judged by the address it names: it may be looked up when
 * a connection to that address could be allowed (an IP/CIDR rule, or a rule for any destination;
 * address classes apply as for IP literals). Every other name, including SRV names such as
 * `_https._tcp.example.com` and partial reverse zones, is judged as the name it is.
 */
export function questionMayBeAllowed(compiled: CompiledPolicy, name: string): NameVerdict {
  const normal = normaliseHost(name);
  if (normal.ok && normal.host.kind === 'name') {
    const address = addressFromReverseName(normal.host.name);
    if (address !== undefined) return nameMayBeAllowed(compiled, address);
  }
  return nameMayBeAllowed(compiled, name);
}
