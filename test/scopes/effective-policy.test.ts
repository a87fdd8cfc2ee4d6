/**
 * DESIGN.md 9.1, step by step: the effective policy of a workspace over its chain of scopes,
 * as a table (the style of test/policy/host-patterns.test.ts). Each row is a chain written as
 * `scope: policy` assignments (`!` = enforced), the project's Fly selector policies, and the
 * expected step, scope, policy, lock and shadowed assignments.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  effectivePolicy,
  type Assignment,
  type PolicyRef,
  type ScopeChain,
  type ScopeKind,
  type SelectorPolicy,
} from '../../src/policy/scopes/index.js';

const P = (id: string, name: string, kind: ScopeKind, scope: string, version = 1): PolicyRef => ({
  id,
  name,
  version,
  scope: { kind, name: scope },
});

const POLICIES = new Map<string, PolicyRef>(
  [
    P('base', 'Platform baseline', 'platform', 'platform'),
    P('lockdown', 'Platform lockdown', 'platform', 'platform'),
    P('strict', 'Strict', 'organisation', 'acme', 3),
    P('open', 'Open', 'organisation', 'acme'),
    P('web-default', 'Restrict Traffic (default, expert)', 'project', 'web'),
    P('dev', 'Dev', 'project', 'web', 2),
    P('fly-a', 'fly a', 'project', 'web'),
    P('fly-b', 'fly b', 'project', 'web'),
  ].map((p) => [p.id, p]),
);

/** `"dev"` = selected, `"!strict"` = enforced, `null` = no assignment stored. */
type Cell = string | null;
function assignment(cell: Cell): Assignment | null {
  if (cell === null) return null;
  return cell.startsWith('!')
    ? { policyId: cell.slice(1), enforced: true }
    : { policyId: cell, enforced: false };
}

function chain(platform: Cell, org: Cell, project: Cell, workspace: Cell): ScopeChain {
  return [
    { kind: 'platform', name: 'platform', assignment: assignment(platform) },
    { kind: 'organisation', name: 'acme', assignment: assignment(org) },
    { kind: 'project', name: 'web', assignment: assignment(project) },
    { kind: 'workspace', name: 'ws1', assignment: assignment(workspace) },
  ];
}

const flyA: SelectorPolicy = {
  ref: POLICIES.get('fly-a')!,
  selector: { all: true },
  createdOrder: 2,
};
const flyB: SelectorPolicy = {
  ref: POLICIES.get('fly-b')!,
  selector: { metadata: { role: 'web' } },
  createdOrder: 1,
};
const flyOther: SelectorPolicy = {
  ref: P('fly-c', 'fly c', 'project', 'web'),
  selector: { ids: ['ws2'] },
  createdOrder: 0,
};

interface Row {
  title: string;
  chain: [Cell, Cell, Cell, Cell];
  selectors?: SelectorPolicy[];
  metadata?: Record<string, string>;
  step: string;
  scope: string | null;
  policy: string | null;
  policies?: string[];
  locked?: boolean;
  shadowed?: string[];
  missing?: string;
  explanation: RegExp;
}

