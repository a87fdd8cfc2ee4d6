/**
 * IP literal parsing and canonical forms (DESIGN.md 3.1).
 *
 * IPv4 is accepted in every form that inet_aton and WHATWG URL parsers accept (`127.1`,
 * `0x7f.0.0.1`, `2130706433`, `0177.0.0.1`) and always canonicalised to a dotted quad before
 * anything matches it, so that no spelling of an address can slip past a rule.
 * IPv6 is canonicalised to RFC 5952 text and to a fixed-width 32-digit hex key that sorts in
 * numeric order (used by the interval tables). IPv6 forms that carry an IPv4 address
 * (mapped, compatible, NAT64, 6to4) expose it so they are judged by it.
 */

export interface Ipv4Address {
  kind: 'ipv4';
  /** Canonical dotted quad. */
  text: string;
  /** Unsigned 32-bit value. */
  value: number;
}

export interface Ipv6Address {
  kind: 'ipv6';
  /** Canonical RFC 5952 text (lowercase, compressed). */
  text: string;
  /** 32 lowercase hex digits; sorts like the number. */
  hex: string;
  /** The IPv4 address this one carries (mapped, compatible, NAT64 or 6to4), if any. */
  embeddedV4?: Ipv4Address;
}

export type IpAddress = Ipv4Address | Ipv6Address;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

const fail = <T>(error: string): ParseResult<T> => ({ ok: false, error });

export function ipv4FromNumber(value: number): Ipv4Address {
  const v = value >>> 0;
  return {
    kind: 'ipv4',
    value: v,
    text: `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`,
  };
}

/** Parses one inet_aton component: decimal, octal (leading 0) or hex (0x). */
function parseIpv4Part(part: string): number | undefined {
  if (part.length === 0) return undefined;
  let radix = 10;
  let digits = part;
  if (part.length > 1 && (part[1] === 'x' || part[1] === 'X') && part[0] === '0') {
    radix = 16;
    digits = part.slice(2);
    if (digits.length === 0) return 0; // "0x" alone is 0 in WHATWG URL parsing
  } else if (part.length > 1 && part[0] === '0') {
    radix = 8;
    digits = part.slice(1);
  }
  const pattern = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!pattern.test(digits)) return undefined;
  // Long runs of digits are still numbers (leading zeros); the range check rejects the rest.
  const value = parseInt(digits, radix);
  return Number.isSafeInteger(value) ? value : Infinity;
}

/** True when a name's last label is numeric, i.e. clients would treat it as an IPv4 address. */
export function looksLikeIpv4(host: string): boolean {
  const labels = host.split('.');
  let last = labels[labels.length - 1];
  if (last === '' && labels.length > 1) last = labels[labels.length - 2];
  if (last === undefined || last === '') return false;
  if (/^[0-9]+$/.test(last)) return true;
  return /^0x[0-9a-f]*$/i.test(last);
}

/** The value of a strict dotted quad ("192.0.2.1": four parts 0-255, no leading zeros). */
export function dottedQuadValue(text: string): number | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || part > 255) return undefined;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return undefined; // leading zero: octal, full path
      if (++digits > 3) return undefined;
      part = part * 10 + (c - 48);
    } else return undefined;
  }
  return parts === 4 ? value : undefined;
}

/**
 * Parses IPv4 in inet_aton/WHATWG form: 1 to 4 parts, the last filling the remaining bytes.
 * One trailing dot is allowed, as clients allow it.
 */
