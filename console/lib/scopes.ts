/** Scope paths (platform, orgs/acme, orgs/acme/projects/web, …/workspaces/ws1) in words. */
import type { ScopeKind } from '../api/types.js';

export function kindOf(path: string): ScopeKind {
  if (path === 'platform') return 'platform';
  const parts = path.split('/');
  return parts.length <= 2 ? 'organisation' : parts.length <= 4 ? 'project' : 'workspace';
}

export function parentOf(path: string): string | null {
  if (path === 'platform') return null;
  const parts = path.split('/');
  return parts.length <= 2 ? 'platform' : parts.slice(0, -2).join('/');
}

/** The scope and each one above it, nearest first. */
export function chainOf(path: string): string[] {
  const out: string[] = [];
  for (let p: string | null = path; p; p = parentOf(p)) out.push(p);
  return out;
}

export function isAtOrAbove(above: string, path: string): boolean {
  return above === 'platform' || path === above || path.startsWith(above + '/');
}

export function nameOf(path: string): string {
  return path === 'platform' ? 'platform' : path.split('/').at(-1)!;
}

/** "organisation acme", "project web", "the platform". */
export function describe(path: string): string {
  const kind = kindOf(path);
  return kind === 'platform' ? 'the platform' : `${kind} ${nameOf(path)}`;
}
