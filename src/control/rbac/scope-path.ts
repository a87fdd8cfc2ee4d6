/**
 * Scopes as the API addresses them (DESIGN.md 9.3): `platform`, `orgs/{org}`,
 * `orgs/{org}/projects/{project}`, `orgs/{org}/projects/{project}/workspaces/{ws}`. The path is
 * the scope's identity in RBAC: a binding at a path grants at it and at every path beneath it.
 */

export type ScopeKind = 'platform' | 'organisation' | 'project' | 'workspace';

export interface ScopeRef {
  kind: ScopeKind;
  org?: string;
  project?: string;
  workspace?: string;
}

export const PLATFORM_PATH = 'platform';

/** Letters, digits, `.`, `_`, `-`, 1-63 characters (DESIGN.md 9.1). */
export const SCOPE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,63}$/;

export function scopePath(ref: ScopeRef): string {
  switch (ref.kind) {
    case 'platform':
      return PLATFORM_PATH;
    case 'organisation':
      return `orgs/${ref.org}`;
    case 'project':
      return `orgs/${ref.org}/projects/${ref.project}`;
    case 'workspace':
      return `orgs/${ref.org}/projects/${ref.project}/workspaces/${ref.workspace}`;
  }
}

/** Parses a scope path; undefined when it is not one (names are checked too). */
export function parseScopePath(path: string): ScopeRef | undefined {
  if (path === PLATFORM_PATH) return { kind: 'platform' };
  const parts = path.split('/');
  const names = parts.filter((_, i) => i % 2 === 1);
  if (!names.every((n) => SCOPE_NAME_PATTERN.test(n))) return undefined;
  const keys = parts.filter((_, i) => i % 2 === 0).join('/');
  const [org, project, workspace] = names;
  if (keys === 'orgs' && parts.length === 2) return { kind: 'organisation', org: org! };
  if (keys === 'orgs/projects' && parts.length === 4)
    return { kind: 'project', org: org!, project: project! };
  if (keys === 'orgs/projects/workspaces' && parts.length === 6)
    return { kind: 'workspace', org: org!, project: project!, workspace: workspace! };
  return undefined;
}

/** The scope paths from the platform down to `path`, `path` included. */
export function ancestorsAndSelf(path: string): string[] {
  if (path === PLATFORM_PATH) return [PLATFORM_PATH];
  const parts = path.split('/');
  const out = [PLATFORM_PATH];
  for (let i = 2; i <= parts.length; i += 2) out.push(parts.slice(0, i).join('/'));
  return out;
}

/** True when `above` is `path` or a scope that contains it. */
export function isAtOrAbove(above: string, path: string): boolean {
  return above === PLATFORM_PATH || above === path || path.startsWith(above + '/');
}

export function parentPath(path: string): string | undefined {
  if (path === PLATFORM_PATH) return undefined;
  const parts = path.split('/');
  return parts.length === 2 ? PLATFORM_PATH : parts.slice(0, -2).join('/');
}

/** "organisation acme", "project acme/web", "the platform": how messages name a scope. */
export function describeScope(path: string): string {
  const ref = parseScopePath(path);
  if (!ref) return path;
  switch (ref.kind) {
    case 'platform':
      return 'the platform';
    case 'organisation':
      return `organisation ${ref.org}`;
    case 'project':
      return `project ${ref.org}/${ref.project}`;
    case 'workspace':
      return `workspace ${ref.org}/${ref.project}/${ref.workspace}`;
  }
}
