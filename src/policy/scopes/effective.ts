/**
 * The effective policy of a workspace, exactly as DESIGN.md 9.1 orders the steps; the first that
 * applies decides:
 *   1. enforced  — the topmost enforced assignment, platform → organisation → project → workspace
 *                  (locked; every assignment beneath it is reported as shadowed);
 *   2. selected  — the workspace's own assignment;
 *   3. selector  — the project's policies whose Fly selector matches the workspace, in creation
 *                  order (combine them with `combineFlyPolicies`);
 *   4. inherited — the nearest assignment above: project, then organisation, then platform;
 *   5. none      — not attached: the data plane answers `no_policy` (fail closed).
 * An assignment whose policy no longer exists still decides at its step, with `policy: null`:
 * falling through to a weaker assignment would silently open what the missing one closed.
 */
import { findPolicy, policyName, policyWords } from './lookup.js';
import { checkScopeChain, refOf, scopeLabel } from './names.js';
import { selectorMatches } from './selector-match.js';
import type {
  EffectivePolicy,
  EffectivePolicyInput,
  EffectiveStep,
  PolicyLookup,
  PolicyRef,
  ScopeNode,
  SelectorPolicy,
  ShadowedAssignment,
} from './types.js';

interface Assigned {
  node: ScopeNode;
  index: number;
  policyId: string;
  enforced: boolean;
}

function assignedAt(node: ScopeNode, index: number): Assigned | undefined {
  const a = node.assignment;
  if (!a || a.policyId === null) return undefined;
  return { node, index, policyId: a.policyId, enforced: a.enforced };
}

const VERBS: Record<EffectiveStep, string> = {
  enforced: 'enforced by',
  selected: 'selected on',
  inherited: 'inherited from',
  selector: '',
  none: '',
};

/** The answer for steps 1, 2 and 4: one assignment decides. */
function fromAssignment(
  step: 'enforced' | 'selected' | 'inherited',
  winner: Assigned,
  policies: PolicyLookup,
  shadowed: ShadowedAssignment[],
): EffectivePolicy {
  const policy = findPolicy(policies, winner.policyId) ?? null;
  const what = policy
    ? ` (${policyWords(policy, winner.policyId)})`
    : ` (policy ${winner.policyId}, which no longer exists): the workspace has no policy and its traffic is denied (no_policy)`;
  const answer: EffectivePolicy = {
    step,
    scope: refOf(winner.node),
    policy,
    policies: policy ? [policy] : [],
    locked: step === 'enforced',
    explanation: `${VERBS[step]} ${scopeLabel(winner.node)}${what}`,
    shadowed,
  };
  if (!policy) answer.missingPolicyId = winner.policyId;
  return answer;
}

function shadowedBeneath(
  chain: readonly ScopeNode[],
  winner: Assigned,
  policies: PolicyLookup,
): ShadowedAssignment[] {
  const byPolicy = findPolicy(policies, winner.policyId);
  const out: ShadowedAssignment[] = [];
  for (let i = winner.index + 1; i < chain.length; i++) {
    const a = assignedAt(chain[i]!, i);
    if (!a) continue;
    const policy = findPolicy(policies, a.policyId) ?? null;
    const verb = a.node.kind === 'workspace' ? 'selects' : 'assigns';
    out.push({
      scope: refOf(a.node),
      policyId: a.policyId,
      policy,
      enforced: a.enforced,
      by: refOf(winner.node),
      byPolicyId: winner.policyId,
      explanation: `${scopeLabel(a.node)} ${verb} ${policyName(policy, a.policyId)}${a.enforced ? ' (enforced)' : ''}, but ${scopeLabel(winner.node)} enforces ${policyName(byPolicy, winner.policyId)}: enforced by ${scopeLabel(winner.node)}`,
    });
  }
  return out;
}

/** The combined ref of several selector policies: ids and names joined with "+". */
function combinedRef(refs: readonly PolicyRef[], project: ScopeNode): PolicyRef {
  if (refs.length === 1) return refs[0]!;
  return {
    id: refs.map((r) => r.id).join('+'),
    name: refs.map((r) => r.name).join(' + '),
    version: 0,
    scope: refOf(project),
  };
}

function bySelector(
  chain: readonly ScopeNode[],
  input: EffectivePolicyInput,
): EffectivePolicy | undefined {
  const workspace = chain[3]!;
  const project = chain[2]!;
  const identity = {
    name: workspace.name,
    ...(input.metadata ? { metadata: input.metadata } : {}),
  };
  const matching: SelectorPolicy[] = (input.selectorPolicies ?? [])
    .filter((p) => selectorMatches(p.selector, identity))
    .sort((a, b) => a.createdOrder - b.createdOrder || (a.ref.id < b.ref.id ? -1 : 1));
  if (matching.length === 0) return undefined;
  const refs = matching.map((p) => p.ref);
  const names = refs.map((r) => `"${r.name}"`).join(', ');
  const plural = refs.length === 1 ? 'the Fly policy' : 'the Fly policies';
  const combined = refs.length > 1 ? ', combined in creation order' : '';
  return {
    step: 'selector',
    scope: refOf(project),
    policy: combinedRef(refs, project),
    policies: refs,
    locked: false,
    explanation: `selected by ${plural} ${names} of ${scopeLabel(project)}, whose selector matches ${scopeLabel(workspace)}${combined}`,
    shadowed: [],
  };
}

function none(explanation: string): EffectivePolicy {
  return {
    step: 'none',
    scope: null,
    policy: null,
    policies: [],
    locked: false,
    explanation,
    shadowed: [],
  };
}

export function effectivePolicy(input: EffectivePolicyInput): EffectivePolicy {
  const chain = input.chain;
  const problem = checkScopeChain(chain);
  if (problem || chain.length !== 4)
    return none(
      `no policy: ${problem ?? 'the effective policy is worked out for a workspace (a chain of 4 scopes)'}`,
    );
  const assigned = chain.map(assignedAt);

  const topEnforced = assigned.find((a) => a?.enforced);
  if (topEnforced)
    return fromAssignment(
      'enforced',
      topEnforced,
      input.policies,
      shadowedBeneath(chain, topEnforced, input.policies),
    );

  const own = assigned[3];
  if (own) return fromAssignment('selected', own, input.policies, []);

  const selector = bySelector(chain, input);
  if (selector) return selector;

  for (let i = 2; i >= 0; i--) {
    const above = assigned[i];
    if (above) return fromAssignment('inherited', above, input.policies, []);
  }
  return none(
    `no policy: nothing is assigned to ${scopeLabel(chain[3]!)} or any scope above it, and no Fly policy of ${scopeLabel(chain[2]!)} selects it; its traffic is denied (no_policy)`,
  );
}
