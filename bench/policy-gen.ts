/**
 * Deterministic generation of large policies and of the destinations the benchmark asks about.
 *
 * Everything comes from one seeded PRNG (never Math.random), so every run builds the same
 * policies and the same query list, and both matchers are asked exactly the same questions.
 *
 * The policy mix imitates a large organisation's allow list: mostly exact names, `*.x` and
 * `**.x` wildcards, includeSubdomains entries, a few globs inside a label, IPv4 and IPv6 ranges,
 * ports and port ranges on about a third of the entries, a little UDP, deny rules carved out of
 * the allowed space placed before the allows, and two port-only rules (deny SMTP everywhere,
 * allow NTP over UDP everywhere).
 */
import type {
  DestinationQuery,
  Policy,
  PortRange,
  Rule,
  Selector,
  Transport,
} from '../src/policy/index.js';
import { emptyPolicy } from '../src/policy/index.js';

/** mulberry32: tiny, fast, good enough for test data, and the same on every machine. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(table: ReadonlyArray<readonly [number, T]>): T {
    let total = 0;
    for (const [w] of table) total += w;
    let r = this.next() * total;
    for (const [w, v] of table) {
      r -= w;
      if (r < 0) return v;
    }
    return table[table.length - 1]![1];
  }
}

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ra',
  'to',
  'vu',
  'zen',
  'qua',
  'pix',
  'dor',
  'bel',
  'sun',
  'mar',
  'tek',
  'nova',
  'lin',
  'gra',
  'fo',
  'hub',
  'sky',
  'pro',
  'dat',
  'ex',
  'ion',
  'ver',
  'cor',
  'tri',
  'bit',
  'ar',
  'el',
  'om',
  'us',
  'ta',
  'ri',
  'po',
  'ly',
  'cu',
  'fa',
  'je',
];
const TLDS: ReadonlyArray<readonly [number, string]> = [
  [40, 'com'],
  [10, 'net'],
  [8, 'org'],
  [10, 'io'],
  [6, 'dev'],
  [5, 'co.uk'],
  [5, 'de'],
  [4, 'app'],
  [4, 'cloud'],
  [4, 'ai'],
  [4, 'com.au'],
];
const SUBLABELS = [
  'api',
  'www',
  'cdn',
  'static',
  'auth',
  'login',
  'registry',
  'files',
  'img',
  'eu',
  'us-east',
  'v2',
  'git',
  'docs',
  'assets',
  'upload',
  'ws',
  'edge',
  'mirror',
  'pkg',
  'dl',
  'objects',
];
const PORT_SETS: ReadonlyArray<readonly [number, PortRange[]]> = [
  [30, [{ from: 443, to: 443 }]],
  [
    15,
    [
      { from: 80, to: 80 },
      { from: 443, to: 443 },
    ],
  ],
  [10, [{ from: 8000, to: 8999 }]],
  [8, [{ from: 22, to: 22 }]],
  [6, [{ from: 5432, to: 5432 }]],
  [6, [{ from: 1024, to: 2047 }]],
  [
    5,
    [
      { from: 443, to: 443 },
      { from: 9000, to: 9100 },
    ],
  ],
];
const UDP_PORTS: PortRange[][] = [
  [{ from: 53, to: 53 }],
  [{ from: 443, to: 443 }],
  [{ from: 3478, to: 3481 }],
];

type EntryShape = 'exact' | 'star' | 'deep' | 'subtree' | 'glob' | 'ipv4' | 'ipv6';
const SHAPES: ReadonlyArray<readonly [number, EntryShape]> = [
  [40, 'exact'],
  [14, 'star'],
  [12, 'deep'],
  [12, 'subtree'],
  [3, 'glob'],
  [13, 'ipv4'],
  [6, 'ipv6'],
];

function label(rng: Prng): string {
  let out = '';
  const n = rng.between(2, 3);
  for (let i = 0; i < n; i++) out += rng.pick(SYLLABLES);
  return rng.chance(0.1) ? `${out}${rng.int(100)}` : out;
}

export function randomApex(rng: Prng): string {
  return `${label(rng)}.${rng.weighted(TLDS)}`;
}

function ipv4Text(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** A public-looking IPv4 value: first octet 11-99 or 128-191 away from special ranges. */
export function randomPublicV4(rng: Prng): number {
  const first = rng.chance(0.6) ? rng.between(11, 99) : rng.between(128, 191);
  const adjusted =
    first === 100 || first === 127 || first === 169 || first === 172 ? first + 1 : first;
  return ((adjusted << 24) | (rng.int(256) << 16) | (rng.int(256) << 8) | rng.int(256)) >>> 0;
}

