/** Fly.io selectors: which workspaces (machines) a policy applies to. */
import type { AnyWorkspaceSelector, WorkspaceIdentity } from './types.js';

export function selectorMatches(selector: AnyWorkspaceSelector, ws: WorkspaceIdentity): boolean {
  void selector;
  void ws;
  return false;
}

/** "every workspace", "workspaces ws1, ws2 with metadata role=web". */
export function describeSelector(selector: AnyWorkspaceSelector): string {
  void selector;
  return '';
}
