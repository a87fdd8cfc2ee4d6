/**
 * Host normalisation (DESIGN.md 3.1): the only place where the rules for turning what a client
 * or a policy author wrote into a canonical host live. Both destinations and policy patterns go
 * through here, so they can never disagree about what a name means.
 */
import {
  dottedQuadValue,
  ipv6FromGroups,
  ipv6GroupsFast,
  looksLikeIpv4,
  parseIpv4,
  parseIpv6,
  type IpAddress,
} from './ip.js';

export type NormalHost =
  { kind: 'name'; name: string } | { kind: 'ip'; ip: IpAddress; name: string };

export type HostResult =
  { ok: true; host: NormalHost } | { ok: false; error: string; hint?: string };

export const MAX_NAME_LENGTH = 253;
export const MAX_LABEL_LENGTH = 63;

/** Characters DESIGN.md 3.1 names, plus every other control character. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[\u0000-\u0020\u007f%/@\\]/;
const FORBIDDEN_NAMES: Record<string, string> = {
  '\u0000': 'NUL',
  '\r': 'CR',
  '\n': 'LF',
  ' ': 'a space',
  '%': '"%"',
  '/': '"/"',
  '@': '"@"',
  '\\': '"\\"',
  '\t': 'a tab',
};
/** After IDN conversion a label may hold only these (underscore appears in real service names). */
const LABEL_CHARS = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;

function describeForbidden(ch: string): string {
  return (
    FORBIDDEN_NAMES[ch] ??
    `control character U+${ch.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`
  );
}

/**
 * IDN → punycode through the WHATWG URL parser (available in Node and browsers alike).
 * Returns undefined when the name is not a valid internationalised domain name.
 */
export function toAsciiName(name: string): string | undefined {
  try {
    const url = new URL(`http://${name}/`);
    // "bü?x" and "evil.com#.bü" parse as a host plus a query or fragment: only a name that
    // is the whole authority (nothing after it) is a host name.
    if (!url.hostname || url.href !== `http://${url.hostname}/`) return undefined;
    return url.hostname;
  } catch {
    return undefined;
  }
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7e) return false;
  return true;
}

/** Checks length and label rules of an ASCII, lowercased, dot-free-at-the-end name. */
export function checkName(name: string, allowWildcards = false): string | undefined {
  if (name.length === 0) return 'the host name is empty';
  if (name.length > MAX_NAME_LENGTH)
    return `the host name is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH}`;
  const labels = name.split('.');
  for (const label of labels) {
    if (label.length === 0)
      return `"${name}" has an empty label (two dots in a row, or a leading dot)`;
    if (label.length > MAX_LABEL_LENGTH)
      return `the label "${label.slice(0, 20)}…" is ${label.length} characters long; the limit is ${MAX_LABEL_LENGTH}`;
    if (allowWildcards && label.includes('*')) continue;
    if (!LABEL_CHARS.test(label)) {
      return `"${label}" is not a valid host name label (letters, digits, "-" and "_" only, not starting or ending with "-")`;
    }
  }
  return undefined;
}

/**
 * True for a name that is already canonical, which is what almost every client sends: lowercase
 * ASCII letters, digits, "-" and "_" in valid labels, the last of which does not start with a
 * digit (such a name may be an IPv4 literal). One pass over the characters, no split or
 * regular expression. normaliseHost returns such a name unchanged.
 */
export function isCanonicalName(input: string): boolean {
  const n = input.length;
  if (n === 0 || n > MAX_NAME_LENGTH) return false;
  let labelStart = 0;
  let lastLabelStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? input.charCodeAt(i) : 46; // a virtual dot closes the last label
    if (c === 46) {
      const length = i - labelStart;
      if (length === 0 || length > MAX_LABEL_LENGTH) return false;
      // "-" may not start or end a label.
      if (input.charCodeAt(labelStart) === 45 || input.charCodeAt(i - 1) === 45) return false;
      lastLabelStart = labelStart;
      labelStart = i + 1;
    } else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95)) {
      return false;
    }
  }
  const last = input.charCodeAt(lastLabelStart);
  return !(last >= 48 && last <= 57);
}

/**
 * Fast path: a canonical name, a plain dotted quad without leading zeros (which is its own
 * canonical text), or IPv6 text of hex groups. Anything else returns undefined and takes the full path in normaliseHost,
 * which gives the same answer for every input accepted here.
 */
function normaliseCanonical(input: string): HostResult | undefined {
  const first = input.charCodeAt(0);
  if (first >= 48 && first <= 57) {
    const value = dottedQuadValue(input);
    if (value !== undefined) {
      const ip: IpAddress = { kind: 'ipv4', value: value >>> 0, text: input };
      return { ok: true, host: { kind: 'ip', ip, name: input } };
    }
  }
  if (isCanonicalName(input)) return { ok: true, host: { kind: 'name', name: input } };
  const groups = ipv6GroupsFast(input);
  if (groups !== undefined) {
    const ip = ipv6FromGroups(groups);
    return { ok: true, host: { kind: 'ip', ip, name: ip.text } };
  }
  return undefined;
}

/**
 * Normalises a destination host: trim, reject forbidden characters, IDN → punycode, lowercase,
 * strip one trailing dot, recognise IP literals in every spelling. Never throws.
 */
export function normaliseHost(input: string): HostResult {
  const canonical = normaliseCanonical(input);
  if (canonical !== undefined) return canonical;
  let text = input.trim();
  if (text.length === 0) return { ok: false, error: 'the host name is empty' };
  if (text.length > 1024)
    return {
      ok: false,
      error: `the host name is ${text.length} characters long; the limit is ${MAX_NAME_LENGTH}`,
    };

  const bad = FORBIDDEN.exec(text);
  const ipv6 = text.startsWith('[') || text.includes(':');
  // In IPv6 text "%" starts a zone id, which gets its own message below.
  if (bad && !(ipv6 && bad[0] === '%'))
    return {
      ok: false,
      error: `the host name contains ${describeForbidden(bad[0])}, which is never valid in a host name`,
    };

  if (ipv6) {
    if (text.startsWith('[')) {
      if (!text.endsWith(']'))
        return { ok: false, error: `"${input}" opens "[" but does not close it` };
      text = text.slice(1, -1);
    }
    if (text.includes('%'))
      return {
        ok: false,
        error: `"${input}" has an IPv6 zone id; zone ids are not accepted`,
        hint: 'remove the "%..." part',
      };
    const v6 = parseIpv6(text);
    if (!v6.ok) return { ok: false, error: v6.error };
    return { ok: true, host: { kind: 'ip', ip: v6.value, name: v6.value.text } };
  }

  if (!isAscii(text)) {
    const ascii = toAsciiName(text);
    if (!ascii)
      return { ok: false, error: `"${input}" is not a valid internationalised domain name` };
    text = ascii;
  }
  text = text.toLowerCase();
  if (text.endsWith('.')) text = text.slice(0, -1);
  if (text.length === 0) return { ok: false, error: 'the host name is empty' };
  // Upper case or a trailing dot was all that kept most names off the fast path.
  if (isCanonicalName(text)) return { ok: true, host: { kind: 'name', name: text } };

  if (looksLikeIpv4(text)) {
    const v4 = parseIpv4(text);
    if (!v4.ok) return { ok: false, error: v4.error };
    return { ok: true, host: { kind: 'ip', ip: v4.value, name: v4.value.text } };
  }

  const problem = checkName(text);
  if (problem) return { ok: false, error: problem };
  return { ok: true, host: { kind: 'name', name: text } };
}
