/**
 * Ecosystem identifiers (`python`, `node`, `github`, ...) → the host patterns they stand for.
 *
 * The catalog comes from gh-aw (data/ecosystems.json). Registries and mirrors the host itself is
 * configured to use (found by the data plane: npm's `registry`, pip's `index-url`, apt sources)
 * are passed in as `extra` and join the matching identifier, so users behind a corporate mirror
 * get exactly that mirror allowed.
 */
import type { Selector } from '../model.js';
import { parseTarget } from '../patterns/selector.js';
import { ECOSYSTEM_CATALOG } from './catalog.js';

export type EcosystemExtras = Readonly<Record<string, readonly string[]>>;

export function knownEcosystems(extra: EcosystemExtras = {}): string[] {
  return [...new Set([...Object.keys(ECOSYSTEM_CATALOG), ...Object.keys(extra)])].sort();
}

export function isKnownEcosystem(name: string, extra: EcosystemExtras = {}): boolean {
  return Object.hasOwn(ECOSYSTEM_CATALOG, name) || Object.hasOwn(extra, name);
}

/** gh-aw writes `*.x` for "any depth below x"; the native grammar spells that `**.x`. */
export function ghAwDomainToPattern(domain: string): string {
  return domain.startsWith('*.') ? `*${domain}` : domain;
}

/**
 * The selectors an ecosystem expands to; each inherits the ports/transport of the entry. With
 * `includeSubdomains` (gh-aw, whose firewall matches every domain as Squid `dstdomain .x`) each
 * exact domain also matches its subdomains; wildcard domains stay as they are.
 */
export function expandEcosystem(
  name: string,
  base: Selector,
  extra: EcosystemExtras = {},
): Selector[] {
  const domains = [...(ECOSYSTEM_CATALOG[name] ?? []), ...(extra[name] ?? [])];
  const out: Selector[] = [];
  for (const domain of new Set(domains)) {
    const target = parseTarget(ghAwDomainToPattern(domain));
    if (!target.ok) continue; // catalog entries are checked by a test; extras by the loader
    const { ecosystem: _ecosystem, includeSubdomains, ...rest } = base;
    const selector: Selector = { ...rest, ...target.value };
    if (includeSubdomains && selector.host !== undefined && !selector.host.includes('*'))
      selector.includeSubdomains = true;
    out.push(selector);
  }
  return out;
}
