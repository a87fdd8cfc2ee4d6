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

const VALID = ['valid-settings.json', 'valid-minimal.json', 'valid-deny-all.json'];
const F = (name: string) => fixturePath('srt', name);

describe('srt: valid settings', () => {
  it('denies first, then allows; "*.x" is any depth without the apex; ports restrict', () => {
    const { policy, warnings } = parseFixture('srt', 'valid-settings.json');
    assert.deepEqual(warnings, []);
    assert.equal(policy.mode, 'restrict');
    assert.equal(policy.default, 'deny');
    assert.equal(policy.name, 'valid-settings');
    assert.deepEqual(
      verdicts(policy, [
        'github.com:443',
        'api.github.com:443',
        'a.b.github.com:443',
        'gist.github.com:443',
        'github.com:22',
        'notgithub.com:443',
        'registry.npmjs.org:443',
        'registry.npmjs.org:8080',
        'npmjs.org:443',
        'files.pythonhosted.org:443',
        '203.0.113.5:22',
        'example.com:443',
      ]),
      {
        'github.com:443': 'allow',
        'api.github.com:443': 'allow',
        'a.b.github.com:443': 'allow',
        'gist.github.com:443': 'deny',
        'github.com:22': 'deny',
        'notgithub.com:443': 'deny',
        'registry.npmjs.org:443': 'allow',
        'registry.npmjs.org:8080': 'allow',
        'npmjs.org:443': 'deny',
        'files.pythonhosted.org:443': 'allow',
        '203.0.113.5:22': 'deny',
        'example.com:443': 'deny',
      },
    );
  });

  it('a deniedDomainReasons entry names its deny rule', () => {
    const { policy } = parseFixture('srt', 'valid-settings.json');
    const d = decideText(policy, 'github.com:22');
    assert.equal(d.reason, 'denied_by_rule');
    assert.equal(d.rule?.name, 'SSH is blocked; use an https remote');
    assert.equal(d.rule?.source, `${F('valid-settings.json')}:11:42`);
  });

  it('reads localhost, ports and bracketed IPv6', () => {
    const { policy } = parseFixture('srt', 'valid-minimal.json');
    assert.deepEqual(
      verdicts(policy, [
        'api.anthropic.com:443',
        'console.anthropic.com:443',
        'anthropic.com:443',
        'localhost:3000',
        'localhost:3001',
        '[::1]:8080',
        '[::1]:8081',
      ]),
      {
        'api.anthropic.com:443': 'allow',
        'console.anthropic.com:443': 'allow',
        'anthropic.com:443': 'deny',
        'localhost:3000': 'allow',
        'localhost:3001': 'deny',
        '[::1]:8080': 'allow',
        '[::1]:8081': 'deny',
      },
    );
  });

  it('a bare "*" in deniedDomains denies every name and address, allowed or not', () => {
    const { policy, warnings } = parseFixture('srt', 'valid-deny-all.json');
    assert.deepEqual(verdicts(policy, ['github.com:443', '203.0.113.5:443', '[2001:db8::1]:443']), {
      'github.com:443': 'deny',
      '203.0.113.5:443': 'deny',
      '[2001:db8::1]:443': 'deny',
    });
    assert.deepEqual(
      warnings.map((w) => `${w.line}:${w.col} ${w.message}`),
      ['6:5 "httpProxyPort" is ignored by egress'],
    );
  });

  it('the example in examples/ is the first fixture', () => {
    assert.equal(
      readFileSync('examples/srt-settings.json', 'utf8'),
      readFileSync(F('valid-settings.json'), 'utf8'),
    );
  });

  for (const name of VALID) {
    it(`${name} survives import as native YAML`, () => {
      assertImportEquivalent(parseFixture('srt', name).policy);
    });
  }
});

describe('srt: invalid settings', () => {
  const cases: Record<string, string[]> = {
    'invalid-ipv6-unbracketed.json': [
      `${F('invalid-ipv6-unbracketed.json')}:3:24: "2001:db8::1:443" is not a valid srt domain entry: an IPv6 address must be written in brackets, like "[::1]" or "[::1]:443"`,
    ],
    'invalid-middle-wildcard.json': [
      `${F('invalid-middle-wildcard.json')}:3:24: srt allows "*" only as the whole leftmost label ("*.example.com")`,
    ],
    'invalid-missing-denied.json': [
      `${F('invalid-missing-denied.json')}:2:3: missing required field "deniedDomains" — add "deniedDomains: ..." here`,
    ],
    'invalid-star-in-allow.json': [
      `${F('invalid-star-in-allow.json')}:3:24: a bare "*" is only accepted in deniedDomains`,
    ],
    'invalid-too-broad.json': [
      `${F('invalid-too-broad.json')}:3:38: "*.com" is too broad: srt needs at least two labels after "*."`,
    ],
    'invalid-unknown-network-field.json': [
      `${F('invalid-unknown-network-field.json')}:5:5: unknown field "allowedDomain" in "network" — did you mean "allowedDomains"?`,
    ],
    'invalid-unknown-top-level.json': [
      `${F('invalid-unknown-top-level.json')}:6:3: unknown field "netwrok" — did you mean "network"?`,
    ],
    'invalid-url.json': [
      `${F('invalid-url.json')}:3:24: "https://github.com/anthropics" is a URL; srt entries are host names — write "github.com"`,
    ],
  };
  for (const [name, expected] of Object.entries(cases)) {
    it(name, () =>
      assert.deepEqual(
        diagnosticsOf(() => parseFixture('srt', name)),
        expected,
      ),
    );
  }
});

describe('srt: robustness', () => {
  it('throws nothing but PolicyError on arbitrary and mutated input', () => {
    assertOnlyPolicyErrors(
      FORMATS.srt.parse,
      VALID.map((n) => readFileSync(F(n), 'utf8')),
    );
  });
});
