/**
 * The network namespace's plumbing, as text for `ip -batch` and `nft -f` (pure; the bridge runs
 * them). Inside a new network namespace only `lo` exists, so nothing can leave: these rules are
 * about usability and evidence, not containment.
 *
 * - Routes: a default route over `lo` lets netfilter see outbound packets at all (without one,
 *   connect() fails with "network unreachable" before any rule runs). `lo`'s 127.0.0.1 has host
 *   scope and cannot be the source of a packet to another address, so a global-scope address
 *   (198.18.0.1, a benchmarking range) is added as the source of redirected connections.
 * - TCP to anything but loopback is redirected to the transparent entrances: 80 and 443 to one
 *   each; every other port to one catch-all entrance, which reads each connection's original
 *   address and port from a map its SYN wrote (TCP_ORIGIN_MAPS). The iptables fallback keeps no
 *   such map: there the catch-all takes the port from the HTTP Host (TLS assumed on 443).
 * - DNS to any server (UDP and TCP port 53) is redirected to the sandbox's DNS, so programs with
 *   a hard-coded resolver get the policy's answers too.
 * - Packets to the sandbox's own addresses pass (replies to redirected DNS go to 198.18.0.1).
 * - UDP that a policy allow rule may allow goes to the UDP relay (udpRelayRules below).
 * - Other UDP, and everything that is neither TCP nor UDP (ICMP), is dropped; UDP destinations
 *   are recorded with packet counts in sets that the bridge reads back (udp.dropped events).
 */
import {
  INNER_PORTS,
  SANDBOX_SOURCE_V4,
  SANDBOX_SOURCE_V6,
  type UdpRelayMatch,
} from '../protocol.js';

export const NFT_TABLE = 'egress';
export const UDP_SETS = { v4: 'udp4', v6: 'udp6' } as const;
/** The relay's original-destination maps, keyed by the datagram's (rewritten) source port. */
export const ORIGIN_MAPS = {
  4: { addr: 'udpaddr4', port: 'udpport4' },
  6: { addr: 'udpaddr6', port: 'udpport6' },
} as const;
/**
 * Where TCP redirected to the catch-all entrance (ports other than 80 and 443) was going, keyed
 * by the connection's source port: written from its SYN, read when egress accepts it. The
 * source address of such connections is always the sandbox's own (198.18.0.1 or fd00:e9e5::1),
 * so while a connection lives no other one has its source port.
 */
export const TCP_ORIGIN_MAPS = {
  4: { addr: 'tcpaddr4', port: 'tcpport4' },
  6: { addr: 'tcpaddr6', port: 'tcpport6' },
} as const;
/**
 * How long a map entry lives after the last datagram that refreshed it. Shorter than
 * conntrack's shortest UDP timeout (30 s, unreplied) on purpose: while an entry exists, the
 * conntrack flow that wrote it still exists, so no other flow can hold the same source port
 * (see "UDP allow rules" in docs/sandbox.md). The relay's own flows idle out as fast.
 */
export const ORIGIN_TIMEOUT_S = 25;

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

/** True when the address or CIDR lies inside loopback (127.0.0.0/8, ::1). */
export function isLoopback(cidr: string): boolean {
  const [addr, prefix] = cidr.split('/');
  if (addr === '::1') return prefix === undefined || prefix === '128';
  return addr!.startsWith('127.') && (prefix === undefined || Number(prefix) >= 8);
}

