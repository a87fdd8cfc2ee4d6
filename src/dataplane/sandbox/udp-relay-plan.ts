/**
 * Which UDP the sandbox sends to its UDP relay (Fly-style UDP allow rules): every allow
 * selector with `transport: udp` (or `any`) becomes an nftables match on addresses and ports.
 * The match is only a pre-filter: the relay decides every new flow again with the whole
 * policy (deny rules, address classes), as the proxy would. Everything the matches leave out
 * is dropped and recorded by nftables, as before.
 *
 * - a port-only selector (Fly's rules have no hosts) matches any address on those ports;
 * - an IP or CIDR matches that range;
 * - an exact host name matches the addresses it resolves to at start (`--resolve` pins
 *   apply); the relay then decides flows to those addresses by that name;
 * - host patterns with wildcards (and ecosystems) cannot be matched: the relay sees addresses
 *   only. Said once at start; their datagrams are dropped and recorded.
 */
import { parseIp } from '../../policy/index.js';
import type { Policy, PortRange, Selector } from '../../policy/model.js';
import type { UdpRelayMatch } from './protocol.js';

export interface UdpRelayPlan {
  matches: UdpRelayMatch[];
  /** Address → the exact host names of UDP rules that resolved to it (for deciding by name). */
  names: Map<string, string[]>;
  warnings: string[];
}

function describeSelector(s: Selector): string {
  return s.source ? `the UDP rule at ${s.source.file}:${s.source.line}` : 'a UDP rule';
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

/** The addresses (IPs or CIDRs, canonical) a selector names; null = any; 'pattern' = cannot. */
async function addressesOf(
  s: Selector,
  resolve: (name: string) => Promise<string[]>,
): Promise<string[] | null | 'pattern'> {
  if (s.cidr !== undefined) {
    const [addr, prefix] = s.cidr.split('/');
    const ip = parseIp(addr!);
    if (!ip.ok) return 'pattern';
    const full = ip.value.kind === 'ipv4' ? 32 : 128;
    return [prefix === undefined || Number(prefix) === full ? ip.value.text : s.cidr];
  }
  if (s.ecosystem !== undefined) return 'pattern';
  if (s.host === undefined) return null;
  if (/[*]/.test(s.host) || s.includeSubdomains) return 'pattern';
  const literal = parseIp(s.host);
  if (literal.ok) return [literal.value.text];
  const resolved = await resolve(s.host).catch(() => [] as string[]);
  return resolved.flatMap((a) => {
    const ip = parseIp(a);
    return ip.ok ? [ip.value.text] : [];
  });
}

export async function planUdpRelays(
  policy: Policy,
  resolve: (name: string) => Promise<string[]>,
): Promise<UdpRelayPlan> {
  const matches: UdpRelayMatch[] = [];
  const names = new Map<string, string[]>();
  const warnings: string[] = [];
  for (const rule of policy.rules) {
    if (rule.kind !== 'allow') continue;
    for (const s of rule.selectors) {
      if (s.transport !== 'udp' && s.transport !== 'any') continue;
      const ports = mergePorts(s.ports);
      // Port 53 alone is DNS, which always goes to the policy's DNS: nothing to relay.
      if (ports?.length === 1 && ports[0]!.from === 53 && ports[0]!.to === 53) continue;
      const addresses = await addressesOf(s, resolve);
      if (addresses === 'pattern') {
        warnings.push(
          `${describeSelector(s)} is not relayed: the sandbox relays UDP by address (IPs, ranges, exact names or ports alone), not by name pattern; its datagrams are dropped and recorded`,
        );
        continue;
      }
      if (addresses === null) {
        matches.push({ family: 4, addresses: null, ports }, { family: 6, addresses: null, ports });
        continue;
      }
      if (addresses.length === 0)
        warnings.push(
          `${describeSelector(s)} is not relayed: ${s.host ?? 'its name'} did not resolve at start`,
        );
      if (s.host !== undefined && !parseIp(s.host).ok)
        for (const a of addresses) names.set(a, [...(names.get(a) ?? []), s.host]);
      for (const family of [4, 6] as const) {
        const mine = [...new Set(addresses.filter((a) => familyOf(a) === family))];
        if (mine.length) matches.push({ family, addresses: mine, ports });
      }
    }
  }
  return { matches, names, warnings };
}
