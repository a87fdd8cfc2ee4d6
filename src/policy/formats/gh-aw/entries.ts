/**
 * One entry of gh-aw's `allowed:` / `blocked:` lists: an ecosystem identifier (`python`), a
 * domain (`api.example.com`), a wildcard (`*.example.com`: any depth, apex excluded), an IP,
 * a protocol-restricted domain (`https://x`: port 443 only, `http://x`: port 80 only), or `*`
 * alone (every destination).
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
    return { ecosystem: text, source };
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
  kind: ListKind,
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
  const pattern = parseHostPattern(ghAwDomainToPattern(text));
  if (!pattern.ok) {
    reporter.error(path, pattern.error, pattern.hint);
    return undefined;
  }
  if (pattern.warning) reporter.warn(path, pattern.warning);
  // gh-aw documents that blocked entries include their subdomains; blocking more never allows.
  if (kind === 'blocked' && pattern.value.kind === 'exact')
    return { host: pattern.value.text, includeSubdomains: true };
  return { host: pattern.value.text };
}
