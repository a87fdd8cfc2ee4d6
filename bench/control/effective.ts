/**
 * Effective-policy resolution for many workspaces (issue 14: 100,000 in ≤ 1 s in all): a
 * synthetic hierarchy built in memory (10 organisations × 100 projects × N/1000 workspaces;
 * a platform baseline, one organisation enforcing, one Fly selector policy per project, 10% of
 * workspaces with their own assignment), then `effectiveOf` for every workspace. The store read
 * (`loadHierarchy`) is not included: this measures the rule, src/policy/scopes.
 */
import { effectiveOf } from '../../src/control/hierarchy/effective.js';
import { Hierarchy, type PolicyEntry } from '../../src/control/hierarchy/snapshot.js';
import type { Assignment, Scope } from '../../src/control/store/store.js';

const T = '2026-12-01T00:00:00.000Z';

function scope(id: string, kind: Scope['kind'], name: string, parent: Scope | null): Scope {
  const path = parent
    ? `${parent.path === 'platform' ? '' : `${parent.path}/`}${kind === 'organisation' ? 'orgs' : kind === 'project' ? 'projects' : 'workspaces'}/${name}`
    : 'platform';
  return {
    id,
    kind,
    name,
    parentId: parent?.id ?? null,
    path,
    app: kind === 'project' ? name : null,
    metadata: kind === 'workspace' ? { role: Number(id.slice(1)) % 3 ? 'web' : 'worker' } : {},
    tokenSha256: null,
    createdAt: T,
    updatedAt: T,
  } as Scope;
}

function policy(
  id: string,
  at: Scope,
  appliesTo?: { metadata: Record<string, string> },
): PolicyEntry {
  const native = {
    version: 1,
    name: id,
    mode: 'restrict',
    default: 'deny',
    rules: [],
    resources: [],
    redact: [],
    maxBodyCapture: 4096,
    privateRanges: 'deny',
    viaUpstreamProxy: [],
    ...(appliesTo ? { appliesTo } : {}),
  };
  return {
    record: {
      id,
      scopeId: at.id,
      scopePath: at.path,
      name: id,
      description: id,
      currentVersion: 1,
      createdAt: T,
      updatedAt: T,
      createdBy: null,
    },
    current: {
      policyId: id,
      version: 1,
      format: 'native',
      source: '',
      native,
      contentHash: '',
      author: null,
      createdAt: T,
    },
    native,
  } as unknown as PolicyEntry;
}

function assign(s: Scope, policyId: string, enforced: boolean): Assignment {
  return { scopeId: s.id, scopePath: s.path, policyId, enforced, updatedBy: null, updatedAt: T };
}

export interface EffectiveResult {
  workspaces: number;
  buildMs: number;
  resolveMs: number;
  steps: Record<string, number>;
}

export function runEffectiveBench(workspaces: number): EffectiveResult {
  const built = performance.now();
  const platform = scope('platform', 'platform', 'platform', null);
  const scopes: Scope[] = [platform];
  const policies: PolicyEntry[] = [policy('p-base', platform)];
  const assignments: Assignment[] = [assign(platform, 'p-base', false)];
  const perProject = Math.max(1, Math.round(workspaces / 1000));
  let w = 0;
  for (let o = 0; o < 10; o++) {
    const org = scope(`o${o}`, 'organisation', `org${o}`, platform);
    scopes.push(org);
    if (o === 0) {
      policies.push(policy('p-org0', org));
      assignments.push(assign(org, 'p-org0', true));
    }
    for (let p = 0; p < 100; p++) {
      const project = scope(`p${o}-${p}`, 'project', `org${o}-p${p}`, org);
      scopes.push(project);
      policies.push(policy(`fly-${o}-${p}`, project, { metadata: { role: 'worker' } }));
      for (let i = 0; i < perProject && w < workspaces; i++, w++) {
        const ws = scope(`w${w}`, 'workspace', `ws${i}`, project);
        scopes.push(ws);
        if (w % 10 === 0) assignments.push(assign(ws, 'p-base', false));
      }
    }
  }
  const h = new Hierarchy(scopes, assignments, policies);
  const buildMs = performance.now() - built;
  const steps: Record<string, number> = {};
  const started = performance.now();
  for (const s of scopes) {
    if (s.kind !== 'workspace') continue;
    const e = effectiveOf(h, s);
    steps[e.step] = (steps[e.step] ?? 0) + 1;
  }
  return { workspaces: w, buildMs, resolveMs: performance.now() - started, steps };
}
