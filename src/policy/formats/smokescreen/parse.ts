/**
 * smokescreen ACL + role → model. The order is smokescreen's Decide() (acl.go):
 *   1. the role's own allowed_domains allow (so they beat the global deny list);
 *   2. global_deny_list denies, even for a role in report mode (so that rule says
 *      `enforce: always`: egress monitor mode would otherwise only report it);
 *   3. global_allow_list allows;
 *   4. otherwise the role's action: enforce → deny, report → allow and report, open → allow.
 * A role missing from `services` falls back to the `default` entry, as smokescreen's Rule() does.
 */
import type { Mode, Policy, Rule, Selector } from '../../model.js';
import { emptyPolicy } from '../../model.js';
import type { Path } from '../../source/diagnostics.js';
import type { Reporter } from '../../source/reporter.js';
import { didYouMean } from '../../source/suggest.js';
import { validateWithSchema } from '../../source/validate.js';
import { openDocument } from '../common.js';
import type { FormatInput, ParsedPolicy, PolicyFormat } from '../types.js';
import { smokescreenGlobSelector } from './glob.js';
import { smokescreenAclSchema, type SmokescreenAclRaw, type SmokescreenRuleRaw } from './schema.js';

const MODES: Record<SmokescreenRuleRaw['action'], Mode> = {
  enforce: 'restrict',
  report: 'monitor',
  open: 'restrict',
};

interface Chosen {
  rule: SmokescreenRuleRaw;
  path: Path;
  name: string;
}

function globs(list: string[] | undefined, reporter: Reporter, path: Path): Selector[] {
  const out: Selector[] = [];
  (list ?? []).forEach((glob, i) => {
    const selector = smokescreenGlobSelector(glob, reporter, [...path, i]);
    if (selector) out.push(selector);
  });
  return out;
}

/** smokescreen validates every rule when it loads the file, not only the one in use. */
function validateRule(rule: SmokescreenRuleRaw, reporter: Reporter, path: Path): Selector[] {
  const allowed = globs(rule.allowed_domains, reporter, [...path, 'allowed_domains']);
  globs(rule.allowed_external_proxies, reporter, [...path, 'allowed_external_proxies']);
  (rule.mitm_domains ?? []).forEach((m, i) => {
    const mpath = [...path, 'mitm_domains', i, 'domain'];
    if (!smokescreenGlobSelector(m.domain, reporter, mpath)) return;
    if (!(rule.allowed_domains ?? []).includes(m.domain))
      reporter.error(
        mpath,
        `domain "${m.domain}" is in mitm_domains but missing from allowed_domains`,
        `add "${m.domain}" to allowed_domains`,
      );
  });
  return allowed;
}

function chooseRole(raw: SmokescreenAclRaw, role: string | undefined, reporter: Reporter) {
  const names = raw.services.map((s) => s.name ?? '');
  if (role !== undefined) {
    const index = names.indexOf(role);
    if (index !== -1) return { rule: raw.services[index]!, path: ['services', index], name: role };
    const guess = didYouMean(role, names);
    if (raw.default) {
      reporter.warn(
        ['default'],
        `role "${role}" has no entry in services, so the default rule applies (as in smokescreen)`,
        guess,
        { key: true },
      );
      return { rule: raw.default, path: ['default'], name: role };
    }
    reporter.error(
      ['services'],
      `role "${role}" has no entry in services and there is no default rule, so smokescreen would deny every request`,
      guess ?? (names.length ? `known roles: ${names.join(', ')}` : undefined),
      { key: true },
    );
    return undefined;
  }
  if (names.length === 0 && raw.default)
    return { rule: raw.default, path: ['default'], name: 'default' };
  reporter.error(
    ['services'],
    'this ACL has a rule per service: choose the service with --role NAME',
    names.length ? `known roles: ${names.join(', ')}` : 'add a service or a default rule',
    { key: true },
  );
  return undefined;
}

function buildRules(raw: SmokescreenAclRaw, chosen: Chosen, reporter: Reporter): Rule[] {
  const own = validateRule(chosen.rule, reporter, chosen.path);
  const deny = globs(raw.global_deny_list, reporter, ['global_deny_list']);
  const allow = globs(raw.global_allow_list, reporter, ['global_allow_list']);
  const rules: Rule[] = [];
  const push = (kind: Rule['kind'], name: string, selectors: Selector[], path: Path) => {
    if (selectors.length)
      rules.push({ kind, name, selectors, source: reporter.location(path, { key: true }) });
  };
  const ownPath = [...chosen.path, 'allowed_domains'];
  push(
    'allow',
    `${chosen.path[0] === 'default' ? 'default' : chosen.name} allowed_domains`,
    own,
    ownPath,
  );
  push('deny', 'global_deny_list', deny, ['global_deny_list']);
  // smokescreen blocks the global deny list even for a role in report mode (egress monitor).
  const denyRule = rules.find((r) => r.kind === 'deny');
  if (denyRule && chosen.rule.action === 'report') denyRule.enforceAlways = true;
  push('allow', 'global_allow_list', allow, ['global_allow_list']);
  return rules;
}

export function parseSmokescreen(input: FormatInput): ParsedPolicy {
  const reporter = openDocument(input);
  const raw = validateWithSchema(smokescreenAclSchema, reporter);
  reporter.throwIfErrors();
  const acl = raw!;
  const seen = new Set<string>();
  acl.services.forEach((service, i) => {
    const path = ['services', i];
    if (service.name === undefined || service.name === '')
      reporter.error(path, 'a service needs a "name"', 'add "name: <service role>"', { key: true });
    else if (seen.has(service.name))
      reporter.error([...path, 'name'], `rule already exists for service "${service.name}"`);
    else seen.add(service.name);
    validateRule(service, reporter, path);
  });
  if (acl.default) validateRule(acl.default, reporter, ['default']);
  reporter.throwIfErrors();

  const chosen = chooseRole(acl, input.role, reporter);
  reporter.throwIfErrors();
  const { rule } = chosen!;
  const rules = buildRules(acl, chosen!, reporter);
  reporter.throwIfErrors();
  if (rule.allowed_external_proxies?.length)
    reporter.warn(
      [...chosen!.path, 'allowed_external_proxies'],
      'allowed_external_proxies is ignored: egress does not receive requests through external proxies',
      undefined,
      { key: true },
    );
  if (rule.mitm_domains?.length)
    reporter.warn(
      [...chosen!.path, 'mitm_domains'],
      'mitm_domains is ignored: use egress inspect mode to look inside HTTPS',
      undefined,
      { key: true },
    );

  const policy: Policy = emptyPolicy(chosen!.name, MODES[rule.action]);
  policy.description = `smokescreen ACL for role "${chosen!.name}"${
    chosen!.path[0] === 'default' ? ' (default rule)' : ''
  }${rule.project ? `, project ${rule.project}` : ''}, action ${rule.action}`;
  policy.rules = rules;
  policy.default = rule.action === 'open' ? 'allow' : 'deny';
  policy.origin = { file: input.file, format: 'smokescreen' };
  return { policy, warnings: reporter.diagnostics.filter((d) => d.severity === 'warning') };
}

export const smokescreenFormat: PolicyFormat = {
  id: 'smokescreen',
  title: 'Stripe smokescreen ACL v1 (YAML) for one service role (--role)',
  parse: parseSmokescreen,
};