export function parseIpv4(input: string): ParseResult<Ipv4Address> {
  const plain = dottedQuadValue(input);
  if (plain !== undefined) return { ok: true, value: ipv4FromNumber(plain) };
  let text = input;
  if (text.endsWith('.')) text = text.slice(0, -1);
  const parts = text.split('.');
  if (parts.length > 4)
    return fail(`"${input}" has more than four parts, so it is not an IPv4 address`);
  const numbers: number[] = [];
  for (const part of parts) {
    const n = parseIpv4Part(part);
    if (n === undefined) return fail(`"${input}" is not a valid IPv4 address (bad part "${part}")`);
    numbers.push(n);
  }
  const last = numbers.pop()!;
  for (const n of numbers)
    if (n > 255) return fail(`"${input}" is not a valid IPv4 address (a part is over 255)`);
  const remainingBytes = 4 - numbers.length;
  if (last >= 2 ** (8 * remainingBytes))
    return fail(`"${input}" is not a valid IPv4 address (out of range)`);
  let value = 0;
  numbers.forEach((n, i) => {
    value += n * 2 ** (8 * (3 - i));
  });
  value += last;
  return { ok: true, value: ipv4FromNumber(value) };
}

/** Strict dotted quad (used inside IPv6 and for policy entries written the ordinary way). */
export function parseDottedQuad(text: string): Ipv4Address | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return ipv4FromNumber(value);
}

/** Parses IPv6 text (no brackets, no zone id) into eight 16-bit groups. */
function parseIpv6Groups(input: string): number[] | string {
  if (input.includes('%')) return 'zone ids (the "%..." part) are not accepted';
  if (!/^[0-9a-fA-F:.]+$/.test(input))
    return 'contains characters that cannot appear in an IPv6 address';
  let text = input;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseDottedQuad(text.slice(lastColon + 1));
    if (!v4) return 'has an invalid embedded IPv4 part';
    tail = [v4.value >>> 16, v4.value & 0xffff];
    text = text.slice(0, lastColon + 1);
    // "::1.2.3.4" keeps its "::"; "1:2:3:4:5:6:1.2.3.4" drops the separator before the IPv4 part.
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const doubleColon = text.indexOf('::');
  if (doubleColon !== -1 && text.indexOf('::', doubleColon + 1) !== -1)
    return 'uses "::" more than once';
  const parseSide = (side: string): number[] | undefined => {
    if (side === '') return [];
    const out: number[] = [];
    for (const g of side.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const wanted = 8 - tail.length;
  let groups: number[];
  if (doubleColon === -1) {
    const all = parseSide(text);
    if (!all || all.length !== wanted) return 'does not have eight groups';
    groups = all;
  } else {
    const head = parseSide(text.slice(0, doubleColon));
    const rest = parseSide(text.slice(doubleColon + 2));
    if (!head || !rest) return 'has an invalid group';
    const missing = wanted - head.length - rest.length;
    if (missing < 1) return 'has too many groups';
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  }
  return [...groups, ...tail];
}

const HEX_DIGITS = '0123456789abcdef';

/** Character codes of the 16 hex digits. */
const HEX_CODES = Array.from(HEX_DIGITS, (d) => d.charCodeAt(0));

/** 32 lowercase hex digits, made as one flat string (concatenation would build a rope). */
function groupsToHex(groups: number[]): string {
  const codes = new Array<number>(32);
  for (let i = 0; i < 8; i++) {
    const g = groups[i]!;
    codes[4 * i] = HEX_CODES[(g >> 12) & 15]!;
    codes[4 * i + 1] = HEX_CODES[(g >> 8) & 15]!;
    codes[4 * i + 2] = HEX_CODES[(g >> 4) & 15]!;
    codes[4 * i + 3] = HEX_CODES[g & 15]!;
  }
  return String.fromCharCode(...codes);
}

/** RFC 5952: lowercase, no leading zeros, the longest run of 2+ zero groups as "::". */
function groupsToText(groups: number[]): string {
  const zeroTo4 =
    groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0;
  if (zeroTo4 && groups[5] === 0xffff) {
    const v4 = ipv4FromNumber(((groups[6]! << 16) | groups[7]!) >>> 0);
    return `::ffff:${v4.text}`; // RFC 5952 section 5: mapped addresses keep their dotted tail
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLen - 1;
      continue;
    }
    if (text.length > 0 && i !== bestStart + bestLen) text += ':';
    text += groups[i]!.toString(16);
  }
  return text;
}

/** The IPv4 address carried by well-known IPv6 forms, judged by DESIGN.md 3.1. */
function embeddedIpv4(groups: number[]): Ipv4Address | undefined {
  const g0 = groups[0]!;
  const g1 = groups[1]!;
  const g2 = groups[2]!;
  const g3 = groups[3]!;
  const g4 = groups[4]!;
  const g5 = groups[5]!;
  const g6 = groups[6]!;
  const g7 = groups[7]!;
  const low32 = (g6 << 16) | g7;
  const zeroTo4 = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (SIIT translated)
  if (zeroTo4 && g5 === 0xffff) return ipv4FromNumber(low32);
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0)
    return ipv4FromNumber(low32);
  // ::a.b.c.d (deprecated IPv4-compatible), except :: and ::1 which are IPv6's own.
  if (zeroTo4 && g5 === 0 && g6 !== 0) return ipv4FromNumber(low32);
  // NAT64 well-known prefix 64:ff9b::/96
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0)
    return ipv4FromNumber(low32);
  // 6to4 2002:AABB:CCDD::/48
  if (g0 === 0x2002) return ipv4FromNumber(((g1 << 16) | g2) >>> 0);
  return undefined;
}

