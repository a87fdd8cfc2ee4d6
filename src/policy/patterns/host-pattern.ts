/**
 * Host patterns of the native format (DESIGN.md 3.2), parsed and normalised the same way as
 * destinations so that a pattern and a destination can never disagree about a name.
 *
 *   example.com        exactly that name
 *   *.example.com      exactly one label below (api.example.com)
 *   **.example.com     one or more labels below (api.example.com, a.b.example.com)
 *   api-*.example.com  `*` inside a label: any run of characters within that one label
 *   * or **            every host name (never an IP literal)
 */
import { checkName, normaliseHost, toAsciiName } from '../normalise/host.js';
import { err, ok, type Parsed } from './result.js';

export type HostPatternKind = 'exact' | 'wildcard' | 'any';

export interface HostPattern {
  kind: HostPatternKind;
  /** Canonical text. */
  text: string;
  /** Labels from the right (TLD first); `*`, `**` or a glob label like `api-*`. */
  reversedLabels: string[];
}

/** Suffixes under which anyone can register names: a wildcard right above one is suspicious. */
const PUBLIC_SUFFIXES = new Set([
  'co.uk',
  'org.uk',
  'ac.uk',
  'gov.uk',
  'com.au',
  'net.au',
  'org.au',
  'co.jp',
  'ne.jp',
  'or.jp',
  'com.br',
  'com.cn',
  'com.mx',
  'co.in',
  'co.nz',
  'co.za',
  'com.tr',
  'com.sg',
  'com.hk',
  'github.io',
  'gitlab.io',
  'herokuapp.com',
  'vercel.app',
  'netlify.app',
  'pages.dev',
  'workers.dev',
  'appspot.com',
  'azurewebsites.net',
  'cloudfront.net',
  'amazonaws.com',
  'blogspot.com',
  'web.app',
  'firebaseapp.com',
  'fly.dev',
  'ngrok.io',
  'ngrok-free.app',
  'trycloudflare.com',
]);

export function isPublicSuffix(name: string): boolean {
  return !name.includes('.') || PUBLIC_SUFFIXES.has(name);
}

/** Common ways of writing a host that are not patterns, with what to write instead. */
function suggestionFor(text: string): string | undefined {
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#]+)/i.exec(text);
  if (url) return `write the host name alone: "${url[1]}"`;
  if (text.startsWith('.'))
    return `write "**${text}" for every subdomain, or use includeSubdomains: true to include "${text.slice(1)}" itself`;
  if (/^\*[^.]/.test(text)) return `did you mean "*.${text.slice(1).replace(/^\.+/, '')}"?`;
  const slash = text.indexOf('/');
  if (slash > 0) return `write the host name alone: "${text.slice(0, slash)}"`;
  return undefined;
}

function normaliseLabelGlob(label: string): string | undefined {
  // A glob label: fixed parts around `*`; each fixed part must be valid label text.
  if (label.includes('**')) return undefined;
  const fixed = label.split('*').join('');
  if (fixed.length && !/^[a-z0-9_-]+$/.test(fixed)) return undefined;
  return label;
}

/**
 * `*example.com` matches `evilexample.com`: a `*` inside the label right above a public suffix
 * lets anyone register a matching name. It is almost always a typo for `*.example.com`.
 */
function globAbovePublicSuffix(
  labels: readonly string[],
): { error: string; hint: string } | undefined {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label === '*' || label === '**' || !label.includes('*')) continue;
    const suffix = labels.slice(i + 1).join('.');
    if (suffix === '' || !isPublicSuffix(suffix)) continue;
    const example = label.replace(/\*/g, 'evil');
    const rest = label.slice(1);
    const typo = i === 0 && label.startsWith('*') && rest !== '' && !rest.includes('*');
    return {
      error: `"${labels.join('.')}" has a wildcard inside "${label}", right above the public suffix "${suffix}", so it matches names anyone can register (such as "${example}.${suffix}")`,
      hint: typo
        ? `did you mean "*.${rest}.${suffix}"?`
        : 'write the registered name in full and use wildcards only below it',
    };
  }
  return undefined;
}

