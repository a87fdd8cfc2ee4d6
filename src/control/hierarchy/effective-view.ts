/** The effective-policy answer of the API (DESIGN.md 9.3), with scopes named by path. */
import type { ScopeRef } from '../../policy/scopes/index.js';
import type { Scope } from '../store/store.js';
import { effectiveOf } from './effective.js';
import type { Hierarchy } from './snapshot.js';

function pathOf(h: Hierarchy, ref: ScopeRef | null): string | null {
  if (!ref) return null;
  return (ref.id ? h.byId.get(ref.id)?.path : undefined) ?? null;
}

const ref = (p: { id: string; name: string; version: number }) => ({
  id: p.id,
  name: p.name,
  version: p.version,
});

export function effectiveView(h: Hierarchy, workspace: Scope) {
  const e = effectiveOf(h, workspace);
  return {
    workspace: workspace.path,
    policy: e.policy ? ref(e.policy) : null,
    step: e.step,
    scope: pathOf(h, e.scope),
    locked: e.locked,
    explanation: e.explanation,
    policies: e.policies.map(ref),
    shadowed: e.shadowed.map((s) => ({
      scope: pathOf(h, s.scope) ?? s.scope.name,
      policy: s.policy ? ref(s.policy) : { id: s.policyId, name: '(deleted policy)', version: 0 },
    })),
  };
}
