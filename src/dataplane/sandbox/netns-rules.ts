/**
 * The network namespace's plumbing, as text for `ip -batch` and `nft -f` (pure; the bridge runs
 * them). Inside a new network namespace only `lo` exists, so nothing can leave: these rules are
 * about usability and evidence, not containment.
 *
 * - Routes: a default route over `lo` lets netfilter see outbound packets at all (without one,
 *   connect() fails with "network unreachable" before any rule runs). `lo`'s 127.0.0.1 has host
 *   scope and cannot be the source of a packet to another address, so a global-scope address
 *   (198.18.0.1, a benchmarking range) is added as the source of redirected connections.
 * - TCP to anything but loopback is redirected to the transparent entrances (80 and 443 keep
 *   their original port; other ports go to one entrance that reads the port from the HTTP Host).
 * - DNS to any server (UDP and TCP port 53) is redirected to the sandbox's DNS, so programs with
 *   a hard-coded resolver get the policy's answers too.
 * - Packets to the sandbox's own addresses pass (replies to redirected DNS go to 198.18.0.1).
 * - Other UDP, and everything that is neither TCP nor UDP (ICMP), is dropped; UDP destinations
 *   are recorded with packet counts in sets that the bridge reads back (udp.dropped events).
 */
import {
  INNER_PORTS,
  SANDBOX_SOURCE_V4,
  SANDBOX_SOURCE_V6,
  type UdpRelayTarget,
} from './protocol.js';

export const NFT_TABLE = 'egress';
export const UDP_SETS = { v4: 'udp4', v6: 'udp6' } as const;

/** Commands for `ip -force -batch -`. */
export function ipBatch(ipv6: boolean): string {
  const lines = [
    'link set lo up',
    `addr add ${SANDBOX_SOURCE_V4}/32 dev lo`,
    'route add default dev lo',
  ];
  if (ipv6) lines.push(`addr add ${SANDBOX_SOURCE_V6}/128 dev lo nodad`, 'route add ::/0 dev lo');
  return lines.join('\n') + '\n';
}

/**
 * UDP the policy allows goes to its relay socket. These come before the loopback exception: a
 * rule naming a loopback address means the host's (the test servers), like every policy entry.
 */
function relayRules(relays: readonly UdpRelayTarget[]): string {
  return relays
    .map(
      (r) =>
        `    ${r.family === 4 ? 'ip' : 'ip6'} daddr ${r.ip} udp dport ${r.port} redirect to :${r.relayPort}\n`,
    )
    .join('');
}

/** The nftables ruleset (one `inet` table for IPv4 and IPv6). */
export function nftRuleset(relays: readonly UdpRelayTarget[] = []): string {
  const p = INNER_PORTS;
  return `table inet ${NFT_TABLE} {
  set ${UDP_SETS.v4} { type ipv4_addr . inet_service; size 65536; flags dynamic; counter; }
  set ${UDP_SETS.v6} { type ipv6_addr . inet_service; size 65536; flags dynamic; counter; }
  chain out_nat {
    type nat hook output priority -100; policy accept;
${relayRules(relays)}    ip daddr 127.0.0.0/8 return
    ip6 daddr ::1 return
    meta l4proto { tcp, udp } th dport 53 redirect to :${p.dns}
    tcp dport 80 redirect to :${p.transparent80}
    tcp dport 443 redirect to :${p.transparent443}
    meta l4proto tcp redirect to :${p.transparentOther}
  }
  chain out_filter {
    type filter hook output priority 0; policy accept;
    ip daddr { 127.0.0.0/8, ${SANDBOX_SOURCE_V4} } accept
    ip6 daddr { ::1, ${SANDBOX_SOURCE_V6} } accept
    meta l4proto tcp accept
    meta l4proto udp ip daddr != 127.0.0.0/8 add @${UDP_SETS.v4} { ip daddr . udp dport } drop
    meta l4proto udp ip6 daddr != ::1 add @${UDP_SETS.v6} { ip6 daddr . udp dport } drop
    drop
  }
}
`;
}

/**
 * The same redirects for `iptables-restore` / `ip6tables-restore` when nft is missing. Dropped
 * UDP is rejected but not recorded (iptables has no readable per-destination set).
 */
export function iptablesRuleset(family: 4 | 6): string {
  const p = INNER_PORTS;
  const loopback = family === 4 ? '127.0.0.0/8' : '::1/128';
  return `*nat
:OUTPUT ACCEPT [0:0]
-A OUTPUT -d ${loopback} -j RETURN
-A OUTPUT -p udp --dport 53 -j REDIRECT --to-ports ${p.dns}
-A OUTPUT -p tcp --dport 53 -j REDIRECT --to-ports ${p.dns}
-A OUTPUT -p tcp --dport 80 -j REDIRECT --to-ports ${p.transparent80}
-A OUTPUT -p tcp --dport 443 -j REDIRECT --to-ports ${p.transparent443}
-A OUTPUT -p tcp -j REDIRECT --to-ports ${p.transparentOther}
COMMIT
*filter
:OUTPUT ACCEPT [0:0]
-A OUTPUT -d ${loopback} -j ACCEPT
-A OUTPUT -p tcp -j ACCEPT
-A OUTPUT -j DROP
COMMIT
`;
}