function randomV4Cidr(rng: Prng): string {
  const prefix = rng.weighted<number>([
    [30, 32],
    [25, 24],
    [15, 28],
    [15, 20],
    [10, 16],
    [5, 30],
  ]);
  const size = 2 ** (32 - prefix);
  const start = Math.floor(randomPublicV4(rng) / size) * size;
  return prefix === 32 ? ipv4Text(start) : `${ipv4Text(start)}/${prefix}`;
}

function hex4(rng: Prng): string {
  return rng.int(0x10000).toString(16);
}

function randomV6Cidr(rng: Prng): string {
  // Global unicast 2a00::/12-ish and documentation space; /32 to /64 networks and some hosts.
  const head = rng.chance(0.5) ? `2a0${rng.int(10)}` : `260${rng.int(8)}`;
  const prefix = rng.weighted<number>([
    [20, 32],
    [30, 48],
    [30, 64],
    [20, 128],
  ]);
  if (prefix === 32) return `${head}:${hex4(rng)}::/32`;
  if (prefix === 48) return `${head}:${hex4(rng)}:${hex4(rng)}::/48`;
  if (prefix === 64) return `${head}:${hex4(rng)}:${hex4(rng)}:${hex4(rng)}::/64`;
  return `${head}:${hex4(rng)}:${hex4(rng)}:${hex4(rng)}::${(rng.int(0xfffe) + 1).toString(16)}`;
}

function hostFor(shape: EntryShape, rng: Prng, apex: string): Selector {
  const sub = (): string => rng.pick(SUBLABELS);
  switch (shape) {
    case 'exact':
      return {
        host: rng.chance(0.3)
          ? apex
          : rng.chance(0.8)
            ? `${sub()}.${apex}`
            : `${sub()}.${sub()}.${apex}`,
      };
    case 'star':
      return { host: rng.chance(0.7) ? `*.${apex}` : `*.${sub()}.${apex}` };
    case 'deep':
      return { host: `**.${apex}` };
    case 'subtree':
      return { host: apex, includeSubdomains: true };
    case 'glob':
      return { host: rng.chance(0.7) ? `${sub()}-*.${apex}` : `*-${sub()}.${apex}` };
    case 'ipv4':
      return { cidr: randomV4Cidr(rng) };
    case 'ipv6':
      return { cidr: randomV6Cidr(rng) };
  }
}

function allowSelector(rng: Prng, apexes: string[]): Selector {
  const shape = rng.weighted(SHAPES);
  // Reuse an apex now and then so several entries share trie paths, as real lists do.
  let apex: string;
  if (apexes.length > 0 && rng.chance(0.25)) apex = rng.pick(apexes);
  else {
    apex = randomApex(rng);
    apexes.push(apex);
  }
  const selector = hostFor(shape, rng, apex);
  if (rng.chance(0.03)) {
    selector.transport = 'udp';
    selector.ports = rng.pick(UDP_PORTS);
  } else if (rng.chance(0.35)) {
    selector.ports = rng.weighted(PORT_SETS);
  }
  return selector;
}

