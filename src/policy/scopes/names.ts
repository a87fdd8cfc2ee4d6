/** Scope names and chains: what a valid name is, and how a scope is named in sentences. */
import { err, ok, type Parsed } from '../patterns/result.js';
import { SCOPE_KINDS, type ScopeChain, type ScopeKind, type ScopeRef } from './types.js';

const NAME = /^[A-Za-z0-9._-]{1,63}$/;
const MAX_NAME = 63;

/** A name a person can start from: the invalid characters replaced, cut to 63. */
function suggestName(name: string): string {
  return name
    .trim()
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_NAME);
}

/**
 * Letters, digits, `.`, `_`, `-`; 1-63 characters (DESIGN.md 9.1). The answer names the first
 * offending character and suggests a name that would be accepted.
 */
export function validateScopeName(name: string, kind: ScopeKind = 'workspace'): Parsed<string> {
  if (typeof name !== 'string' || name.length === 0)
    return err(`a ${kind} name cannot be empty`, 'write 1-63 letters, digits, ".", "_" or "-"');
  if (NAME.test(name)) return ok(name);
  const suggestion = suggestName(name);
  const hint = suggestion && suggestion !== name ? `write e.g. "${suggestion}"` : undefined;
  if (name.length > MAX_NAME)
    return err(
      `a ${kind} name has at most ${MAX_NAME} characters; this one has ${name.length}`,
      hint ?? `write at most ${MAX_NAME} characters`,
    );
  const bad = [...name].find((c) => !/[A-Za-z0-9._-]/.test(c))!;
  const shown = /\s/.test(bad) ? 'a space' : `"${bad}"`;
  return err(
    `a ${kind} name holds only letters, digits, ".", "_" and "-"; "${name}" has ${shown}`,
    hint ?? 'write 1-63 letters, digits, ".", "_" or "-"',
  );
}

/**
 * Checks that a chain starts at the platform and runs down one kind at a time; returns an error
 * sentence, or null when it is well formed.
 */
export function checkScopeChain(chain: ScopeChain): string | null {
  if (chain.length === 0) return 'the scope chain is empty: it starts at the platform';
  if (chain.length > SCOPE_KINDS.length)
    return `a scope chain has at most ${SCOPE_KINDS.length} scopes (platform, organisation, project, workspace)`;
  for (let i = 0; i < chain.length; i++) {
    const want = SCOPE_KINDS[i]!;
    if (chain[i]!.kind !== want)
      return `scope ${i + 1} of the chain is ${article(chain[i]!.kind)} ${chain[i]!.kind}, expected ${article(want)} ${want} (the chain runs platform → organisation → project → workspace)`;
  }
  return null;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/** "organisation acme", "project web", "the platform". */
export function scopeLabel(scope: ScopeRef): string {
  return scope.kind === 'platform' ? 'the platform' : `${scope.kind} ${scope.name}`;
}

/** Same scope: same kind and, when both carry an id, the same id; else the same name. */
export function sameScope(a: ScopeRef, b: ScopeRef): boolean {
  if (a.kind !== b.kind) return false;
  if (a.id !== undefined && b.id !== undefined) return a.id === b.id;
  return a.name === b.name;
}

/** The plain ref of a node (without its assignment). */
export function refOf(scope: ScopeRef): ScopeRef {
  return scope.id !== undefined
    ? { kind: scope.kind, name: scope.name, id: scope.id }
    : { kind: scope.kind, name: scope.name };
}
