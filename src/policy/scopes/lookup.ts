/** Small shared helpers: finding a policy by id, and naming one in a sentence. */
import type { PolicyLookup, PolicyRef } from './types.js';

export function findPolicy(policies: PolicyLookup, id: string): PolicyRef | undefined {
  return typeof policies === 'function' ? policies(id) : policies.get(id);
}

/** `policy "Strict" (version 3)`, or `policy p-9, which no longer exists`. */
export function policyWords(policy: PolicyRef | null | undefined, id: string): string {
  return policy
    ? `policy "${policy.name}" (version ${policy.version})`
    : `policy ${id}, which no longer exists`;
}

/** `"Strict"`, or `policy p-9 (deleted)`: the short form used inside longer sentences. */
export function policyName(policy: PolicyRef | null | undefined, id: string): string {
  return policy ? `"${policy.name}"` : `policy ${id} (deleted)`;
}
