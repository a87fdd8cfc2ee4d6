/**
 * Reads the `network:` permissions of a GitHub Agentic Workflows workflow into the model
 * (DESIGN.md section 4): absent or `defaults` → the defaults ecosystem; `{}` → nothing;
 * `allowed` / `blocked` → deny rule first, then allow rule, then default deny.
 */
import { emptyPolicy, type Policy, type Rule, type Selector } from '../../model.js';
import type { Path } from '../../source/diagnostics.js';
import type { Reporter } from '../../source/reporter.js';
import { validateWithSchema } from '../../source/validate.js';
import { openDocument } from '../common.js';
import { fileStem } from '../file-name.js';
import type { FormatInput, ParsedPolicy, PolicyFormat } from '../types.js';
import { extractFrontMatter } from './front-matter.js';
import { convertEntry, type ListKind } from './entries.js';
import { ghAwFrontMatterSchema, type GhAwNetworkObjectRaw } from './schema.js';

type Extras = NonNullable<FormatInput['ecosystemExtras']>;

function convertList(
  list: readonly string[],
  kind: ListKind,
  reporter: Reporter,
  extras: Extras,
): Selector[] {
  const out: Selector[] = [];
  list.forEach((entry, i) => {
    const s = convertEntry(entry, kind, reporter, ['network', kind, i], extras);
    if (s) out.push(s);
  });
  const anyAt = list.findIndex((e) => e.trim() === '*');
  if (anyAt !== -1 && list.length > 1)
    reporter.warn(
      ['network', kind, anyAt],
      `"*" ${kind === 'allowed' ? 'allows' : 'blocks'} every destination, so the other entries of "${kind}" change nothing`,
    );
  return out;
}

/** Firewall settings: keep the log level; refuse what egress cannot do rather than allow more. */
function checkFirewall(network: GhAwNetworkObjectRaw, reporter: Reporter): Policy['logLevel'] {
  const fw = network.firewall;
  const at: Path = ['network', 'firewall'];
  if (fw === false || fw === 'disable') {
    reporter.warn(
      at,
      'the firewall is disabled here, so gh-aw would not restrict the agent; egress enforces the allowed list anyway',
      undefined,
      { key: true },
    );
    return undefined;
  }
  if (fw === null || typeof fw !== 'object') return undefined;
  if (fw['allow-urls']?.length)
    reporter.error(
      [...at, 'allow-urls'],
      'URL path filtering ("allow-urls" with SSL bump) is not supported: egress decides by host and port',
      'remove "allow-urls" to allow the whole domains, or narrow "allowed" to the hosts you need',
      { key: true },
    );
  else if (fw['ssl-bump'])
    reporter.warn(
      [...at, 'ssl-bump'],
      '"ssl-bump" without "allow-urls" changes nothing here',
      undefined,
      {
        key: true,
      },
    );
  if (fw.args?.length)
    reporter.warn(
      [...at, 'args'],
      'firewall "args" are options of the AWF wrapper and are ignored',
      undefined,
      {
        key: true,
      },
    );
  return fw['log-level'];
}

function networkRules(network: GhAwNetworkObjectRaw, reporter: Reporter, extras: Extras): Rule[] {
  const rules: Rule[] = [];
  const blocked = convertList(network.blocked ?? [], 'blocked', reporter, extras);
  const allowed = convertList(network.allowed ?? [], 'allowed', reporter, extras);
  if (blocked.length)
    rules.push({
      kind: 'deny',
      name: 'blocked',
      selectors: blocked,
      source: reporter.location(['network', 'blocked'], { key: true }),
    });
  if (allowed.length)
    rules.push({
      kind: 'allow',
      name: 'allowed',
      selectors: allowed,
      source: reporter.location(['network', 'allowed'], { key: true }),
    });
  if (network['allowed-input'])
    reporter.warn(
      ['network', 'allowed-input'],
      'callers of this workflow may add entries at run time; this policy holds only the entries written here',
      undefined,
      { key: true },
    );
  return rules;
}

export function parseGhAw(input: FormatInput): ParsedPolicy {
  const front = extractFrontMatter(input);
  const reporter = openDocument({ text: front.yaml, file: input.file }, front.lineOffset);
  const value = reporter.doc.value ?? (front.markdown ? {} : null);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    reporter.error(
      [],
      'expected a gh-aw workflow: Markdown with YAML front matter between "---" lines, or a YAML mapping',
      'start the file with "---", then "network:", then "---"',
    );
    reporter.throwIfErrors();
  }
  const raw =
    reporter.doc.value === null ? {} : validateWithSchema(ghAwFrontMatterSchema, reporter);
  reporter.throwIfErrors();
  const extras = input.ecosystemExtras ?? {};
  const network = raw!.network ?? 'defaults';
  const policy: Policy = {
    ...emptyPolicy(raw!.name?.trim() || fileStem(input.file), 'restrict'),
    origin: { file: input.file, format: 'gh-aw' },
  };
  if (raw!.description?.trim()) policy.description = raw!.description.trim();
  if (network === 'defaults') {
    // Absent `network:` means `network: defaults` in gh-aw.
    const at: Path = raw!.network === undefined ? [] : ['network'];
    const source = reporter.location(at, { key: at.length > 0 });
    policy.rules = [
      {
        kind: 'allow',
        name: 'defaults',
        selectors: [{ ecosystem: 'defaults', includeSubdomains: true, source }],
        source,
      },
    ];
  } else {
    policy.rules = networkRules(network, reporter, extras);
    const logLevel = checkFirewall(network, reporter);
    if (logLevel) policy.logLevel = logLevel;
  }
  reporter.throwIfErrors();
  return { policy, warnings: reporter.diagnostics.filter((d) => d.severity === 'warning') };
}

export const ghAwFormat: PolicyFormat = {
  id: 'gh-aw',
  title: 'GitHub Agentic Workflows network permissions (workflow Markdown or YAML)',
  parse: parseGhAw,
};
