/**
 * The network policy overview (DESIGN.md 9.3, SDS "Network policy overview"): every scope the
 * caller may see, with its applied policy, Enforced / Not enforced, and for workspaces where
 * their effective policy comes from. Downloadable as CSV and JSON.
 */
import type { Authorizer } from '../rbac/authorizer.js';
import { assignmentView } from '../hierarchy/assignments.js';
import { effectiveView } from '../hierarchy/effective-view.js';
import type { Hierarchy } from '../hierarchy/snapshot.js';
import { toCsv } from './csv.js';

export interface OverviewRow {
  scope: string;
  kind: 'platform' | 'organisation' | 'project' | 'workspace';
  name: string;
  policy: { id: string; name: string; version: number } | null;
  enforced: boolean;
  status: 'Enforced' | 'Not enforced' | 'None';
  effective?: {
    policy: { id: string; name: string; version: number } | null;
    step: 'enforced' | 'selected' | 'selector' | 'inherited' | 'none';
    scope: string | null;
  };
}

export function overviewRows(h: Hierarchy, auth: Authorizer, under?: string): OverviewRow[] {
  const scopes = [...h.byPath.values()]
    .filter((s) => auth.canRead(s.path))
    .filter(
      (s) => !under || s.path === under || s.path.startsWith(under + '/') || under === 'platform',
    )
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return scopes.map((s) => {
    const a = assignmentView(h, s);
    const row: OverviewRow = {
      scope: s.path,
      kind: s.kind,
      name: s.name,
      policy: a.policy,
      enforced: a.enforced,
      status: a.policy === null ? 'None' : a.enforced ? 'Enforced' : 'Not enforced',
    };
    if (s.kind === 'workspace') {
      const e = effectiveView(h, s);
      row.effective = { policy: e.policy, step: e.step, scope: e.scope };
    }
    return row;
  });
}

export const OVERVIEW_CSV_HEADER = [
  'scope',
  'kind',
  'name',
  'policy',
  'policy_id',
  'policy_version',
  'status',
  'effective_policy',
  'effective_policy_id',
  'effective_version',
  'effective_step',
  'effective_from',
] as const;

export function overviewCsv(rows: readonly OverviewRow[]): string {
  return toCsv(
    OVERVIEW_CSV_HEADER,
    rows.map((r) => [
      r.scope,
      r.kind,
      r.name,
      r.policy?.name ?? '',
      r.policy?.id ?? '',
      r.policy?.version ?? '',
      r.status,
      r.effective?.policy?.name ?? '',
      r.effective?.policy?.id ?? '',
      r.effective?.policy?.version ?? '',
      r.effective?.step ?? '',
      r.effective?.scope ?? '',
    ]),
  );
}
