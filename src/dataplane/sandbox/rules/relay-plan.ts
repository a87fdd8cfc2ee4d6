/**
 * Which UDP the sandbox sends to its UDP relay (UDP allow rules, Fly-style or named): every
 * allow selector with `transport: udp` (or `any`) becomes an nftables match on addresses and
 * ports. The match is only a pre-filter: the relay decides every new flow again with the whole
 * policy (deny rules, address classes), as the proxy would. Everything the matches leave out
 * is dropped and recorded by nftables, as before.
 *
 * - a port-only selector (Fly's rules have no hosts) matches any address on those ports;
 * - an IP or CIDR matches that range;
 * - a host name, exact or a pattern with wildcards (or an ecosystem), matches any address on
 *   its ports; the relay then decides each flow by the names the sandbox's DNS answered with
 *   its address (answered-names.ts) and, for exact names, the addresses they resolved to at
 *   start (`--resolve` pins apply). Names that resolve to other addresses at every lookup
 *   (pool.ntp.org) work, because the flow is judged by the answer the program itself got. An
 *   address the program did not get from that DNS has no name, so a name rule never allows it.
 */
import { parseIp } from '../../../policy/index.js';
import type { Policy, PortRange, Selector } from '../../../policy/model.js';
import type { UdpRelayMatch } from '../protocol.js';

export interface UdpRelayPlan {
  matches: UdpRelayMatch[];
  /** Address → the exact host names of UDP rules that resolved to it (for deciding by name). */
  names: Map<string, string[]>;
}

/** Sorted, merged port ranges; null = every port. */
export function mergePorts(ranges: readonly PortRange[] | undefined): PortRange[] | null {
  if (!ranges || ranges.length === 0) return null;
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const out: PortRange[] = [{ ...sorted[0]! }];
  for (const r of sorted.slice(1)) {
    const last = out[out.length - 1]!;
    if (r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  if (out.length === 1 && out[0]!.from <= 1 && out[0]!.to >= 65535) return null;
  return out;
}

function familyOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

/** The addresses (IPs or CIDRs, canonical) a selector names; null = any address. */
function addressesOf(s: Selector): string[] | null {
  if (s.cidr !== undefined) {
    const [addr, prefix] = s.cidr.split('/');
    const ip = parseIp(addr!);
    if (!ip.ok) return []; // validated when the policy was read; never any address
    const full = ip.value.kind === 'ipv4' ? 32 : 128;
    return [prefix === undefined || Number(prefix) === full ? ip.value.text : s.cidr];
  }
  if (s.host !== undefined) {
    const literal = parseIp(s.host);
    if (literal.ok) return [literal.value.text];
  }
  return null;
}

/** An exact host name (no wildcard, not with its subdomains), for resolving at start. */
function exactName(s: Selector): string | null {
  if (s.host === undefined || s.includeSubdomains || s.host.includes('*')) return null;
  return parseIp(s.host).ok ? null : s.host;
}

export async function planUdpRelays(
  policy: Policy,
  resolve: (name: string) => Promise<string[]>,
): Promise<UdpRelayPlan> {
  const matches: UdpRelayMatch[] = [];
  const names = new Map<string, string[]>();
  for (const rule of policy.rules) {
    if (rule.kind !== 'allow') continue;
    for (const s of rule.selectors) {
      if (s.transport !== 'udp' && s.transport !== 'any') continue;
      const ports = mergePorts(s.ports);
      // Port 53 alone is DNS, which always goes to the policy's DNS: nothing to relay.
      if (ports?.length === 1 && ports[0]!.from === 53 && ports[0]!.to === 53) continue;
      const addresses = addressesOf(s);
      if (addresses === null) {
        matches.push({ family: 4, addresses: null, ports }, { family: 6, addresses: null, ports });
        const name = exactName(s);
        if (name === null) continue;
        const resolved = await resolve(name).catch(() => [] as string[]);
        for (const a of resolved) {
          const ip = parseIp(a);
          if (ip.ok) names.set(ip.value.text, [...(names.get(ip.value.text) ?? []), name]);
        }
        continue;
      }
      for (const family of [4, 6] as const) {
        const mine = [...new Set(addresses.filter((a) => familyOf(a) === family))];
        if (mine.length) matches.push({ family, addresses: mine, ports });
      }
    }
  }
  return { matches, names };
}
