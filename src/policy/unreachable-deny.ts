/**
 * Deny entries that can never fire because an earlier allow (or decide) rule matches every
 * destination they name first: the dangerous kind of shadowing, where the author believes
 * something is blocked and it is allowed. Rules are checked in order and the first match
 * decides, so the fix is to move the deny above the rule that wins.
 *
 * One probe per deny entry: a name (or address) the entry matches is looked up in the compiled
 * rules; when the first match is an earlier allow/decide entry that covers the whole deny entry
 * (patterns, ports, transports), the deny is unreachable there.
 */
import type { CompiledPolicy } from './engine/compile.js';
import { lookup } from './engine/decide.js';
import type { Policy, Selector } from './model.js';
import { normaliseHost } from './normalise/host.js';
import { parseCidr } from './patterns/cidr.js';
import { destinationsCover, transportBits } from './patterns/covers.js';
import { parseHostPattern } from './patterns/host-pattern.js';
import { formatLocation, type SourceLocation } from './source/diagnostics.js';

export interface UnreachableDeny {
  ruleIndex: number;
  selector: Selector;
  /** The deny entry as written, or the ecosystem domain it expanded to. */
  what: string;
  /** The earlier rule that matches first. */
  winner: {
    ruleIndex: number;
    kind: 'allow' | 'decide';
    location: SourceLocation | null;
    pattern: string;
  };
  /** True when the deny never fires at all; false when it still applies to UDP only. */
  everywhere: boolean;
}

/** A name or address that `s` matches, to look up; undefined when none can be made. */
function probeHost(s: Selector): string | undefined {
  if (s.cidr !== undefined) {
    const c = parseCidr(s.cidr);
    return c.ok ? c.value.text.split('/')[0] : undefined;
  }
  if (s.host === undefined) return undefined;
  const p = parseHostPattern(s.host);
  if (!p.ok || p.value.kind === 'any') return undefined;
  return p.value.text
    .split('.')
    .map((label) => (label === '**' || label === '*' ? 'egress-probe' : label.replace(/\*/g, 'x')))
    .join('.');
}

function check(
  compiled: CompiledPolicy,
  ruleIndex: number,
  deny: Selector,
  what: string,
): UnreachableDeny | undefined {
  const probe = probeHost(deny);
  if (probe === undefined) return undefined;
  const host = normaliseHost(probe);
  if (!host.ok) return undefined;
  const denyBits = transportBits(deny.transport, true);
  const transport = denyBits & 1 ? 'tcp' : 'udp';
  const port = deny.ports?.[0]?.from ?? 443;
  const id = lookup(compiled.rules, host.host, port, transport);
  const entry = compiled.rules.entries[id];
  if (!entry || entry.ruleIndex >= ruleIndex) return undefined;
  if (entry.kind !== 'allow' && entry.kind !== 'decide') return undefined;
  if (!destinationsCover(entry.selector, deny)) return undefined;
  const shared = entry.transports & denyBits;
  if (!shared) return undefined;
  return {
    ruleIndex,
    selector: deny,
    what,
    winner: {
      ruleIndex: entry.ruleIndex,
      kind: entry.kind,
      location: entry.location,
      pattern: entry.via ?? describe(entry.selector),
    },
    everywhere: shared === denyBits,
  };
}

function describe(s: Selector): string {
  return (
    s.host ?? s.cidr ?? (s.ecosystem !== undefined ? `ecosystem:${s.ecosystem}` : 'any destination')
  );
}

/** Every deny entry of `policy` that an earlier allow/decide rule always beats. */
export function unreachableDenies(policy: Policy, compiled: CompiledPolicy): UnreachableDeny[] {
  const out: UnreachableDeny[] = [];
  // Ecosystem denies are probed through their compiled expansions.
  const expansions = new Map<Selector, Selector[]>();
  for (const entry of compiled.rules.entries) {
    if (entry.via === null || entry.kind !== 'deny') continue;
    const original = policy.rules[entry.ruleIndex]?.selectors.find(
      (s) => s.ecosystem !== undefined && `ecosystem:${s.ecosystem}` === entry.via,
    );
    if (original) expansions.set(original, [...(expansions.get(original) ?? []), entry.selector]);
  }
  policy.rules.forEach((rule, i) => {
    if (rule.kind !== 'deny') return;
    for (const selector of rule.selectors) {
      const parts =
        selector.ecosystem !== undefined ? (expansions.get(selector) ?? []) : [selector];
      for (const part of parts) {
        const found = check(compiled, i, part, describe(part));
        if (found) {
          out.push({ ...found, selector });
          break;
        }
      }
    }
  });
  return out;
}

/** The warning text for one finding: message and hint. */
export function unreachableDenyWords(
  u: UnreachableDeny,
  file: string,
): { message: string; hint: string } {
  const w = u.winner;
  const where = w.location ? ` at ${formatLocation(w.location)}` : '';
  const ecosystem =
    u.selector.ecosystem !== undefined && u.what !== `ecosystem:${u.selector.ecosystem}`
      ? ` (${u.what})`
      : '';
  const denyText =
    u.selector.ecosystem !== undefined ? `ecosystem:${u.selector.ecosystem}` : u.what;
  const scope = u.everywhere
    ? 'can never fire'
    : 'can never fire over TCP (it still applies to UDP)';
  const verb = w.kind === 'allow' ? 'allows it' : 'hands it to the decider';
  return {
    message: `deny "${denyText}"${ecosystem} in rule ${u.ruleIndex + 1} ${scope}: rule ${w.ruleIndex + 1} (${w.kind} ${w.pattern}${where}) matches first and ${verb}`,
    hint: `move the deny rule above rule ${w.ruleIndex + 1}${w.location && w.location.file === file ? ` (line ${w.location.line})` : ''}: the first rule that matches decides`,
  };
}
