/**
 * `egress run --learn`: turns what a command reached (in monitor mode) into a policy that lets
 * the same command through in restrict mode. Pure: observations in, a model Policy and one
 * comment per learned entry out (the caller emits native YAML and writes it).
 *
 * Grouping rule, kept simple so that users can predict it:
 * - A known ecosystem (`python`, `node`, ...) replaces its hosts when at least two different
 *   hosts it covers were reached (pypi.org and files.pythonhosted.org → `ecosystem:python`).
 *   One host alone stays an exact host: one registry does not mean the whole ecosystem.
 * - Other names become exact hosts; literal addresses become IP entries.
 * - Ports 80 and 443 are not written (a bare host allows every port); any other port is kept.
 * - UDP destinations become IP entries with `transport: udp`, or name entries when the flow was
 *   decided by the name the program looked up.
 * - Names that were only looked up, never connected to, are listed in the header comment,
 *   not allowed: search-domain guesses and probes would otherwise widen the policy.
 *
 * The result is checked against every observation: where an address class (loopback,
 * private) would still deny a name's address, the address is added as an IP entry.
 */
import { compilePolicy } from '../engine/compile.js';
import { decide, decideAddress } from '../engine/decide.js';
import { knownEcosystems, type EcosystemExtras } from '../ecosystems/index.js';
import { emptyPolicy, type Policy, type PortRange, type Rule, type Selector } from '../model.js';
import { parseIp } from '../normalise/ip.js';

export type ObservationKind = 'connection' | 'udp' | 'dns';

/** One destination the command used (per kind, host, port), as the learner saw it. */
export interface Observation {
  kind: ObservationKind;
  host: string;
  port: number;
  /** Addresses the name was dialled at (connections). */
  ips: string[];
  count: number;
  /** ISO time of the first use. */
  firstSeen: string;
}

export interface LearnedEntry {
  selector: Selector;
  comment: string;
}

export interface LearnedPolicy {
  policy: Policy;
  /** The learned rule's entries in order, with their comments (same order as the rule). */
  entries: LearnedEntry[];
  /** Index of the learned rule in `policy.rules`, or -1 when nothing was learned. */
  ruleIndex: number;
  /** Names looked up but never connected to (not allowed; listed for the user). */
  lookupsOnly: string[];
  /** Observations the written policy still denies (a deny rule of the base policy). */
  stillDenied: Array<{ observation: Observation; reason: string }>;
}

export interface LearnOptions {
  /** The policy the run started from (its rules are kept, learned ones follow). */
  base?: Policy;
  name?: string;
  description?: string;
  extras?: EcosystemExtras;
  /** Ecosystems never used for grouping (too broad to stand for a few hosts). */
  skipEcosystems?: readonly string[];
}

const DEFAULT_PORTS = new Set([80, 443]);
const SKIPPED_ECOSYSTEMS = ['defaults', 'local', 'chrome'];

