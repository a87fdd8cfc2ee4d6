/**
 * Address classes that are denied by default once a name is allowed (DESIGN.md 3.4): an
 * allowed name must not become a way into the host, the cloud metadata service or the private
 * network. Pure data and arithmetic, shared by the engine (IP literals) and the proxy (resolved
 * addresses).
 */
import { parseCidr } from '../patterns/cidr.js';
import type { IpAddress } from '../normalise/ip.js';

export type IpClass =
  | 'loopback'
  | 'unspecified'
  | 'link_local'
  | 'multicast'
  | 'broadcast'
  | 'metadata'
  | 'private'
  | 'reserved'
  | 'proxy_self';

/** Checked in order: the first range that holds the address names its class. */
const CLASS_RANGES: ReadonlyArray<[string, IpClass]> = [
  ['169.254.169.254', 'metadata'],
  ['169.254.170.2', 'metadata'],
  ['100.100.100.200', 'metadata'],
  ['168.63.129.16', 'metadata'],
  ['192.0.0.192', 'metadata'],
  ['fd00:ec2::254', 'metadata'],
  ['fd00:ec2::23', 'metadata'],
  ['0.0.0.0/8', 'unspecified'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link_local'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['100.64.0.0/10', 'private'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['fe80::/10', 'link_local'],
  ['fc00::/7', 'private'],
  ['ff00::/8', 'multicast'],
];

interface V4Range {
  start: number;
  end: number;
  cls: IpClass;
}
interface V6Range {
  start: string;
  end: string;
  cls: IpClass;
}

function buildRanges(): { v4: V4Range[]; v6: V6Range[] } {
  const v4: V4Range[] = [];
  const v6: V6Range[] = [];
  for (const [text, cls] of CLASS_RANGES) {
    const parsed = parseCidr(text);
    if (!parsed.ok) throw new Error(`bad built-in range ${text}`);
    if (parsed.value.v4) v4.push({ ...parsed.value.v4, cls });
    if (parsed.value.v6) v6.push({ ...parsed.value.v6, cls });
  }
  return { v4, v6 };
}

const RANGES = buildRanges();

/** The class of an address, judging IPv6 forms that carry an IPv4 address by that address. */
export function classifyIp(ip: IpAddress): IpClass | null {
  if (ip.kind === 'ipv6' && ip.embeddedV4) return classifyIp(ip.embeddedV4);
  if (ip.kind === 'ipv4') {
    for (const r of RANGES.v4) if (ip.value >= r.start && ip.value <= r.end) return r.cls;
    return null;
  }
  for (const r of RANGES.v6) if (ip.hex >= r.start && ip.hex <= r.end) return r.cls;
  return null;
}
