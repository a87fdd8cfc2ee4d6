/**
 * Property tests: the parsers never throw on anything, normalisation is stable, every spelling
 * of an IPv4 address means the same address, and the compiled engine agrees with a naive
 * linear evaluator on random policies (indexed lookup preserves first-match-wins exactly).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  compilePolicy,
  decide,
  decideAddress,
  emptyPolicy,
  normaliseHost,
  PolicyError,
  type Policy,
  type PortRange,
  type Rule,
  type Selector,
} from '../../src/policy/index.js';
import { parseNative } from '../../src/policy/formats/native/parse.js';
import { cidrFromAddress, parseCidr } from '../../src/policy/patterns/cidr.js';
import { parseHostPattern } from '../../src/policy/patterns/host-pattern.js';
import { parseSelectorString } from '../../src/policy/patterns/selector.js';
import { ipv4FromNumber, parseIp } from '../../src/policy/normalise/ip.js';
import { referenceDecide, referenceDecideAddress } from './reference.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

/** Characters that matter to host, IP and pattern parsers. */
const INTERESTING = [
  ...'abcxyz019.-_*:/[]%@\\ \t\r\n\u0000#?!xX',
  'ü',
  'ß',
  '。',
  '．',
  '１',
  'ｅ',
  '\u200b',
  '\u{1F600}',
  '\uD800',
];

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: fc.constantFrom(...INTERESTING), maxLength: 40 }),
);

/** A valid input with a few random edits: insertions, deletions, replacements. */
function mutated(seeds: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.tuple(
    fc.constantFrom('insert', 'delete', 'replace', 'duplicate'),
    fc.nat(),
    fc.constantFrom(...INTERESTING),
  );
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(edit, { maxLength: 4 }))
    .map(([seed, edits]) => {
      let s = seed;
      for (const [op, at, ch] of edits) {
        const i = s.length ? at % (s.length + 1) : 0;
        if (op === 'insert') s = s.slice(0, i) + ch + s.slice(i);
        else if (op === 'delete') s = s.slice(0, i) + s.slice(i + 1);
        else if (op === 'replace') s = s.slice(0, i) + ch + s.slice(i + 1);
        else s = s.slice(0, i) + s.slice(i, i + 5) + s.slice(i);
      }
      return s;
    });
}

const SEEDS = [
  'example.com',
  '*.example.com',
  '**.example.com',
  'api-*.example.com',
  'bücher.de',
  '127.0.0.1',
  '0x7f.1',
  '2130706433',
  '10.0.0.0/24',
  '2001:db8::/32',
  '[::1]:443',
  '::ffff:127.0.0.1',
  'example.com:8000-8999',
  'ecosystem:python',
  'fe80::1%eth0',
];

