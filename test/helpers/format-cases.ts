/**
 * Shared steps for importer tests: read a fixture, parse it with one format, list the formatted
 * errors of a fixture that must fail, and decide a list of destinations in one go.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  FORMATS,
  type FormatId,
  type FormatInput,
  type ParsedPolicy,
} from '../../src/policy/formats/index.js';
import {
  compilePolicy,
  decide,
  formatDiagnostic,
  PolicyError,
  type Decision,
  type Policy,
} from '../../src/policy/index.js';

export function fixturePath(format: FormatId, name: string): string {
  return `test/fixtures/${format}/${name}`;
}

export function parseFixture(
  format: FormatId,
  name: string,
  extra: Partial<FormatInput> = {},
): ParsedPolicy {
  const file = fixturePath(format, name);
  return FORMATS[format]!.parse({ text: readFileSync(file, 'utf8'), file, ...extra });
}

/** The formatted diagnostics (errors and warnings) of a fixture that must not load. */
export function failureOf(
  format: FormatId,
  name: string,
  extra: Partial<FormatInput> = {},
): string[] {
  try {
    parseFixture(format, name, extra);
  } catch (err) {
    assert.ok(err instanceof PolicyError, `expected a PolicyError, got ${String(err)}`);
    return err.diagnostics.map(formatDiagnostic);
  }
  assert.fail(`${name} loaded, but it should fail`);
}

/** `host:port` or `host:port/udp` (IPv6 in brackets) → the decision. */
export function decideText(policy: Policy, dest: string): Decision {
  const [target, transport] = dest.split('/') as [string, 'tcp' | 'udp' | undefined];
  const at = target.lastIndexOf(':');
  const host = target.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const compiled = compilePolicy(policy, { version: 'test' });
  return decide(compiled, {
    host,
    port: Number(target.slice(at + 1)),
    transport: transport ?? 'tcp',
  });
}

/** Each destination → "allow" or "deny" (the verdict, whatever the mode). */
export function verdicts(policy: Policy, dests: string[]): Record<string, string> {
  return Object.fromEntries(dests.map((d) => [d, decideText(policy, d).verdict]));
}

/** Asserts that a format's parser throws nothing but PolicyError on arbitrary and mutated text. */
export function assertOnlyPolicyErrors(format: FormatId, seeds: string[], runs = 300): void {
  const parse = FORMATS[format]!.parse;
  const attempt = (text: string, role?: string): void => {
    try {
      parse({ text, file: 'fuzz', ...(role !== undefined ? { role } : {}) });
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
    }
  };
  const mutated = fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.string({ maxLength: 4 })), { maxLength: 6 }),
    )
    .map(([seed, edits]) =>
      edits.reduce((text, [at, remove, insert]) => {
        const i = text.length ? at % text.length : 0;
        return text.slice(0, i) + insert + text.slice(i + remove);
      }, seed),
    );
  const structured = fc.jsonValue().map((v) => JSON.stringify(v));
  fc.assert(
    fc.property(
      fc.oneof(mutated, structured, fc.string()),
      fc.option(fc.string({ maxLength: 8 })),
      (text, role) => {
        attempt(text, role ?? undefined);
      },
    ),
    { numRuns: runs },
  );
}
