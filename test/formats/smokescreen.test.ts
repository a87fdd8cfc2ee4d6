import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FORMATS } from '../../src/policy/formats/index.js';
import { summarise } from '../../src/policy/summary.js';
import { assertImportEquivalent } from '../helpers/round-trip.js';
import {
  assertOnlyPolicyErrors,
  decideText,
  diagnosticsOf,
  fixturePath,
  parseFixture,
  verdicts,
} from '../helpers/format-fixtures.js';

const F = (name: string) => fixturePath('smokescreen', name);
/** Every valid (fixture, role) pair. */
const VALID: Array<[string, string | undefined]> = [
  ['valid-acl.yaml', 'billing-webhooks'],
  ['valid-acl.yaml', 'reporting'],
  ['valid-acl.yaml', 'build-runner'],
  ['valid-acl.yaml', 'unknown-service'],
  ['valid-default-only.yaml', undefined],
];
const load = (name: string, role?: string) =>
  parseFixture('smokescreen', name, role === undefined ? {} : { role });

describe('smokescreen: valid ACLs', () => {
  it('enforce: the role list beats the global deny list, which beats the global allow list', () => {
    const { policy, warnings } = load('valid-acl.yaml', 'billing-webhooks');
    assert.deepEqual(warnings, []);
    assert.equal(policy.name, 'billing-webhooks');
    assert.equal(policy.mode, 'restrict');
    assert.equal(policy.default, 'deny');
    assert.deepEqual(
      verdicts(policy, [
        'api.stripe.com:443',
        'files.example.org:443',
        'x.pastebin.example:443',
        'time.example.com:443',
        'a.b.partner-bank.example:443',
        'partner-bank.example:443',
        'example.com:443',
      ]),
      {
        'api.stripe.com:443': 'allow',
        'files.example.org:443': 'allow',
        'x.pastebin.example:443': 'deny',
        'time.example.com:443': 'allow',
        'a.b.partner-bank.example:443': 'allow',
        'partner-bank.example:443': 'deny',
        'example.com:443': 'deny',
      },
    );
    assert.equal(
      decideText(policy, 'files.example.org:443').rule?.name,
      'billing-webhooks allowed_domains',
    );
  });

  it('report: monitor mode; unlisted hosts are reported, not blocked', () => {
    const { policy, warnings } = load('valid-acl.yaml', 'reporting');
    assert.equal(policy.mode, 'monitor');
    const d = decideText(policy, 'example.com:443');
    assert.deepEqual([d.allowed, d.verdict, d.wouldDeny], [true, 'deny', true]);
    assert.equal(decideText(policy, 'bucket.s3.amazonaws.com:443').verdict, 'allow');
    assert.deepEqual(warnings, []);
  });

  it('report: the global deny list is still enforced, as smokescreen does', () => {
    const { policy } = load('valid-acl.yaml', 'reporting');
    const denyRule = policy.rules.find((r) => r.name === 'global_deny_list');
    assert.equal(denyRule?.enforceAlways, true);
    for (const target of ['files.example.org:443', 'x.pastebin.example:443']) {
      const d = decideText(policy, target);
      assert.deepEqual(
        [d.allowed, d.verdict, d.mode, d.enforced, d.wouldDeny, d.rule?.name],
        [false, 'deny', 'monitor', true, false, 'global_deny_list'],
        target,
      );
    }
    const words = summarise(policy).join('\n');
    assert.match(words, /Blocks \("global_deny_list"\), even in monitor mode:/);
    assert.match(words, /except the deny rule marked "enforce: always"/);
    // The role's own list still comes first; the global allow list is untouched.
    assert.equal(decideText(policy, 'bucket.s3.amazonaws.com:443').allowed, true);
    assert.equal(decideText(policy, 'time.example.com:443').allowed, true);
  });

  it('enforce and open: the global deny rule needs no flag (restrict mode enforces it)', () => {
    for (const role of ['billing-webhooks', 'build-runner']) {
      const { policy } = load('valid-acl.yaml', role);
      const denyRule = policy.rules.find((r) => r.name === 'global_deny_list');
      assert.equal(denyRule?.enforceAlways, undefined, role);
    }
  });

  it('open: everything but the global deny list is allowed', () => {
    const { policy } = load('valid-acl.yaml', 'build-runner');
    assert.equal(policy.mode, 'restrict');
    assert.equal(policy.default, 'allow');
    assert.deepEqual(
      verdicts(policy, ['example.com:443', 'files.example.org:443', 'x.pastebin.example:443']),
      {
        'example.com:443': 'allow',
        'files.example.org:443': 'deny',
        'x.pastebin.example:443': 'deny',
      },
    );
  });

  it('an unknown role gets the default rule, with a warning', () => {
    const { policy, warnings } = load('valid-acl.yaml', 'reportin');
    assert.match(policy.description ?? '', /default rule/);
    assert.deepEqual(verdicts(policy, ['status.example.com:443', 'api.stripe.com:443']), {
      'status.example.com:443': 'allow',
      'api.stripe.com:443': 'deny',
    });
    assert.deepEqual(
      warnings.map((w) => `${w.line}:${w.col} ${w.message} — ${w.hint}`),
      [
        '23:1 role "reportin" has no entry in services, so the default rule applies (as in smokescreen) — did you mean "reporting"?',
      ],
    );
  });

  it('with no services, the default rule needs no role', () => {
    const { policy } = load('valid-default-only.yaml');
    assert.equal(policy.name, 'default');
    assert.deepEqual(
      verdicts(policy, [
        'a.internal.example:443',
        'a.b.internal.example:443',
        'internal.example:443',
        'metrics.example.com:9090',
      ]),
      {
        'a.internal.example:443': 'allow',
        'a.b.internal.example:443': 'allow',
        'internal.example:443': 'deny',
        'metrics.example.com:9090': 'allow',
      },
    );
  });

  it('the example in examples/ is the first fixture', () => {
    assert.equal(
      readFileSync('examples/smokescreen-acl.yaml', 'utf8'),
      readFileSync(F('valid-acl.yaml'), 'utf8'),
    );
  });

  for (const [name, role] of VALID) {
    it(`${name} as ${role ?? 'no role'} survives import as native YAML`, () => {
      assertImportEquivalent(load(name, role).policy);
    });
  }
});

