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
  verdicts,
} from '../helpers/format-fixtures.js';

const VALID = ['valid-web.json', 'valid-all-machines.json', 'valid-ingress-only.json'];
const F = (name: string) => fixturePath('fly', name);

describe('fly: valid policies', () => {
  it('egress rules open a port to every destination; the rest of egress is denied', () => {
    const { policy, warnings } = parseFixture('fly', 'valid-web.json');
    assert.deepEqual(warnings, []);
    assert.equal(policy.name, 'web-egress');
    assert.equal(policy.mode, 'restrict');
    assert.equal(policy.default, 'deny');
    assert.deepEqual(policy.appliesTo, { metadata: { role: 'web', env: 'production' } });
    assert.deepEqual(
      verdicts(policy, [
        'example.com:443',
        'api.github.com:80',
        '8.8.8.8:53/udp',
        '8.8.8.8:443',
        'example.com:22',
        'example.com:443/udp',
        '8.8.8.8:53',
      ]),
      {
        'example.com:443': 'allow',
        'api.github.com:80': 'allow',
        '8.8.8.8:53/udp': 'allow',
        '8.8.8.8:443': 'allow',
        'example.com:22': 'deny',
        'example.com:443/udp': 'deny',
        '8.8.8.8:53': 'deny',
      },
    );
    const rule = decideText(policy, 'example.com:443').rule;
    assert.equal(rule?.source, `${F('valid-web.json')}:12:9`);
  });

  it('an allowed port does not open loopback or metadata addresses', () => {
    const { policy } = parseFixture('fly', 'valid-web.json');
    assert.equal(decideText(policy, '127.0.0.1:443').reason, 'ip_class:loopback');
    assert.equal(decideText(policy, '169.254.169.254:80').verdict, 'deny');
  });

  it('ingress rules go to policy.ingress with default deny', () => {
    const { policy } = parseFixture('fly', 'valid-web.json');
    assert.equal(policy.ingress?.default, 'deny');
    assert.deepEqual(
      policy.ingress?.allow.map((r) => [r.ports, r.transport]),
      [[[{ from: 8080, to: 8080 }], 'tcp']],
    );
  });

  it('keeps every egress rule and the id', () => {
    const { policy } = parseFixture('fly', 'valid-all-machines.json');
    assert.equal(policy.rules.length, 2);
    assert.deepEqual(policy.appliesTo, { all: true });
    assert.match(policy.description ?? '', /np_8d2k4x9/);
    assert.deepEqual(verdicts(policy, ['db.example.com:5432', 'db.example.com:5433']), {
      'db.example.com:5432': 'allow',
      'db.example.com:5433': 'deny',
    });
    assert.equal(policy.ingress?.default, 'allow', 'no ingress rule: ingress stays open');
  });

  it('a direction without rules stays default allow', () => {
    const { policy } = parseFixture('fly', 'valid-ingress-only.json');
    assert.equal(policy.default, 'allow');
    assert.deepEqual(policy.rules, []);
    assert.deepEqual(policy.appliesTo, { ids: ['3d8d9e15b92e38', 'e784e903f5d958'] });
    assert.equal(decideText(policy, 'smtp.example.com:25').verdict, 'allow');
    assert.equal(policy.ingress?.default, 'deny');
    assert.deepEqual(
      policy.ingress?.allow.map((r) => r.transport),
      ['tcp', 'udp'],
    );
  });

  it('the example in examples/ is the first fixture', () => {
    assert.equal(
      readFileSync('examples/fly-network-policy.json', 'utf8'),
      readFileSync(F('valid-web.json'), 'utf8'),
    );
  });

  for (const name of VALID) {
    it(`${name} survives import as native YAML`, () => {
      const yaml = assertImportEquivalent(parseFixture('fly', name).policy);
      assert.match(yaml, /^mode: restrict$/m);
    });
  }
});

describe('fly: invalid policies', () => {
  const cases: Record<string, string[]> = {
    'invalid-deny-action.json': [
      `${F('invalid-deny-action.json')}:6:17: Fly network policies only have "allow" rules, not "deny" — remove this rule: once a direction has an allow rule, everything else in it is denied`,
    ],
    'invalid-direction.json': [
      `${F('invalid-direction.json')}:7:20: "direction" must be one of "ingress", "egress", not "outbound"`,
    ],
    'invalid-mixed-selector.json': [
      `${F('invalid-mixed-selector.json')}:5:5: egress applies a policy to machine ids or to metadata, not both at once — keep one of "machines" or "metadata" (Fly would require both to match)`,
    ],
    'invalid-port-range.json': [
      `${F('invalid-port-range.json')}:8:46: Fly ports are single numbers, not "8000-8999" — write one {"protocol": ..., "port": ...} entry per port`,
    ],
    'invalid-protocol.json': [
      `${F('invalid-protocol.json')}:8:31: "protocol" must be one of "tcp", "udp", not "tpc" — did you mean "tcp"?`,
    ],
    'invalid-syntax.json': [
      `${F('invalid-syntax.json')}:3:31: YAML syntax error: Unexpected , in flow map`,
    ],
    'invalid-unknown-field.json': [
      `${F('invalid-unknown-field.json')}:1:1: missing required field "selector" — add "selector: ..." here`,
      `${F('invalid-unknown-field.json')}:3:3: unknown field "selecter" — did you mean "selector"?`,
    ],
  };
  for (const [name, expected] of Object.entries(cases)) {
    it(name, () =>
      assert.deepEqual(
        diagnosticsOf(() => parseFixture('fly', name)),
        expected,
      ),
    );
  }
});

describe('fly: robustness', () => {
  it('throws nothing but PolicyError on arbitrary and mutated input', () => {
    assertOnlyPolicyErrors(
      FORMATS.fly.parse,
      VALID.map((n) => readFileSync(F(n), 'utf8')),
    );
  });
});
