/**
 * The native `tests:` block (issue 14): parsed with LINE:COL on every case, clear errors,
 * emitted back (round trip), run by runPolicyTests; and tests down the scope hierarchy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, isPolicyError, type PolicyTest } from '../../src/policy/index.js';
import { emitNative } from '../../src/policy/formats/native/emit.js';
import { parseNative } from '../../src/policy/formats/native/parse.js';
import {
  failingTestsDownTheHierarchy,
  policiesWhoseTestsMustHold,
  runPolicyTests,
  testFailureDiagnostics,
  testSuitesFor,
} from '../../src/policy/policy-tests/index.js';
import { effectivePolicy, type PolicyRef, type ScopeChain } from '../../src/policy/scopes/index.js';

const POLICY = `version: 1
name: strict
mode: restrict
rules:
  - deny: pastebin.com
  - allow: [api.github.com, "**.example.com:443"]
  - decide: ask.example.org
decider: { url: "https://decider.internal/decide" }
tests:
  - { dest: "api.github.com", expect: allow }
  - { dest: "pastebin.com:443", expect: deny }
  - dest: "https://a.b.example.com/path"
    expect: allow
  - { dest: "udp://a.example.com:443", expect: deny }
`;

function parse(text: string) {
  return parseNative({ text, file: 'p.yaml' }).policy;
}

function errorsOf(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    if (isPolicyError(err))
      return err.diagnostics.map(
        (d) => `${d.line}:${d.col}: ${d.message}${d.hint ? ` — ${d.hint}` : ''}`,
      );
    throw err;
  }
  assert.fail('expected errors');
}

describe('native tests: block', () => {
  it('keeps every case with its LINE:COL', () => {
    const policy = parse(POLICY);
    assert.deepEqual(
      policy.tests!.map((t) => `${t.source!.line}:${t.source!.col} ${t.dest} ${t.expect}`),
      [
        '10:5 api.github.com allow',
        '11:5 pastebin.com:443 deny',
        '12:5 https://a.b.example.com/path allow',
        '14:5 udp://a.example.com:443 deny',
      ],
    );
  });

  it('a policy without tests has none (the model field stays absent)', () => {
    assert.equal(parse('version: 1\nname: x\nmode: monitor\n').tests, undefined);
  });

  const BAD: Array<[string, string, RegExp]> = [
    [
      'bad expect',
      '  - { dest: a.com, expect: block }',
      /^7:28: "expect" must be one of "allow", "deny", not "block"$/,
    ],
    [
      'near-miss expect',
      '  - { dest: a.com, expect: allowed }',
      /^7:28: "expect" must be one of "allow", "deny", not "allowed" — did you mean "allow"\?$/,
    ],
    ['missing expect', '  - { dest: a.com }', /^7:5: missing required field "expect"/],
    ['missing dest', '  - { expect: deny }', /^7:5: missing required field "dest"/],
    ['unknown field', '  - { dest: a.com, expect: deny, why: x }', /^7:34: unknown field "why"/],
    [
      'bad port',
      '  - { dest: "a.com:99999", expect: deny }',
      /^7:13: not a destination: "a\.com:99999" has port 99999, outside 1-65535 — write "host" \(port 443\), "host:port"/,
    ],
    [
      'space in host',
      '  - { dest: "a b.com", expect: deny }',
      /^7:13: not a destination: .*space.* — write "host"/,
    ],
    ['empty dest', '  - { dest: "", expect: deny }', /^7:13: not a destination: empty destination/],
    [
      'unclosed bracket',
      '  - { dest: "[::1", expect: deny }',
      /^7:13: not a destination: .*opens "\[" without closing it/,
    ],
  ];
  for (const [title, line, expected] of BAD)
    it(`error: ${title}`, () => {
      const errors = errorsOf(
        `version: 1\nname: x\nmode: restrict\nrules:\n  - allow: a.com\ntests:\n${line}\n`,
      );
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, expected);
    });

  it('round trip: the emitter writes the tests and reading them back gives the same cases', () => {
    const policy = parse(POLICY);
    const text = emitNative(policy);
    assert.match(text, /^tests:\n {2}- dest: api\.github\.com\n {4}expect: allow$/m);
    const again = parseNative({ text, file: 'emitted.yaml' }).policy;
    const strip = (tests: PolicyTest[] | undefined) =>
      tests?.map(({ dest, expect }) => ({ dest, expect }));
    assert.deepEqual(strip(again.tests), strip(policy.tests));
    assert.ok(again.tests!.every((t) => t.source?.file === 'emitted.yaml'));
  });
});

describe('runPolicyTests', () => {
  const compiled = compilePolicy(parse(POLICY), { version: 'v1' });
  const run = (dest: string, expect: 'allow' | 'deny') =>
    runPolicyTests(compiled, [{ dest, expect, source: { file: 't.yaml', line: 3, col: 5 } }])[0]!;

  const ROWS: Array<[string, 'allow' | 'deny', boolean, string, string | null]> = [
    ['api.github.com', 'allow', true, 'allowed_by_rule', 'p.yaml:6:13'],
    ['pastebin.com', 'deny', true, 'denied_by_rule', 'p.yaml:5:11'],
    ['pastebin.com', 'allow', false, 'denied_by_rule', 'p.yaml:5:11'],
    ['a.example.com:8443', 'deny', true, 'default_deny', null],
    ['https://a.example.com/x', 'allow', true, 'allowed_by_rule', 'p.yaml:6:29'],
    ['udp://a.example.com:443', 'deny', true, 'default_deny', null],
    ['127.0.0.1', 'deny', true, 'default_deny', null],
    ['ask.example.org', 'allow', false, 'decider_required', 'p.yaml:7:13'],
    ['a b', 'deny', false, 'invalid_destination', null],
  ];
  for (const [dest, expect, pass, reason, rule] of ROWS)
    it(`${dest} expect ${expect} → ${pass ? 'pass' : 'fail'} (${reason})`, () => {
      const r = run(dest, expect);
      assert.equal(r.pass, pass, r.explanation);
      assert.equal(r.reason, reason);
      assert.equal(r.rule?.source ?? null, rule);
      assert.equal(r.expected, expect);
      assert.equal(r.source, 't.yaml:3:5');
      assert.equal(r.dest, dest);
    });

  it('explains a failure in one sentence', () => {
    assert.equal(
      run('pastebin.com', 'allow').explanation,
      'pastebin.com: expected allow, got deny: rule 1 (deny pastebin.com at p.yaml:5:11) of policy "strict" matched',
    );
    assert.match(run('ask.example.org', 'allow').explanation, /cannot be tested offline/);
  });

  it('monitor mode: the verdict is tested, not whether monitor lets it through', () => {
    const monitor = compilePolicy(parse(POLICY.replace('mode: restrict', 'mode: monitor')));
    const [r] = runPolicyTests(monitor, [{ dest: 'evil.test', expect: 'deny' }]);
    assert.equal(r!.pass, true);
    assert.equal(r!.decision.allowed, true);
    assert.equal(r!.decision.wouldDeny, true);
  });

  it('no policy: every case is no_policy (deny)', () => {
    const results = runPolicyTests(null, [
      { dest: 'api.github.com', expect: 'allow' },
      { dest: 'pastebin.com', expect: 'deny' },
    ]);
    assert.deepEqual(
      results.map((r) => [r.pass, r.reason, r.actual]),
      [
        [false, 'no_policy', 'deny'],
        [true, 'no_policy', 'deny'],
      ],
    );
  });

  it("the policy's own tests all pass; diagnostics point at each failing case", () => {
    const policy = parse(POLICY);
    assert.ok(runPolicyTests(compiled, policy.tests!).every((r) => r.pass));
    const flipped = policy.tests!.map((t) => ({
      ...t,
      expect: t.expect === 'allow' ? ('deny' as const) : ('allow' as const),
    }));
    const diags = testFailureDiagnostics(flipped, runPolicyTests(compiled, flipped), 'p.yaml');
    assert.deepEqual(
      diags.map((d) => `${d.file}:${d.line}:${d.col} ${d.severity}`),
      ['p.yaml:10:5 error', 'p.yaml:11:5 error', 'p.yaml:12:5 error', 'p.yaml:14:5 error'],
    );
    assert.match(diags[0]!.message, /^test fails: api\.github\.com: expected deny, got allow/);
    assert.equal(
      diags[0]!.hint,
      'change the rules so that api.github.com is denied, or write "expect: allow" if allow is right',
    );
  });
});

describe('tests down the hierarchy', () => {
  const ref = (
    id: string,
    kind: 'platform' | 'organisation' | 'project',
    scope: string,
  ): PolicyRef => ({
    id,
    name: id,
    version: 1,
    scope: { kind, name: scope },
  });
  const REFS = new Map([
    ['baseline', ref('baseline', 'platform', 'platform')],
    ['org', ref('org', 'organisation', 'acme')],
    ['dev', ref('dev', 'project', 'web')],
  ]);
  const SOURCES: Record<string, string> = {
    baseline: `version: 1\nname: baseline\nmode: restrict\nrules:\n  - allow: "**.example.com"\ntests:\n  - { dest: pastebin.com, expect: deny }\n  - { dest: a.example.com, expect: allow }\n`,
    org: `version: 1\nname: org\nmode: restrict\nrules:\n  - allow: ["**"]\ntests:\n  - { dest: anything.test, expect: allow }\n`,
    dev: `version: 1\nname: dev\nmode: restrict\nrules:\n  - allow: [registry.internal, pastebin.com]\ntests:\n  - { dest: registry.internal, expect: allow }\n`,
  };
  const POLICIES = Object.fromEntries(
    Object.entries(SOURCES).map(([id, text]) => [
      id,
      parseNative({ text, file: `${id}.yaml` }).policy,
    ]),
  );
  const testsOf = (id: string) =>
    POLICIES[id] ? { policy: REFS.get(id)!, tests: POLICIES[id]!.tests ?? [] } : undefined;

  function chain(org: string | null, orgEnforced: boolean, ws: string | null): ScopeChain {
    return [
      { kind: 'platform', name: 'platform', assignment: { policyId: 'baseline', enforced: false } },
      {
        kind: 'organisation',
        name: 'acme',
        assignment: org ? { policyId: org, enforced: orgEnforced } : null,
      },
      { kind: 'project', name: 'web', assignment: null },
      { kind: 'workspace', name: 'ws1', assignment: ws ? { policyId: ws, enforced: false } : null },
    ];
  }

  function failures(c: ScopeChain) {
    const effective = effectivePolicy({ chain: c, policies: REFS });
    const compiled = effective.policy ? compilePolicy(POLICIES[effective.policy.id]!) : null;
    return failingTestsDownTheHierarchy([
      {
        workspace: { kind: 'workspace', name: 'ws1' },
        compiled,
        suites: testSuitesFor(c, effective, testsOf),
      },
    ]);
  }

  it('which tests must hold: every assigned policy of the chain, then the effective one', () => {
    const c = chain('org', true, 'dev');
    const effective = effectivePolicy({ chain: c, policies: REFS });
    assert.deepEqual(policiesWhoseTestsMustHold(c, effective), ['baseline', 'org', 'dev']);
    const inherited = chain(null, false, null);
    assert.deepEqual(
      policiesWhoseTestsMustHold(inherited, effectivePolicy({ chain: inherited, policies: REFS })),
      ['baseline'],
    );
  });

  it("a higher scope's test guards the workspace that selects its own policy", () => {
    const f = failures(chain(null, false, 'dev'));
    assert.deepEqual(
      f.map((x) => `${x.policy.id} ${x.test.dest} ${x.expected}→${x.actual} ${x.source}`),
      [
        'baseline pastebin.com deny→allow baseline.yaml:7:5',
        'baseline a.example.com allow→deny baseline.yaml:8:5',
      ],
    );
    assert.match(
      f[0]!.message,
      /^workspace ws1: test of policy "baseline" at baseline\.yaml:7:5 fails: pastebin\.com: expected deny, got allow: rule 1 \(allow pastebin\.com at dev\.yaml:5:32\) of policy "dev" matched$/,
    );
  });

  it('enforcing above reports what it breaks in the shadowed selection', () => {
    const f = failures(chain('org', true, 'dev'));
    assert.deepEqual(
      f.map((x) => `${x.policy.id} ${x.test.dest} ${x.expected}→${x.actual}`),
      ['baseline pastebin.com deny→allow'],
    );
    // dev's own test (registry.internal allow) holds under "org" (allow **), so it does not fail.
  });

  it('no effective policy: tests expecting allow fail (no_policy)', () => {
    const c: ScopeChain = chain(null, false, null).map((n) => ({ ...n, assignment: null }));
    const effective = effectivePolicy({ chain: c, policies: REFS });
    assert.equal(effective.step, 'none');
    const f = failingTestsDownTheHierarchy([
      {
        workspace: { kind: 'workspace', name: 'ws1' },
        compiled: null,
        suites: [{ policy: REFS.get('dev')!, tests: POLICIES.dev!.tests! }],
      },
    ]);
    assert.equal(f.length, 1);
    assert.equal(f[0]!.result.reason, 'no_policy');
  });

  it('all tests hold: no failures; a policy listed twice runs once', () => {
    const c = chain(null, false, null);
    const effective = effectivePolicy({ chain: c, policies: REFS });
    const compiled = compilePolicy(POLICIES.baseline!);
    const suite = testSuitesFor(c, effective, testsOf);
    assert.deepEqual(
      failingTestsDownTheHierarchy([
        { workspace: { kind: 'workspace', name: 'ws1' }, compiled, suites: [...suite, ...suite] },
      ]),
      [],
    );
  });
});