/** A deny carved out of an allow: a subdomain of an allowed wildcard, a /24 inside a /16, ... */
function denyFor(allow: Selector, rng: Prng): Selector {
  if (allow.cidr !== undefined) {
    if (allow.cidr.includes(':') || !allow.cidr.includes('/'))
      return { cidr: allow.cidr, ports: [{ from: 22, to: 22 }] };
    const [base, bits] = allow.cidr.split('/') as [string, string];
    const prefix = Number(bits);
    if (prefix >= 28) return { cidr: allow.cidr, ports: [{ from: 8000, to: 8999 }] };
    const inner = Math.min(32, prefix + rng.between(2, 8));
    const parts = base.split('.').map(Number);
    const start = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
    const span = 2 ** (32 - prefix);
    const innerSize = 2 ** (32 - inner);
    const innerStart = start + Math.floor(rng.int(span / innerSize)) * innerSize;
    return { cidr: inner === 32 ? ipv4Text(innerStart) : `${ipv4Text(innerStart)}/${inner}` };
  }
  const host = allow.host!;
  const apex = host.replace(/^(\*\*|\*|[a-z0-9-]*\*[a-z0-9-]*)\./, '');
  const sensitive = rng.pick(['internal', 'admin', 'corp', 'staging', 'secrets']);
  return rng.weighted<Selector>([
    [4, { host: `${sensitive}.${apex}` }],
    [2, { host: `**.${sensitive}.${apex}` }],
    [1, { host: `${sensitive}.${apex}`, includeSubdomains: true }],
    [1, { host: apex, ports: [{ from: 25, to: 25 }] }],
  ]);
}

/** Groups selectors into rules of 1-4 entries, adding source locations as a parser would. */
function groupIntoRules(
  kind: 'allow' | 'deny',
  selectors: Selector[],
  rng: Prng,
  line: { n: number },
): Rule[] {
  const rules: Rule[] = [];
  let i = 0;
  while (i < selectors.length) {
    const take = Math.min(
      selectors.length - i,
      rng.weighted<number>([
        [60, 1],
        [25, 2],
        [10, 3],
        [5, 4],
      ]),
    );
    const rule: Rule = {
      kind,
      selectors: [],
      source: { file: 'bench.yaml', line: line.n++, col: 3 },
    };
    if (rng.chance(0.2)) rule.name = `${kind} group ${rules.length}`;
    for (let k = 0; k < take; k++) {
      const s = selectors[i + k]!;
      s.source = { file: 'bench.yaml', line: line.n++, col: 7 };
      rule.selectors.push(s);
    }
    rules.push(rule);
    i += take;
  }
  return rules;
}

/** A restrict-mode policy with exactly `entries` selectors. */
export function generatePolicy(entries: number, seed: number): Policy {
  const rng = new Prng(seed);
  const denyCount = Math.max(1, Math.round(entries * 0.05));
  const portRules = 2;
  const allowCount = entries - denyCount - portRules;
  const apexes: string[] = [];
  const allows: Selector[] = [];
  for (let i = 0; i < allowCount; i++) allows.push(allowSelector(rng, apexes));
  const denies: Selector[] = [];
  for (let i = 0; i < denyCount; i++) denies.push(denyFor(rng.pick(allows), rng));

  const line = { n: 5 };
  const policy = emptyPolicy(`bench-${entries}`, 'restrict');
  policy.rules = [
    {
      kind: 'deny',
      name: 'no SMTP',
      selectors: [{ ports: [{ from: 25, to: 25 }], transport: 'any' }],
    },
    ...groupIntoRules('deny', denies, rng, line),
    ...groupIntoRules('allow', allows, rng, line),
    {
      kind: 'allow',
      name: 'NTP',
      selectors: [{ ports: [{ from: 123, to: 123 }], transport: 'udp' }],
    },
  ];
  return policy;
}

export type QueryClass = 'hit' | 'near-miss' | 'miss' | 'odd-spelling';

export interface BenchQuery extends DestinationQuery {
  class: QueryClass;
}