function nftSet(items: readonly string[]): string {
  return items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`;
}

function portsText(ports: UdpRelayMatch['ports']): string {
  if (!ports) return '';
  return ` udp dport ${nftSet(ports.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)))}`;
}

/**
 * One redirect to the relay per selector and part. Loopback addresses that a rule names mean
 * the host's loopback (the test servers, like every policy entry): those rules come before the
 * sandbox's own loopback is exempted. Every other part comes after it, so a port-only rule or
 * a wide range never captures the command's own local UDP, nor the sandbox's own address.
 */
export function udpRelayRules(matches: readonly UdpRelayMatch[]): {
  loopback: string;
  other: string;
} {
  let loopback = '';
  let other = '';
  for (const m of matches) {
    const ip = m.family === 4 ? 'ip' : 'ip6';
    const tail = ` udp dport != 53${portsText(m.ports)} redirect to :${INNER_PORTS.udpRelay}\n`;
    if (!m.addresses) {
      const self = m.family === 4 ? SANDBOX_SOURCE_V4 : SANDBOX_SOURCE_V6;
      other += `    ${ip} daddr != ${self}${tail}`;
      continue;
    }
    const inside = m.addresses.filter(isLoopback);
    const outside = m.addresses.filter((a) => !isLoopback(a));
    if (inside.length) loopback += `    ${ip} daddr ${nftSet(inside)}${tail}`;
    if (outside.length) other += `    ${ip} daddr ${nftSet(outside)}${tail}`;
  }
  return { loopback, other };
}

/**
 * What makes the relay work, besides the redirects: every relayed datagram gets the sandbox's
 * own source address (so its source port alone identifies its flow: conntrack keeps reply
 * tuples unique, and the relay socket is one fixed address), then, on its way into the relay
 * socket, its original destination is written to the maps under that source port. nft 1.0.6
 * cannot store a concatenated value under an IPv6 key, hence two maps per family.
 */
function relayTables(): { maps: string; chains: string } {
  const r = INNER_PORTS.udpRelay;
  const m = ORIGIN_MAPS;
  const t = ORIGIN_TIMEOUT_S;
  const map = (name: string, type: string) =>
    `  map ${name} { type inet_service : ${type}; size 65536; flags dynamic,timeout; timeout ${t}s; }\n`;
  const maps =
    map(m[4].addr, 'ipv4_addr') +
    map(m[4].port, 'inet_service') +
    map(m[6].addr, 'ipv6_addr') +
    map(m[6].port, 'inet_service');
  const chains = `  chain relay_source {
    type nat hook postrouting priority srcnat; policy accept;
    ip daddr 127.0.0.1 udp dport ${r} ct status dnat snat ip to ${SANDBOX_SOURCE_V4}
    ip6 daddr ::1 udp dport ${r} ct status dnat snat ip6 to ${SANDBOX_SOURCE_V6}
  }
  chain relay_origin {
    type filter hook input priority filter; policy accept;
    ip daddr 127.0.0.1 udp dport ${r} ct status dnat update @${m[4].addr} { udp sport : ct original ip daddr } update @${m[4].port} { udp sport : ct original proto-dst }
    ip6 daddr ::1 udp dport ${r} ct status dnat update @${m[6].addr} { udp sport : ct original ip6 daddr } update @${m[6].port} { udp sport : ct original proto-dst }
  }
`;
  return { maps, chains };
}

/**
 * The catch-all entrance's original destinations (TCP_ORIGIN_MAPS): one update per connection,
 * from its SYN as it arrives at the entrance.
 */
function tcpOriginTables(): { maps: string; chain: string } {
  const m = TCP_ORIGIN_MAPS;
  const port = INNER_PORTS.transparentOther;
  const map = (name: string, type: string) =>
    `  map ${name} { type inet_service : ${type}; size 65536; flags dynamic,timeout; timeout ${ORIGIN_TIMEOUT_S}s; }\n`;
  const syn = `tcp dport ${port} tcp flags & (syn | ack) == syn ct status dnat`;
  return {
    maps:
      map(m[4].addr, 'ipv4_addr') +
      map(m[4].port, 'inet_service') +
      map(m[6].addr, 'ipv6_addr') +
      map(m[6].port, 'inet_service'),
    chain: `  chain tcp_origin {
    type filter hook input priority filter; policy accept;
    ip daddr 127.0.0.1 ${syn} update @${m[4].addr} { tcp sport : ct original ip daddr } update @${m[4].port} { tcp sport : ct original proto-dst }
    ip6 daddr ::1 ${syn} update @${m[6].addr} { tcp sport : ct original ip6 daddr } update @${m[6].port} { tcp sport : ct original proto-dst }
  }
`,
  };
}

/** The nftables ruleset (one `inet` table for IPv4 and IPv6). */
export function nftRuleset(relay: readonly UdpRelayMatch[] = []): string {
  const p = INNER_PORTS;
  const rules = udpRelayRules(relay);
  const tables = relay.length ? relayTables() : { maps: '', chains: '' };
  const tcp = tcpOriginTables();
  return `table inet ${NFT_TABLE} {
  set ${UDP_SETS.v4} { type ipv4_addr . inet_service; size 65536; flags dynamic; counter; }
  set ${UDP_SETS.v6} { type ipv6_addr . inet_service; size 65536; flags dynamic; counter; }
${tcp.maps}${tables.maps}  chain out_nat {
    type nat hook output priority -100; policy accept;
${rules.loopback}    ip daddr 127.0.0.0/8 return
    ip6 daddr ::1 return
    meta l4proto { tcp, udp } th dport 53 redirect to :${p.dns}
${rules.other}    tcp dport 80 redirect to :${p.transparent80}
    tcp dport 443 redirect to :${p.transparent443}
    meta l4proto tcp redirect to :${p.transparentOther}
  }
${tcp.chain}${tables.chains}  chain out_filter {
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