/**
 * Parses a host pattern. IP literals are not host patterns: callers try `parseCidr` first
 * (`isIpLiteralPattern` tells which).
 */
export function parseHostPattern(input: string): Parsed<HostPattern> {
  let text = input.trim();
  if (text.length === 0) return err('the host pattern is empty');
  // One trailing dot is the DNS root, as in host names: "*." is "*", not a one-label pattern.
  if (text.length > 1 && text.endsWith('.') && !text.endsWith('..')) text = text.slice(0, -1);
  if (text === '*' || text === '**')
    return ok({ kind: 'any', text, reversedLabels: [text] }, `"${text}" matches every host name`);
  if (/[\s/@\\%:]/.test(text)) {
    const hint =
      suggestionFor(text) ??
      (text.includes(':')
        ? 'put the port in "ports:" (or write "host:port" as a plain entry)'
        : undefined);
    return err(`"${input}" is not a host pattern`, hint);
  }
  if (text.startsWith('.')) return err(`"${input}" starts with a dot`, suggestionFor(text));

  if (!text.includes('*')) {
    const normal = normaliseHost(text);
    if (!normal.ok) return err(normal.error, normal.hint ?? suggestionFor(text));
    if (normal.host.kind === 'ip')
      return err(`"${input}" is an IP address, not a host pattern`, 'write it as an IP entry');
    return ok({
      kind: 'exact',
      text: normal.host.name,
      reversedLabels: normal.host.name.split('.').reverse(),
    });
  }

  // Wildcards: normalise the fixed labels through IDN one by one.
  const labels = text.split('.');
  const out: string[] = [];
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label === '**') {
      if (i !== 0)
        return err(
          `"**" is only valid as the whole leftmost label in "${input}"`,
          `did you mean "**.${labels.slice(i + 1).join('.')}"?`,
        );
      out.push(label);
    } else if (label.includes('*')) {
      const glob = normaliseLabelGlob(label.toLowerCase());
      if (!glob) {
        const hint = label.includes('**')
          ? `"**" must be a whole label: did you mean "**.${labels.slice(i + 1).join('.')}"?`
          : undefined;
        return err(
          `"${label}" is not a valid wildcard label in "${input}"`,
          hint ?? 'a wildcard label may hold letters, digits, "-" and "*"',
        );
      }
      out.push(glob);
    } else {
      const ascii = /^[\x21-\x7e]*$/.test(label) ? label.toLowerCase() : toAsciiName(label);
      if (!ascii) return err(`"${label}" in "${input}" is not a valid host name label`);
      out.push(ascii);
    }
  }
  const canonical = out.join('.');
  const problem = checkName(canonical, true);
  if (problem) return err(problem, suggestionFor(text));
  const registrable = globAbovePublicSuffix(out);
  if (registrable) return err(registrable.error, registrable.hint);
  const fixedSuffix = out.slice(out.findLastIndex((l) => l.includes('*')) + 1).join('.');
  let warning: string | undefined;
  if (fixedSuffix === '')
    warning = `"${canonical}" has no fixed part, so it matches almost any host name`;
  else if (isPublicSuffix(fixedSuffix))
    warning = `"${canonical}" matches names anyone can register under the public suffix "${fixedSuffix}"`;
  return ok({ kind: 'wildcard', text: canonical, reversedLabels: out.reverse() }, warning);
}

/** True when a pattern is an IP or CIDR rather than a host name pattern. */
export function isIpLiteralPattern(text: string): boolean {
  const t = text.trim();
  if (t.includes('/')) {
    const [addr] = t.split('/');
    return isIpLiteralPattern(addr ?? '');
  }
  if (t.startsWith('[') || t.split(':').length > 2) return true;
  if (t.includes('*')) return false;
  const normal = normaliseHost(t);
  return normal.ok
    ? normal.host.kind === 'ip'
    : /^[0-9.]+$/.test(t) || /^0x/i.test(t.split('.').pop() ?? '');
}
