/**
 * summary(): what a policy allows and blocks, in words, like a "view summary" screen.
 * Pure: returns lines of text that the CLI prints (and the console will show).
 */
import { ECOSYSTEM_CATALOG } from './ecosystems/catalog.js';
import type { EcosystemExtras } from './ecosystems/index.js';
import type { Policy, PortRange, Rule, Selector } from './model.js';
import { formatPortRange } from './patterns/ports.js';

function portsWords(ports: readonly PortRange[] | undefined): string {
  if (!ports || ports.length === 0) return '';
  const list = ports.map(formatPortRange);
  return list.length === 1 && !list[0]!.includes('-')
    ? ` on port ${list[0]}`
    : ` on ports ${list.join(', ')}`;
}

function hostWords(host: string, includeSubdomains: boolean | undefined): string {
  if (host === '*' || host === '**') return 'every host name';
  if (includeSubdomains) return `${host} and all its subdomains`;
  if (host.startsWith('**.'))
    return `every subdomain of ${host.slice(3)} (not ${host.slice(3)} itself)`;
  if (host.startsWith('*.') && !host.slice(2).includes('*'))
    return `any name one level below ${host.slice(2)}`;
  if (host.includes('*')) return `names of the form ${host}`;
  return host;
}

export function selectorWords(s: Selector, extras: EcosystemExtras = {}): string {
  let target: string;
  if (s.ecosystem !== undefined) {
    const domains = [...(ECOSYSTEM_CATALOG[s.ecosystem] ?? []), ...(extras[s.ecosystem] ?? [])];
    const sample = domains.slice(0, 3).join(', ');
    target = `the ${s.ecosystem} ecosystem (${domains.length} domains${s.includeSubdomains ? ' and their subdomains' : ''}: ${sample}${domains.length > 3 ? ', …' : ''})`;
  } else if (s.cidr !== undefined)
    target = s.cidr.includes('/') ? `addresses in ${s.cidr}` : `the address ${s.cidr}`;
  else if (s.host !== undefined) target = hostWords(s.host, s.includeSubdomains);
  else target = 'any destination';
  const transport =
    s.transport === 'udp' ? ' over UDP' : s.transport === 'any' ? ' over TCP or UDP' : '';
  return `${target}${portsWords(s.ports)}${transport}`;
}

const VERBS: Record<Rule['kind'], string> = {
  allow: 'Allows',
  deny: 'Blocks',
  decide: 'Asks the decider about',
};

/** In monitor mode a deny rule blocks nothing unless it says `enforce: always`. */
const MONITOR_DENY = 'Would block';
const MONITOR_DENY_NOTE = ' (recorded as "would deny", let through)';

function ruleWords(
  rule: Rule,
  index: number,
  extras: EcosystemExtras,
  mode: Policy['mode'],
): string[] {
  const label = rule.name ? ` ("${rule.name}")` : '';
  const parts = rule.selectors.map((s) => selectorWords(s, extras));
  const monitored = mode === 'monitor' && rule.kind === 'deny' && !rule.enforceAlways;
  const always = rule.enforceAlways ? ', even in monitor mode' : monitored ? MONITOR_DENY_NOTE : '';
  const head = `  ${index + 1}. ${monitored ? MONITOR_DENY : VERBS[rule.kind]}${label}${always}:`;
  if (parts.length === 0) return [`${head} nothing (the rule is empty)`];
  const shown = parts.slice(0, 12).map((p) => `       - ${p}`);
  if (parts.length > 12) shown.push(`       - … and ${parts.length - 12} more`);
  return [head, ...shown];
}

const MODE_WORDS: Record<Policy['mode'], string> = {
  monitor:
    'monitor — every connection is logged and nothing is blocked; denials are recorded as "would deny"',
  restrict: 'restrict — connections are blocked unless the policy allows them',
  inspect: 'inspect — as restrict, and allowed HTTPS traffic is decrypted and recorded',
};

