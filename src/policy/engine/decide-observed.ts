/**
 * Deciding a destination known by its address, with the names it was looked up as. Traffic
 * that reaches egress without a name (a UDP datagram, a redirected TCP connection speaking
 * neither TLS nor HTTP) still has a name behind it when the program asked egress's DNS for
 * one: the data plane passes those names here (and the address the program wrote to).
 *
 * - Each name is decided first, then the address is checked (decideAddress), exactly as the
 *   proxy does after resolving a name: an IP deny rule or a denied address class still wins.
 * - Without an allowing name the address itself is decided, like an IP literal: deny rules,
 *   then the address classes (loopback, metadata, private, ...) unless an IP or CIDR rule
 *   names the address. A port-only rule therefore never opens a class the policy denies.
 * - When nothing allows it and only the default denies the address, the decision names the
 *   first name instead: "github.com:22 is not allowed" says more than the address, and it is
 *   what `egress run --learn` turns into a rule (a name, not an address that may change).
 */
import type { Decision } from '../decision.js';
import type { Transport } from '../model.js';
import type { CompiledPolicy } from './compile.js';
import { decide, decideAddress, type AddressOptions } from './decide.js';

export function decideObservedAddress(
  compiled: CompiledPolicy,
  names: readonly string[],
  ip: string,
  port: number,
  transport: Transport,
  options: AddressOptions = {},
): Decision {
  let byName: Decision | null = null;
  let firstName: Decision | null = null;
  for (const host of names) {
    const decision = decide(compiled, { host, port, transport });
    if (decision.verdict !== 'allow') {
      firstName ??= decideAddress(compiled, decision, ip, options);
      continue;
    }
    const checked = decideAddress(compiled, decision, ip, options);
    if (checked.verdict === 'allow') return checked;
    // "rule N allows the name, but the address is loopback" explains more than the IP alone.
    byName ??= checked;
  }
  // The address itself, checked like a resolved one (its own deny rules, classes, the proxy).
  const byIp = decideAddress(
    compiled,
    decide(compiled, { host: ip, port, transport }),
    ip,
    options,
  );
  if (byIp.verdict === 'allow') return byIp;
  if (byIp.reason === 'ip_class:proxy_self') return byIp;
  return byName ?? (byIp.reason === 'default_deny' && firstName ? firstName : byIp);
}
