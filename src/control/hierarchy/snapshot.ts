/**
 * Everything the effective policy depends on, read from the store in one go: scopes,
 * assignments, policies and their current versions. The effective policy of any workspace,
 * the overview and the tests down the hierarchy are then pure computations over it, and a
 * proposed change (a new assignment, a new policy version) is checked by applying it to a copy
 * before anything is written.
 */
import type { Policy } from '../../policy/model.js';
import type { Assignment, PolicyRecord, PolicyVersion, Scope, Store } from '../store/store.js';

export interface PolicyEntry {
  record: PolicyRecord;
  current: PolicyVersion;
  /** The stored native model of the current version. */
  native: Policy;
}

export class Hierarchy {
  readonly byId = new Map<string, Scope>();
  readonly byPath = new Map<string, Scope>();
  readonly children = new Map<string, Scope[]>();
  readonly assignments = new Map<string, Assignment>();
  readonly policies = new Map<string, PolicyEntry>();

  constructor(
    scopes: readonly Scope[],
    assignments: readonly Assignment[],
    policies: readonly PolicyEntry[],
  ) {
    for (const s of scopes) {
      this.byId.set(s.id, s);
      this.byPath.set(s.path, s);
    }
    for (const s of scopes) {
      if (s.parentId === null) continue;
      const list = this.children.get(s.parentId) ?? [];
      list.push(s);
      this.children.set(s.parentId, list);
    }
    for (const a of assignments) this.assignments.set(a.scopeId, a);
    for (const p of policies) this.policies.set(p.record.id, p);
  }

  /** The scope and its ancestors, platform first. */
  chain(scope: Scope): Scope[] {
    const out: Scope[] = [];
    for (
      let s: Scope | undefined = scope;
      s;
      s = s.parentId ? this.byId.get(s.parentId) : undefined
    )
      out.unshift(s);
    return out;
  }

  /** Every workspace at or beneath `scope`. */
  workspacesUnder(scope: Scope): Scope[] {
    if (scope.kind === 'workspace') return [scope];
    const out: Scope[] = [];
    for (const child of this.children.get(scope.id) ?? []) out.push(...this.workspacesUnder(child));
    return out;
  }

  /** Policies defined at this scope, in creation order (ids are time-ordered). */
  policiesAt(scopeId: string): PolicyEntry[] {
    return [...this.policies.values()]
      .filter((p) => p.record.scopeId === scopeId)
      .sort((a, b) => (a.record.id < b.record.id ? -1 : 1));
  }

  /** A copy with one assignment replaced (or removed with `null`). */
  withAssignment(scopeId: string, assignment: Assignment | null): Hierarchy {
    const assignments = [...this.assignments.values()].filter((a) => a.scopeId !== scopeId);
    if (assignment) assignments.push(assignment);
    return new Hierarchy([...this.byId.values()], assignments, [...this.policies.values()]);
  }

  /** A copy with one policy's current version replaced (or the policy removed with `null`). */
  withPolicy(id: string, entry: PolicyEntry | null): Hierarchy {
    const policies = [...this.policies.values()].filter((p) => p.record.id !== id);
    if (entry) policies.push(entry);
    return new Hierarchy([...this.byId.values()], [...this.assignments.values()], policies);
  }
}

export async function loadHierarchy(store: Store): Promise<Hierarchy> {
  const scopes = await store.listScopes();
  const assignments = await store.listAssignments();
  const records = await store.listPolicies(
    scopes.filter((s) => s.kind !== 'workspace').map((s) => s.id),
  );
  const entries: PolicyEntry[] = [];
  for (const record of records) {
    const current = await store.getPolicyVersion(record.id, record.currentVersion);
    if (current) entries.push({ record, current, native: current.native as Policy });
  }
  return new Hierarchy(scopes, assignments, entries);
}
