/**
 * Shared steps for the importer tests: read fixtures, parse one with a format, collect the
 * formatted diagnostics of input that must fail, decide destinations, and the fast-check property
 * that a parser only ever throws PolicyError.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  FORMATS,
  type FormatId,
  type FormatInput,
  type ParsedPolicy,
  type SourceText,
} from '../../src/policy/formats/index.js';
import {
  compilePolicy,
  decide,
  formatDiagnostic,
  PolicyError,
  type Decision,
  type Policy,
} from '../../src/policy/index.js';

/** `test/fixtures/FORMAT/NAME`, the path diagnostics of that fixture start with. */
export function fixturePath(format: FormatId, name: string): string {
  return `test/fixtures/${format}/${name}`;
}

export function fixture(path: string): SourceText {
  return { text: readFileSync(path, 'utf8'), file: path };
}

/** The paths of the files in `dir`, sorted. */
export function fixturesIn(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((name) => join(dir, name));
}

/** Parses `test/fixtures/FORMAT/NAME` with that format. */
export function parseFixture(
  format: FormatId,
  name: string,
  extra: Partial<FormatInput> = {},
): ParsedPolicy {
  return FORMATS[format].parse({ ...fixture(fixturePath(format, name)), ...extra });
}

/** The formatted diagnostics (errors and warnings) of a parse that must fail. */
export function diagnosticsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (err) {
    assert.ok(err instanceof PolicyError, `expected a PolicyError, got ${String(err)}`);
    return err.diagnostics.map(formatDiagnostic);
  }
  assert.fail('expected the input to be rejected');
}

export function warningsOf(parsed: ParsedPolicy): string[] {
  return parsed.warnings.map(formatDiagnostic);
}

/**
 * A destination as the tests write it: "host", "host:port", "[v6]:port", with the transport as a
 * "udp://" prefix or a "/udp" suffix. A bare host means TCP port 443, as on the command line.
 */
function parseDestination(dest: string): { host: string; port: number; transport: 'tcp' | 'udp' } {
  const scheme = /^([a-z]+):\/\//.exec(dest)?.[1];
  const [target, suffix] = dest.replace(/^[a-z]+:\/\//, '').split('/') as [string, string?];
  const m = /^\[(.*)\](?::(\d+))?$/.exec(target) ?? /^(.*?)(?::(\d+))?$/.exec(target)!;
  return {
    host: m[1]!,
    port: m[2] ? Number(m[2]) : 443,
    transport: scheme === 'udp' || suffix === 'udp' ? 'udp' : 'tcp',
  };
}

/** The full decision for one destination (see parseDestination for the syntax). */
export function decideText(policy: Policy, dest: string): Decision {
  return decide(compilePolicy(policy, { version: 'test' }), parseDestination(dest));
}

/**
 * What the policy decides for each destination: "allow", "deny" or, in monitor mode,
 * "allow (would deny)".
 */
export function verdicts(policy: Policy, destinations: string[]): Record<string, string> {
  const compiled = compilePolicy(policy, { version: 'test' });
  const out: Record<string, string> = {};
  for (const dest of destinations) {
    const d = decide(compiled, parseDestination(dest));
    out[dest] = d.wouldDeny ? 'allow (would deny)' : d.verdict;
  }
  return out;
}

function mutate(text: string, edits: Array<{ at: number; cut: number; put: string }>): string {
  let t = text;
  for (const e of edits) {
    const at = t.length ? e.at % (t.length + 1) : 0;
    t = t.slice(0, at) + e.put + t.slice(at + e.cut);
  }
  return t;
}

/**
 * Random text, random JSON and random edits of valid inputs (`seeds`) never make the parser throw
 * anything but PolicyError. Unless `extra` fixes a role, a random role is tried too.
 */
export function assertOnlyPolicyErrors(
  parse: (input: FormatInput) => unknown,
  seeds: string[],
  extra: Partial<FormatInput> = {},
): void {
  const yamlish = fc.string({
    unit: fc.constantFrom(...'ab:-\n "\'*.{}[]#&!|>%@`\t0123456789/\\'.split('')),
    maxLength: 80,
  });
  const edit = fc.record({
    at: fc.nat(),
    cut: fc.nat({ max: 6 }),
    put: fc.oneof(yamlish, fc.string({ maxLength: 4 })),
  });
  const input = fc.oneof(
    fc.string({ maxLength: 200 }),
    yamlish,
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc
      .tuple(fc.constantFrom(...seeds), fc.array(edit, { maxLength: 6 }))
      .map(([s, e]) => mutate(s, e)),
  );
  const role = 'role' in extra ? fc.constant(undefined) : fc.option(fc.string({ maxLength: 8 }));
  fc.assert(
    fc.property(input, role, (text, r) => {
      try {
        parse({
          text,
          file: 'fuzz.yaml',
          ...(r === null || r === undefined ? {} : { role: r }),
          ...extra,
        });
      } catch (err) {
        if (!(err instanceof PolicyError)) throw err;
      }
    }),
    { numRuns: 400 },
  );
}
