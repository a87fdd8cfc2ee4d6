/**
 * Pieces of a Condukt policy → model: host globs and decide rules.
 *
 * Globs (Condukt.Sandbox.NetworkPolicy.Hosts): `*` is one label, `**` one or more, matched
 * against the request host case-insensitively. The same as native patterns, except two whole-
 * host forms: `**` alone matches every host, IP literals included (→ "any destination"), and
 * `*` alone matches only single-label names like "localhost", which egress cannot express.
 */
import type { DeciderSettings, Selector } from '../../model.js';
import { DEFAULT_DECIDER_TIMEOUT_MS } from '../../model.js';
import type { Path } from '../../source/diagnostics.js';
import type { Reporter } from '../../source/reporter.js';
import { targetSelector } from '../common.js';
import type { ConduktDecideRaw, ConduktPolicyRaw } from './schema.js';

/** Condukt's default for `context_messages`. */
export const CONDUKT_CONTEXT_MESSAGES = 5;

export function conduktGlobSelector(
  glob: string,
  reporter: Reporter,
  path: Path,
): Selector | undefined {
  const text = glob.trim();
  if (text === '**') return { source: reporter.location(path) };
  if (text === '*') {
    reporter.error(
      path,
      '"*" alone matches only single-label host names (like "localhost") in Condukt, which egress cannot express',
      'write "**" for every host, or list the names',
    );
    return undefined;
  }
  // Two or more colons is an IPv6 literal, which Condukt compares as text like any host.
  const portOrPath = text.includes('/') || (text.includes(':') && text.split(':').length < 3);
  if (portOrPath) {
    reporter.error(
      path,
      `"${glob}" never matches in Condukt: globs are matched against the host name alone`,
      'write the host name without scheme, port or path',
    );
    return undefined;
  }
  return targetSelector(text, reporter, path);
}

function callTarget(
  call: string,
  reporter: Reporter,
  path: Path,
): Pick<DeciderSettings, 'url' | 'module'> | undefined {
  if (/^https?:\/\//i.test(call)) {
    try {
      new URL(call);
      return { url: call };
    } catch {
      reporter.error(path, `"${call}" is not a valid URL`);
      return undefined;
    }
  }
  if (/^(\.{0,2}\/)/.test(call) || /\.(m|c)?js$/.test(call)) return { module: call };
  reporter.error(
    path,
    `"${call}" is not a webhook URL or a JS module path; egress cannot call Elixir code`,
    'write "https://..." (POST JSON, answers {"decision": "allow"|"deny"}) or "./decider.mjs" exporting decide(ctx, req)',
  );
  return undefined;
}

/** A decide rule's settings: the rule's own, falling back to the policy-wide struct fields. */
export function conduktDecider(
  raw: string | ConduktDecideRaw,
  policy: ConduktPolicyRaw,
  reporter: Reporter,
  path: Path,
): DeciderSettings | undefined {
  const rule: ConduktDecideRaw = typeof raw === 'string' ? { call: raw } : raw;
  const target = callTarget(
    rule.call,
    reporter,
    typeof raw === 'string' ? path : [...path, 'call'],
  );
  if (!target) return undefined;
  const settings: DeciderSettings = {
    ...target,
    timeoutMs: rule.timeout ?? policy.decide_timeout ?? DEFAULT_DECIDER_TIMEOUT_MS,
    cache: rule.cache ?? policy.decision_cache ?? true,
    contextMessages: rule.context_messages ?? policy.context_messages ?? CONDUKT_CONTEXT_MESSAGES,
  };
  const metadata = rule.context_metadata ?? policy.context_metadata;
  if (Array.isArray(metadata)) settings.contextMetadata = metadata;
  else if (metadata && Object.keys(metadata).length) settings.metadata = metadata;
  return settings;
}