describe('parsers never throw', () => {
  const parsers: Array<[string, (s: string) => unknown]> = [
    ['normaliseHost', normaliseHost],
    ['parseHostPattern', parseHostPattern],
    ['parseCidr', parseCidr],
    ['parseSelectorString', parseSelectorString],
    ['parseIp', parseIp],
  ];
  for (const [name, parse] of parsers) {
    it(`${name} on arbitrary strings`, () => {
      fc.assert(
        fc.property(anyText, (s) => {
          parse(s);
        }),
        { numRuns: RUNS * 3 },
      );
    });
    it(`${name} on mutated valid inputs`, () => {
      fc.assert(
        fc.property(mutated(SEEDS), (s) => {
          parse(s);
        }),
        { numRuns: RUNS * 3 },
      );
    });
  }

  const POLICY = `version: 1
name: p
mode: restrict
default: deny
rules:
  - deny: [pastebin.com, '**.evil.example']
  - allow:
      - { host: github.com, includeSubdomains: true }
      - '*.example.com:443'
      - 10.0.0.0/8
      - ecosystem:python
    ports: [443, '8000-8999']
  - decide: [ai.example]
    decider: { url: 'http://127.0.0.1:9' }
resources:
  - { kind: ssh, host: git.example, ports: 22 }
redact: ['a+']
`;
  const onlyPolicyErrors = (text: string): void => {
    try {
      parseNative({ text, file: 'fuzz.yaml' });
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      assert.match(err.message, /^fuzz\.yaml:\d+:\d+: /);
    }
  };

  it('parseNative throws nothing but PolicyError on arbitrary text', () => {
    fc.assert(fc.property(anyText, onlyPolicyErrors), { numRuns: RUNS });
  });

  it('parseNative throws nothing but PolicyError on mutated policies', () => {
    fc.assert(fc.property(mutated([POLICY, POLICY.replace(/'/g, '"')]), onlyPolicyErrors), {
      numRuns: RUNS * 2,
    });
  });

  it('parseNative throws nothing but PolicyError on JSON-shaped values', () => {
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({
        version: fc.constantFrom(1, 2, '1'),
        name: fc.string(),
        mode: fc.constantFrom('monitor', 'restrict', 'x'),
        rules: fc.array(
          fc.dictionary(
            fc.constantFrom('allow', 'deny', 'decide', 'ports', 'x'),
            fc.jsonValue({ maxDepth: 2 }),
          ),
          { maxLength: 3 },
        ),
      }),
    );
    fc.assert(
      fc.property(value, (v) => onlyPolicyErrors(JSON.stringify(v, null, 1) ?? 'null')),
      { numRuns: RUNS },
    );
  });
});

describe('normalisation is stable', () => {
  it('normaliseHost is idempotent on its output', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, mutated(SEEDS)), (s) => {
        const first = normaliseHost(s);
        if (!first.ok) return;
        const again = normaliseHost(first.host.name);
        assert.ok(again.ok, `${JSON.stringify(s)} → ${first.host.name} does not normalise again`);
        assert.equal(again.host.name, first.host.name);
        assert.equal(again.host.kind, first.host.kind);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('a parsed host pattern parses to itself', () => {
    fc.assert(
      fc.property(mutated(SEEDS), (s) => {
        const first = parseHostPattern(s);
        if (!first.ok) return;
        const again = parseHostPattern(first.value.text);
        assert.ok(again.ok);
        assert.equal(again.value.text, first.value.text);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('a parsed CIDR parses to itself', () => {
    const cidr = fc.oneof(
      fc.tuple(fc.nat({ max: 0xffffffff }), fc.integer({ min: 0, max: 32 })).map(([v, p]) => {
        return cidrFromAddress(ipv4FromNumber(v), p).text;
      }),
      fc
        .tuple(
          fc.array(fc.nat({ max: 0xffff }), { minLength: 8, maxLength: 8 }),
          fc.integer({ min: 0, max: 128 }),
        )
        .map(([g, p]) => {
          const ip = parseIp(g.map((x) => x.toString(16)).join(':'));
          if (!ip.ok) throw new Error('generator');
          return cidrFromAddress(ip.value, p).text;
        }),
    );
    fc.assert(
      fc.property(cidr, (text) => {
        const parsed = parseCidr(text);
        assert.ok(parsed.ok, `${text}: ${parsed.ok ? '' : parsed.error}`);
        assert.equal(parsed.value.text, text);
      }),
      { numRuns: RUNS },
    );
  });
});

/** One IPv4 number written as `parts` inet_aton parts, each in a random base. */
const ipv4Spelling = fc
  .record({
    value: fc.nat({ max: 0xffffffff }),
    parts: fc.integer({ min: 1, max: 4 }),
    bases: fc.array(fc.constantFrom('dec', 'oct', 'hex', 'HEX'), { minLength: 4, maxLength: 4 }),
    zeros: fc.array(fc.nat({ max: 3 }), { minLength: 4, maxLength: 4 }),
    trailingDot: fc.boolean(),
  })
  .map(({ value, parts, bases, zeros, trailingDot }) => {
    const bytes = [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
    const numbers = [...bytes.slice(0, parts - 1)];
    let last = 0;
    for (const b of bytes.slice(parts - 1)) last = last * 256 + b;
    numbers.push(last);
    const text = numbers
      .map((n, i) => {
        const base = bases[i]!;
        const pad = '0'.repeat(zeros[i]!);
        if (base === 'dec') return String(n);
        if (base === 'oct') return `0${pad}${n.toString(8)}`;
        const hex = `${pad}${n.toString(16)}`;
        return base === 'HEX' ? `0X${hex.toUpperCase()}` : `0x${hex}`;
      })
      .join('.');
    const quad = bytes.join('.');
    return { text: trailingDot ? `${text}.` : text, quad };
  });

describe('every spelling of an IPv4 address is the same address', () => {
  it('decimal, octal, hex and short forms normalise to the dotted quad', () => {
    fc.assert(
      fc.property(ipv4Spelling, ({ text, quad }) => {
        const r = normaliseHost(text);
        assert.ok(r.ok, `${text}: ${r.ok ? '' : r.error}`);
        assert.equal(r.host.name, quad, text);
        assert.equal(r.host.kind, 'ip');
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('and is decided exactly as the dotted quad is', () => {
    const policy: Policy = {
      ...emptyPolicy('p', 'restrict'),
      default: 'allow',
      rules: [
        { kind: 'deny', selectors: [{ cidr: '8.0.0.0/8' }] },
        { kind: 'allow', selectors: [{ cidr: '127.0.0.0/24' }] },
      ],
    };
    const compiled = compilePolicy(policy);
    fc.assert(
      fc.property(ipv4Spelling, ({ text, quad }) => {
        const a = decide(compiled, { host: text, port: 443 });
        const b = decide(compiled, { host: quad, port: 443 });
        assert.equal(a.reason, b.reason);
        assert.equal(a.allowed, b.allowed);
      }),
      { numRuns: RUNS },
    );
  });
});

// --- Random policies against the reference evaluator -------------------------------------

const LABELS = ['a', 'b', 'api', 'api-1', 'x-api', 'www'];
const SUFFIXES = ['example.com', 'test', 'b.example.com'];
const V4 = [
  '10.0.0.0',
  '10.0.0.1',
  '10.0.0.7',
  '10.0.1.0',
  '127.0.0.1',
  '8.8.8.8',
  '192.168.1.1',
  '169.254.169.254',
  '100.64.0.1',
  '0.0.0.0',
];
const V6 = [
  '2001:db8::1',
  '2001:db8::',
  '::1',
  'fd00::1',
  '::ffff:10.0.0.1',
  '64:ff9b::808:808',
  '2002:a00:1::',
  'fe80::1',
];

const nameArb = fc
  .tuple(fc.array(fc.constantFrom(...LABELS), { maxLength: 3 }), fc.constantFrom(...SUFFIXES))
  .map(([labels, suffix]) => [...labels, suffix].join('.'));

const hostPatternArb: fc.Arbitrary<Selector> = fc
  .tuple(
    fc.constantFrom('exact', 'star', 'deep', 'glob', 'any', 'anyDeep', 'sub', 'starstar'),
    nameArb,
    fc.constantFrom('api-*', '*-api', 'a*', '*'),
  )
  .map(([shape, name, glob]): Selector => {
    switch (shape) {
      case 'exact':
        return { host: name };
      case 'sub':
        return { host: name, includeSubdomains: true };
      case 'star':
        return { host: `*.${name}` };
      case 'deep':
        return { host: `**.${name}` };
      case 'starstar':
        return { host: `**.*.${name}` };
      case 'glob':
        return { host: `${glob}.${name}` };
      case 'any':
        return { host: '*' };
      default:
        return { host: '**' };
    }
  });

const cidrArb: fc.Arbitrary<Selector> = fc.oneof(
  fc.tuple(fc.constantFrom(...V4), fc.constantFrom(0, 8, 16, 24, 29, 31, 32)).map(([a, p]) => {
    const ip = parseIp(a);
    if (!ip.ok) throw new Error(a);
    return { cidr: cidrFromAddress(ip.value, p).text };
  }),
  fc
    .tuple(fc.constantFrom(...V6), fc.constantFrom(0, 16, 32, 96, 104, 120, 127, 128))
    .map(([a, p]) => {
      const ip = parseIp(a);
      if (!ip.ok) throw new Error(a);
      return { cidr: cidrFromAddress(ip.value, p).text };
    }),
);

const portsArb: fc.Arbitrary<PortRange[] | undefined> = fc.option(
  fc.array(
    fc
      .tuple(fc.integer({ min: 1, max: 6 }), fc.nat({ max: 3 }))
      .map(([from, len]) => ({ from, to: from + len })),
    { minLength: 1, maxLength: 2 },
  ),
  { nil: undefined },
);

const selectorArb: fc.Arbitrary<Selector> = fc
  .tuple(
    fc.oneof(
      { weight: 4, arbitrary: hostPatternArb },
      { weight: 3, arbitrary: cidrArb },
      { weight: 1, arbitrary: fc.constant({}) },
    ),
    portsArb,
    fc.constantFrom(undefined, 'tcp', 'udp', 'any'),
  )
  .map(([target, ports, transport]) => ({
    ...target,
    ...(ports ? { ports } : {}),
    ...(transport ? { transport } : {}),
  }))
  .filter((s) => s.host === undefined || parseHostPattern(s.host).ok);

const ruleArb: fc.Arbitrary<Rule> = fc
  .record({
    kind: fc.constantFrom('allow', 'deny', 'decide'),
    selectors: fc.array(selectorArb, { minLength: 1, maxLength: 3 }),
    enforceAlways: fc.boolean(),
  })
  .map(({ kind, selectors, enforceAlways }) =>
    // `enforce: always` exists on deny rules only.
    kind === 'deny' && enforceAlways
      ? { kind, selectors, enforceAlways: true }
      : { kind, selectors },
  );

const policyArb: fc.Arbitrary<Policy> = fc
  .record({
    rules: fc.array(ruleArb, { maxLength: 12 }),
    default: fc.constantFrom('allow', 'deny'),
    mode: fc.constantFrom('monitor', 'restrict', 'inspect'),
    privateRanges: fc.constantFrom('allow', 'deny'),
    resources: fc.array(
      fc.record({
        kind: fc.constant('ssh' as const),
        host: fc.oneof(nameArb, fc.constantFrom('10.0.0.7', '2001:db8::1')),
        ports: portsArb,
      }),
      { maxLength: 2 },
    ),
  })
  .map((r) => ({
    ...emptyPolicy('random', r.mode),
    decider: { url: 'http://127.0.0.1:9/decide', timeoutMs: 5000, cache: true },
    default: r.default,
    privateRanges: r.privateRanges,
    rules: r.rules,
    resources: r.resources.map((res) => ({
      kind: res.kind,
      host: res.host,
      ...(res.ports ? { ports: res.ports } : {}),
    })),
  }));

const destinationArb = fc.record({
  host: fc.oneof(
    { weight: 4, arbitrary: nameArb },
    { weight: 1, arbitrary: nameArb.map((n) => n.toUpperCase() + '.') },
    { weight: 3, arbitrary: fc.constantFrom(...V4, ...V6, '0x7f.1', '10.1', '[::1]', '167772167') },
  ),
  port: fc.integer({ min: 1, max: 8 }),
  transport: fc.constantFrom('tcp' as const, 'udp' as const),
});

describe('the compiled engine agrees with a linear reference evaluator', () => {
  it('decide() on random policies and destinations', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.array(destinationArb, { minLength: 1, maxLength: 25 }),
        (policy, queries) => {
          const compiled = compilePolicy(policy);
          for (const q of queries) {
            const got = decide(compiled, q);
            const want = referenceDecide(policy, q);
            assert.deepEqual(
              {
                allowed: got.allowed,
                verdict: got.verdict,
                reason: got.reason,
                rule: got.rule ? { index: got.rule.index, pattern: got.rule.pattern } : null,
              },
              want,
              `${q.host}:${q.port}/${q.transport}`,
            );
          }
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('decideAddress() on random policies, names and addresses', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.array(fc.tuple(destinationArb, fc.constantFrom(...V4, ...V6)), {
          minLength: 1,
          maxLength: 15,
        }),
        (policy, pairs) => {
          const compiled = compilePolicy(policy);
          for (const [q, address] of pairs) {
            const first = decide(compiled, q);
            const got = decideAddress(compiled, first, address);
            const want = referenceDecideAddress(policy, first, address);
            assert.deepEqual(
              {
                allowed: got.allowed,
                verdict: got.verdict,
                reason: got.reason,
                rule: got.rule ? { index: got.rule.index, pattern: got.rule.pattern } : null,
              },
              want,
              `${q.host}:${q.port}/${q.transport} → ${address}`,
            );
          }
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('a policy and its native YAML decide alike (round trip on random policies)', async () => {
    const { assertImportEquivalent } = await import('../helpers/round-trip.js');
    fc.assert(
      fc.property(policyArb, (policy) => {
        assertImportEquivalent(policy);
      }),
      { numRuns: Math.max(20, RUNS / 5) },
    );
  });
});
