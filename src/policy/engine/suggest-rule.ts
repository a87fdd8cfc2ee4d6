/**
 * The policy line that would allow a denied destination, as shown in 403 bodies and in the
 * `egress run` summary: a host:port entry, or a CIDR entry when an address class (private,
 * loopback, ...) was the reason, with `transport: udp` for UDP.
 */
import type { DecidedDestination } from '../decision.js';

export function suggestAllowRule(destination: DecidedDestination, reason: string): string {
  const d = destination;
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  const transport = d.transport === 'udp' ? ', transport: udp' : '';
  if (reason.startsWith('ip_class:') && d.ip)
    return `- allow: [{ cidr: ${d.ip}, ports: [${d.port}]${transport} }]`;
  return transport
    ? `- allow: [{ host: ${host}, ports: [${d.port}]${transport} }]`
    : `- allow: ["${host}:${d.port}"]`;
}