export function summarise(policy: Policy, extras: EcosystemExtras = {}): string[] {
  const lines: string[] = [];
  lines.push(`Policy "${policy.name}"${policy.description ? ` — ${policy.description}` : ''}`);
  const alwaysEnforced = policy.rules.filter((r) => r.enforceAlways).length;
  const exceptWords =
    policy.mode === 'monitor' && alwaysEnforced
      ? ` (except ${alwaysEnforced === 1 ? 'the deny rule' : 'the deny rules'} marked "enforce: always", which block even in monitor mode)`
      : '';
  lines.push(`Mode: ${MODE_WORDS[policy.mode]}${exceptWords}.`);
  if (policy.appliesTo) {
    const a = policy.appliesTo;
    const who =
      'all' in a
        ? 'every workspace'
        : 'ids' in a
          ? `workspaces ${a.ids.join(', ')}`
          : `workspaces with metadata ${Object.entries(a.metadata)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')}`;
    lines.push(`Applies to: ${who}.`);
  }
  lines.push('');
  if (policy.resources.length) {
    lines.push('Always reachable (attached to the workspace, checked before the rules):');
    for (const r of policy.resources)
      lines.push(`  - ${r.kind}${r.name ? ` ${r.name}` : ''}: ${r.host}${portsWords(r.ports)}`);
    lines.push('');
  }
  if (policy.rules.length) {
    lines.push('Rules, in order (the first rule that matches decides):');
    policy.rules.forEach((rule, i) => lines.push(...ruleWords(rule, i, extras, policy.mode)));
  } else {
    lines.push('No rules.');
  }
  const monitor = policy.mode === 'monitor';
  if (policy.default === 'allow') lines.push('Everything else is allowed.');
  else if (monitor)
    lines.push(
      'Everything else would be blocked in restrict mode: it is recorded as "would deny" and let through.',
    );
  else lines.push('Everything else is blocked.');
  lines.push('');
  const privateWords =
    policy.privateRanges === 'allow' ? 'Private ranges are allowed for allowed names; l' : 'L';
  const classes = `${privateWords}oopback, link-local, cloud metadata${policy.privateRanges === 'allow' ? '' : ', private-range'} and multicast addresses`;
  lines.push(
    monitor
      ? `${classes} are recorded as "would deny" and let through (restrict mode blocks them, even for allowed names, unless a rule allows that address explicitly).`
      : `${classes} stay blocked, even for allowed names, unless a rule allows that address explicitly.`,
  );
  lines.push(
    'UDP: only DNS (answered by the policy-aware resolver) and UDP that a rule allows explicitly; other UDP is dropped.',
  );
  if (policy.viaUpstreamProxy.length) {
    lines.push(
      `Through the parent proxy: ${policy.viaUpstreamProxy.map((s) => selectorWords(s, extras)).join('; ')}.`,
    );
  }
  if (policy.decider || policy.rules.some((r) => r.decider)) {
    const d = policy.decider ?? policy.rules.find((r) => r.decider)!.decider!;
    lines.push(
      `Decider: ${d.url ?? d.module}, ${d.timeoutMs} ms timeout${d.cache ? ', answers cached per workspace and host' : ''}; a timeout or error denies.`,
    );
  }
  if (policy.ingress) {
    const allowed =
      policy.ingress.allow.map((r) => `${r.transport}${portsWords(r.ports)}`).join('; ') ||
      'nothing';
    lines.push(
      `Inbound: allows ${allowed}; everything else inbound is ${policy.ingress.default === 'allow' ? 'allowed' : 'blocked'}.`,
    );
  }
  if (policy.mode === 'inspect') {
    lines.push(
      `Inspection: up to ${policy.maxBodyCapture} bytes of each body are recorded${policy.redact.length ? `, after removing matches of ${policy.redact.length} redaction pattern(s)` : ''}.`,
    );
  }
  return lines;
}
