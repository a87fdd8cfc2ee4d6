/**
 * Lint checks beyond validity: things that are allowed but probably not what the author meant.
 * Each finding is a warning with the place it is written.
 */
import { compilePolicy, type CompileOptions } from './engine/compile.js';
import { lookup } from './engine/decide.js';
import type { Policy, Selector } from './model.js';
import { parseHostPattern } from './patterns/host-pattern.js';
import type { Diagnostic, SourceLocation } from './source/diagnostics.js';
import { unreachableDenies, unreachableDenyWords } from './unreachable-deny.js';

function warning(
  source: SourceLocation | undefined,
  fallbackFile: string,
  message: string,
  hint?: string,
): Diagnostic {
  const loc = source ?? { file: fallbackFile, line: 1, col: 1 };
  return { severity: 'warning', ...loc, message, ...(hint ? { hint } : {}) };
}

/** An entry that an earlier rule always matches first can never decide anything. */
function shadowedBy(
  policy: Policy,
  compiled: ReturnType<typeof compilePolicy>,
  ruleIndex: number,
  selector: Selector,
): number | undefined {
  if (selector.host === undefined || selector.includeSubdomains) return undefined;
  const pattern = parseHostPattern(selector.host);
  if (!pattern.ok || pattern.value.kind !== 'exact') return undefined;
  const port = selector.ports?.[0]?.from ?? 443;
  const transport = selector.transport === 'udp' ? 'udp' : 'tcp';
  const id = lookup(compiled.rules, { kind: 'name', name: pattern.value.text }, port, transport);
  const entry = compiled.rules.entries[id];
  if (!entry || entry.ruleIndex >= ruleIndex || entry.ports !== null) return undefined;
  // The earlier entry matches every port; it shadows this one unless transports differ.
  const wantsBoth =
    selector.transport === 'any' ||
    (selector.transport === undefined && policy.rules[ruleIndex]!.kind === 'deny');
  if (wantsBoth && entry.transports !== 3) return undefined;
  return entry.ruleIndex;
}

export function lintPolicy(policy: Policy, options: CompileOptions = {}): Diagnostic[] {
  const file = policy.origin?.file ?? 'policy';
  const out: Diagnostic[] = [];
  const compiled = compilePolicy(policy, options);
  // The dangerous shadowing first: a deny that an earlier allow always beats.
  const unreachable = new Set<Selector>();
  for (const u of unreachableDenies(policy, compiled)) {
    unreachable.add(u.selector);
    const words = unreachableDenyWords(u, file);
    out.push(
      warning(
        u.selector.source ?? policy.rules[u.ruleIndex]!.source,
        file,
        words.message,
        words.hint,
      ),
    );
  }
  policy.rules.forEach((rule, i) => {
    if (rule.selectors.length === 0)
      out.push(
        warning(rule.source, file, `rule ${i + 1} has no destinations, so it never matches`),
      );
    for (const selector of rule.selectors) {
      if (unreachable.has(selector)) continue;
      const earlier = shadowedBy(policy, compiled, i, selector);
      if (earlier !== undefined) {
        const verb = policy.rules[earlier]!.kind;
        out.push(
          warning(
            selector.source,
            file,
            `"${selector.host}" in rule ${i + 1} never matches: rule ${earlier + 1} (${verb}) matches it first`,
            verb === rule.kind
              ? 'remove the duplicate'
              : 'move this rule above the other one if it should win',
          ),
        );
      }
    }
  });
  if (
    policy.mode !== 'monitor' &&
    policy.default === 'allow' &&
    !policy.rules.some((r) => r.kind !== 'allow')
  ) {
    out.push(
      warning(
        undefined,
        file,
        `policy "${policy.name}" is in ${policy.mode} mode but its default is allow and it has no deny rule, so it blocks nothing`,
        'set "default: deny" or use mode monitor',
      ),
    );
  }
  if (policy.mode === 'inspect' && policy.redact.length === 0) {
    out.push(
      warning(
        undefined,
        file,
        'inspect mode records headers and bodies, but the policy has no "redact" patterns',
        'add patterns for secrets, e.g. redact: ["Bearer [A-Za-z0-9._-]+"]',
      ),
    );
  }
  return out;
}
