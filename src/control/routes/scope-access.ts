/**
 * Finding the scope a request is about, permission first: a scope you may not read is 404
 * whether or not it exists, so probing names tells nothing.
 */
import type { Context } from 'hono';
import type { ApiEnv, ControlDeps } from '../context.js';
import { notFound } from '../http/problem.js';
import { describeScope, parentPath } from '../rbac/scope-path.js';
import type { Scope } from '../store/store.js';

export async function scopeFor(
  deps: ControlDeps,
  c: Context<ApiEnv>,
  path: string,
  need: 'read' | 'manage',
  what?: string,
): Promise<Scope> {
  const auth = c.var.auth;
  if (need === 'read') auth.requireRead(path, what);
  else {
    // A scope that does not exist is 404 before it is 403: check reading first.
    auth.requireRead(path, what);
  }
  const scope = await deps.store.getScopeByPath(path);
  if (!scope) throw notFound(describeScope(path));
  if (need === 'manage') auth.requireManage(path, what);
  return scope;
}

export function scopeView(scope: Scope) {
  return {
    path: scope.path,
    kind: scope.kind,
    name: scope.name,
    parent: parentPath(scope.path) ?? null,
    ...(scope.kind === 'project' && scope.app ? { app: scope.app } : {}),
    ...(scope.kind === 'workspace' ? { metadata: scope.metadata } : {}),
    createdAt: scope.createdAt,
  };
}
