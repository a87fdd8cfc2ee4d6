/**
 * Which UDP destinations the sandbox relays (Fly-style UDP allow rules): every allow selector
 * with `transport: udp` (or `any`) that names exact addresses and ports. Each (address, port)
 * gets its own relay port inside the sandbox, because a redirected datagram no longer carries
 * its original destination that node could read: nftables sends `address:port` to one relay
 * socket, and that socket forwards to exactly that destination.
 *
 * Not relayed (said once at start, still dropped and recorded): address ranges, host
 * patterns with wildcards, more than MAX_PORTS ports per entry, and port 53 (DNS always goes
 * to the policy's DNS).
 */
import type { CompiledPolicy } from '../../policy/index.js';
import { decide, parseIp } from '../../policy/index.js';
import type { Policy, Selector } from '../../policy/model.js';
import type { UdpRelayTarget } from './protocol.js';

export const MAX_PORTS = 16;
export const MAX_RELAYS = 64;
/** First port inside the sandbox used for relay sockets (one per destination). */
export const RELAY_PORT_BASE = 15100;

export interface UdpRelayPlan {
  targets: UdpRelayTarget[];
  warnings: string[];
}

function describeSelector(s: Selector): string {
  return s.source ? `the UDP rule at ${s.source.file}:${s.source.line}` : 'a UDP rule';
}

function portsOf(s: Selector): number[] | null {
  if (!s.ports) return null;
  const out: number[] = [];
  for (const r of s.ports)
    for (let p = r.from; p <= r.to && out.length <= MAX_PORTS; p++) out.push(p);
  return out.length <= MAX_PORTS ? out : null;
}

/** Exact addresses a selector names (a /32 or /128 CIDR, or an exact host resolved). */
async function addressesOf(
  s: Selector,
  resolve: (name: string) => Promise<string[]>,
): Promise<string[] | null> {
  if (s.cidr !== undefined) {
    const [addr, prefix] = s.cidr.split('/');
    const ip = parseIp(addr!);
    if (!ip.ok) return null;
    const full = ip.value.kind === 'ipv4' ? '32' : '128';
    return prefix === undefined || prefix === full ? [ip.value.text] : null;
  }
  if (s.host !== undefined && !/[*]/.test(s.host) && !s.includeSubdomains) {
    if (parseIp(s.host).ok) return [s.host];
    return resolve(s.host).catch(() => []);
  }
  return null;
}

export async function planUdpRelays(
  policy: Policy,
  compiled: CompiledPolicy,
  resolve: (name: string) => Promise<string[]>,
): Promise<UdpRelayPlan> {
  const targets: UdpRelayTarget[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const rule of policy.rules) {
    if (rule.kind !== 'allow') continue;
    for (const s of rule.selectors) {
      if (s.transport !== 'udp' && s.transport !== 'any') continue;
      const ports = portsOf(s);
      const addresses = ports ? await addressesOf(s, resolve) : null;
      if (!ports || !addresses) {
        warnings.push(
          `${describeSelector(s)} is not relayed: the sandbox relays UDP only to exact addresses or names with at most ${MAX_PORTS} ports; its datagrams are dropped and recorded`,
        );
        continue;
      }
      for (const ip of addresses)
        for (const port of ports) {
          const key = `${ip}|${port}`;
          if (port === 53 || seen.has(key)) continue;
          // A deny rule earlier in the policy still wins.
          if (decide(compiled, { host: ip, port, transport: 'udp' }).verdict !== 'allow') continue;
          if (targets.length >= MAX_RELAYS) {
            warnings.push(`more than ${MAX_RELAYS} UDP destinations: the rest are not relayed`);
            return { targets, warnings };
          }
          seen.add(key);
          targets.push({
            ip,
            port,
            family: ip.includes(':') ? 6 : 4,
            relayPort: RELAY_PORT_BASE + targets.length,
          });
        }
    }
  }
  return { targets, warnings };
}
