/**
 * Reads a Secure Developer Spaces expert-mode policy into the model (DESIGN.md section 4):
 * restrictedTraffic false → monitor, true → restrict; the allow list with default deny; custom
 * endpoints only when customEndpointsEnabled, and then both allowed and routed through the
 * parent proxy.
 */
import { ghAwDomainToPattern } from '../../ecosystems/index.js';
import { emptyPolicy, type Policy, type Rule, type Selector } from '../../model.js';
import { parseCidr } from '../../patterns/cidr.js';
import { isIpLiteralPattern, parseHostPattern } from '../../patterns/host-pattern.js';
import type { Path } from '../../source/diagnostics.js';
import type { Reporter } from '../../source/reporter.js';
import { validateWithSchema } from '../../source/validate.js';
import { openDocument } from '../common.js';
import type { FormatInput, ParsedPolicy, PolicyFormat } from '../types.js';
import { sdsPolicySchema, type SdsDomainEntryRaw, type SdsPolicyRaw } from './schema.js';

/** The two allow lists of one kind: where a misplaced entry should go instead. */
interface ListPair {
  domains: 'whitelistedDomains' | 'customEndpointsViaProxyDomains';
  ips: 'whitelistedIps' | 'customEndpointsViaProxyIps';
}
const WHITELIST: ListPair = { domains: 'whitelistedDomains', ips: 'whitelistedIps' };
const CUSTOM: ListPair = {
  domains: 'customEndpointsViaProxyDomains',
  ips: 'customEndpointsViaProxyIps',
};

function domainSelector(
  entry: SdsDomainEntryRaw,
  reporter: Reporter,
  path: Path,
  lists: ListPair,
): Selector | undefined {
  const text = entry.domain.trim();
  const at = [...path, 'domain'];
  if (text !== '' && isIpLiteralPattern(text)) {
    reporter.error(at, `"${text}" is an IP address, not a domain`, `move it to "${lists.ips}"`);
    return undefined;
  }
  // SDS writes "*.example.com" for "any subdomain", like gh-aw: any depth, apex excluded.
  const pattern = parseHostPattern(ghAwDomainToPattern(text));
  if (!pattern.ok) {
    reporter.error(at, pattern.error, pattern.hint);
    return undefined;
  }
  if (pattern.warning) reporter.warn(at, pattern.warning);
  if (entry.includeSubdomains && pattern.value.kind !== 'exact') {
    const apex = text.replace(/^\*\*?\./, '');
    reporter.error(
      [...path, 'includeSubdomains'],
      `includeSubdomains needs an exact domain, not the wildcard "${text}"`,
      `write "domain: ${apex}" with includeSubdomains: true`,
      { key: true },
    );
    return undefined;
  }
  const selector: Selector = { host: pattern.value.text, source: reporter.location(path) };
  if (entry.includeSubdomains) selector.includeSubdomains = true;
  return selector;
}

function ipSelector(
  text: string,
  reporter: Reporter,
  path: Path,
  lists: ListPair,
): Selector | undefined {
  const cidr = parseCidr(text);
  if (!cidr.ok) {
    const looksLikeName = !isIpLiteralPattern(text) && parseHostPattern(text).ok;
    if (looksLikeName)
      reporter.error(
        path,
        `"${text}" is a domain name, not an IPv4 address or CIDR range`,
        `move it to "${lists.domains}" as "- domain: ${text.trim()}"`,
      );
    else reporter.error(path, cidr.error, cidr.hint);
    return undefined;
  }
  if (cidr.value.family === 6) {
    reporter.error(
      path,
      `"${text}" is an IPv6 address; "${lists.ips}" takes IPv4 addresses and CIDR ranges only`,
      'use the native format for IPv6 destinations',
    );
    return undefined;
  }
  return { cidr: cidr.value.text, source: reporter.location(path) };
}

function convertLists(raw: SdsPolicyRaw, reporter: Reporter, lists: ListPair): Selector[] {
  const out: Selector[] = [];
  raw[lists.domains]?.forEach((entry, i) => {
    const s = domainSelector(entry, reporter, [lists.domains, i], lists);
    if (s) out.push(s);
  });
  raw[lists.ips]?.forEach((text, i) => {
    const s = ipSelector(text, reporter, [lists.ips, i], lists);
    if (s) out.push(s);
  });
  return out;
}

function requireText(value: string, field: 'name' | 'description', reporter: Reporter): void {
  if (value.trim() === '')
    reporter.error(
      [field],
      `"${field}" must not be empty`,
      field === 'name' ? 'write the policy name' : 'say in a few words what the policy does',
    );
}

export function parseSds(input: FormatInput): ParsedPolicy {
  const reporter = openDocument(input);
  const value = reporter.doc.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    reporter.error(
      [],
      'a Secure Developer Spaces policy is a mapping with "name", "description" and "restrictedTraffic"',
      'start with "name: ..."',
    );
    reporter.throwIfErrors();
  }
  const raw = validateWithSchema(sdsPolicySchema, reporter);
  reporter.throwIfErrors();
  const r = raw!;
  requireText(r.name, 'name', reporter);
  requireText(r.description, 'description', reporter);

  const rules: Rule[] = [];
  const allowed = convertLists(r, reporter, WHITELIST);
  if (allowed.length)
    rules.push({
      kind: 'allow',
      name: 'whitelisted domains and IPs',
      selectors: allowed,
      source: reporter.location([r.whitelistedDomains ? WHITELIST.domains : WHITELIST.ips]),
    });

  let viaUpstreamProxy: Selector[] = [];
  if (r.customEndpointsEnabled === true) {
    // Reached through the parent proxy, so they must be allowed as well as routed.
    viaUpstreamProxy = convertLists(r, reporter, CUSTOM);
    if (viaUpstreamProxy.length)
      rules.push({
        kind: 'allow',
        name: 'custom endpoints via proxy',
        selectors: viaUpstreamProxy.map((s) => ({ ...s })),
        source: reporter.location([r.customEndpointsViaProxyDomains ? CUSTOM.domains : CUSTOM.ips]),
      });
  } else {
    for (const key of [CUSTOM.domains, CUSTOM.ips] as const) {
      if (r[key]?.length)
        reporter.warn(
          [key],
          `"${key}" is ignored because customEndpointsEnabled is not true`,
          'set "customEndpointsEnabled: true" to use it, or remove the list',
          { key: true },
        );
    }
  }
  reporter.throwIfErrors();

  const policy: Policy = {
    ...emptyPolicy(r.name.trim(), r.restrictedTraffic ? 'restrict' : 'monitor'),
    description: r.description.trim(),
    rules,
    viaUpstreamProxy,
    origin: { file: input.file, format: 'sds' },
  };
  return { policy, warnings: reporter.diagnostics.filter((d) => d.severity === 'warning') };
}

export const sdsFormat: PolicyFormat = {
  id: 'sds',
  title: 'Secure Developer Spaces network policy (expert-mode YAML)',
  parse: parseSds,
};
