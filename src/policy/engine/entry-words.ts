/**
 * The port, transport and kind of one compiled entry as three small integers, its "words":
 *
 *   word 0: transport bits (TCP 1, UDP 2) | KIND_* code << 2 | EXPLICIT_IP | ENFORCE_ALWAYS
 *   word 1: the first port of its only port range, or ANY_PORT, or SEVERAL_RANGES
 *   word 2: the last port of that range (0 otherwise)
 *
 * Lookups test candidates by these words, kept in flat arrays of small integers, instead of
 * reading an entry object and its port list: at 100k entries each object read is a cache miss.
 */
import type { PortRange, RuleKind } from '../model.js';

export const TCP = 1;
export const UDP = 2;
export const ANY_TRANSPORT = TCP | UDP;
export const WORDS_PER_ENTRY = 3;
export const ANY_PORT = -1;
/** The entry has several port ranges: the caller checks its list. */
export const SEVERAL_RANGES = -2;
export const EXPLICIT_IP = 16;
/** A deny rule marked `enforce: always`: denies even in monitor mode. */
export const ENFORCE_ALWAYS = 32;

export const KIND_ALLOW = 0;
export const KIND_DENY = 1;
export const KIND_DECIDE = 2;
export const KIND_RESOURCE = 3;
const KIND_CODES: Readonly<Record<RuleKind | 'resource', number>> = {
  allow: KIND_ALLOW,
  deny: KIND_DENY,
  decide: KIND_DECIDE,
  resource: KIND_RESOURCE,
};

/** Appends the three words of an entry to `out`. */
export function pushEntryWords(
  out: number[],
  transports: number,
  kind: RuleKind | 'resource',
  explicitIp: boolean,
  ports: readonly PortRange[] | null,
  enforceAlways = false,
): void {
  const word =
    transports |
    (KIND_CODES[kind] << 2) |
    (explicitIp ? EXPLICIT_IP : 0) |
    (enforceAlways ? ENFORCE_ALWAYS : 0);
  if (ports === null) out.push(word, ANY_PORT, 0);
  else if (ports.length === 1) out.push(word, ports[0]!.from, ports[0]!.to);
  else out.push(word, SEVERAL_RANGES, 0);
}
