/**
 * One destination entry of a rule, written as text: `github.com`, `**.example.com:443`,
 * `10.0.0.0/8`, `[2001:db8::1]:8443`, `api.example.com:8000-8999`, `ecosystem:python`.
 * Both the native format and importers use this, so an entry means the same everywhere.
 */
import type { PortRange, Selector } from '../model.js';
import { parseCidr } from './cidr.js';
import { isIpLiteralPattern, parseHostPattern } from './host-pattern.js';
import { parsePortRange } from './ports.js';
import { err, ok, type Parsed } from './result.js';

export const ECOSYSTEM_PREFIX = 'ecosystem:';

/** Parses a host, IP or CIDR (no port) into the matching selector fields. */
export function parseTarget(text: string): Parsed<Pick<Selector, 'host' | 'cidr'>> {
  if (isIpLiteralPattern(text)) {
    const cidr = parseCidr(text.replace(/^\[(.*)\]$/, '$1'));
    return cidr.ok ? ok({ cidr: cidr.value.text }) : err(cidr.error, cidr.hint);
  }
  const host = parseHostPattern(text);
  return host.ok ? ok({ host: host.value.text }, host.warning) : err(host.error, host.hint);
}

/** Splits `host:port`, `[v6]:port` and `v6` without brackets; the port part may be a range. */
export function splitHostPort(text: string): { host: string; port?: string } | undefined {
  const t = text.trim();
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close === -1) return undefined;
    const rest = t.slice(close + 1);
    if (rest === '') return { host: t.slice(1, close) };
    if (!rest.startsWith(':')) return undefined;
    return { host: t.slice(1, close), port: rest.slice(1) };
  }
  const colons = t.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = t.split(':') as [string, string];
    return { host, port };
  }
  return { host: t };
}

export function parseSelectorString(input: string): Parsed<Selector> {
  const text = input.trim();
  if (text.toLowerCase().startsWith(ECOSYSTEM_PREFIX)) {
    const name = text.slice(ECOSYSTEM_PREFIX.length).trim();
    if (!name) return err(`"${input}" names no ecosystem`, 'write e.g. "ecosystem:python"');
    return ok({ ecosystem: name });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const host = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]+)/i.exec(text)?.[1] ?? '';
    return err(`"${input}" is a URL; rules take host names`, `write "${host}"`);
  }
  const parts = splitHostPort(text);
  if (!parts)
    return err(
      `"${input}" is not a valid destination`,
      'write "host", "host:port", "[v6]:port" or a CIDR like "10.0.0.0/8"',
    );
  const target = parseTarget(parts.host);
  if (!target.ok) return target;
  let ports: PortRange[] | undefined;
  if (parts.port !== undefined) {
    const range = parsePortRange(parts.port);
    if (!range.ok) return range;
    ports = [range.value];
  }
  return ok({ ...target.value, ...(ports ? { ports } : {}) }, target.warning);
}
