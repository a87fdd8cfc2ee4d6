/**
 * Shared checks for the importer tests: read fixtures, collect formatted diagnostics, decide
 * destinations, and the fast-check property that a parser only ever throws PolicyError.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { compilePolicy, decide, type Policy } from '../../src/policy/index.js';
import { formatDiagnostic, PolicyError } from '../../src/policy/source/diagnostics.js';
import type { FormatInput, ParsedPolicy, SourceText } from '../../src/policy/formats/types.js';

export function fixture(path: string): SourceText {
  return { text: readFileSync(path, 'utf8'), file: path };
}

export function fixturesIn(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((name) => join(dir, name));
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
 * What the policy decides for each destination: "allow", "deny" or, in monitor mode,
 * "allow (would deny)". Destinations are "host", "host:port" or "udp://host:port"; a bare host
 * means TCP port 443, as on the command line.
 */
export function verdicts(policy: Policy, destinations: string[]): Record<string, string> {
  const compiled = compilePolicy(policy, { version: 'test' });
  const out: Record<string, string> = {};
  for (const dest of destinations) {
    const udp = dest.startsWith('udp://');
    const rest = dest.replace(/^[a-z]+:\/\//, '');
    const m = /^(.*?)(?::(\d+))?$/.exec(rest)!;
    const d = decide(compiled, {
      host: m[1]!,
      port: m[2] ? Number(m[2]) : 443,
      transport: udp ? 'udp' : 'tcp',
    });
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

/** Random text and random edits of valid inputs never make the parser throw anything else. */
export function assertOnlyPolicyErrors(
  parse: (input: FormatInput) => unknown,
  seeds: string[],
  extra: Partial<FormatInput> = {},
): void {
  const yamlish = fc.string({
    unit: fc.constantFrom(...'ab:-\n "\'*.{}[]#&!|>%@`\t0123456789/\\'.split('')),
    maxLength: 80,
  });
  const edit = fc.record({ at: fc.nat(), cut: fc.nat({ max: 6 }), put: yamlish });
  const input = fc.oneof(
    fc.string({ maxLength: 200 }),
    yamlish,
    fc
      .tuple(fc.constantFrom(...seeds), fc.array(edit, { maxLength: 4 }))
      .map(([s, e]) => mutate(s, e)),
  );
  fc.assert(
    fc.property(input, (text) => {
      try {
        parse({ text, file: 'fuzz.yaml', ...extra });
      } catch (err) {
        if (!(err instanceof PolicyError)) throw err;
      }
    }),
    { numRuns: 400 },
  );
}