const TABLE: Row[] = [
  {
    title: 'nothing anywhere: none (fail closed)',
    chain: [null, null, null, null],
    step: 'none',
    scope: null,
    policy: null,
    explanation: /^no policy: nothing is assigned to workspace ws1 .*no_policy/,
  },
  {
    title: 'platform only: inherited from the platform',
    chain: ['base', null, null, null],
    step: 'inherited',
    scope: 'platform:platform',
    policy: 'base',
    explanation: /^inherited from the platform \(policy "Platform baseline" \(version 1\)\)$/,
  },
  {
    title: 'nearest assignment above wins: project over organisation over platform',
    chain: ['base', 'open', 'web-default', null],
    step: 'inherited',
    scope: 'project:web',
    policy: 'web-default',
    explanation: /^inherited from project web/,
  },
  {
    title: 'organisation beats platform when the project has none',
    chain: ['base', 'open', null, null],
    step: 'inherited',
    scope: 'organisation:acme',
    policy: 'open',
    explanation: /^inherited from organisation acme/,
  },
  {
    title: 'the workspace selection beats every unenforced assignment above',
    chain: ['base', 'open', 'web-default', 'dev'],
    step: 'selected',
    scope: 'workspace:ws1',
    policy: 'dev',
    explanation: /^selected on workspace ws1 \(policy "Dev" \(version 2\)\)$/,
  },
  {
    title: 'enforced at the organisation: locked, and the workspace selection is shadowed',
    chain: ['base', '!strict', 'web-default', 'dev'],
    step: 'enforced',
    scope: 'organisation:acme',
    policy: 'strict',
    locked: true,
    shadowed: ['project:web:web-default', 'workspace:ws1:dev'],
    explanation: /^enforced by organisation acme \(policy "Strict" \(version 3\)\)$/,
  },
  {
    title: 'enforced at platform and at organisation: the topmost (platform) wins',
    chain: ['!lockdown', '!strict', null, 'dev'],
    step: 'enforced',
    scope: 'platform:platform',
    policy: 'lockdown',
    locked: true,
    shadowed: ['organisation:acme:strict!', 'workspace:ws1:dev'],
    explanation: /^enforced by the platform/,
  },
  {
    title: 'an unenforced platform assignment above an enforced project one does not matter',
    chain: ['base', null, '!web-default', 'dev'],
    step: 'enforced',
    scope: 'project:web',
    policy: 'web-default',
    locked: true,
    shadowed: ['workspace:ws1:dev'],
    explanation: /^enforced by project web/,
  },
  {
    title: 'a workspace may enforce its own selection (locked, nothing beneath)',
    chain: ['base', null, null, '!dev'],
    step: 'enforced',
    scope: 'workspace:ws1',
    policy: 'dev',
    locked: true,
    explanation: /^enforced by workspace ws1/,
  },
  {
    title: 'Fly selector policies beat inherited ones, combined in creation order',
    chain: ['base', 'open', 'web-default', null],
    selectors: [flyA, flyB, flyOther],
    metadata: { role: 'web' },
    step: 'selector',
    scope: 'project:web',
    policy: 'fly-b+fly-a',
    policies: ['fly-b', 'fly-a'],
    explanation:
      /^selected by the Fly policies "fly b", "fly a" of project web, whose selector matches workspace ws1, combined in creation order$/,
  },
  {
    title: 'a Fly selector that does not match leaves the inherited policy',
    chain: ['base', null, 'web-default', null],
    selectors: [flyB, flyOther],
    metadata: { role: 'db' },
    step: 'inherited',
    scope: 'project:web',
    policy: 'web-default',
    explanation: /^inherited from project web/,
  },
  {
    title: 'one matching Fly policy is the policy itself',
    chain: [null, null, null, null],
    selectors: [flyB, flyOther],
    metadata: { role: 'web', team: 'x' },
    step: 'selector',
    scope: 'project:web',
    policy: 'fly-b',
    policies: ['fly-b'],
    explanation: /^selected by the Fly policy "fly b" of project web/,
  },
  {
    title: 'the workspace selection beats Fly selector policies',
    chain: [null, null, null, 'dev'],
    selectors: [flyA],
    step: 'selected',
    scope: 'workspace:ws1',
    policy: 'dev',
    explanation: /^selected on workspace ws1/,
  },
  {
    title: 'an enforced assignment beats Fly selector policies',
    chain: [null, '!strict', null, null],
    selectors: [flyA],
    step: 'enforced',
    scope: 'organisation:acme',
    policy: 'strict',
    locked: true,
    explanation: /^enforced by organisation acme/,
  },
  {
    title: 'an enforced policy that was deleted: still decides, with no policy (fail closed)',
    chain: ['base', '!gone', null, 'dev'],
    step: 'enforced',
    scope: 'organisation:acme',
    policy: null,
    locked: true,
    missing: 'gone',
    shadowed: ['workspace:ws1:dev'],
    explanation:
      /^enforced by organisation acme \(policy gone, which no longer exists\): .*\(no_policy\)$/,
  },
  {
    title: 'a selected policy that was deleted does not fall through to the inherited one',
    chain: ['base', null, null, 'gone'],
    step: 'selected',
    scope: 'workspace:ws1',
    policy: null,
    missing: 'gone',
    explanation: /^selected on workspace ws1 \(policy gone, which no longer exists/,
  },
  {
    title: 'a cleared assignment (policy null) is no assignment, even if marked enforced',
    chain: ['base', null, null, null],
    step: 'inherited',
    scope: 'platform:platform',
    policy: 'base',
    explanation: /^inherited from the platform/,
  },
];

const scopeKey = (s: { kind: string; name: string } | null) => (s ? `${s.kind}:${s.name}` : null);

describe('effective policy: the DESIGN.md 9.1 steps', () => {
  for (const row of TABLE)
    it(row.title, () => {
      const answer = effectivePolicy({
        chain: chain(...row.chain),
        policies: POLICIES,
        ...(row.selectors ? { selectorPolicies: row.selectors } : {}),
        ...(row.metadata ? { metadata: row.metadata } : {}),
      });
      assert.equal(answer.step, row.step);
      assert.equal(scopeKey(answer.scope), row.scope);
      assert.equal(answer.policy?.id ?? null, row.policy);
      assert.deepEqual(
        answer.policies.map((p) => p.id),
        row.policies ?? (row.policy && !row.policy.includes('+') ? [row.policy] : []),
      );
      assert.equal(answer.locked, row.locked ?? false);
      assert.equal(answer.missingPolicyId, row.missing);
      assert.deepEqual(
        answer.shadowed.map((s) => `${scopeKey(s.scope)}:${s.policyId}${s.enforced ? '!' : ''}`),
        row.shadowed ?? [],
      );
      assert.match(answer.explanation, row.explanation);
    });

  it('a cleared enforced assignment neither applies nor locks', () => {
    const c = chain('base', null, null, null).map((n) =>
      n.kind === 'organisation' ? { ...n, assignment: { policyId: null, enforced: true } } : n,
    );
    const answer = effectivePolicy({ chain: c, policies: POLICIES });
    assert.equal(answer.step, 'inherited');
    assert.equal(answer.locked, false);
  });

  it('shadowed assignments say who overrides them, in words', () => {
    const answer = effectivePolicy({
      chain: chain(null, '!strict', null, 'dev'),
      policies: POLICIES,
    });
    assert.equal(
      answer.shadowed[0]!.explanation,
      'workspace ws1 selects "Dev", but organisation acme enforces "Strict": enforced by organisation acme',
    );
    assert.deepEqual(answer.shadowed[0]!.by, { kind: 'organisation', name: 'acme' });
    assert.equal(answer.shadowed[0]!.byPolicyId, 'strict');
    assert.equal(answer.shadowed[0]!.policy?.name, 'Dev');
  });

  it('a shadowed assignment whose policy was deleted is still listed', () => {
    const answer = effectivePolicy({
      chain: chain('!base', null, 'gone', null),
      policies: POLICIES,
    });
    assert.equal(answer.shadowed.length, 1);
    assert.equal(answer.shadowed[0]!.policy, null);
    assert.match(
      answer.shadowed[0]!.explanation,
      /assigns policy gone \(deleted\), but the platform enforces "Platform baseline"/,
    );
  });

  it('accepts a lookup function instead of a map', () => {
    const answer = effectivePolicy({
      chain: chain(null, null, 'dev', null),
      policies: (id) => POLICIES.get(id),
    });
    assert.equal(answer.policy?.name, 'Dev');
  });

  it('scope ids are carried through to the answer', () => {
    const c = chain(null, 'open', null, null).map((n) => ({ ...n, id: `id-${n.name}` }));
    const answer = effectivePolicy({ chain: c, policies: POLICIES });
    assert.deepEqual(answer.scope, { kind: 'organisation', name: 'acme', id: 'id-acme' });
  });

  it('a chain that does not end at a workspace is answered "none", never a guess', () => {
    const answer = effectivePolicy({
      chain: chain('base', null, null, null).slice(0, 3),
      policies: POLICIES,
    });
    assert.equal(answer.step, 'none');
    assert.match(answer.explanation, /workspace/);
    const wrong = effectivePolicy({
      chain: [chain('base', null, null, null)[1]!],
      policies: POLICIES,
    });
    assert.equal(wrong.step, 'none');
    assert.match(wrong.explanation, /expected a platform/);
  });
});
