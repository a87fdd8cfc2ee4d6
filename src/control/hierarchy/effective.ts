/**
 * The effective policy of a workspace (DESIGN.md 9.1), from a Hierarchy: the store's rows
 * mapped onto src/policy/scopes, which decides. Also compiles what it decided, for tests and
 * for the data plane.
 */
import { compilePolicy, type CompiledPolicy } from '../../policy/engine/compile.js';
import type { Policy } from '../../policy/model.js';
import {
  combineFlyPolicies,
  effectivePolicy,
  type EffectivePolicy,
  type PolicyRef,
  type ScopeNode,
  type ScopeRef,
  type SelectorPolicy,
} from '../../policy/scopes/index.js';
import type { Scope } from '../store/store.js';
import type { Hierarchy, PolicyEntry } from './snapshot.js';

export function scopeRefOf(scope: Scope): ScopeRef {
  return { kind: scope.kind, name: scope.name, id: scope.id };
}

export function policyRefOf(h: Hierarchy, entry: PolicyEntry): PolicyRef {
  const scope = h.byId.get(entry.record.scopeId);
  return {
    id: entry.record.id,
    name: entry.record.name,
    version: entry.record.currentVersion,
    scope: scope
      ? scopeRefOf(scope)
      : { kind: 'platform', name: 'platform', id: entry.record.scopeId },
  };
}

export function scopeChainOf(h: Hierarchy, scope: Scope): ScopeNode[] {
  return h.chain(scope).map((s) => {
    const a = h.assignments.get(s.id);
    return {
      ...scopeRefOf(s),
      assignment: a ? { policyId: a.policyId, enforced: a.enforced } : null,
    };
  });
}

export function policyLookup(h: Hierarchy): (id: string) => PolicyRef | undefined {
  return (id) => {
    const entry = h.policies.get(id);
    return entry ? policyRefOf(h, entry) : undefined;
  };
}

function selectorPoliciesOf(h: Hierarchy, project: Scope | undefined): SelectorPolicy[] {
  if (!project) return [];
  return h
    .policiesAt(project.id)
    .filter((p) => p.native.appliesTo !== undefined)
    .map((p, i) => ({ ref: policyRefOf(h, p), selector: p.native.appliesTo!, createdOrder: i }));
}

/** For a workspace; for another scope, the answer of its chain (assignments only). */
export function effectiveOf(h: Hierarchy, scope: Scope): EffectivePolicy {
  const chain = scopeChainOf(h, scope);
  const project = h.chain(scope).find((s) => s.kind === 'project');
  return effectivePolicy({
    chain,
    metadata: scope.metadata,
    selectorPolicies: scope.kind === 'workspace' ? selectorPoliciesOf(h, project) : [],
    policies: policyLookup(h),
  });
}

/** The policy model that an effective answer enforces (selector policies combined), or null. */
export function effectiveModel(h: Hierarchy, effective: EffectivePolicy): Policy | null {
  if (effective.step === 'selector' && effective.policies.length > 0) {
    const parts = effective.policies
      .map((ref, i) => ({ entry: h.policies.get(ref.id), i }))
      .filter((p): p is { entry: PolicyEntry; i: number } => p.entry !== undefined);
    if (parts.length === 1) return parts[0]!.entry.native;
    return combineFlyPolicies(
      parts.map(({ entry, i }) => ({
        policy: entry.native,
        createdOrder: i,
        name: entry.record.name,
      })),
    );
  }
  if (!effective.policy) return null;
  return h.policies.get(effective.policy.id)?.native ?? null;
}

export function compileModel(
  policy: Policy | null,
  ecosystemExtras: Readonly<Record<string, readonly string[]>>,
  version?: string,
): CompiledPolicy | null {
  if (!policy) return null;
  return compilePolicy(policy, { ecosystemExtras, ...(version ? { version } : {}) });
}
