/**
 * Compiles a policy once into lookup structures: a reversed-label trie for host patterns, sorted
 * interval tables for IPv4 and IPv6 ranges, and per-entry port and transport checks. Ecosystem
 * identifiers are expanded here. Entry ids follow rule order, so the smallest matching id is the
 * first matching rule.
 */
import { expandEcosystem, type EcosystemExtras } from '../ecosystems/index.js';
import type { Policy, PortRange, RuleKind, Selector, Transport } from '../model.js';
import { parseCidr } from '../patterns/cidr.js';
import { parseHostPattern } from '../patterns/host-pattern.js';
import { formatPortRange, portsInclude } from '../patterns/ports.js';
import { formatLocation, type SourceLocation } from '../source/diagnostics.js';
import type { RuleRef } from '../decision.js';
import {
  ANY_PORT,
  ANY_TRANSPORT,
  ENFORCE_ALWAYS,
  EXPLICIT_IP,
  pushEntryWords,
  TCP,
  UDP,
} from './entry-words.js';
import { HostTrie, type EntryFilter } from './host-trie.js';
import { IntervalTable, nextV4, nextV6 } from './ip-table.js';

export { TCP, UDP } from './entry-words.js';

/** One selector of one rule, flattened. */
export interface CompiledEntry {
  ruleIndex: number;
  kind: RuleKind | 'resource';
  /** Bit mask of TCP and UDP. */
  transports: number;
  ports: readonly PortRange[] | null;
  /** True for IP/CIDR entries: they name addresses on purpose, which beats IP classes. */
  explicitIp: boolean;
  /** The selector as compiled (an ecosystem's expansion for ecosystem selectors). */
  selector: Selector;
  /** `ecosystem:x` for an ecosystem's expansions, else null. */
  via: string | null;
  /** Where the selector is written, if known. */
  location: SourceLocation | null;
}

/**
 * Display text of an entry ("**.example.com:443", "ecosystem:python (pypi.org)"). Worked out
 * when a decision first names the entry, not for every entry at compile time.
 */
export function entryPattern(entry: CompiledEntry): string {
  const text = describeSelector(entry.selector);
  return entry.via ? `${entry.via} (${text})` : text;
}

/** `file:line:col` of an entry, or null. */
export function entrySource(entry: CompiledEntry): string | null {
  return entry.location ? formatLocation(entry.location) : null;
}

export interface CompileOptions {
  /** Host-configured registries joined to ecosystem identifiers. */
  ecosystemExtras?: EcosystemExtras;
  /** Shown as the policy version; defaults to a hash of the policy. */
  version?: string;
}

/** A set of selectors compiled for lookup; used for rules, resources and parent-proxy routes. */
export class SelectorIndex implements EntryFilter {
  readonly entries: CompiledEntry[] = [];
  /**
   * Every entry's words (entry-words.ts), in id order: the port check of a candidate is one
   * memory read, and the winner's kind none more. The suffix table keeps a copy by its ids.
   */
  private readonly filterWords: number[] = [];
  /** RuleRefs built on first use and shared by every decision that names the entry. */
  readonly refs: Array<RuleRef | null> = [];
  readonly names = new HostTrie(this.filterWords);
  readonly v4 = new IntervalTable<number>(nextV4, (id) => this.isUnrestricted(id));
  readonly v6 = new IntervalTable<string>(nextV6, (id) => this.isUnrestricted(id));
  /** Entries matching every host name (`*`, `**`): names only. */
  readonly anyName: number[] = [];
  /** Entries without host or address (port/transport rules): names and IPs. */
  readonly anyDestination: number[] = [];

  /** Whether entry `id` fits the destination's transport bit and port. */
  accepts(id: number, bit: number, port: number): boolean {
    const w = this.filterWords;
    const at = id * 3;
    if ((w[at]! & bit) === 0) return false;
    const from = w[at + 1]!;
    if (from >= 0) return port >= from && port <= w[at + 2]!;
    return from === ANY_PORT || portsInclude(this.entries[id]!.ports!, port);
  }

  /** Entry `id`'s kind as a KIND_* code. */
  kindCode(id: number): number {
    return (this.filterWords[id * 3]! >> 2) & 3;
  }

  /** True for entries of a deny rule marked `enforce: always` (Rule.enforceAlways). */
  isEnforcedAlways(id: number): boolean {
    return (this.filterWords[id * 3]! & ENFORCE_ALWAYS) !== 0;
  }

  /** True for IP/CIDR entries (CompiledEntry.explicitIp). */
  isExplicitIp(id: number): boolean {
    return (this.filterWords[id * 3]! & EXPLICIT_IP) !== 0;
  }

  private isUnrestricted(id: number): boolean {
    const e = this.entries[id]!;
    return e.ports === null && e.transports === ANY_TRANSPORT;
  }

  /** @param enforceAlways the rule's deny applies even in monitor mode (Rule.enforceAlways) */
  add(
    selector: Selector,
    base: Pick<CompiledEntry, 'ruleIndex' | 'kind'>,
    extras: EcosystemExtras,
    enforceAlways = false,
  ): void {
    if (selector.ecosystem !== undefined) {
      for (const expanded of expandEcosystem(selector.ecosystem, selector, extras)) {
        this.addOne(expanded, base, `ecosystem:${selector.ecosystem}`, selector, enforceAlways);
      }
      return;
    }
    this.addOne(selector, base, undefined, selector, enforceAlways);
  }

