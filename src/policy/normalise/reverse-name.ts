/**
 * Reverse-lookup names (PTR questions): `4.3.2.1.in-addr.arpa` is the address 1.2.3.4 and
 * `b.a.9.8. … .ip6.arpa` (32 nibbles) an IPv6 address. The DNS forwarder judges such a question
 * by the address it names, because whoever holds an address block answers for its reverse zone:
 * a reverse name is as much a way to reach (and leak data to) that block as a connection is.
 */
import { ipv6FromHex, parseDottedQuad } from './ip.js';

const V4_SUFFIX = '.in-addr.arpa';
const V6_SUFFIX = '.ip6.arpa';
const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const NIBBLE = /^[0-9a-f]$/;

/**
 * The canonical address a full reverse name stands for, or undefined for any other name
 * (including partial reverse names such as `2.1.in-addr.arpa`, which name a zone, not a host).
 * `name` must already be normalised (lowercase, no trailing dot).
 */
export function addressFromReverseName(name: string): string | undefined {
  if (name.endsWith(V4_SUFFIX)) {
    const labels = name.slice(0, -V4_SUFFIX.length).split('.');
    if (labels.length !== 4 || !labels.every((l) => OCTET.test(l) && Number(l) <= 255))
      return undefined;
    return parseDottedQuad(labels.reverse().join('.'))?.text;
  }
  if (name.endsWith(V6_SUFFIX)) {
    const labels = name.slice(0, -V6_SUFFIX.length).split('.');
    if (labels.length !== 32 || !labels.every((l) => NIBBLE.test(l))) return undefined;
    return ipv6FromHex(labels.reverse().join('')).text;
  }
  return undefined;
}
