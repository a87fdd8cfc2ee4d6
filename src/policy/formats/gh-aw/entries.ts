/**
 * One entry of gh-aw's `allowed:` / `blocked:` lists: an ecosystem identifier (`python`), a
 * domain (`api.example.com`: that domain and every subdomain), a wildcard (`*.example.com`:
 * any depth, apex excluded), an IP, a protocol-restricted domain (`https://x`: port 443 only,
 * `http://x`: port 80 only), or `*` alone (every destination).
 *
 * Plain domains include their subdomains because gh-aw's firewall (AWF) writes each one as a
 * Squid `dstdomain .x` ACL, which matches x and every name below it; the gh-aw docs say so too
 * ("automatically includes subdomains"). Ecosystem identifiers expand to plain domains handed to
 * the same firewall, so their domains include subdomains as well.
 */
import { ghAwDomainToPattern, type EcosystemExtras } from '../../ecosystems/index.js';
import type { PortRange, Selector } from '../../model.js';
import { parseCidr } from '../../patterns/cidr.js';
import { isIpLiteralPattern, parseHostPattern } from '../../patterns/host-pattern.js';
import type { Path } from '../../source/diagnostics.js';
import type { Reporter } from '../../source/reporter.js';
import { checkEcosystem } from '../common.js';

export type ListKind = 'allowed' | 'blocked';

/** gh-aw's own rule: a single word without a dot is an ecosystem identifier, never a domain. */
const IDENTIFIER = /^[a-z][a-z0-9-]*$/i;
const PROTOCOL_PORTS: Record<string, PortRange> = {
  https: { from: 443, to: 443 },
  http: { from: 80, to: 80 },
};

export function convertEntry(
  raw: string,
  kind: ListKind,
  reporter: Reporter,
  path: Path,
  extras: EcosystemExtras,
): Selector | undefined {
  const source = reporter.location(path);
  let text = raw.trim();
  if (text === '*') return { source };
  let ports: PortRange[] | undefined;
  const protocol = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(text);
  if (protocol) {
    const port = PROTOCOL_PORTS[protocol[1]!.toLowerCase()];
    const rest = protocol[2]!;
    if (!port) {
      reporter.error(
        path,
        `"${text}" has the protocol "${protocol[1]}"; gh-aw takes http:// or https://`,
      );
      return undefined;
    }
    if (/[/?#]/.test(rest)) {
      const host = rest.split(/[/?#]/)[0]!;
      reporter.error(
        path,
        `"${text}" has a path; network entries are domains`,
        `write "${protocol[1]}://${host}"`,
      );
      return undefined;
    }
    ports = [port];
    text = rest;
  }
  if (!protocol && IDENTIFIER.test(text)) {
    if (!checkEcosystem(text, reporter, path, extras)) return undefined;
    return { ecosystem: text, includeSubdomains: true, source };
  }
  const withPort = /^([^:[\]]+):(\d+)$/.exec(text);
  if (withPort) {
    reporter.error(
      path,
      `"${text}" has a port; gh-aw network entries are domains without ports`,
      `write "${withPort[1]}" (every port), or use the native format for port rules`,
    );
    return undefined;
  }
  const selector = targetFor(text, kind, reporter, path);
  if (!selector) return undefined;
  if (ports) selector.ports = ports;
  selector.source = source;
  return selector;
}

function targetFor(
  text: string,
  _kind: ListKind,
  reporter: Reporter,
  path: Path,
): Selector | undefined {
  if (isIpLiteralPattern(text)) {
    const cidr = parseCidr(text.replace(/^\[(.*)\]$/, '$1'));
    if (!cidr.ok) {
      reporter.error(path, cidr.error, cidr.hint);
      return undefined;
    }
    return { cidr: cidr.value.text };
  }
  if (text.includes('*') && !/^\*\.[^*]+$/.test(text)) {
    // gh-aw's compiler accepts one wildcard, at the start, followed by a dot.
    reporter.error(
      path,
      `"${text}": gh-aw takes one wildcard, at the start followed by a dot`,
      'write "*.example.com" (any depth of subdomains)',
    );
    return undefined;
  }
  const pattern = parseHostPattern(ghAwDomainToPattern(text));
  if (!pattern.ok) {
    reporter.error(path, pattern.error, pattern.hint);
    return undefined;
  }
  if (pattern.warning) reporter.warn(path, pattern.warning);
  // Squid `dstdomain .x` for allowed and blocked entries alike: x and every subdomain.
  if (pattern.value.kind === 'exact') return { host: pattern.value.text, includeSubdomains: true };
  return { host: pattern.value.text };
}