  private addOne(
    selector: Selector,
    base: Pick<CompiledEntry, 'ruleIndex' | 'kind'>,
    via: string | undefined,
    original: Selector,
    enforceAlways: boolean,
  ): void {
    const id = this.entries.length;
    const transport = selector.transport ?? (base.kind === 'deny' ? 'any' : 'tcp');
    const transports = transport === 'any' ? ANY_TRANSPORT : transport === 'udp' ? UDP : TCP;
    const ports = selector.ports && selector.ports.length ? selector.ports : null;
    pushEntryWords(
      this.filterWords,
      transports,
      base.kind,
      selector.cidr !== undefined,
      ports,
      enforceAlways && base.kind === 'deny',
    );
    this.refs.push(null);
    // A literal with every field in a fixed order: one object shape for all entries keeps
    // compiling 100k entries fast and the per-decision property reads monomorphic.
    this.entries.push({
      ruleIndex: base.ruleIndex,
      kind: base.kind,
      transports,
      ports,
      explicitIp: selector.cidr !== undefined,
      selector,
      via: via ?? null,
      location: original.source ?? null,
    });
    if (selector.cidr !== undefined) {
      const cidr = parseCidr(selector.cidr);
      if (!cidr.ok) throw new Error(`invalid CIDR reached the compiler: ${selector.cidr}`);
      if (cidr.value.v4) this.v4.add(cidr.value.v4.start, cidr.value.v4.end, id);
      if (cidr.value.v6) this.v6.add(cidr.value.v6.start, cidr.value.v6.end, id);
    } else if (selector.host !== undefined) {
      const pattern = parseHostPattern(selector.host);
      if (!pattern.ok)
        throw new Error(`invalid host pattern reached the compiler: ${selector.host}`);
      if (pattern.value.kind === 'any') this.anyName.push(id);
      else
        this.names.add(
          pattern.value.reversedLabels,
          id,
          selector.includeSubdomains ? 'subtree' : 'exact',
        );
    } else {
      this.anyDestination.push(id);
    }
  }

  seal(): void {
    this.names.seal();
    this.v4.seal();
    this.v6.seal();
  }
}

export function describeSelector(s: Selector): string {
  let target: string;
  if (s.ecosystem !== undefined) target = `ecosystem:${s.ecosystem}`;
  else if (s.cidr !== undefined) target = s.cidr.includes(':') && s.ports ? `[${s.cidr}]` : s.cidr;
  else if (s.host !== undefined)
    target = s.includeSubdomains ? `${s.host} (and subdomains)` : s.host;
  else target = 'any destination';
  const ports = s.ports && s.ports.length ? `:${s.ports.map(formatPortRange).join(',')}` : '';
  const transport = s.transport && s.transport !== 'tcp' ? `/${s.transport}` : '';
  return `${target}${ports}${transport}`;
}

export interface CompiledPolicy {
  readonly policy: Policy;
  readonly version: string;
  /** The `policy` part of every Decision: one frozen object, shared. */
  readonly policyRef: Readonly<{ name: string; version: string }>;
  readonly rules: SelectorIndex;
  readonly resources: SelectorIndex;
  readonly viaUpstreamProxy: SelectorIndex;
}

export function transportBit(t: Transport): number {
  return t === 'udp' ? UDP : TCP;
}

/**
 * `JSON.stringify` replacer that leaves out where the policy was read from: `origin` and the
 * `file` of every source location. Lines and columns stay: they are part of the content.
 */
function withoutFiles(key: string, value: unknown): unknown {
  return key === 'origin' || key === 'file' ? undefined : value;
}

/**
 * A short, stable version for files that carry none: MurmurHash3 (x86, 32-bit) of the policy's
 * JSON as UTF-8, without the path it was loaded from, so the same policy has the same version on
 * every machine. The bytes are read four at a time, little-endian whatever the machine, so a
 * 100k-entry policy hashes in a few milliseconds after JSON.stringify.
 */
export function policyHash(policy: Policy): string {
  const bytes = new TextEncoder().encode(JSON.stringify(policy, withoutFiles));
  return (murmur3(bytes) >>> 0).toString(16).padStart(8, '0');
}

function murmur3(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const whole = bytes.length & ~3;
  let h = 0;
  for (let i = 0; i < whole; i += 4) {
    let k = Math.imul(view.getUint32(i, true), c1);
    k = Math.imul((k << 15) | (k >>> 17), c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let i = bytes.length - 1; i >= whole; i--) k = (k << 8) | bytes[i]!;
  if (bytes.length > whole) {
    k = Math.imul(k, c1);
    k = Math.imul((k << 15) | (k >>> 17), c2);
    h ^= k;
  }
  h ^= bytes.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export function compilePolicy(policy: Policy, options: CompileOptions = {}): CompiledPolicy {
  const extras = options.ecosystemExtras ?? {};
  const rules = new SelectorIndex();
  policy.rules.forEach((rule, ruleIndex) => {
    for (const selector of rule.selectors)
      rules.add(selector, { ruleIndex, kind: rule.kind }, extras, rule.enforceAlways === true);
  });
  const resources = new SelectorIndex();
  policy.resources.forEach((resource, ruleIndex) => {
    const selector: Selector = { host: resource.host, transport: 'tcp' };
    if (resource.ports) selector.ports = resource.ports;
    if (resource.source) selector.source = resource.source;
    const isIp = parseCidr(resource.host).ok;
    resources.add(
      isIp ? { ...selector, host: undefined, cidr: resource.host } : selector,
      { ruleIndex, kind: 'resource' },
      extras,
    );
  });
  const viaUpstreamProxy = new SelectorIndex();
  policy.viaUpstreamProxy.forEach((selector, ruleIndex) =>
    viaUpstreamProxy.add(selector, { ruleIndex, kind: 'allow' }, extras),
  );
  rules.seal();
  resources.seal();
  viaUpstreamProxy.seal();
  const version = options.version ?? policyHash(policy);
  return {
    policy,
    version,
    policyRef: Object.freeze({ name: policy.name, version }),
    rules,
    resources,
    viaUpstreamProxy,
  };
}