export function ipv6FromGroups(groups: number[]): Ipv6Address {
  const embedded = embeddedIpv4(groups);
  const text = groupsToText(groups);
  const hex = groupsToHex(groups);
  return embedded ? { kind: 'ipv6', text, hex, embeddedV4: embedded } : { kind: 'ipv6', text, hex };
}

export function ipv6FromHex(hex: string): Ipv6Address {
  const groups: number[] = [];
  for (let i = 0; i < 32; i += 4) groups.push(parseInt(hex.slice(i, i + 4), 16));
  return ipv6FromGroups(groups);
}

/** The value of one hex digit (either case), or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Fast path for the usual IPv6 text: hex groups of 1 to 4 digits separated by ":", with at
 * most one "::". One pass, no regular expression or split. Anything else (an embedded IPv4
 * part, a zone id, any mistake) returns undefined, and parseIpv6 gives the answer and the
 * message; for every input accepted here parseIpv6 gives the same groups.
 */
export function ipv6GroupsFast(text: string): number[] | undefined {
  const n = text.length;
  if (n < 2 || n > 39) return undefined;
  const head: number[] = [];
  const tail: number[] = [];
  let groups = head;
  let gap = false;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return undefined;
    gap = true;
    groups = tail;
    i = 2;
  }
  while (i < n) {
    let value = 0;
    let digits = 0;
    for (; i < n; i++) {
      const d = hexValue(text.charCodeAt(i));
      if (d < 0) break;
      value = value * 16 + d;
      digits++;
    }
    if (digits === 0 || digits > 4) return undefined;
    groups.push(value);
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return undefined;
    i++;
    if (i < n && text.charCodeAt(i) === 58) {
      if (gap) return undefined;
      gap = true;
      groups = tail;
      i++;
    } else if (i === n) return undefined;
  }
  if (!gap) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  for (let k = 0; k < missing; k++) head.push(0);
  for (const g of tail) head.push(g);
  return head;
}

export function parseIpv6(input: string): ParseResult<Ipv6Address> {
  const groups = parseIpv6Groups(input);
  if (typeof groups === 'string')
    return fail(`"${input}" is not a valid IPv6 address: it ${groups}`);
  return { ok: true, value: ipv6FromGroups(groups) };
}

/** Parses any IP literal: IPv6 (with or without brackets) or IPv4 in any accepted form. */
export function parseIp(input: string): ParseResult<IpAddress> {
  let text = input.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (text.includes(':')) return parseIpv6(text);
  return parseIpv4(text);
}
