/**
 * Condukt policy → model, one to one: ordered allow/deny/decide rules, first match wins,
 * default deny unless stated. A decide rule is terminal in Condukt (whatever the decider says
 * is the answer), so it becomes a decide rule over every destination. Condukt always terminates
 * TLS and records bodies; egress maps that to inspect mode when the policy says something about
 * recording (redact patterns or a non-zero max_body_capture), otherwise to restrict.
 */
import type { Mode, Policy, Rule } from '../../model.js';
import { emptyPolicy } from '../../model.js';
import type { Reporter } from '../../source/reporter.js';
import { validateWithSchema } from '../../source/validate.js';
import { checkRedactPatterns, openDocument } from '../common.js';
import type { FormatInput, ParsedPolicy, PolicyFormat } from '../types.js';
import { conduktDecider, conduktGlobSelector } from './convert.js';
import { conduktPolicySchema, type ConduktPolicyRaw, type ConduktRuleRaw } from './schema.js';

function convertRule(
  raw: ConduktRuleRaw,
  policy: ConduktPolicyRaw,
  reporter: Reporter,
  index: number,
): Rule | undefined {
  const path = ['rules', index];
  const kinds = (['allow', 'deny', 'decide'] as const).filter((k) => raw[k] !== undefined);
  if (kinds.length !== 1) {
    reporter.error(
      kinds.length ? [...path, kinds[1]!] : path,
      kinds.length
        ? `a rule has one kind, but this one has both "${kinds[0]}" and "${kinds[1]}"`
        : 'a rule needs one of "allow", "deny" or "decide"',
      kinds.length
        ? 'split it into two rules (order matters: first match wins)'
        : 'write e.g. "- allow: [api.github.com]"',
      { key: kinds.length > 0 },
    );
    return undefined;
  }
  const kind = kinds[0]!;
  const source = reporter.location(path);
  if (kind === 'decide') {
    const decider = conduktDecider(raw.decide!, policy, reporter, [...path, 'decide']);
    if (!decider) return undefined;
    return { kind, selectors: [{ source }], decider, source };
  }
  const selectors = raw[kind]!.flatMap((glob, i) => {
    const s = conduktGlobSelector(glob, reporter, [...path, kind, i]);
    return s ? [s] : [];
  });
  return { kind, selectors, source };
}

function modeOf(raw: ConduktPolicyRaw): Mode {
  const records = (raw.redact?.length ?? 0) > 0 || (raw.max_body_capture ?? 0) > 0;
  return records ? 'inspect' : 'restrict';
}

function baseName(file: string): string {
  const last = file.split(/[\\/]/).pop() ?? file;
  return last.replace(/\.[^.]+$/, '') || 'condukt';
}

export function parseCondukt(input: FormatInput): ParsedPolicy {
  const reporter = openDocument(input);
  const raw = validateWithSchema(conduktPolicySchema, reporter);
  reporter.throwIfErrors();
  const r = raw!;
  const rules: Rule[] = [];
  (r.rules ?? []).forEach((rule, i) => {
    const converted = convertRule(rule, r, reporter, i);
    if (converted) rules.push(converted);
  });
  const firstDecide = (r.rules ?? []).findIndex((rule) => rule.decide !== undefined);
  if (firstDecide !== -1 && firstDecide < (r.rules?.length ?? 0) - 1)
    reporter.warn(
      ['rules', firstDecide + 1],
      'this rule never runs: the decide rule before it answers every request',
      'move narrower allow and deny rules above the decide rule',
    );
  checkRedactPatterns(r.redact, reporter, (pattern) =>
    /^\(\?[a-z]+\)/.test(pattern)
      ? 'egress reads JavaScript regular expressions, which have no inline flags like "(?i)": spell out both cases, e.g. "[Aa]uthorization"'
      : undefined,
  );
  reporter.throwIfErrors();

  const policy: Policy = emptyPolicy(baseName(input.file), modeOf(r));
  policy.description = 'Imported from a Condukt sandbox network policy';
  policy.rules = rules;
  policy.default = r.default ?? 'deny';
  policy.redact = r.redact ?? [];
  if (r.max_body_capture !== undefined) policy.maxBodyCapture = r.max_body_capture;
  policy.origin = { file: input.file, format: 'condukt' };
  return { policy, warnings: reporter.diagnostics.filter((d) => d.severity === 'warning') };
}

export const conduktFormat: PolicyFormat = {
  id: 'condukt',
  title: 'Condukt sandbox network policy (YAML/JSON rendering of the struct)',
  parse: parseCondukt,
};