describe('smokescreen: invalid ACLs and roles', () => {
  const cases: Array<[string, string | undefined, string[]]> = [
    [
      'valid-acl.yaml',
      undefined,
      [
        `${F('valid-acl.yaml')}:4:1: this ACL has a rule per service: choose the service with --role NAME — known roles: billing-webhooks, reporting, build-runner`,
      ],
    ],
    [
      'invalid-no-default.yaml',
      'chekout',
      [
        `${F('invalid-no-default.yaml')}:2:1: role "chekout" has no entry in services and there is no default rule, so smokescreen would deny every request — did you mean "checkout"?`,
      ],
    ],
    [
      'invalid-action.yaml',
      'checkout',
      [
        `${F('invalid-action.yaml')}:5:13: "action" must be one of "open", "report", "enforce", not "enfroce" — did you mean "enforce"?`,
      ],
    ],
    [
      'invalid-duplicate-service.yaml',
      'checkout',
      [`${F('invalid-duplicate-service.yaml')}:6:11: rule already exists for service "checkout"`],
    ],
    [
      'invalid-match-everything.yaml',
      'crawler',
      [
        `${F('invalid-match-everything.yaml')}:7:9: "*": a domain glob must not match everything — to allow every host, give the service "action: open"`,
      ],
    ],
    [
      'invalid-middle-glob.yaml',
      'checkout',
      [
        `${F('invalid-middle-glob.yaml')}:7:9: "api.*.example.com": domain globs are only supported as a "*." prefix`,
      ],
    ],
    [
      'invalid-mitm-not-allowed.yaml',
      'checkout',
      [
        `${F('invalid-mitm-not-allowed.yaml')}:8:17: domain "hooks.stripe.com" is in mitm_domains but missing from allowed_domains — add "hooks.stripe.com" to allowed_domains`,
      ],
    ],
    [
      'invalid-partial-wildcard.yaml',
      undefined,
      [
        `${F('invalid-partial-wildcard.yaml')}:6:5: "*pastebin.com": a domain glob must represent a full prefix (sub)domain — did you mean "*.pastebin.com"?`,
      ],
    ],
    [
      'invalid-unknown-field.yaml',
      'checkout',
      [
        `${F('invalid-unknown-field.yaml')}:6:5: unknown field "allowed_domain" in "services" — did you mean "allowed_domains"?`,
      ],
    ],
    [
      'invalid-version.yaml',
      'checkout',
      [
        `${F('invalid-version.yaml')}:1:10: "version" must be one of "v1", not "v2" — did you mean "v1"?`,
      ],
    ],
  ];
  for (const [name, role, expected] of cases) {
    it(`${name} (role ${role ?? 'none'})`, () =>
      assert.deepEqual(
        diagnosticsOf(() => parseFixture('smokescreen', name, role === undefined ? {} : { role })),
        expected,
      ));
  }
});

describe('smokescreen: robustness', () => {
  it('throws nothing but PolicyError on arbitrary and mutated input', () => {
    assertOnlyPolicyErrors(FORMATS.smokescreen.parse, [
      readFileSync(F('valid-acl.yaml'), 'utf8'),
      readFileSync(F('valid-default-only.yaml'), 'utf8'),
    ]);
  });
});
