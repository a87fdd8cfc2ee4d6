/**
 * Small helpers over `dns-packet` shared by the DNS server, forwarder and cache: building
 * answers with an rcode (dns-packet ignores `rcode` when encoding, so it goes in the low bits
 * of `flags`), reading EDNS, and summarising answers for events.
 */
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type Question } from 'dns-packet';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
export type RcodeName = keyof typeof RCODE;
export const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

const RCODE_MASK = 0x000f;
const OPCODE_MASK = 0x7800;
/** UDP answers without EDNS may not exceed this (RFC 1035 4.2.1). */
export const CLASSIC_UDP_LIMIT = 512;
/** What we advertise and accept over UDP with EDNS (the DNS flag day 2020 size). */
export const EDNS_UDP_SIZE = 1232;

/** The rcode carried in a decoded packet's flags, as a name (`RCODE5` for unknown ones). */
export function rcodeOf(packet: Pick<Packet, 'flags'>): string {
  const code = (packet.flags ?? 0) & RCODE_MASK;
  return RCODE_NAMES[code] ?? `RCODE${code}`;
}

export function opcodeOf(packet: Pick<Packet, 'flags'>): number {
  return ((packet.flags ?? 0) & OPCODE_MASK) >> 11;
}

export function withRcode(flags: number, rcode: number): number {
  return (flags & ~RCODE_MASK) | (rcode & RCODE_MASK);
}

/** The client's OPT record, if it sent one (EDNS). */
export function ednsOf(packet: Packet): Extract<Answer, { type: 'OPT' }> | undefined {
  return packet.additionals?.find((a): a is Extract<Answer, { type: 'OPT' }> => a.type === 'OPT');
}

/** The largest UDP answer the client accepts. */
export function udpLimitOf(query: Packet): number {
  const opt = ednsOf(query);
  if (!opt) return CLASSIC_UDP_LIMIT;
  return Math.max(CLASSIC_UDP_LIMIT, Math.min(opt.udpPayloadSize, 65535));
}

/** Our own OPT record for answers to EDNS clients (RFC 6891: answer EDNS with EDNS). */
export function ourEdns(query: Packet): Answer[] {
  const opt = ednsOf(query);
  if (!opt) return [];
  return [
    {
      type: 'OPT',
      name: '.',
      udpPayloadSize: EDNS_UDP_SIZE,
      extendedRcode: 0,
      ednsVersion: 0,
      flags: opt.flags & dnsPacket.DNSSEC_OK,
      flag_do: (opt.flags & dnsPacket.DNSSEC_OK) !== 0,
      options: [],
    },
  ];
}

export interface ResponseParts {
  rcode: number;
  answers?: Answer[];
  authorities?: Answer[];
  additionals?: Answer[];
  /** Extra header bits (AA, AD) on top of QR, RD (echoed) and RA. */
  flags?: number;
}

/** An answer to `query` with the client's own id and question (its spelling, 0x20-safe). */
export function buildResponse(query: DecodedPacket, parts: ResponseParts): Buffer {
  const rd = query.flags ?? 0;
  const flags =
    (rd & dnsPacket.RECURSION_DESIRED) |
    (rd & dnsPacket.CHECKING_DISABLED) |
    dnsPacket.RECURSION_AVAILABLE |
    (parts.flags ?? 0);
  return dnsPacket.encode({
    type: 'response',
    id: query.id ?? 0,
    flags: withRcode(flags, parts.rcode),
    questions: query.questions ?? [],
    answers: parts.answers ?? [],
    authorities: parts.authorities ?? [],
    additionals: [...(parts.additionals ?? []).filter((a) => a.type !== 'OPT'), ...ourEdns(query)],
  });
}

/** Header and question only, TC set: "ask again over TCP" (RFC 7766). */
export function truncatedResponse(query: DecodedPacket, rcode: number): Buffer {
  return buildResponse(query, { rcode, flags: dnsPacket.TRUNCATED_RESPONSE });
}

/** Lowercase, no trailing dot: the form used for cache keys, pins and the policy. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') && lower.length > 1 ? lower.slice(0, -1) : lower;
}

export function questionKey(q: Question): string {
  return `${canonicalName(q.name)}|${q.type}|${q.class ?? 'IN'}`;
}

/** Answers as short text for events: `A 1.2.3.4`, `CNAME x.example`, `MX 10 mail.x`. */
export function summariseAnswers(answers: readonly Answer[] | undefined, limit = 20): string[] {
  const out: string[] = [];
  for (const a of answers ?? []) {
    if (a.type === 'OPT') continue;
    if (out.length === limit) {
      out.push(`and ${(answers?.length ?? 0) - limit} more`);
      break;
    }
    out.push(`${a.type} ${describeData(a)}`);
  }
  return out;
}

function describeData(a: Exclude<Answer, { type: 'OPT' }>): string {
  const data: unknown = a.data;
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return `${data.length} bytes`;
  if (Array.isArray(data))
    return data.map((d) => (Buffer.isBuffer(d) ? d.toString('utf8') : String(d))).join(' ');
  if (data && typeof data === 'object') {
    const o = data as Record<string, unknown>;
    if (a.type === 'MX') return `${String(o.preference ?? 0)} ${String(o.exchange)}`;
    if (a.type === 'SRV')
      return `${String(o.priority ?? 0)} ${String(o.weight ?? 0)} ${String(o.port)} ${String(o.target)}`;
    if (a.type === 'SOA') return `${String(o.mname)} ${String(o.rname)}`;
  }
  return a.type;
}
