import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FORMATS } from '../../src/policy/formats/index.js';
import { assertImportEquivalent } from '../helpers/round-trip.js';
import {
  assertOnlyPolicyErrors,
  decideText,
  diagnosticsOf,
  fixturePath,
  parseFixture,
} from '../helpers/format-fixtures.js';
import type { Policy } from '../../src/policy/index.js';

const VALID = ['valid-rules.yaml', 'valid-simple.json', 'valid-policy-wide.yaml'];
const F = (name: string) => fixturePath('condukt', name);

/** "allow", "deny", or "decide" when the decider must be asked. */
function outcome(policy: Policy, dests: string[]): Record<string, string> {
  return Object.fromEntries(
    dests.map((d) => {
      const decision = decideText(policy, d);
      return [d, decision.reason === 'decider_required' ? 'decide' : decision.verdict];
    }),
  );
}

describe('condukt: valid policies', () => {
  it('walks the rules in order; "*" is one label, "**" one or more; decide is terminal', () => {
    const { policy, warnings } = parseFixture('condukt', 'valid-rules.yaml');
    assert.deepEqual(warnings, []);
    assert.equal(policy.name, 'valid-rules');
    assert.equal(policy.default, 'deny');
    assert.deepEqual(
      outcome(policy, [
        'x.internal.example.com:443',
        'a.b.internal.example.com:443',
        'a.b.corp.example.com:443',
        'corp.example.com:443',
        'api.github.com:443',
        'chat.openai.com:443',
        'a.b.openai.com:443',
        'raw.githubusercontent.com:443',
        'example.com:443',
      ]),
      {
        'x.internal.example.com:443': 'deny',
        'a.b.internal.example.com:443': 'decide',
        'a.b.corp.example.com:443': 'deny',
        'corp.example.com:443': 'decide',
        'api.github.com:443': 'allow',
        'chat.openai.com:443': 'allow',
        'a.b.openai.com:443': 'decide',
        'raw.githubusercontent.com:443': 'allow',
        'example.com:443': 'decide',
      },
    );
  });

  it('a decide rule carries its webhook, timeout (ms), cache and context', () => {
    const { policy } = parseFixture('condukt', 'valid-rules.yaml');
    assert.deepEqual(decideText(policy, 'example.com:443').decider, {
      url: 'https://netguard.example.com/decide',
      timeoutMs: 3000,
      cache: true,
      contextMessages: 5,
      metadata: { tenant: 'acme', purpose: 'coding-agent' },
    });
    assert.equal(
      decideText(policy, 'example.com:443').rule?.source,
      `${F('valid-rules.yaml')}:12:5`,
    );
  });

  it('redact and body capture make it an inspect policy', () => {
    const { policy } = parseFixture('condukt', 'valid-rules.yaml');
    assert.equal(policy.mode, 'inspect');
    assert.deepEqual(policy.redact, ['[Aa]uthorization: .*', 'sk-[A-Za-z0-9]{20,}']);
    assert.equal(policy.maxBodyCapture, 4096);
  });

  it('"**" alone is every destination, IP literals and UDP included for a deny', () => {
    const { policy } = parseFixture('condukt', 'valid-simple.json');
    assert.equal(policy.mode, 'restrict');
    assert.equal(policy.default, 'allow');
    assert.deepEqual(
      outcome(policy, [
        'evil.example.com:443',
        'api.example.com:443',
        'a.b.example.com:443',
        'example.com:443',
        '203.0.113.5:443',
        'api.example.com:53/udp',
      ]),
      {
        'evil.example.com:443': 'deny',
        'api.example.com:443': 'allow',
        'a.b.example.com:443': 'deny',
        'example.com:443': 'deny',
        '203.0.113.5:443': 'deny',
        'api.example.com:53/udp': 'deny',
      },
    );
  });

  it('policy-wide decider settings apply to a decide rule given as a module path', () => {
    const { policy, warnings } = parseFixture('condukt', 'valid-policy-wide.yaml');
    assert.equal(policy.mode, 'restrict', 'max_body_capture: 0 records no bodies');
    assert.equal(policy.maxBodyCapture, 0);
    assert.deepEqual(decideText(policy, 'example.com:443').decider, {
      module: './deciders/net-guard.mjs',
      timeoutMs: 1500,
      cache: false,
      contextMessages: 10,
      contextMetadata: ['user_id', 'tenant'],
    });
    assert.equal(decideText(policy, 'files.pythonhosted.org:443').verdict, 'allow');
    assert.deepEqual(
      warnings.map((w) => `${w.line}:${w.col} ${w.message}`),
      ['9:5 this rule never runs: the decide rule before it answers every request'],
    );
  });

  it('the example in examples/ is the first fixture', () => {
    assert.equal(
      readFileSync('examples/condukt-rules.yaml', 'utf8'),
      readFileSync(F('valid-rules.yaml'), 'utf8'),
    );
  });

  for (const name of VALID) {
    it(`${name} survives import as native YAML`, () => {
      assertImportEquivalent(parseFixture('condukt', name).policy);
    });
  }
});

describe('condukt: invalid policies', () => {
  const cases: Record<string, string[]> = {
    'invalid-default.json': [
      `${F('invalid-default.json')}:3:14: "default" must be one of "allow", "deny", not ":deny" — did you mean "deny"?`,
    ],
    'invalid-elixir-call.yaml': [
      `${F('invalid-elixir-call.yaml')}:4:13: "Condukt.Sandbox.NetworkPolicy.AgentDecider" is not a webhook URL or a JS module path; egress cannot call Elixir code — write "https://..." (POST JSON, answers {"decision": "allow"|"deny"}) or "./decider.mjs" exporting decide(ctx, req)`,
    ],
    'invalid-inline-flag.yaml': [
      `${F('invalid-inline-flag.yaml')}:4:5: "(?i)bearer [a-z0-9._-]+" is not a valid regular expression: Invalid regular expression: /(?i)bearer [a-z0-9._-]+/: Invalid group — egress reads JavaScript regular expressions, which have no inline flags like "(?i)": spell out both cases, e.g. "[Aa]uthorization"`,
    ],
    'invalid-port-in-glob.yaml': [
      `${F('invalid-port-in-glob.yaml')}:4:9: "api.openai.com:443" never matches in Condukt: globs are matched against the host name alone — write the host name without scheme, port or path`,
    ],
    'invalid-single-star.yaml': [
      `${F('invalid-single-star.yaml')}:2:13: "*" alone matches only single-label host names (like "localhost") in Condukt, which egress cannot express — write "**" for every host, or list the names`,
    ],
    'invalid-two-kinds.yaml': [
      `${F('invalid-two-kinds.yaml')}:3:5: a rule has one kind, but this one has both "allow" and "deny" — split it into two rules (order matters: first match wins)`,
    ],
    'invalid-unknown-field.yaml': [
      `${F('invalid-unknown-field.yaml')}:2:5: unknown field "alow" in "rules" — did you mean "allow"?`,
    ],
  };
  for (const [name, expected] of Object.entries(cases)) {
    it(name, () =>
      assert.deepEqual(
        diagnosticsOf(() => parseFixture('condukt', name)),
        expected,
      ),
    );
  }
});

describe('condukt: robustness', () => {
  it('throws nothing but PolicyError on arbitrary and mutated input', () => {
    assertOnlyPolicyErrors(
      FORMATS.condukt.parse,
      VALID.map((n) => readFileSync(F(n), 'utf8')),
    );
  });
});
