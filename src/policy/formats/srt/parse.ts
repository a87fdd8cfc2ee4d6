/**
 * srt settings → model (DESIGN.md 4): deny first, then allow, then default deny. Entries with a
 * `deniedDomainReasons` entry get a deny rule of their own, named by the reason, so the reason
 * shows up in explanations as it does in srt's violation report.
 */
import type { Policy, Rule, Selector } from '../../model.js';
import { emptyPolicy } from '../../model.js';
import type { Reporter } from '../../source/reporter.js';
import { validateWithSchema } from '../../source/validate.js';
import { openDocument } from '../common.js';
import type { FormatInput, ParsedPolicy, PolicyFormat } from '../types.js';
import { srtEntrySelector } from './domain.js';
import { srtSettingsSchema, type SrtNetworkRaw } from './schema.js';

/** Network settings that do not change which destinations are allowed. */
const NOT_EGRESS: Record<string, string> = {
  allowUnixSockets: 'Unix sockets are local, not network egress',
  allowAllUnixSockets: 'Unix sockets are local, not network egress',
  allowLocalBinding: 'binding local ports is not egress',
  allowMachLookup: 'macOS XPC services are not network egress',
  strictAllowlist: 'egress never asks: hosts outside allowedDomains are denied',
  httpProxyPort: 'egress is the proxy and enforces these lists itself',
  socksProxyPort: 'egress is the proxy and enforces these lists itself',
  mitmProxy: 'use egress inspect mode to look inside HTTPS',
  tlsTerminate: 'use egress inspect mode to look inside HTTPS',
  parentProxy: 'start egress with its upstream (parent) proxy setting instead',
};

function baseName(file: string): string {
  const last = file.split(/[\\/]/).pop() ?? file;
  return last.replace(/\.[^.]+$/, '') || 'srt-settings';
}

function convertNetwork(net: SrtNetworkRaw, reporter: Reporter): Rule[] {
  const base = ['network'];
  for (const key of Object.keys(NOT_EGRESS)) {
    const value = net[key as keyof SrtNetworkRaw];
    // Settings left at what egress does anyway are not worth a warning.
    const inert =
      value === undefined ||
      (Array.isArray(value) && value.length === 0) ||
      (value === false && key !== 'strictAllowlist') ||
      (value === true && key === 'strictAllowlist');
    if (!inert)
      reporter.warn([...base, key], `"${key}" is ignored by egress`, NOT_EGRESS[key], {
        key: true,
      });
  }
  if (net.filterRequest !== undefined)
    reporter.error(
      [...base, 'filterRequest'],
      '"filterRequest" is a JavaScript callback in srt; it cannot be written in a settings file',
      'remove it; for per-request decisions use an egress decide rule',
      { key: true },
    );

  const reasons = net.deniedDomainReasons ?? {};
  const plainDeny: Selector[] = [];
  const reasoned: Rule[] = [];
  net.deniedDomains.forEach((entry, i) => {
    const path = [...base, 'deniedDomains', i];
    const selector = srtEntrySelector(entry, reporter, path, true);
    if (!selector) return;
    const reason = Object.hasOwn(reasons, entry) ? reasons[entry] : undefined;
    if (reason === undefined) plainDeny.push(selector);
    else
      reasoned.push({ kind: 'deny', name: reason, selectors: [selector], source: selector.source });
  });
  for (const key of Object.keys(reasons)) {
    if (!net.deniedDomains.includes(key))
      reporter.warn(
        [...base, 'deniedDomainReasons', key],
        `"${key}" is not an entry of deniedDomains, so this reason never applies`,
        'reasons are matched by the exact deniedDomains entry',
        { key: true },
      );
  }
  const allow: Selector[] = [];
  net.allowedDomains.forEach((entry, i) => {
    const selector = srtEntrySelector(entry, reporter, [...base, 'allowedDomains', i], false);
    if (selector) allow.push(selector);
  });

  const rules: Rule[] = [...reasoned];
  if (plainDeny.length)
    rules.push({
      kind: 'deny',
      name: 'deniedDomains',
      selectors: plainDeny,
      source: reporter.location([...base, 'deniedDomains']),
    });
  if (allow.length)
    rules.push({
      kind: 'allow',
      name: 'allowedDomains',
      selectors: allow,
      source: reporter.location([...base, 'allowedDomains']),
    });
  return rules;
}

export function parseSrt(input: FormatInput): ParsedPolicy {
  const reporter = openDocument(input);
  const raw = validateWithSchema(srtSettingsSchema, reporter);
  reporter.throwIfErrors();
  const rules = convertNetwork(raw!.network, reporter);
  reporter.throwIfErrors();
  const policy: Policy = emptyPolicy(baseName(input.file), 'restrict');
  policy.description = 'Imported from sandbox-runtime (srt) settings';
  policy.rules = rules;
  policy.origin = { file: input.file, format: 'srt' };
  return { policy, warnings: reporter.diagnostics.filter((d) => d.severity === 'warning') };
}

export const srtFormat: PolicyFormat = {
  id: 'srt',
  title: 'anthropic-experimental/sandbox-runtime settings (network.allowedDomains/deniedDomains)',
  parse: parseSrt,
};