function portInside(rng: Prng, ports: PortRange[] | undefined): number {
  if (!ports || ports.length === 0) return rng.chance(0.8) ? 443 : 80;
  const r = rng.pick(ports);
  return rng.between(r.from, r.to);
}

/** A port just outside the entry's ports (or a plausible wrong one). */
function portOutside(rng: Prng, ports: PortRange[]): number {
  const r = rng.pick(ports);
  const candidate = rng.chance(0.5) ? r.to + 1 : r.from - 1;
  return candidate >= 1 && candidate <= 65535 ? candidate : 8443;
}

function cidrBounds(cidr: string): { v4: boolean; base: string; prefix: number } {
  const [base, bits] = cidr.split('/') as [string, string | undefined];
  const v4 = !base.includes(':');
  return { v4, base, prefix: bits === undefined ? (v4 ? 32 : 128) : Number(bits) };
}

function v4Value(text: string): number {
  const p = text.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** The IPv6 network's leading groups (up to "::"), with the host part filled in. */
function v6Inside(base: string, prefix: number, rng: Prng): string {
  if (prefix === 128) return base;
  const head = base.replace(/::.*$/, '');
  const groups = head.split(':').length;
  const fill: string[] = [];
  for (let g = groups; g < 8; g++) fill.push(hex4(rng));
  return `${head}:${fill.join(':')}`;
}

function v6Outside(base: string, prefix: number): string {
  // The next network of the same size: bump the last group of the prefix.
  const head = base.replace(/::.*$/, '').split(':');
  const index = prefix === 128 ? 7 : Math.ceil(prefix / 16) - 1;
  const full = [...head];
  while (full.length < 8) full.push('0');
  if (prefix === 128 && base.includes('::')) {
    const tail = base.split('::')[1] ?? '0';
    full[7] = tail;
  }
  full[index] = ((parseInt(full[index]!, 16) + 1) & 0xffff).toString(16);
  return full.join(':');
}

function hitFor(s: Selector, rng: Prng): { host: string; port: number; transport: Transport } {
  const transport: Transport = s.transport === 'udp' ? 'udp' : 'tcp';
  const port = portInside(rng, s.ports);
  if (s.cidr !== undefined) {
    const { v4, base, prefix } = cidrBounds(s.cidr);
    if (v4) {
      const size = 2 ** (32 - prefix);
      return { host: ipv4Text(v4Value(base) + rng.int(size)), port, transport };
    }
    return { host: v6Inside(base, prefix, rng), port, transport };
  }
  if (s.host === undefined) return { host: randomApex(rng), port, transport };
  const h = s.host;
  let host: string;
  if (h.startsWith('**.'))
    host = `${rng.chance(0.5) ? `${rng.pick(SUBLABELS)}.` : ''}${rng.pick(SUBLABELS)}.${h.slice(3)}`;
  else if (h.startsWith('*.')) host = `${rng.pick(SUBLABELS)}.${h.slice(2)}`;
  else if (h.includes('*')) host = h.replace('*', rng.pick(['v1', 'eu', 'x9', 'prod']));
  else if (s.includeSubdomains) host = rng.chance(0.5) ? h : `${rng.pick(SUBLABELS)}.${h}`;
  else host = h;
  return { host, port, transport };
}

function nearMissFor(s: Selector, rng: Prng): { host: string; port: number; transport: Transport } {
  const hit = hitFor(s, rng);
  // A wrong port or transport keeps the address and changes the one thing that must fail.
  if (s.ports && s.ports.length > 0 && rng.chance(0.3))
    return { ...hit, port: portOutside(rng, s.ports) };
  if (rng.chance(0.1)) return { ...hit, transport: hit.transport === 'tcp' ? 'udp' : 'tcp' };
  if (s.cidr !== undefined) {
    const { v4, base, prefix } = cidrBounds(s.cidr);
    if (v4) {
      const size = 2 ** (32 - prefix);
      const start = v4Value(base);
      const outside = rng.chance(0.5) ? start + size : start - 1;
      return { ...hit, host: ipv4Text(outside >>> 0) };
    }
    return { ...hit, host: v6Outside(base, prefix) };
  }
  if (s.host === undefined) return hit;
  const h = s.host;
  let host: string;
  if (h.startsWith('**.'))
    host = rng.chance(0.6) ? h.slice(3) : `${h.slice(3)}.evil.test`; // apex, or suffix trick
  else if (h.startsWith('*.'))
    host = rng.chance(0.6) ? `a.${rng.pick(SUBLABELS)}.${h.slice(2)}` : h.slice(2); // too deep, or apex
  else if (h.includes('*'))
    host = h.replace(/-?\*-?/, ''); // the label without its glob part
  else if (s.includeSubdomains) host = rng.chance(0.5) ? `not${h}` : `${h}.evil.test`;
  else {
    // A sibling label: change the first character of the leftmost label.
    const c = h.charCodeAt(0);
    const swapped = String.fromCharCode(c === 122 ? 97 : c + 1);
    host = rng.chance(0.5) ? `${swapped}${h.slice(1)}` : `x${h}`;
  }
  return { ...hit, host };
}

function missQuery(rng: Prng): { host: string; port: number; transport: Transport } {
  const port = rng.chance(0.8) ? 443 : 80;
  const kind = rng.weighted<string>([
    [70, 'name'],
    [20, 'v4'],
    [10, 'v6'],
  ]);
  if (kind === 'v4') return { host: ipv4Text(randomPublicV4(rng)), port, transport: 'tcp' };
  if (kind === 'v6') return { host: `2c0f:${hex4(rng)}::${hex4(rng)}`, port, transport: 'tcp' };
  const host = rng.chance(0.5) ? `${rng.pick(SUBLABELS)}.${randomApex(rng)}` : randomApex(rng);
  return { host, port, transport: 'tcp' };
}

/** Other spellings of the same destinations: the slow paths of normalisation. */
function oddSpelling(
  q: { host: string; port: number; transport: Transport },
  rng: Prng,
): { host: string; port: number; transport: Transport } {
  const h = q.host;
  if (h.includes(':'))
    return {
      ...q,
      host: rng.chance(0.5) ? `[${h.toUpperCase()}]` : `::ffff:${ipv4Text(randomPublicV4(rng))}`,
    };
  if (/^[0-9.]+$/.test(h)) {
    const v = v4Value(h);
    return {
      ...q,
      host: rng.chance(0.5) ? String(v) : `0x${(v >>> 24).toString(16)}.${v & 0xffffff}`,
    };
  }
  return rng.weighted<{ host: string; port: number; transport: Transport }>([
    [4, { ...q, host: h.toUpperCase() }],
    [3, { ...q, host: `${h}.` }],
    [1, { ...q, host: `${h} ` }],
    [1, { ...q, host: `bad host.${h}` }],
    [1, { ...q, port: 0 }],
  ]);
}

/**
 * The query list: 40% hits, 35% near misses, 20% misses, 5% odd spellings, built from the
 * policy's own entries so hits and near misses land all over the rule list.
 */
export function generateQueries(policy: Policy, count: number, seed: number): BenchQuery[] {
  const rng = new Prng(seed);
  const selectors = policy.rules.flatMap((r) => r.selectors);
  const out: BenchQuery[] = [];
  for (let i = 0; i < count; i++) {
    const cls = rng.weighted<QueryClass>([
      [40, 'hit'],
      [35, 'near-miss'],
      [20, 'miss'],
      [5, 'odd-spelling'],
    ]);
    const s = rng.pick(selectors);
    const q =
      cls === 'hit'
        ? hitFor(s, rng)
        : cls === 'near-miss'
          ? nearMissFor(s, rng)
          : cls === 'miss'
            ? missQuery(rng)
            : oddSpelling(hitFor(s, rng), rng);
    out.push({ ...q, class: cls });
  }
  return out;
}
