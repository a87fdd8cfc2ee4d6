/** IP and CIDR entries in policies: `192.168.1.50`, `10.0.0.0/24`, `2001:db8::/32`. */
import { ipv4FromNumber, ipv6FromHex, parseIp, type IpAddress } from '../normalise/ip.js';
import { err, ok, type Parsed } from './result.js';

export interface Cidr {
  family: 4 | 6;
  prefix: number;
  /** Canonical text: the address alone for a full-length prefix, else `address/prefix`. */
  text: string;
  /** IPv4: first and last address as numbers. */
  v4?: { start: number; end: number };
  /** IPv6: first and last address as 32-digit hex keys. */
  v6?: { start: string; end: string };
}

/**
 * First and last address of the /prefix network holding `hex` (32 hex digits), as hex keys.
 * Works digit by digit: whole digits are kept, the one the prefix cuts is masked, the rest are
 * 0 (start) or f (end).
 */
function v6Bounds(hex: string, prefix: number): { start: string; end: string } {
  const whole = prefix >> 2;
  if (whole >= 32) return { start: hex, end: hex };
  const keep = hex.slice(0, whole);
  const mask = (0xf << (4 - (prefix & 3))) & 0xf;
  const digit = parseInt(hex[whole]!, 16) & mask;
  const rest = 31 - whole;
  return {
    start: keep + digit.toString(16) + '0'.repeat(rest),
    end: keep + (digit | (~mask & 0xf)).toString(16) + 'f'.repeat(rest),
  };
}

export function cidrFromAddress(ip: IpAddress, prefix?: number): Cidr {
  if (ip.kind === 'ipv4') {
    const p = prefix ?? 32;
    const size = 2 ** (32 - p);
    const start = Math.floor(ip.value / size) * size;
    return {
      family: 4,
      prefix: p,
      text: p === 32 ? ip.text : `${ipv4FromNumber(start).text}/${p}`,
      v4: { start, end: start + size - 1 },
    };
  }
  const p = prefix ?? 128;
  const { start, end } = v6Bounds(ip.hex, p);
  return {
    family: 6,
    prefix: p,
    text: p === 128 ? ip.text : `${ipv6FromHex(start).text}/${p}`,
    v6: { start, end },
  };
}

/** Parses an IP or CIDR; a CIDR with host bits set is an error that suggests the network. */
export function parseCidr(input: string): Parsed<Cidr> {
  const text = input.trim();
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const parsed = parseIp(addressText);
  if (!parsed.ok) return err(parsed.error);
  const ip = parsed.value;
  if (slash === -1) return ok(cidrFromAddress(ip));
  const prefixText = text.slice(slash + 1);
  const max = ip.kind === 'ipv4' ? 32 : 128;
  if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    return err(
      `"${text}" has an invalid prefix length "/${prefixText}"`,
      `write a number from 0 to ${max}`,
    );
  }
  const prefix = Number(prefixText);
  const cidr = cidrFromAddress(ip, prefix);
  const networkText = cidr.prefix === max ? `${cidr.text}/${max}` : cidr.text;
  const startText =
    ip.kind === 'ipv4' ? ipv4FromNumber(cidr.v4!.start).text : ipv6FromHex(cidr.v6!.start).text;
  if (startText !== ip.text) {
    return err(`${text} has host bits set`, `did you mean ${networkText}?`);
  }
  return ok(cidr);
}
