/**
 * Scopes and the effective policy (DESIGN.md 9.1), pure and browser-safe: the control plane's
 * API and the web console both run these functions.
 */
export * from './types.js';
export { validateScopeName, checkScopeChain, scopeLabel, sameScope } from './names.js';
export { effectivePolicy } from './effective.js';
export { canAssign, assignablePolicies } from './assign.js';
export { selectorMatches, describeSelector } from './selector-match.js';
export { combineFlyPolicies } from './combine-fly.js';
