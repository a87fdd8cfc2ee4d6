/**
 * Fly.io selectors: which workspaces (machines) a policy applies to. Every part present must
 * match (Fly: "combined selectors must all match"); within `machines` any listed id matches;
 * a selector that names nothing matches nothing, so a malformed one never widens a policy.
 */
import type { AnyWorkspaceSelector, WorkspaceIdentity, WorkspaceSelectorParts } from './types.js';

function parts(selector: AnyWorkspaceSelector): WorkspaceSelectorParts {
  return selector as WorkspaceSelectorParts;
}

function idsOf(p: WorkspaceSelectorParts): string[] | undefined {
  if (p.ids === undefined && p.machines === undefined) return undefined;
  return [...(p.ids ?? []), ...(p.machines ?? []).map((m) => m.id)];
}

export function selectorMatches(selector: AnyWorkspaceSelector, ws: WorkspaceIdentity): boolean {
  const p = parts(selector);
  const ids = idsOf(p);
  const metadata = p.metadata;
  if (p.all === undefined && ids === undefined && metadata === undefined) return false;
  if (p.all === false) return false;
  if (ids !== undefined && !ids.includes(ws.name)) return false;
  if (metadata !== undefined) {
    const entries = Object.entries(metadata);
    if (entries.length === 0) return false;
    const have = ws.metadata ?? {};
    for (const [key, value] of entries)
      if (!Object.prototype.hasOwnProperty.call(have, key) || have[key] !== value) return false;
  }
  return true;
}

/** "every workspace", "workspaces ws1 or ws2 with metadata role=web". */
export function describeSelector(selector: AnyWorkspaceSelector): string {
  const p = parts(selector);
  const ids = idsOf(p);
  const words: string[] = [];
  if (p.all === false) return 'no workspace (all: false)';
  if (ids !== undefined)
    words.push(
      ids.length === 0
        ? 'no workspace (empty machine list)'
        : `${ids.length === 1 ? 'workspace' : 'workspaces'} ${ids.join(' or ')}`,
    );
  if (p.metadata !== undefined) {
    const pairs = Object.entries(p.metadata).map(([k, v]) => `${k}=${v}`);
    const text = pairs.length ? `metadata ${pairs.join(', ')}` : 'empty metadata (matches nothing)';
    words.push(ids !== undefined ? `with ${text}` : `workspaces with ${text}`);
  }
  if (words.length === 0) return p.all ? 'every workspace' : 'no workspace (empty selector)';
  return words.join(' ');
}
