/**
 * Scope names, assignments (the 409 lock), which policies a scope may choose, Fly selector
 * matching and combining Fly policies: tables of inputs and answers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assignablePolicies,
  canAssign,
  combineFlyPolicies,
  describeSelector,
  selectorMatches,
  validateScopeName,
  type AnyWorkspaceSelector,
  type Assignment,
  type PolicyRef,
  type ScopeChain,
  type ScopeKind,
} from '../../src/policy/scopes/index.js';
import { parseFly } from '../../src/policy/formats/fly/parse.js';
import { compilePolicy, decide, decideIngress } from '../../src/policy/index.js';

describe('scope names: letters, digits, ".", "_", "-", 1-63', () => {
  const GOOD = ['a', 'acme', 'web-2', 'my_org.eu', 'A1', 'x'.repeat(63), '...', '-'];
  const BAD: Array<[string, RegExp, RegExp | undefined]> = [
    ['', /cannot be empty/, /1-63 letters/],
    ['x'.repeat(64), /at most 63 characters; this one has 64/, /write e.g. "x{63}"/],
    ['my org', /has a space/, /write e.g. "my-org"/],
    ['acme/web', /has "\/"/, /"acme-web"/],
    ['café', /has "é"/, /"caf"/],
    ['a:b', /has ":"/, /"a-b"/],
    ['tab\there', /has a space/, /"tab-here"/],
  ];
  for (const name of GOOD)
    it(`accepts "${name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name}"`, () => {
      assert.deepEqual(validateScopeName(name), { ok: true, value: name });
    });
  for (const [name, error, hint] of BAD)
    it(`rejects ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)}`, () => {
      const r = validateScopeName(name, 'organisation');
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.match(r.error, error);
      assert.match(r.error, /^an? organisation name/);
      if (hint) assert.match(r.hint ?? '', hint);
    });
});

const ref = (id: string, kind: ScopeKind, scope: string): PolicyRef => ({
  id,
  name: id,
  version: 1,
  scope: { kind, name: scope },
});
const POLICIES = new Map(
  [
    ref('plat', 'platform', 'platform'),
    ref('acme-strict', 'organisation', 'acme'),
    ref('other-org', 'organisation', 'globex'),
    ref('web-p', 'project', 'web'),
    ref('api-p', 'project', 'api'),
  ].map((p) => [p.id, p]),
);

function chainTo(
  depth: number,
  assignments: Partial<Record<ScopeKind, Assignment>> = {},
): ScopeChain {
  const all = [
    { kind: 'platform' as const, name: 'platform' },
    { kind: 'organisation' as const, name: 'acme' },
    { kind: 'project' as const, name: 'web' },
    { kind: 'workspace' as const, name: 'ws1' },
  ];
  return all.slice(0, depth).map((n) => ({ ...n, assignment: assignments[n.kind] ?? null }));
}

describe('canAssign: the lock (409) and where a policy may be assigned', () => {
  const ROWS: Array<{
    title: string;
    depth: number;
    above?: Partial<Record<ScopeKind, Assignment>>;
    assign: Assignment;
    code?: string;
    lockedBy?: string;
    message?: RegExp;
  }> = [
    {
      title: 'a workspace selects a policy of its project',
      depth: 4,
      assign: { policyId: 'web-p', enforced: false },
    },
    {
      title: 'a workspace selects a platform policy',
      depth: 4,
      assign: { policyId: 'plat', enforced: false },
    },
    {
      title: 'a project enforces an organisation policy',
      depth: 3,
      assign: { policyId: 'acme-strict', enforced: true },
    },
    {
      title: 'the platform assigns its own policy',
      depth: 1,
      assign: { policyId: 'plat', enforced: true },
    },
    {
      title: 'locked by an enforced organisation assignment',
      depth: 4,
      above: { organisation: { policyId: 'acme-strict', enforced: true } },
      assign: { policyId: 'web-p', enforced: false },
      code: 'locked',
      lockedBy: 'organisation:acme:acme-strict',
      message:
        /^workspace ws1 is locked: organisation acme enforces "acme-strict".*\(enforced by organisation acme\)$/,
    },
    {
      title: 'locked: the topmost enforcing scope is named',
      depth: 4,
      above: {
        platform: { policyId: 'plat', enforced: true },
        organisation: { policyId: 'acme-strict', enforced: true },
      },
      assign: { policyId: 'web-p', enforced: true },
      code: 'locked',
      lockedBy: 'platform:platform:plat',
    },
    {
      title: 'an unenforced assignment above does not lock',
      depth: 3,
      above: { organisation: { policyId: 'acme-strict', enforced: false } },
      assign: { policyId: 'web-p', enforced: false },
    },
    {
      title: "the scope's own enforced assignment does not lock itself",
      depth: 3,
      above: { project: { policyId: 'web-p', enforced: true } },
      assign: { policyId: 'acme-strict', enforced: false },
    },
    {
      title: 'clearing an assignment under a lock is allowed (it replaces nothing)',
      depth: 4,
      above: { organisation: { policyId: 'acme-strict', enforced: true } },
      assign: { policyId: null, enforced: false },
    },
    {
      title: 'a policy that does not exist',
      depth: 4,
      assign: { policyId: 'nope', enforced: false },
      code: 'policy_not_found',
      message: /^policy nope does not exist$/,
    },
    {
      title: 'a policy of another organisation',
      depth: 4,
      assign: { policyId: 'other-org', enforced: false },
      code: 'policy_out_of_scope',
      message:
        /^policy "other-org" is defined at organisation globex, which is not workspace ws1 or above it; assign a policy defined at the platform, organisation acme, project web$/,
    },
    {
      title: 'a policy of a sibling project',
      depth: 4,
      assign: { policyId: 'api-p', enforced: false },
      code: 'policy_out_of_scope',
    },
    {
      title: 'a project policy cannot be assigned at the organisation above it',
      depth: 2,
      assign: { policyId: 'web-p', enforced: false },
      code: 'policy_out_of_scope',
    },
  ];
  for (const row of ROWS)
    it(row.title, () => {
      const r = canAssign(chainTo(row.depth, row.above), row.assign, POLICIES);
      if (!row.code) return assert.deepEqual(r, { ok: true });
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.code, row.code);
      if (row.lockedBy) {
        const l = r.lockedBy!;
        assert.equal(`${l.scope.kind}:${l.scope.name}:${l.policyId}`, row.lockedBy);
        assert.equal(l.policy?.id, l.policyId);
      }
      if (row.message) assert.match(r.message, row.message);
    });

  it('a malformed chain is refused, not guessed at', () => {
    const r = canAssign(chainTo(4).slice(1), { policyId: 'plat', enforced: false }, POLICIES);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.code, 'invalid_scope_chain');
  });
});

describe('assignablePolicies: defined at this scope or above, platform first', () => {
  const all = [...POLICIES.values()].reverse();
  const ROWS: Array<[number, string[]]> = [
    [1, ['plat']],
    [2, ['plat', 'acme-strict']],
    [3, ['plat', 'acme-strict', 'web-p']],
    [4, ['plat', 'acme-strict', 'web-p']],
  ];
  for (const [depth, ids] of ROWS)
    it(`at ${chainTo(depth).at(-1)!.kind}: ${ids.join(', ')}`, () => {
      assert.deepEqual(
        assignablePolicies(chainTo(depth), all).map((p) => p.id),
        ids,
      );
    });
  it('a policy claiming to live at a workspace is never offered', () => {
    assert.deepEqual(assignablePolicies(chainTo(4), [ref('w', 'workspace', 'ws1')]), []);
  });
});

describe('Fly selectors: which workspaces a policy applies to', () => {
  const ws = { name: 'ws1', metadata: { role: 'web', env: 'prod' } };
  const ROWS: Array<[string, AnyWorkspaceSelector, boolean, string]> = [
    ['all', { all: true }, true, 'every workspace'],
    ['machines: this id', { machines: [{ id: 'ws1' }] }, true, 'workspace ws1'],
    [
      'machines: any listed id',
      { machines: [{ id: 'ws9' }, { id: 'ws1' }] },
      true,
      'workspaces ws9 or ws1',
    ],
    ['machines: another id', { machines: [{ id: 'ws2' }] }, false, 'workspace ws2'],
    ['model ids', { ids: ['ws1'] }, true, 'workspace ws1'],
    [
      'metadata: one pair',
      { metadata: { role: 'web' } },
      true,
      'workspaces with metadata role=web',
    ],
    [
      'metadata: every pair must match',
      { metadata: { role: 'web', env: 'dev' } },
      false,
      'workspaces with metadata role=web, env=dev',
    ],
    [
      'metadata: a key the workspace lacks',
      { metadata: { team: 'x' } },
      false,
      'workspaces with metadata team=x',
    ],
    [
      'combined: machines and metadata both match',
      { machines: [{ id: 'ws1' }], metadata: { env: 'prod' } },
      true,
      'workspace ws1 with metadata env=prod',
    ],
    [
      'combined: machines match, metadata does not',
      { machines: [{ id: 'ws1' }], metadata: { env: 'dev' } },
      false,
      'workspace ws1 with metadata env=dev',
    ],
    [
      'combined: all and metadata',
      { all: true, metadata: { role: 'db' } },
      false,
      'workspaces with metadata role=db',
    ],
    ['all: false matches nothing', { all: false }, false, 'no workspace (all: false)'],
    ['empty selector matches nothing', {}, false, 'no workspace (empty selector)'],
    [
      'empty machine list matches nothing',
      { machines: [] },
      false,
      'no workspace (empty machine list)',
    ],
    [
      'empty metadata matches nothing',
      { metadata: {} },
      false,
      'workspaces with empty metadata (matches nothing)',
    ],
    [
      'metadata key from the prototype does not match',
      { metadata: { toString: 'x' } },
      false,
      'workspaces with metadata toString=x',
    ],
  ];
  for (const [title, selector, expected, words] of ROWS)
    it(`${title} → ${expected ? 'matches' : 'no match'}`, () => {
      assert.equal(selectorMatches(selector, ws), expected);
      assert.equal(describeSelector(selector), words);
    });
  it('a workspace without metadata matches no metadata selector', () => {
    assert.equal(selectorMatches({ metadata: { role: 'web' } }, { name: 'ws1' }), false);
  });
});

describe('combining Fly policies into one native policy', () => {
  const fly = (name: string, rules: unknown[]) =>
    parseFly({
      text: JSON.stringify({ name, selector: { all: true }, rules }),
      file: `${name}.json`,
    }).policy;
  const egress = (port: number, protocol = 'tcp') => ({
    action: 'allow',
    direction: 'egress',
    ports: [{ port, protocol }],
  });
  const ingress = (port: number) => ({
    action: 'allow',
    direction: 'ingress',
    ports: [{ port, protocol: 'tcp' }],
  });

  it('allow rules are concatenated in creation order, default deny once a rule exists', () => {
    const combined = combineFlyPolicies([
      { policy: fly('second', [egress(5432)]), createdOrder: 20 },
      { policy: fly('first', [egress(443), ingress(8080)]), createdOrder: 10 },
    ]);
    assert.equal(combined.name, 'first + second');
    assert.equal(combined.mode, 'restrict');
    assert.equal(combined.default, 'deny');
    assert.equal(combined.ingress?.default, 'deny');
    assert.deepEqual(
      combined.rules.map((r) => r.source?.file),
      ['first.json', 'second.json'],
    );
    assert.equal(combined.appliesTo, undefined);
    const compiled = compilePolicy(combined);
    const ROWS: Array<[number, string, string, string | null]> = [
      [443, 'allow', 'allowed_by_rule', 'first.json'],
      [5432, 'allow', 'allowed_by_rule', 'second.json'],
      [22, 'deny', 'default_deny', null],
    ];
    for (const [port, verdict, reason, file] of ROWS) {
      const d = decide(compiled, { host: 'example.com', port });
      assert.equal(d.verdict, verdict, `port ${port}`);
      assert.equal(d.reason, reason, `port ${port}`);
      assert.equal(d.rule?.source?.split(':')[0] ?? null, file);
    }
    assert.equal(decideIngress(compiled, { port: 8080, transport: 'tcp' }).verdict, 'allow');
    assert.equal(decideIngress(compiled, { port: 9090, transport: 'tcp' }).verdict, 'deny');
  });

  it('a direction with no rule in any policy stays open', () => {
    const combined = combineFlyPolicies([
      { policy: fly('in-only', [ingress(80)]), createdOrder: 1 },
      { policy: fly('in-too', [ingress(81)]), createdOrder: 2 },
    ]);
    assert.equal(combined.default, 'allow');
    assert.equal(combined.ingress?.default, 'deny');
    assert.equal(
      decide(compilePolicy(combined), { host: 'example.com', port: 22 }).verdict,
      'allow',
    );
  });

  it('an egress rule in one policy closes egress for the combination', () => {
    const combined = combineFlyPolicies([
      { policy: fly('in-only', [ingress(80)]), createdOrder: 1 },
      { policy: fly('out', [egress(443)]), createdOrder: 2 },
    ]);
    assert.equal(combined.default, 'deny');
    assert.equal(
      decide(compilePolicy(combined), { host: 'example.com', port: 22 }).verdict,
      'deny',
    );
  });

  it('one policy combines to itself (its rules and defaults)', () => {
    const one = fly('only', [egress(53, 'udp')]);
    const combined = combineFlyPolicies([{ policy: one, createdOrder: 1 }]);
    assert.equal(combined.name, 'only');
    assert.deepEqual(combined.rules, one.rules);
    assert.equal(combined.default, one.default);
  });

  it('nothing to combine: a policy that denies everything (fail closed)', () => {
    const combined = combineFlyPolicies([]);
    assert.equal(combined.default, 'deny');
    assert.equal(
      decide(compilePolicy(combined), { host: 'example.com', port: 443 }).verdict,
      'deny',
    );
  });

  it('fails closed when a non-Fly policy joins: default deny and the strongest mode win', () => {
    const monitorOpen = { ...fly('m', []), mode: 'monitor' as const, default: 'allow' as const };
    const denyAll = { ...fly('d', []), default: 'deny' as const };
    const combined = combineFlyPolicies([
      { policy: monitorOpen, createdOrder: 1 },
      { policy: denyAll, createdOrder: 2 },
    ]);
    assert.equal(combined.default, 'deny');
    assert.equal(combined.mode, 'restrict');
  });
});
