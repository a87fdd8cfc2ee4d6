/**
 * A time-bounded fuzz run (FUZZ_SECONDS, default 3): random bytes and mutations of valid
 * policies into parseNative, random destinations into decide and decideAddress. Bad input may
 * only ever produce a PolicyError or an invalid_destination decision, never a crash.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import fc from 'fast-check';
import {
  compilePolicy,
  decide,
  decideAddress,
  explain,
  PolicyError,
  type CompiledPolicy,
} from '../../src/policy/index.js';
import { parseNative } from '../../src/policy/formats/native/parse.js';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 3);
const SEED_POLICY = readFileSync('examples/native-ci.yaml', 'utf8');
const SEED_HOSTS = [
  'github.com',
  'a.b.githubusercontent.com',
  '10.20.1.1',
  '0x7f.1',
  '[::ffff:127.0.0.1]',
  'bücher.de',
  'pastebin.com',
];

/** Byte-level edits of a text, decoded leniently: what a truncated or corrupted file looks like. */
const byteMutation = (seed: string): fc.Arbitrary<string> =>
  fc
    .array(fc.tuple(fc.nat(), fc.nat({ max: 255 }), fc.constantFrom('set', 'insert', 'cut')), {
      minLength: 1,
      maxLength: 8,
    })
    .map((edits) => {
      let bytes = Array.from(Buffer.from(seed, 'utf8'));
      for (const [at, value, op] of edits) {
        const i = bytes.length ? at % bytes.length : 0;
        if (op === 'set') bytes[i] = value;
        else if (op === 'insert') bytes.splice(i, 0, value);
        else bytes = bytes.slice(0, i);
      }
      return Buffer.from(bytes).toString('utf8');
    });

/** Line-level edits: swap, drop and duplicate lines, shift indentation. */
const lineMutation = (seed: string): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('swap', 'drop', 'dup', 'indent', 'dedent')),
      { minLength: 1, maxLength: 4 },
    )
    .map((edits) => {
      const lines = seed.split('\n');
      for (const [a, b, op] of edits) {
        const i = a % lines.length;
        const j = b % lines.length;
        if (op === 'swap') [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        else if (op === 'drop') lines.splice(i, 1);
        else if (op === 'dup') lines.splice(i, 0, lines[j]!);
        else if (op === 'indent') lines[i] = `  ${lines[i]}`;
        else lines[i] = lines[i]!.replace(/^ {1,2}/, '');
      }
      return lines.join('\n');
    });

const policyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
  byteMutation(SEED_POLICY),
  lineMutation(SEED_POLICY),
);

const hostText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...SEED_HOSTS),
  fc.constantFrom(...SEED_HOSTS).chain((h) => byteMutation(h)),
);

function readPolicy(text: string): CompiledPolicy | undefined {
  try {
    return compilePolicy(parseNative({ text, file: 'fuzz.yaml' }).policy);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    for (const d of err.diagnostics) {
      assert.equal(d.file, 'fuzz.yaml');
      assert.ok(Number.isInteger(d.line) && d.line >= 1, `line ${d.line}`);
      assert.ok(Number.isInteger(d.col) && d.col >= 1, `col ${d.col}`);
      assert.ok(d.message.length > 0);
    }
    return undefined;
  }
}

const baseline = compilePolicy(parseNative({ text: SEED_POLICY, file: 'seed.yaml' }).policy);

it(`fuzz parseNative and decide for ${SECONDS}s`, () => {
  const deadline = Date.now() + SECONDS * 1000;
  let cases = 0;
  let accepted = 0;
  const property = fc.property(
    policyText,
    fc.array(
      fc.tuple(
        hostText,
        fc.integer({ min: -1, max: 70000 }),
        fc.constantFrom('tcp' as const, 'udp' as const),
        hostText,
      ),
      {
        maxLength: 6,
      },
    ),
    (text, queries) => {
      cases++;
      const compiled = readPolicy(text);
      if (compiled) accepted++;
      for (const [host, port, transport, address] of queries) {
        for (const c of [compiled ?? baseline, baseline]) {
          const d = decide(c, { host, port, transport });
          assert.equal(typeof explain(d), 'string');
          if (d.reason === 'invalid_destination') assert.equal(d.allowed, false);
          const after = decideAddress(c, d, address);
          if (after.verdict === 'deny' && c.policy.mode !== 'monitor')
            assert.equal(after.allowed, false);
        }
      }
    },
  );
  fc.assert(property, {
    interruptAfterTimeLimit: SECONDS * 1000,
    numRuns: Number.MAX_SAFE_INTEGER,
    markInterruptAsFailure: false,
  });
  assert.ok(Date.now() <= deadline + 2000, 'the fuzz run respects its time limit');
  assert.ok(cases > 50, `only ${cases} cases ran`);
  // Some mutations must still be valid policies, or the decide side only sees the baseline.
  assert.ok(accepted > 0, 'no mutated policy was accepted');
});