function portsOf(ports: Iterable<number>): PortRange[] | undefined {
  const list = [...new Set(ports)].sort((a, b) => a - b);
  if (list.every((p) => DEFAULT_PORTS.has(p))) return undefined;
  return list.map((p) => ({ from: p, to: p }));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function describe(list: Observation[]): string {
  const count = list.reduce((sum, o) => sum + o.count, 0);
  const unit = list[0]?.kind === 'udp' ? 'packet' : 'connection';
  const first = list.map((o) => o.firstSeen).sort()[0] ?? '';
  return `${plural(count, unit)}, first seen ${first}`;
}

/** Which ecosystem (if any) stands for each learned name: ≥ 2 hosts each, largest first. */
function groupByEcosystem(
  names: string[],
  extras: EcosystemExtras,
  skip: readonly string[],
): Map<string, string[]> {
  const matches = new Map<string, string[]>();
  for (const ecosystem of knownEcosystems(extras)) {
    if (skip.includes(ecosystem)) continue;
    const probe = emptyPolicy('probe', 'restrict');
    probe.rules = [{ kind: 'allow', selectors: [{ ecosystem }] }];
    const compiled = compilePolicy(probe, { ecosystemExtras: extras });
    const hit = names.filter(
      (host) => decide(compiled, { host, port: 443, transport: 'tcp' }).verdict === 'allow',
    );
    if (hit.length >= 2) matches.set(ecosystem, hit);
  }
  const chosen = new Map<string, string[]>();
  const taken = new Set<string>();
  for (;;) {
    let best: [string, string[]] | null = null;
    for (const [ecosystem, hosts] of matches) {
      const free = hosts.filter((h) => !taken.has(h));
      if (free.length >= 2 && (!best || free.length > best[1].length)) best = [ecosystem, free];
    }
    if (!best) return chosen;
    chosen.set(best[0], best[1]);
    for (const h of best[1]) taken.add(h);
    matches.delete(best[0]);
  }
}

function isIpLiteral(host: string): boolean {
  return parseIp(host.replace(/^\[|\]$/g, '')).ok;
}

function canonicalIp(host: string): string {
  const parsed = parseIp(host.replace(/^\[|\]$/g, ''));
  return parsed.ok ? parsed.value.text : host;
}

function learnedEntries(
  observations: Observation[],
  extras: EcosystemExtras,
  skip: readonly string[],
) {
  const entries: LearnedEntry[] = [];
  const connections = observations.filter((o) => o.kind === 'connection');
  const byHost = new Map<string, Observation[]>();
  for (const o of connections) {
    const key = isIpLiteral(o.host) ? canonicalIp(o.host) : o.host.toLowerCase();
    byHost.set(key, [...(byHost.get(key) ?? []), o]);
  }
  const names = [...byHost.keys()].filter((h) => !isIpLiteral(h)).sort();
  const groups = groupByEcosystem(names, extras, skip);
  const grouped = new Set([...groups.values()].flat());
  for (const [ecosystem, hosts] of groups) {
    const list = hosts.flatMap((h) => byHost.get(h) ?? []);
    const ports = portsOf(list.map((o) => o.port));
    entries.push({
      selector: { ecosystem, ...(ports ? { ports } : {}) },
      comment: `${describe(list)}: ${hosts.join(', ')}`,
    });
  }
  for (const host of [...byHost.keys()].sort()) {
    if (grouped.has(host)) continue;
    const list = byHost.get(host)!;
    const ports = portsOf(list.map((o) => o.port));
    const target = isIpLiteral(host) ? { cidr: host } : { host };
    entries.push({ selector: { ...target, ...(ports ? { ports } : {}) }, comment: describe(list) });
  }
  const udp = new Map<string, Observation[]>();
  for (const o of observations.filter((x) => x.kind === 'udp')) {
    const key = canonicalIp(o.host);
    udp.set(key, [...(udp.get(key) ?? []), o]);
  }
  for (const [key, list] of [...udp].sort(([a], [b]) => a.localeCompare(b))) {
    const ports = [...new Set(list.map((o) => o.port))].sort((a, b) => a - b);
    // A flow the program looked up by name is learned by that name (names outlive addresses).
    const target = isIpLiteral(key) ? { cidr: key } : { host: key };
    entries.push({
      selector: { ...target, ports: ports.map((p) => ({ from: p, to: p })), transport: 'udp' },
      comment: describe(list),
    });
  }
  return entries;
}

function assemble(
  options: LearnOptions,
  entries: LearnedEntry[],
): { policy: Policy; ruleIndex: number } {
  const base = options.base;
  const policy: Policy = base
    ? { ...base, rules: [...base.rules], origin: undefined }
    : emptyPolicy(options.name ?? 'learned', 'restrict');
  delete policy.origin;
  if (options.name) policy.name = options.name;
  if (options.description) policy.description = options.description;
  if (policy.mode === 'monitor') policy.mode = 'restrict';
  let ruleIndex = -1;
  if (entries.length) {
    const rule: Rule = {
      kind: 'allow',
      name: 'learned',
      selectors: entries.map((e) => e.selector),
    };
    ruleIndex = policy.rules.push(rule) - 1;
  }
  return { policy, ruleIndex };
}

/** The policy `--learn` writes. */
export function learnPolicy(
  observations: Observation[],
  options: LearnOptions = {},
): LearnedPolicy {
  const extras = options.extras ?? {};
  const skip = options.skipEcosystems ?? SKIPPED_ECOSYSTEMS;
  const entries = learnedEntries(observations, extras, skip);
  let { policy, ruleIndex } = assemble(options, entries);

  // Addresses a name was dialled at must pass the address-class checks too.
  const stillDenied: LearnedPolicy['stillDenied'] = [];
  const extraIps = new Map<string, Set<number>>();
  let compiled = compilePolicy(policy, { ecosystemExtras: extras });
  for (const o of observations.filter((x) => x.kind === 'connection')) {
    const decision = decide(compiled, { host: o.host, port: o.port, transport: 'tcp' });
    if (decision.verdict !== 'allow') continue;
    for (const ip of o.ips) {
      const checked = decideAddress(compiled, decision, ip);
      if (checked.verdict === 'allow') continue;
      if (checked.reason.startsWith('ip_class:'))
        extraIps.set(ip, (extraIps.get(ip) ?? new Set()).add(o.port));
    }
  }
  if (extraIps.size) {
    for (const [ip, ports] of extraIps) {
      const p = portsOf(ports);
      entries.push({
        selector: { cidr: ip, ...(p ? { ports: p } : {}) },
        comment: 'an address a learned name resolved to (its address class needs it allowed)',
      });
    }
    ({ policy, ruleIndex } = assemble(options, entries));
    compiled = compilePolicy(policy, { ecosystemExtras: extras });
  }
  for (const o of observations) {
    if (o.kind === 'dns') continue;
    const transport = o.kind === 'udp' ? 'udp' : 'tcp';
    let decision = decide(compiled, { host: o.host, port: o.port, transport });
    for (const ip of o.ips)
      if (decision.verdict === 'allow') decision = decideAddress(compiled, decision, ip);
    if (decision.verdict !== 'allow') stillDenied.push({ observation: o, reason: decision.reason });
  }
  const reached = new Set(
    observations.filter((o) => o.kind !== 'dns').map((o) => o.host.toLowerCase()),
  );
  const lookupsOnly = [
    ...new Set(
      observations
        .filter((o) => o.kind === 'dns' && !reached.has(o.host.toLowerCase()))
        .map((o) => o.host),
    ),
  ].sort();
  return { policy, entries, ruleIndex, lookupsOnly, stillDenied };
}
