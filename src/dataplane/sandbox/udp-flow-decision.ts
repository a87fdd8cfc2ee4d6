/**
 * How the UDP relay decides a new flow: exactly as the proxy decides a connection, given what
 * the relay knows (the original destination address and port, read back from nftables).
 *
 * - When exact-name UDP rules resolved to this address at start, the flow is decided by each
 *   name first, then its address is checked (decideAddress), as the proxy does after DNS.
 * - Otherwise the address itself is decided, like an IP literal: deny rules first, then the
 *   address classes (loopback, metadata, private, ...) unless an IP or CIDR rule names the
 *   address. A port-only rule therefore never opens a class the policy denies.
 */
import { decide, decideAddress, type CompiledPolicy, type Decision } from '../../policy/index.js';

export function decideUdpFlow(
  compiled: CompiledPolicy,
  names: readonly string[],
  ip: string,
  port: number,
): Decision {
  let byName: Decision | null = null;
  for (const host of names) {
    const decision = decide(compiled, { host, port, transport: 'udp' });
    if (decision.verdict !== 'allow') continue;
    const checked = decideAddress(compiled, decision, ip);
    if (checked.verdict === 'allow') return checked;
    // "rule N allows the name, but the address is loopback" explains more than the IP alone.
    byName ??= checked;
  }
  const byIp = decide(compiled, { host: ip, port, transport: 'udp' });
  if (byIp.verdict !== 'allow') return byName ?? byIp;
  const checked = decideAddress(compiled, byIp, ip);
  return checked.verdict === 'allow' ? checked : (byName ?? checked);
}
